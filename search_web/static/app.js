// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  // "/" focuses the search box (unless the user is typing in a field).
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    var tag = target && target.tagName ? target.tagName.toLowerCase() : "";
    if (tag === "input" || tag === "textarea" || tag === "select" || (target && target.isContentEditable)) return;
    var box = document.getElementById("q");
    if (box) {
      event.preventDefault();
      box.focus();
      box.select();
    }
  });
  // The sort menu applies itself when changed.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () {
      if (select.form) select.form.submit();
    });
  });
})();
// Compare pages: "n" jumps to the next change, "p" to the previous one.
(function () {
  "use strict";
  var marks = Array.prototype.slice.call(document.querySelectorAll(".change"));
  if (!marks.length) return;
  var current = -1;
  function go(i) {
    current = Math.max(0, Math.min(marks.length - 1, i));
    var mark = marks[current];
    mark.focus({ preventScroll: true });
    mark.scrollIntoView({ block: "center" });
    history.replaceState(null, "", "#" + mark.id);
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var tag = event.target && event.target.tagName ? event.target.tagName.toLowerCase() : "";
    if (tag === "input" || tag === "textarea" || tag === "select") return;
    if (event.key === "n") { event.preventDefault(); go(current + 1); }
    if (event.key === "p") { event.preventDefault(); go(current - 1); }
  });
})();

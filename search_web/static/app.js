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
// The search box completes titles and words from /api/suggest into a <datalist>.
(function () {
  "use strict";
  var box = document.getElementById("q");
  var url = box && box.getAttribute("data-suggest");
  if (!url || !window.fetch) return;
  var list = document.createElement("datalist");
  list.id = "q-suggestions";
  box.parentNode.appendChild(list);
  box.setAttribute("list", list.id);
  var timer = null;
  var asked = "";
  box.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var text = box.value;
      if (text.trim().length < 2 || text === asked) return;
      asked = text;
      fetch(url + "?q=" + encodeURIComponent(text), { headers: { Accept: "application/json" } })
        .then(function (resp) { return resp.ok ? resp.json() : null; })
        .then(function (data) {
          if (!data || box.value !== text) return;
          var options = data.suggestions.map(function (value) {
            var option = document.createElement("option");
            option.value = value;
            return option;
          });
          list.replaceChildren.apply(list, options);
        })
        .catch(function () { /* no suggestions: the box still works */ });
    }, 150);
  });
})();

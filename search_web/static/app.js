// Progressive enhancement only: every page works without this file.
document.documentElement.classList.add("js");
// On a narrow screen the filters and the contents fold into one line each (they are open without
// script, after the results); they open again when the window grows.
(function () {
  "use strict";
  var folding = document.querySelectorAll("details[data-fold-narrow]");
  if (!folding.length || !window.matchMedia) return;
  var narrow = window.matchMedia("(max-width: 50rem)");
  function fold() {
    folding.forEach(function (d) { d.open = !narrow.matches; });
  }
  fold();
  if (narrow.addEventListener) narrow.addEventListener("change", fold);
})();
// A link to a place inside a folded part (an unchanged run of sections) opens it first.
(function () {
  "use strict";
  function reveal() {
    var target = location.hash ? document.getElementById(decodeURIComponent(location.hash.slice(1))) : null;
    for (var d = target && target.closest("details"); d; d = d.parentElement && d.parentElement.closest("details")) {
      d.open = true;
    }
    if (target) target.scrollIntoView();
  }
  window.addEventListener("hashchange", reveal);
  if (location.hash) reveal();
})();
// Search results: "j" moves to the next result, "k" to the previous one.
(function () {
  "use strict";
  var links = Array.prototype.slice.call(document.querySelectorAll("li.hit h2 a"));
  if (!links.length) return;
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key !== "j" && event.key !== "k") return;
    var target = event.target;
    var tag = target && target.tagName ? target.tagName.toLowerCase() : "";
    if (tag === "input" || tag === "textarea" || tag === "select" || (target && target.isContentEditable)) return;
    var hit = target && target.closest ? target.closest("li.hit") : null;
    var at = hit ? links.indexOf(hit.querySelector("h2 a")) : -1;
    var next = event.key === "j" ? at + 1 : (at < 0 ? 0 : at - 1);
    next = Math.max(0, Math.min(links.length - 1, next));
    event.preventDefault();
    links[next].focus({ preventScroll: true });
    links[next].closest("li.hit").scrollIntoView({ block: "nearest" });
  });
})();
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

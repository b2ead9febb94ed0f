// Suggestions as you type for the search box: an ARIA combobox over /api/v1/suggest.
(function () {
  "use strict";
  var input = document.getElementById("q");
  var list = document.getElementById("suggestions");
  if (!input || !list) return;
  var active = -1, timer = null, lastQuery = "";

  function options() { return list.querySelectorAll("[role=option]"); }
  function close() { list.hidden = true; input.setAttribute("aria-expanded", "false"); input.removeAttribute("aria-activedescendant"); active = -1; }
  function highlight(index) {
    var items = options();
    if (!items.length) return;
    active = (index + items.length) % items.length;
    items.forEach(function (el, i) { el.setAttribute("aria-selected", i === active ? "true" : "false"); });
    input.setAttribute("aria-activedescendant", items[active].id);
  }
  function choose(text) { input.value = text; close(); input.form.submit(); }
  function render(words) {
    list.innerHTML = "";
    words.forEach(function (word, i) {
      var li = document.createElement("li");
      li.id = "suggestion-" + i; li.setAttribute("role", "option"); li.textContent = word;
      li.addEventListener("mousedown", function (e) { e.preventDefault(); choose(word); });
      list.appendChild(li);
    });
    list.hidden = !words.length;
    input.setAttribute("aria-expanded", words.length ? "true" : "false");
    active = -1;
  }
  function fetchSuggestions() {
    var q = input.value.trim();
    if (!q || q === lastQuery) { if (!q) close(); return; }
    lastQuery = q;
    fetch("/api/v1/suggest?limit=8&q=" + encodeURIComponent(q))
      .then(function (r) { return r.ok ? r.json() : { suggestions: [] }; })
      .then(function (body) { if (input.value.trim() === q) render(body.suggestions || []); })
      .catch(close);
  }
  input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(fetchSuggestions, 120); });
  input.addEventListener("keydown", function (e) {
    if (list.hidden) return;
    if (e.key === "ArrowDown") { e.preventDefault(); highlight(active + 1); }
    else if (e.key === "ArrowUp") { e.preventDefault(); highlight(active - 1); }
    else if (e.key === "Enter" && active >= 0) { e.preventDefault(); choose(options()[active].textContent); }
    else if (e.key === "Escape") { e.preventDefault(); close(); }  // keep the text: Escape would clear a search field
  });
  input.addEventListener("blur", function () { setTimeout(close, 100); });
})();

/* kepu-ledger embeddable search box.
 *   <div data-kepu-search></div>
 *   <script src="https://SERVICE/embed.js" defer></script>
 * The box talks to the service the script came from; that service must list this page's
 * origin in KEPU_CORS_ORIGINS. Results link back to the service's pages. */
(function () {
  "use strict";
  var script = document.currentScript;
  var base = script ? new URL(script.src).origin : "";
  var KINDS = { task: "台账任务", key_point: "工作要点", activity: "活动" };
  var css = ".kepu-box{font-family:'PingFang SC','Microsoft YaHei','Noto Sans CJK SC','WenQuanYi Micro Hei',sans-serif;max-width:40rem}" +
    ".kepu-box form{display:flex;gap:.4rem;position:relative}.kepu-box input{flex:1;padding:.45rem .6rem;font:inherit;border:1px solid #9aa8b6;border-radius:5px}" +
    ".kepu-box button{padding:.45rem .9rem;font:inherit;border:0;border-radius:5px;background:#0b5cad;color:#fff}" +
    ".kepu-box ul.kepu-suggest{position:absolute;top:100%;left:0;right:4.5rem;list-style:none;margin:2px 0 0;padding:0;background:#fff;border:1px solid #d8dee6;z-index:9}" +
    ".kepu-box ul.kepu-suggest li{padding:.3rem .6rem;cursor:pointer}.kepu-box ul.kepu-suggest li[aria-selected=true],.kepu-box ul.kepu-suggest li:hover{background:#e8f1fb}" +
    ".kepu-box ol{padding-left:1.2rem}.kepu-box em{font-style:normal;background:#fff4c2}.kepu-box .kepu-kind{font-size:.75em;color:#5b6b7c;margin-right:.3rem}";

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text) node.textContent = text;
    return node;
  }
  var PAGES = { task: "/tasks/", key_point: "/key-points/", activity: "/activities/" };
  function link(item) { return base + PAGES[item.kind] + item.id; }
  function mount(root, n) {
    var id = "kepu-q-" + n;
    root.classList.add("kepu-box");
    var form = el("form", { role: "search" });
    var label = el("label", { for: id, class: "kepu-label" }, root.getAttribute("data-label") || "检索科普工作台账");
    var input = el("input", { id: id, type: "search", autocomplete: "off", role: "combobox", "aria-expanded": "false", "aria-controls": id + "-list" });
    var list = el("ul", { id: id + "-list", role: "listbox", class: "kepu-suggest", hidden: "" });
    var button = el("button", { type: "submit" }, "检索");
    var results = el("div", { "aria-live": "polite", class: "kepu-results" });
    form.appendChild(input); form.appendChild(list); form.appendChild(button);
    root.appendChild(label); root.appendChild(form); root.appendChild(results);
    var active = -1, timer = null;

    function close() { list.hidden = true; input.setAttribute("aria-expanded", "false"); active = -1; }
    function search(q) {
      close();
      fetch(base + "/api/v1/search?limit=10&q=" + encodeURIComponent(q))
        .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
        .then(function (res) {
          results.innerHTML = "";
          if (!res.ok) { results.appendChild(el("p", { role: "alert" }, res.body.detail || "检索出错")); return; }
          results.appendChild(el("p", {}, "共 " + res.body.total + " 条结果"));
          var ol = el("ol");
          res.body.items.forEach(function (item) {
            var li = el("li", { "data-kind": item.kind, "data-number": item.number || "" });
            li.appendChild(el("span", { class: "kepu-kind" }, KINDS[item.kind] + (item.number ? " " + item.number : "")));
            var a = el("a", { href: link(item), target: "_blank", rel: "noopener" }, item.title);
            li.appendChild(a);
            var p = el("p"); p.innerHTML = item.snippet; /* the service escapes all but <em> */
            li.appendChild(p);
            ol.appendChild(li);
          });
          results.appendChild(ol);
        })
        .catch(function () { results.textContent = "无法连接检索服务"; });
    }
    function render(words) {
      list.innerHTML = "";
      words.forEach(function (w, i) {
        var li = el("li", { role: "option", id: id + "-opt-" + i }, w);
        li.addEventListener("mousedown", function (e) { e.preventDefault(); input.value = w; search(w); });
        list.appendChild(li);
      });
      list.hidden = !words.length;
      input.setAttribute("aria-expanded", words.length ? "true" : "false");
    }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      var q = input.value.trim();
      if (!q) { close(); return; }
      timer = setTimeout(function () {
        fetch(base + "/api/v1/suggest?limit=8&q=" + encodeURIComponent(q))
          .then(function (r) { return r.ok ? r.json() : { suggestions: [] }; })
          .then(function (body) { if (input.value.trim() === q) render(body.suggestions); })
          .catch(close);
      }, 120);
    });
    input.addEventListener("keydown", function (e) {
      var items = list.querySelectorAll("li");
      if (list.hidden || !items.length) return;
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        active = (active + (e.key === "ArrowDown" ? 1 : -1) + items.length) % items.length;
        items.forEach(function (li, i) { li.setAttribute("aria-selected", i === active ? "true" : "false"); });
        input.setAttribute("aria-activedescendant", items[active].id);
      } else if (e.key === "Enter" && active >= 0) { e.preventDefault(); input.value = items[active].textContent; search(input.value); }
      else if (e.key === "Escape") { e.preventDefault(); close(); }
    });
    form.addEventListener("submit", function (e) { e.preventDefault(); if (input.value.trim()) search(input.value.trim()); });
  }
  function start() {
    var style = el("style"); style.textContent = css; document.head.appendChild(style);
    document.querySelectorAll("[data-kepu-search]").forEach(mount);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();

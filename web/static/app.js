// secinbox staff pages: live SLA countdowns, the board's keyboard
// shortcuts and quick dialog, and the CVSS calculator. Served from the
// binary; no inline script anywhere (the CSP forbids it). Everything here
// is an enhancement: the pages work without it.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // ---- Live countdowns -------------------------------------------------
  // Each .countdown carries the seconds left when the server rendered it
  // (data-remaining) and whether it counts (data-live). Elapsed time is
  // measured from when this script first saw the element, so the
  // browser's clock never matters. The text is formatted as the server
  // formats it (web/board.go formatCountdown): to the minute, never
  // seconds. data-left keeps the seconds left now, for whoever needs them.
  var seen = new WeakMap();
  var DUE_SOON = 2 * 3600;

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function fmt(s) {
    var m = Math.floor(Math.max(0, s) / 60), h = Math.floor(m / 60);
    if (h >= 48) { return Math.floor(h / 24) + "d " + (h % 24) + "h"; }
    if (h > 0) { return h + "h " + pad(m % 60) + "m"; }
    return m + "m";
  }
  function setClass(el, cls) {
    var box = el.closest(".clock") || el;
    ["clock-ok", "clock-soon", "clock-overdue"].forEach(function (c) { box.classList.toggle(c, c === cls); });
  }
  function tick() {
    var now = performance.now();
    document.querySelectorAll(".countdown[data-live=true]").forEach(function (el) {
      if (!seen.has(el)) { seen.set(el, now); }
      var rem = Number(el.dataset.remaining) - (now - seen.get(el)) / 1000;
      el.dataset.left = String(Math.round(rem));
      var text = rem > 0 ? fmt(rem) + " left" : "overdue by " + fmt(-rem);
      if (el.textContent !== text) { el.textContent = text; }
      if (rem > 0) {
        setClass(el, rem <= DUE_SOON ? "clock-soon" : "clock-ok");
      } else {
        el.dataset.state = "breached";
        setClass(el, "clock-overdue");
      }
    });
  }

  // ---- The board's shortcuts ---------------------------------------------
  var selectedID = null;

  function typing(t) {
    if (!t || !t.tagName) { return false; }
    var tag = t.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || t.isContentEditable;
  }
  function rows() { return Array.prototype.slice.call(document.querySelectorAll("tr[data-row]")); }
  function selectedRow() {
    return rows().filter(function (r) { return r.dataset.id === selectedID; })[0] || null;
  }
  function select(row, focus) {
    rows().forEach(function (r) { r.classList.remove("selected"); r.removeAttribute("aria-current"); });
    if (!row) { selectedID = null; return; }
    selectedID = row.dataset.id;
    row.classList.add("selected");
    row.setAttribute("aria-current", "true");
    var link = row.querySelector("a[data-testid=board-title]");
    if (focus && link) { link.focus({ preventScroll: true }); }
    row.scrollIntoView({ block: "nearest" });
  }
  function move(d) {
    var rs = rows();
    if (rs.length === 0) { return; }
    var i = rs.indexOf(selectedRow());
    i = i < 0 ? (d > 0 ? 0 : rs.length - 1) : Math.min(rs.length - 1, Math.max(0, i + d));
    select(rs[i], true);
  }
  function openDialog(id) {
    var d = document.getElementById(id);
    if (d && !d.open) { d.showModal(); }
    return d;
  }
  function quick(action) {
    var dialog = document.getElementById("quick");
    if (!dialog || !window.htmx) { return; }
    var row = selectedRow();
    if (!row) { move(1); row = selectedRow(); }
    if (!row || !row.dataset.quick) { return; }
    window.htmx.ajax("GET", row.dataset.quick + "?action=" + action, { target: "#quick-body", swap: "innerHTML" }).then(function () {
      openDialog("quick");
      var sel = document.getElementById("quick-select");
      if (sel) { sel.focus(); }
    });
  }
  function anyDialogOpen() { return !!document.querySelector("dialog[open]"); }

  document.addEventListener("keydown", function (e) {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) { return; }
    if (!document.querySelector("[data-testid=board-filters]")) { return; }
    if (typing(e.target)) {
      if (e.key === "Escape" && e.target.id === "q") { e.target.blur(); }
      return;
    }
    if (anyDialogOpen()) { return; } // the dialog has the keyboard; Esc closes it
    switch (e.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "o": {
        var r = selectedRow();
        if (r) { r.querySelector("a[data-testid=board-title]").click(); }
        break;
      }
      case "/": {
        var q = document.getElementById("q");
        if (q) { q.focus(); q.select(); swallowSlash = true; }
        break;
      }
      case "?": openDialog("shortcuts"); break;
      case "a": quick("assign"); break;
      case "s": quick("status"); break;
      default: return;
    }
    e.preventDefault();
  });

  // Some input paths (synthetic key events) deliver the character of a
  // key whose keydown was cancelled; the / that focused the search must
  // not land in it.
  var swallowSlash = false;
  document.addEventListener("keypress", function (e) {
    if (swallowSlash && e.key === "/") { e.preventDefault(); }
    swallowSlash = false;
  }, true);
  document.addEventListener("keyup", function () { swallowSlash = false; });

  document.addEventListener("click", function (e) {
    var b = e.target.closest && e.target.closest("[data-close-dialog]");
    if (b) { var d = b.closest("dialog"); if (d) { d.close(); } }
    var row = e.target.closest && e.target.closest("tr[data-row]");
    if (row) { select(row, false); }
  });

  // ---- Canned responses ----------------------------------------------------
  // Insert puts the chosen response, filled in for the report by the
  // server, at the cursor in the reply box (keeping what is typed there).
  // Without JavaScript the form reloads the page with it in the box.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.matches || !form.matches("form#insert-form") || !window.fetch) { return; }
    var box = document.getElementById("reply-body");
    var sel = form.querySelector("select[name=response]");
    if (!box || !sel || !sel.value) { return; }
    e.preventDefault();
    fetch(form.dataset.responseUrl + encodeURIComponent(sel.value), { credentials: "same-origin", headers: { "Accept": "text/plain" } })
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.text(); })
      .then(function (text) {
        var start = box.selectionStart, end = box.selectionEnd, v = box.value;
        if (typeof start !== "number") { start = end = v.length; }
        box.value = v.slice(0, start) + text + v.slice(end);
        box.focus();
        box.setSelectionRange(start + text.length, start + text.length);
      })
      .catch(function () { form.submit(); });
  });

  // ---- The board's bulk selection and folded filters ---------------------
  function boxes() { return Array.prototype.slice.call(document.querySelectorAll("input[data-testid=bulk-select]")); }
  function updateBulk() {
    var n = boxes().filter(function (c) { return c.checked; }).length;
    var count = document.querySelector("[data-testid=bulk-count]");
    if (count) { count.textContent = n === 0 ? "Select reports to act on several at once:" : n + " selected:"; }
    var form = document.getElementById("bulk");
    if (form) { form.classList.toggle("has-selection", n > 0); }
    var all = document.querySelector("[data-select-all]");
    if (all) { all.checked = n > 0 && n === boxes().length; all.indeterminate = n > 0 && n < boxes().length; }
  }
  document.addEventListener("change", function (e) {
    var t = e.target;
    if (t.matches && t.matches("[data-select-all]")) {
      boxes().forEach(function (c) { c.checked = t.checked; });
    }
    if (t.matches && (t.matches("[data-select-all]") || t.matches("input[data-testid=bulk-select]"))) {
      updateBulk();
    }
  });
  // On a phone the filters start folded behind their button (which says
  // how many are on); wider screens always show them.
  var narrow = window.matchMedia ? window.matchMedia("(max-width: 700px)") : null;
  // The report page's panel (status, assignee, clocks...) folds the same
  // way, above the message.
  function foldFilters() {
    document.querySelectorAll("details[data-filters], details[data-panel], details[data-menu]").forEach(function (d) {
      if (narrow && narrow.matches) {
        if (!d.dataset.touched && !d.querySelector("[aria-invalid=true], .field-error")) { d.open = false; }
      } else {
        d.open = true;
      }
    });
  }
  document.addEventListener("click", function (e) {
    var sum = e.target.closest && e.target.closest("details[data-filters] > summary, details[data-panel] > summary, details[data-menu] > summary");
    if (sum) { sum.parentNode.dataset.touched = "1"; }
  });

  // ---- The CVSS calculator -----------------------------------------------
  // Radio groups build the vector in the text field; a vector typed or
  // pasted there sets the radios. The score always comes from the server
  // (htmx, on the field's cvss-change and input events): one scorer.
  function parseVector(text) {
    var parts = text.trim().split("/"), out = { prefix: parts[0] || "", metrics: [] };
    for (var i = 1; i < parts.length; i++) {
      var kv = parts[i].split(":");
      if (kv.length === 2 && kv[0]) { out.metrics.push([kv[0], kv[1]]); }
    }
    return out;
  }
  function initCalculator(form) {
    if (form.dataset.ready) { return; }
    form.dataset.ready = "1";
    var input = form.querySelector("input[name=vector]");
    var versions = form.querySelectorAll("input[name=calc_version]");
    var boxes = form.querySelectorAll("[data-cvss-version]");
    function active() {
      for (var i = 0; i < versions.length; i++) { if (versions[i].checked) { return versions[i].value; } }
      return "3.1";
    }
    function box() { return form.querySelector('[data-cvss-version="' + active() + '"]'); }
    function show() {
      boxes.forEach(function (b) { b.hidden = b.dataset.cvssVersion !== active(); });
    }
    function build() {
      var b = box(), cur = parseVector(input.value), base = [], extra = [];
      var keys = {};
      b.querySelectorAll("fieldset[data-metric]").forEach(function (fs) {
        keys[fs.dataset.metric] = true;
        var c = fs.querySelector("input:checked");
        if (c) { base.push(fs.dataset.metric + ":" + c.value); }
      });
      if (cur.prefix === b.dataset.prefix) {
        cur.metrics.forEach(function (m) { if (!keys[m[0]]) { extra.push(m[0] + ":" + m[1]); } });
      }
      input.value = [b.dataset.prefix].concat(base, extra).join("/");
      if (window.htmx) { window.htmx.trigger(input, "cvss-change"); }
    }
    function fromText() {
      var v = parseVector(input.value);
      for (var i = 0; i < versions.length; i++) {
        if ("CVSS:" + versions[i].value === v.prefix) { versions[i].checked = true; }
      }
      show();
      var b = box();
      if (v.prefix !== b.dataset.prefix) { return; }
      var set = {};
      v.metrics.forEach(function (m) { set[m[0]] = m[1]; });
      b.querySelectorAll("fieldset[data-metric]").forEach(function (fs) {
        fs.querySelectorAll("input[type=radio]").forEach(function (r) { r.checked = set[fs.dataset.metric] === r.value; });
      });
    }
    form.querySelectorAll(".js-only").forEach(function (el) { el.hidden = false; });
    show();
    versions.forEach(function (r) { r.addEventListener("change", function () { show(); build(); }); });
    boxes.forEach(function (b) {
      b.addEventListener("change", function (e) { if (e.target.type === "radio") { build(); } });
    });
    input.addEventListener("input", fromText);
  }

  // ---- Local times ---------------------------------------------------------
  // A <time datetime data-local> shows a UTC time as the server rendered
  // it; this adds the viewer's local time after it. Without JavaScript
  // the UTC time stays.
  function localTimes(root) {
    root.querySelectorAll("time[data-local]").forEach(function (el) {
      if (el.dataset.localDone) { return; }
      var d = new Date(el.getAttribute("datetime"));
      if (isNaN(d.getTime())) { return; }
      el.dataset.localDone = "true";
      var s = document.createElement("span");
      s.className = "local-time muted";
      s.dataset.testid = "local-time";
      s.textContent = " (" + d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }) + " your time)";
      el.after(s);
    });
  }

  function init(root) {
    localTimes(root);
    root.querySelectorAll(".js-only:not([data-cvss-version])").forEach(function (el) {
      if (!el.closest("[data-cvss-calculator]")) { el.hidden = false; }
    });
    root.querySelectorAll("form[data-cvss-calculator]").forEach(initCalculator);
    if (root.matches && root.matches("form[data-cvss-calculator]")) { initCalculator(root); }
    if (selectedID) {
      var r = selectedRow();
      if (r) { select(r, false); }
    }
  }

  function start() {
    foldFilters();
    if (narrow && narrow.addEventListener) { narrow.addEventListener("change", foldFilters); }
    init(document);
    updateBulk();
    tick();
    setInterval(tick, 1000);
    if (window.htmx) {
      window.htmx.onLoad(function (el) { if (el !== document.body) { init(el.parentNode || el); } tick(); });
      // A change made in the quick dialog closes it; the board refreshes.
      document.body.addEventListener("htmx:afterSwap", function (e) {
        var f = document.querySelector("#quick-body form[data-done=true]");
        if (f && e.detail.target && e.detail.target.id === "quick-body") {
          var d = document.getElementById("quick");
          if (d && d.open) { d.close(); }
        }
        if (e.detail.target && e.detail.target.id === "board-results") {
          var r = selectedRow();
          if (r) { select(r, !typing(document.activeElement)); }
          updateBulk();
        }
      });
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

// docsgap report: sort (click a header) and filter the links table; state kept in the URL hash.
(function () {
  "use strict";
  var table = document.getElementById("links");
  if (!table) { document.body.setAttribute("data-ready", "1"); return; }
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.querySelectorAll("tr[data-i]"));
  var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
  var q = document.getElementById("f-q"), gap = document.getElementById("f-gap");
  var state = document.getElementById("f-state"), waiting = document.getElementById("f-waiting");
  var count = document.getElementById("f-count"), nomatch = document.getElementById("nomatch");
  var sortCol = -1, sortDir = 1;

  function value(row, col) {
    var cell = row.cells[col];
    return cell.hasAttribute("data-v") ? cell.getAttribute("data-v") : cell.textContent.trim();
  }

  function sortBy(col, dir) {
    var numeric = heads[col].getAttribute("data-type") === "num";
    sortCol = col; sortDir = dir;
    rows.sort(function (a, b) {
      var x = value(a, col), y = value(b, col), r;
      if (numeric) { r = (parseFloat(x) || 0) - (parseFloat(y) || 0); }
      else { r = x.localeCompare(y, undefined, { numeric: true, sensitivity: "base" }); }
      if (!x && y) { return 1; }  // blanks last, whatever the direction
      if (x && !y) { return -1; }
      return r * dir || (+a.getAttribute("data-i") - +b.getAttribute("data-i"));
    });
    rows.forEach(function (r) { body.insertBefore(r, nomatch); });
    heads.forEach(function (h, i) {
      h.setAttribute("aria-sort", i !== col ? "none" : dir > 0 ? "ascending" : "descending");
    });
  }

  function apply() {
    var needle = q.value.trim().toLowerCase(), g = gap.value, s = state.value;
    var onlyWaiting = waiting.checked, shown = 0;
    rows.forEach(function (r) {
      var ok = (!g || r.getAttribute("data-gap") === g) &&
        (!s || r.getAttribute("data-state") === s) &&
        (!onlyWaiting || r.getAttribute("data-waiting") === "1") &&
        (!needle || r.textContent.toLowerCase().indexOf(needle) !== -1);
      r.hidden = !ok;
      if (ok) { shown += 1; }
    });
    nomatch.hidden = shown !== 0;
    count.textContent = "Showing " + shown + " of " + rows.length + " links";
    saveHash();
  }

  function saveHash() {
    var p = [];
    if (q.value) { p.push("q=" + encodeURIComponent(q.value)); }
    if (gap.value) { p.push("gap=" + encodeURIComponent(gap.value)); }
    if (state.value) { p.push("state=" + encodeURIComponent(state.value)); }
    if (waiting.checked) { p.push("waiting=1"); }
    if (sortCol >= 0) { p.push("sort=" + sortCol + "&dir=" + (sortDir > 0 ? "asc" : "desc")); }
    try { history.replaceState(null, "", p.length ? "#" + p.join("&") : location.pathname); }
    catch (e) { /* some file:// contexts refuse replaceState; the filters still work */ }
  }

  function loadHash() {
    var p = {};
    location.hash.replace(/^#/, "").split("&").forEach(function (kv) {
      var i = kv.indexOf("=");
      if (i > 0) { p[kv.slice(0, i)] = decodeURIComponent(kv.slice(i + 1)); }
    });
    if (p.q) { q.value = p.q; }
    if (p.gap) { gap.value = p.gap; }
    if (p.state) { state.value = p.state; }
    waiting.checked = p.waiting === "1";
    var col = parseInt(p.sort, 10);
    if (col >= 0 && col < heads.length) { sortBy(col, p.dir === "desc" ? -1 : 1); }
  }

  heads.forEach(function (h, i) {
    var b = h.querySelector("button");
    if (b) {
      b.addEventListener("click", function () {
        sortBy(i, sortCol === i ? -sortDir : (h.getAttribute("data-type") === "num" ? -1 : 1));
        saveHash();
      });
    }
  });
  [q, gap, state, waiting].forEach(function (el) {
    el.addEventListener(el === q ? "input" : "change", apply);
  });

  var dl = document.getElementById("dl-json");
  if (dl) {
    dl.addEventListener("click", function () {
      var text = document.getElementById("docsgap-data").textContent;
      var url = URL.createObjectURL(new Blob([text], { type: "application/json" }));
      var a = document.createElement("a");
      a.href = url; a.download = "docsgap-report.json";
      document.body.appendChild(a); a.click(); a.remove();
      setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
    });
  }

  loadHash();
  apply();
  document.body.setAttribute("data-ready", "1");
})();

// Sort and filter the server-rendered catalogue table in place; filter state lives in the URL query.
// Data only ever reaches the DOM through textContent and attribute reads: never innerHTML.
(function () {
  "use strict";
  var table = document.getElementById("catalogue");
  var form = document.getElementById("filters");
  if (!table || !form) return;
  var tbody = table.tBodies[0];
  var rows = Array.prototype.filter.call(tbody.rows, function (r) { return !r.classList.contains("empty"); });
  var total = rows.length;
  var status = document.getElementById("status");
  var noMatch = document.getElementById("no-match");
  var q = form.elements.q;
  var provider = form.elements.provider;
  var minScore = form.elements.min_score;
  var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);

  function cell(row, col) { return row.querySelector('[data-col="' + col + '"]'); }

  function raw(row, col) {
    var c = cell(row, col);
    if (!c) return "";
    return c.hasAttribute("data-value") ? c.getAttribute("data-value") : c.textContent.trim();
  }

  // Every row's searchable text and numbers, read once.
  var info = rows.map(function (row, index) {
    var prov = cell(row, "provider");
    return {
      row: row,
      index: index,
      text: [raw(row, "model_name"), raw(row, "provider"), raw(row, "version")].join(" ").toLowerCase(),
      key: prov ? prov.getAttribute("data-key") : "",
      score: parseFloat(raw(row, "score"))
    };
  });

  function selectedKey() {
    var opt = provider.options[provider.selectedIndex];
    return opt && opt.value ? opt.getAttribute("data-key") : "";
  }

  // The exact provider name first; otherwise its name in any case, its slug or its key, but only
  // when a single provider matches: two providers are never shown as one.
  function chooseProvider(value) {
    var exact = -1, loose = [];
    var wanted = (value || "").toLowerCase();
    for (var i = 1; wanted && i < provider.options.length; i++) {
      var o = provider.options[i];
      if (o.value === value) exact = i;
      else if (o.value.toLowerCase() === wanted || o.getAttribute("data-slug") === wanted ||
               o.getAttribute("data-key") === wanted) loose.push(i);
    }
    provider.selectedIndex = exact >= 0 ? exact : (loose.length === 1 ? loose[0] : 0);
  }

  function readMin() {
    var n = parseFloat(minScore.value);
    return isFinite(n) ? n : null;
  }

  function apply() {
    var needle = q.value.trim().toLowerCase();
    var key = selectedKey();
    var min = readMin();
    var shown = 0;
    info.forEach(function (it) {
      var ok = (!needle || it.text.indexOf(needle) !== -1) &&
        (!key || it.key === key) &&
        (min === null || it.score >= min);
      it.row.hidden = !ok;
      if (ok) shown++;
    });
    status.textContent = shown + " of " + total + " models shown";
    if (noMatch) noMatch.hidden = !(total > 0 && shown === 0);
  }

  function writeUrl() {
    var params = new URLSearchParams(window.location.search);
    var state = { q: q.value.trim(), provider: provider.value, min_score: readMin() === null ? "" : minScore.value };
    Object.keys(state).forEach(function (k) {
      if (state[k]) params.set(k, state[k]); else params.delete(k);
    });
    var query = params.toString();
    var url = window.location.pathname + (query ? "?" + query : "") + window.location.hash;
    window.history.replaceState(null, "", url);
  }

  function readUrl() {
    var params = new URLSearchParams(window.location.search);
    q.value = params.get("q") || "";
    chooseProvider(params.get("provider"));
    var m = parseFloat(params.get("min_score"));
    minScore.value = isFinite(m) ? String(m) : "";
  }

  function update() { apply(); writeUrl(); }

  function compare(col, numeric, dir) {
    return function (a, b) {
      var x = raw(a.row, col), y = raw(b.row, col);
      // Rows without a value go last whichever way the column is sorted.
      if (x === "" || y === "") {
        if (x === y) return a.index - b.index;
        return x === "" ? 1 : -1;
      }
      var d = numeric ? parseFloat(x) - parseFloat(y) : x.localeCompare(y, undefined, { sensitivity: "base", numeric: true });
      return d !== 0 ? d * dir : a.index - b.index;
    };
  }

  function sortBy(th, dir) {
    var col = th.getAttribute("data-col");
    var numeric = th.getAttribute("data-kind") === "num";
    var sorted = info.slice().sort(compare(col, numeric, dir));
    var frag = document.createDocumentFragment();
    sorted.forEach(function (it) { frag.appendChild(it.row); });
    tbody.appendChild(frag);
    headers.forEach(function (h) {
      if (h === th) h.setAttribute("aria-sort", dir > 0 ? "ascending" : "descending");
      else h.removeAttribute("aria-sort");
    });
  }

  headers.forEach(function (th) {
    var button = th.querySelector("button");
    if (!button) return;
    button.addEventListener("click", function () {
      var current = th.getAttribute("aria-sort");
      var dir;
      if (current === "ascending") dir = -1;
      else if (current === "descending") dir = 1;
      else dir = th.getAttribute("data-kind") === "num" || th.getAttribute("data-col") === "release_date" ? -1 : 1;
      sortBy(th, dir);
    });
  });

  form.addEventListener("submit", function (e) { e.preventDefault(); update(); });
  q.addEventListener("input", update);
  minScore.addEventListener("input", update);
  provider.addEventListener("change", update);

  var reset = document.getElementById("f-reset");
  if (reset) {
    reset.addEventListener("click", function (e) {
      e.preventDefault();
      q.value = ""; provider.selectedIndex = 0; minScore.value = "";
      update();
      q.focus();
    });
  }

  // Provider links in the overview filter in place instead of reloading the page.
  Array.prototype.forEach.call(document.querySelectorAll("a[data-provider]"), function (a) {
    a.addEventListener("click", function (e) {
      if (e.metaKey || e.ctrlKey || e.shiftKey || e.altKey || e.button !== 0) return;
      e.preventDefault();
      chooseProvider(a.getAttribute("data-provider"));
      update();
      document.getElementById("models").scrollIntoView();
      provider.focus({ preventScroll: true });
    });
  });

  window.addEventListener("popstate", function () { readUrl(); apply(); });
  readUrl();
  apply();
})();

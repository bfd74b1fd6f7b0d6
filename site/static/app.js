// Sort and filter the server-rendered catalogue table in place; filter state lives in the URL query.
// A model's name opens its detail view (?model=<name>): its figures and an SVG chart of its score
// history, read from its history document. Data only ever reaches the DOM through textContent and
// attributes: never innerHTML.
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

  // The detail view of one model. Its figures come from its table row (or from the read API when
  // the page does not list it), its history from /history/<key>.json, the key the publisher wrote
  // into the row by the identity rules, so look-alike names never share a history.
  function modelDetail(info) {
    var SVG = "http://www.w3.org/2000/svg";
    var view = document.getElementById("detail");
    if (!view) return { fromUrl: function () {} };
    var title = document.getElementById("detail-title");
    var error = document.getElementById("detail-error");
    var figures = document.getElementById("detail-figures");
    var history = document.getElementById("detail-history");
    var chart = document.getElementById("history-chart");
    var historyRows = document.getElementById("history-table").tBodies[0];
    var links = document.getElementById("detail-links");
    var jsonLink = document.getElementById("detail-json");
    var close = document.getElementById("detail-close");
    var shown = null, opener = null, token = 0;

    function el(tag, text, ns) {
      var e = ns ? document.createElementNS(SVG, tag) : document.createElement(tag);
      if (text !== undefined) e.textContent = text;
      return e;
    }
    function attrs(e, map) { Object.keys(map).forEach(function (k) { e.setAttribute(k, map[k]); }); return e; }
    function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); }
    function fail(message) { error.textContent = message; error.hidden = false; }

    function link(name) {
      for (var i = 0; i < info.length; i++) {
        var a = info[i].row.querySelector("a[data-model]");
        if (a && a.textContent === name) return a;
      }
      return null;
    }

    function fromRow(a) {
      var row = a.closest("tr");
      var figure = function (col) {
        var c = cell(row, col);
        return c && !c.classList.contains("na") ? (c.getAttribute("title") || c.textContent.trim()) : null;
      };
      return { name: a.textContent, provider: figure("provider"), version: figure("version"),
               context: figure("context_window"), score: figure("score"), released: figure("release_date"),
               history: a.getAttribute("data-history") };
    }

    function fromApi(m) {
      var api = "/api/llms/" + encodeURIComponent(m.model_name);
      return { name: m.model_name, provider: m.provider, version: m.version || null,
               context: m.context_window == null ? null : m.context_window.toLocaleString("en") + " tokens",
               score: typeof m.score === "number" ? m.score.toFixed(1) : null,
               released: m.release_date || null, history: api + "/history" };
    }

    function showFigures(m) {
      clear(figures);
      [["Provider", m.provider], ["Version", m.version], ["Context window", m.context],
       ["Score", m.score], ["Released", m.released]].forEach(function (pair) {
        figures.appendChild(el("dt", pair[0]));
        figures.appendChild(el("dd", pair[1] === null || pair[1] === undefined ? "—" : String(pair[1])));
      });
      figures.hidden = false;
      jsonLink.href = m.history;
      jsonLink.textContent = "History of " + m.name + " as JSON";
      links.hidden = false;
    }

    // One point per recorded score value: the score it was added with, then each change of it.
    function points(doc) {
      var out = [];
      (doc.events || []).slice().reverse().forEach(function (e) {
        var value = e.field === "score" ? e.new
          : (e.field === null && e.new && typeof e.new === "object" ? e.new.score : undefined);
        if (typeof value === "number") out.push({ at: e.at, value: value });
      });
      return out;
    }

    function when(at) {
      var d = new Date(at);
      return isNaN(d.getTime()) ? String(at) : d.toISOString().slice(0, 19).replace("T", " ") + " UTC";
    }

    function draw(pts) {
      clear(chart); clear(historyRows);
      var W = 360, H = 170, L = 34, R = 12, T = 12, B = 28;
      var times = pts.map(function (p) { return new Date(p.at).getTime() || 0; });
      var values = pts.map(function (p) { return p.value; });
      var t0 = Math.min.apply(null, times), t1 = Math.max.apply(null, times);
      var lo = Math.max(0, Math.floor((Math.min.apply(null, values) - 5) / 10) * 10);
      var hi = Math.min(100, Math.ceil((Math.max.apply(null, values) + 5) / 10) * 10);
      if (hi <= lo) { lo = Math.max(0, hi - 10); hi = lo + 10; }
      var x = function (i) { return t1 > t0 ? L + (times[i] - t0) / (t1 - t0) * (W - L - R) : (L + W - R) / 2; };
      var y = function (v) { return T + (hi - v) / (hi - lo) * (H - T - B); };
      var svg = attrs(el("svg", undefined, true), { "class": "chart history", viewBox: "0 0 " + W + " " + H,
        role: "group", "aria-labelledby": "history-title" });
      [lo, (lo + hi) / 2, hi].forEach(function (tick) {
        svg.appendChild(attrs(el("line", undefined, true), { "class": "grid", x1: L, x2: W - R, y1: y(tick), y2: y(tick) }));
        svg.appendChild(attrs(el("text", String(tick), true), { "class": "tick", x: L - 6, y: y(tick) + 4,
          "text-anchor": "end", "aria-hidden": "true" }));
      });
      // The axis ends: dates, or times when the whole history is one day's.
      var first = when(pts[0].at), last = when(pts[pts.length - 1].at);
      var oneDay = first.slice(0, 10) === last.slice(0, 10);
      [[first, "start"], [last, "end"]].forEach(function (end, i) {
        if (i === 1 && pts.length < 2) return;
        svg.appendChild(attrs(el("text", oneDay ? end[0].slice(11) : end[0].slice(0, 10), true), { "class": "tick",
          x: i ? W - R : L, y: H - 8, "text-anchor": end[1], "aria-hidden": "true" }));
      });
      svg.appendChild(attrs(el("polyline", undefined, true), { "class": "line", "aria-hidden": "true",
        points: pts.map(function (p, i) { return x(i).toFixed(1) + "," + y(p.value).toFixed(1); }).join(" ") }));
      pts.forEach(function (p, i) {
        var label = when(p.at) + ": score " + p.value.toFixed(1);
        var dot = attrs(el("circle", undefined, true), { "class": "dot", cx: x(i).toFixed(1), cy: y(p.value).toFixed(1),
          r: "4.5", role: "img", "aria-label": label, "data-history-point": "", "data-at": p.at, "data-value": p.value });
        dot.appendChild(el("title", label, true));
        svg.appendChild(dot);
        var tr = el("tr"), time = attrs(el("time", when(p.at)), { datetime: p.at }), th = el("th");
        th.setAttribute("scope", "row"); th.appendChild(time); tr.appendChild(th);
        tr.appendChild(el("td", p.value.toFixed(1)));
        historyRows.appendChild(tr);
      });
      chart.appendChild(svg);
      history.hidden = false;
    }

    function loadHistory(m, mine) {
      fetch(m.history, { headers: { Accept: "application/json" } }).then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      }).then(function (doc) {
        if (mine !== token) return;
        if (doc.model_name !== m.name) throw new Error("it names another model");
        var pts = points(doc);
        if (!pts.length) fail("No score of " + m.name + " is recorded in its history yet.");
        else draw(pts);
      }).catch(function (e) {
        if (mine === token) fail("The score history of " + m.name + " is unavailable right now (" + e.message + "). Its figures above are current.");
      });
    }

    function reset(heading) {
      token++;
      title.textContent = heading;
      error.hidden = true; figures.hidden = true; history.hidden = true; links.hidden = true;
      clear(chart); clear(historyRows);
      view.hidden = false;
    }

    function show(name) {
      if (name === shown) return;
      shown = name;
      reset(name);
      var mine = token, a = link(name);
      if (a) { var m = fromRow(a); showFigures(m); loadHistory(m, mine); return; }
      // Not listed on this page (beyond its row limit, or another form of a name): ask the API,
      // which resolves a name by the identity rules only when exactly one model matches.
      fetch("/api/llms/" + encodeURIComponent(name), { headers: { Accept: "application/json" } }).then(function (r) {
        if (r.status === 404 || r.status === 300) return null;
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      }).then(function (found) {
        if (mine !== token) return;
        if (!found || typeof found.model_name !== "string") {
          title.textContent = "Unknown model";
          fail("No model named “" + name + "” is in the catalogue. Check the name, or pick one from the table.");
          return;
        }
        var row = link(found.model_name), m = row ? fromRow(row) : fromApi(found);
        title.textContent = m.name;
        showFigures(m);
        loadHistory(m, mine);
      }).catch(function (e) {
        if (mine === token) fail("The model “" + name + "” could not be looked up right now (" + e.message + ").");
      });
    }

    function hide() {
      token++; shown = null; view.hidden = true;
    }

    function go(name) {
      var params = new URLSearchParams(window.location.search);
      if (name === null) params.delete("model"); else params.set("model", name);
      var query = params.toString();
      window.history.pushState(null, "", window.location.pathname + (query ? "?" + query : ""));
    }

    tbody.addEventListener("click", function (e) {
      var a = e.target.closest && e.target.closest("a[data-model]");
      if (!a || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey || e.button !== 0) return;
      e.preventDefault();
      opener = a;
      go(a.textContent);
      show(a.textContent);
      view.focus();
    });
    close.addEventListener("click", function (e) {
      e.preventDefault();
      go(null);
      hide();
      if (opener && document.contains(opener)) opener.focus(); else table.parentNode.focus();
    });
    view.addEventListener("keydown", function (e) { if (e.key === "Escape") close.click(); });

    return {
      fromUrl: function () {
        var name = new URLSearchParams(window.location.search).get("model");
        if (name === null || name === "") hide(); else show(name);
      }
    };
  }

  var detail = modelDetail(info);
  window.addEventListener("popstate", function () { readUrl(); apply(); detail.fromUrl(); });
  readUrl();
  apply();
  detail.fromUrl();
})();

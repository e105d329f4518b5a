// Layout for every width: the menu button of the top bar and tables that scroll in their own box.
(function () {
  "use strict";
  var bar = document.getElementById("topbar"), toggle = document.getElementById("nav-toggle");
  if (bar && toggle) {
    toggle.addEventListener("click", function () {
      var open = bar.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }
  document.querySelectorAll("table.stack").forEach(function (table) {
    var names = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) { return th.textContent.trim(); });
    table.querySelectorAll("tbody tr").forEach(function (tr) {
      Array.prototype.forEach.call(tr.children, function (td, i) { if (names[i] && !td.hasAttribute("data-label")) td.setAttribute("data-label", names[i]); });
    });
  });
  var boxes = [];
  document.querySelectorAll("main table").forEach(function (table) {
    if (table.closest(".table-scroll")) return;
    var box = document.createElement("div");
    box.className = "table-scroll";
    table.parentNode.insertBefore(box, table);
    box.appendChild(table);
    boxes.push(box);
  });
  document.querySelectorAll(".table-scroll").forEach(function (box) { if (boxes.indexOf(box) < 0) boxes.push(box); });
  // A box that scrolls is reachable by keyboard and named after its section.
  function focusable() {
    boxes.forEach(function (box) {
      if (box.scrollWidth > box.clientWidth + 1) {
        if (!box.hasAttribute("tabindex")) {
          var heading = box.closest("section, .card, details");
          var title = heading && heading.querySelector("h2, h3, summary");
          box.setAttribute("tabindex", "0");
          box.setAttribute("role", "region");
          box.setAttribute("aria-label", title ? title.textContent.trim() : document.title);
        }
      } else if (box.getAttribute("role") === "region") {
        box.removeAttribute("tabindex"); box.removeAttribute("role"); box.removeAttribute("aria-label");
      }
    });
  }
  focusable();
  window.addEventListener("resize", focusable);
  window.carbonlinkScrollBoxes = function (extra) { extra.forEach(function (b) { boxes.push(b); }); focusable(); };
})();
// Dashboard charts (ECharts, served from the package) and the live meter feed (server-sent events).
(function () {
  "use strict";
  var palette = ["#0f766e", "#3b82f6", "#a855f7", "#f59e0b", "#ef4444"];
  function data(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }
  // links[i]: the page the chart's i-th category leads to (a bar, a point, a month)
  function chart(id, option, links) {
    var node = document.getElementById(id);
    if (!node || !window.echarts) return null;
    var c = echarts.init(node, null, { renderer: "canvas" });
    option.color = option.color || palette;
    option.animation = false;
    c.setOption(option);
    if (links && links.length) {
      node.classList.add("linked");
      c.on("click", function (p) { if (links[p.dataIndex]) window.location.assign(links[p.dataIndex]); });
      // a click on the axis area of a category (not only on its bar) leads there too
      c.getZr().on("click", function (e) {
        if (e.target) return;
        var at = c.convertFromPixel({ seriesIndex: 0 }, [e.offsetX, e.offsetY]);
        var horizontal = axisOf(option.yAxis).type === "category";
        var i = at ? Math.round(horizontal ? at[1] : at[0]) : -1;
        if (i >= 0 && links[i]) window.location.assign(links[i]);
      });
    }
    window.addEventListener("resize", function () { c.resize(); });
    describe(node, option);
    return c;
  }
  // The text alternative of a chart: its name, and its data as a table under a disclosure.
  var tableLabel = (document.currentScript && document.currentScript.dataset.chartTable) || "Data";
  function axisOf(axis) { return Array.isArray(axis) ? axis[0] : axis; }
  function describe(node, option) {
    var card = node.closest(".card"), heading = card && card.querySelector("h2, h3");
    var name = heading ? heading.textContent.trim() : node.id;
    node.setAttribute("role", "img");
    node.setAttribute("aria-label", name);
    var x = axisOf(option.xAxis) || {}, y = axisOf(option.yAxis) || {};
    var series = (option.series || []).filter(function (s) { return !(s.tooltip && s.tooltip.show === false); });
    if (!series.length) return;
    var number = new Intl.NumberFormat(document.documentElement.lang, { maximumFractionDigits: 3 });
    var value = function (v) { if (v && typeof v === "object" && !Array.isArray(v)) v = v.value; return typeof v === "number" ? number.format(v) : (v === null || v === undefined ? "—" : String(v)); };
    var head = [x.type === "category" ? (x.name || "") : (y.type === "category" ? (y.name || "") : "")];
    var rows = [];
    if (x.type === "category" || y.type === "category") {
      var cats = x.type === "category" ? x.data : y.data;
      series.forEach(function (s) { head.push(s.name || (x.type === "category" ? y.name : x.name) || ""); });
      cats.forEach(function (cat, i) { rows.push([String(cat)].concat(series.map(function (s) { return value(s.data[i]); }))); });
    } else {
      head.push(series[0].name || y.name || "");
      series[0].data.slice(-1000).forEach(function (p) { rows.push([String(p[0]).replace("T", " "), value(p[1])]); });
    }
    var details = document.createElement("details");
    details.className = "chart-table";
    var summary = document.createElement("summary");
    summary.textContent = tableLabel + " · " + name;
    details.appendChild(summary);
    // Built when first opened: the page's text stays the figures' own until the reader asks.
    details.addEventListener("toggle", function () {
      if (!details.open || details.querySelector("table")) return;
      var box = document.createElement("div");
      box.className = "table-scroll";
      var table = document.createElement("table");
      var tr = document.createElement("tr");
      head.forEach(function (h, i) { var th = document.createElement("th"); th.scope = "col"; th.textContent = h; if (i) th.className = "num"; tr.appendChild(th); });
      var thead = document.createElement("thead"); thead.appendChild(tr); table.appendChild(thead);
      var tbody = document.createElement("tbody");
      rows.forEach(function (r) {
        var row = document.createElement("tr");
        r.forEach(function (cell, i) { var td = document.createElement(i ? "td" : "th"); if (!i) td.scope = "row"; else td.className = "num"; td.textContent = cell; row.appendChild(td); });
        tbody.appendChild(row);
      });
      table.appendChild(tbody);
      box.appendChild(table);
      details.appendChild(box);
      if (window.carbonlinkScrollBoxes) window.carbonlinkScrollBoxes([box]);
    });
    node.parentNode.insertBefore(details, node.nextSibling);
  }
  window.carbonlinkDescribe = describe;
  var grid = { left: 56, right: 20, top: 36, bottom: 30 };
  var ov = data("overview-data");
  if (ov) {
    var bar = function (name, values) { return { name: name, type: "bar", stack: "scope", data: values, barMaxWidth: 36 }; };
    chart("chart-months", {
      tooltip: { trigger: "axis" }, legend: { top: 0 }, grid: { left: 56, right: 20, top: 60, bottom: 30 },
      xAxis: { type: "category", data: ov.months }, yAxis: { type: "value", name: ov.labels.tco2e },
      series: ov.scope2m ? [
        bar(ov.labels.scope1, ov.scope1), bar(ov.labels.scope2, ov.scope2), bar(ov.labels.scope3, ov.scope3),
        { name: ov.labels.scope2m, type: "line", data: ov.scope2m, symbolSize: 6 }
      ] : [bar(ov.labels.scope1, ov.scope1), bar(ov.labels.scope2, ov.scope2), bar(ov.labels.scope3, ov.scope3)]
    }, ov.links && ov.links.months);
    var compact = new Intl.NumberFormat(document.documentElement.lang, { notation: "compact", maximumFractionDigits: 1 });
    chart("chart-facilities", {
      tooltip: { trigger: "axis" }, grid: { left: 20, right: 40, top: 20, bottom: 50, containLabel: true },
      xAxis: { type: "value", name: ov.labels.tco2e, nameLocation: "middle", nameGap: 30, axisLabel: { formatter: function (v) { return compact.format(v); } } }, yAxis: { type: "category", data: ov.facilities.slice().reverse(), axisLabel: { width: 170, overflow: "break" } },
      series: [{ type: "bar", data: ov.facility_t.slice().reverse(), barMaxWidth: 28 }]
    }, ov.links && ov.links.facilities.slice().reverse());
    chart("chart-intensity", {
      tooltip: { trigger: "axis" }, grid: grid, color: ["#f59e0b"],
      xAxis: { type: "category", data: ov.months }, yAxis: { type: "value", name: ov.labels.intensity },
      series: [{ name: ov.labels.intensity, type: "line", data: ov.intensity, smooth: true, symbolSize: 7 }]
    }, ov.links && ov.links.months);
    chart("chart-completeness", {
      tooltip: { trigger: "axis" }, grid: grid, color: ["#16a34a"],
      xAxis: { type: "category", data: ov.months }, yAxis: { type: "value", min: 0, max: 100, name: ov.labels.completeness },
      series: [{ name: ov.labels.completeness, type: "bar", data: ov.completeness, barMaxWidth: 36 }]
    }, ov.links && ov.links.completeness);
  }
  var bd = data("band-data");
  if (bd) {
    var lab = document.getElementById("band-labels").dataset;
    var lower = bd.low, width = bd.high.map(function (h, i) { return h === null || bd.low[i] === null ? null : h - bd.low[i]; });
    chart("chart-band", {
      tooltip: { trigger: "axis" }, legend: { top: 0, data: [lab.value, lab.band] }, grid: grid,
      xAxis: { type: "category", data: bd.ts, axisLabel: { hideOverlap: true } }, yAxis: { type: "value" },
      series: [
        { name: "low", type: "line", data: lower, stack: "band", lineStyle: { opacity: 0 }, symbol: "none", tooltip: { show: false } },
        { name: lab.band, type: "line", data: width, stack: "band", lineStyle: { opacity: 0 }, symbol: "none", areaStyle: { color: "#93c5fd", opacity: 0.5 }, color: "#93c5fd" },
        { name: lab.value, type: "line", data: bd.value, symbol: "none", color: "#0f766e",
          markArea: { itemStyle: { color: "rgba(239,68,68,0.15)" }, data: (function () {
            var areas = [], start = null;
            bd.flag.forEach(function (f, i) {
              if (f && start === null) start = i;
              if ((!f || i === bd.flag.length - 1) && start !== null) { areas.push([{ xAxis: bd.ts[start] }, { xAxis: bd.ts[f ? i : i - 1] }]); start = null; }
            });
            return areas;
          })() } }
      ]
    });
  }
  var tg = data("targets-data");
  if (tg) {
    chart("chart-pathway", {
      tooltip: { trigger: "axis" }, legend: { top: 0 }, grid: { left: 20, right: 20, top: 60, bottom: 30, containLabel: true },
      xAxis: { type: "category", data: tg.years }, yAxis: { type: "value", name: tg.labels.tco2e },
      series: [
        { name: tg.labels.pathway, type: "line", data: tg.pathway, symbolSize: 6 },
        { name: tg.labels.projected, type: "scatter", symbolSize: 14, color: "#ef4444",
          data: tg.years.map(function (y) { return String(y) === String(tg.year) ? tg.projected : null; }) }
      ]
    });
    if (tg.monthly) chart("chart-budget", {
      tooltip: { trigger: "axis" }, grid: grid,
      xAxis: { type: "category", data: tg.months }, yAxis: { type: "value", name: tg.labels.tco2e },
      series: [{ name: tg.labels.monthly, type: "bar", barMaxWidth: 28,
        markLine: tg.budget_month ? { symbol: "none", label: { formatter: tg.labels.budget_month }, lineStyle: { color: "#b91c1c", type: "dashed" }, data: [{ yAxis: tg.budget_month }] } : undefined,
        data: tg.monthly.map(function (v, i) { return { value: v, itemStyle: { opacity: i < tg.as_of ? 1 : 0.35 } }; }) }]
    });
  }
  var mt = data("meter-data");
  if (mt) {
    var points = mt.ts.map(function (t, i) { return [t, mt.value[i]]; });
    var c = chart("chart-meter", {
      tooltip: { trigger: "axis" }, grid: grid,
      xAxis: { type: "time" }, yAxis: { type: "value", name: mt.unit, scale: true },
      series: [{ type: "line", data: points, showSymbol: false, areaStyle: { opacity: 0.08 } }]
    });
    var node = document.getElementById("chart-meter");
    var state = document.getElementById("live-state");
    if (node && window.EventSource) {
      var source = new EventSource(node.dataset.events);
      source.addEventListener("reading", function (e) {
        var r = JSON.parse(e.data);
        points.push([r.ts, r.value]);
        if (points.length > 500) points.shift();
        if (c) c.setOption({ series: [{ data: points }] });
      });
      source.onerror = function () { if (state) state.classList.add("off"); };
      source.onopen = function () { if (state) state.classList.remove("off"); };
    }
  }
})();

// Language per session: the top bar's links choose it through PUT /api/v1/me/language, so that
// only this session changes; without the API (a forced password change) the link itself does.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[data-lang]") : null;
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (!link || !meta || !window.fetch) return;
    event.preventDefault();
    fetch("/api/v1/me/language", {
      method: "PUT",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": meta.content },
      body: JSON.stringify({ language: link.getAttribute("data-lang") })
    }).then(function (response) {
      var here = new URL(window.location.href);
      here.searchParams.delete("lang");
      if (!response.ok) window.location.assign(link.href);
      // the same address with a #fragment would only scroll: load the page again instead
      else if (here.toString() === window.location.href) window.location.reload();
      else window.location.assign(here.toString());
    }, function () { window.location.assign(link.href); });
  });
})();

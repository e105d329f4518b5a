// Dashboard charts (ECharts, served from the package) and the live meter feed (server-sent events).
(function () {
  "use strict";
  var palette = ["#0f766e", "#3b82f6", "#a855f7", "#f59e0b", "#ef4444"];
  function data(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }
  function chart(id, option) {
    var node = document.getElementById(id);
    if (!node || !window.echarts) return null;
    var c = echarts.init(node, null, { renderer: "canvas" });
    option.color = option.color || palette;
    option.animation = false;
    c.setOption(option);
    window.addEventListener("resize", function () { c.resize(); });
    return c;
  }
  var grid = { left: 56, right: 20, top: 36, bottom: 30 };
  var ov = data("overview-data");
  if (ov) {
    var bar = function (name, values) { return { name: name, type: "bar", stack: "scope", data: values, barMaxWidth: 36 }; };
    chart("chart-months", {
      tooltip: { trigger: "axis" }, legend: { top: 0 }, grid: grid,
      xAxis: { type: "category", data: ov.months }, yAxis: { type: "value", name: ov.labels.tco2e },
      series: [bar(ov.labels.scope1, ov.scope1), bar(ov.labels.scope2, ov.scope2), bar(ov.labels.scope3, ov.scope3)]
    });
    chart("chart-facilities", {
      tooltip: { trigger: "axis" }, grid: { left: 140, right: 30, top: 20, bottom: 30 },
      xAxis: { type: "value", name: ov.labels.tco2e }, yAxis: { type: "category", data: ov.facilities.slice().reverse() },
      series: [{ type: "bar", data: ov.facility_t.slice().reverse(), barMaxWidth: 28 }]
    });
    chart("chart-intensity", {
      tooltip: { trigger: "axis" }, grid: grid, color: ["#f59e0b"],
      xAxis: { type: "category", data: ov.months }, yAxis: { type: "value", name: ov.labels.intensity },
      series: [{ name: ov.labels.intensity, type: "line", data: ov.intensity, smooth: true, symbolSize: 7 }]
    });
    chart("chart-completeness", {
      tooltip: { trigger: "axis" }, grid: grid, color: ["#16a34a"],
      xAxis: { type: "category", data: ov.months }, yAxis: { type: "value", min: 0, max: 100, name: ov.labels.completeness },
      series: [{ name: ov.labels.completeness, type: "bar", data: ov.completeness, barMaxWidth: 36 }]
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

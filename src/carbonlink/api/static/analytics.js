// Energy analytics page: the series chart (zoom, thresholds, comparison, intensity) and the load
// heat map, drawn from the JSON the server embedded; the tables beside them hold the same values.
(function () {
  "use strict";
  var node = document.getElementById("analytics-data");
  if (!node || !window.echarts) return;
  var payload = JSON.parse(node.textContent);
  var labels = document.getElementById("analytics-labels").dataset;
  var palette = ["#0f766e", "#3b82f6", "#a855f7", "#f59e0b", "#ef4444", "#64748b"];
  function draw(id, option) {
    var el = document.getElementById(id);
    if (!el) return null;
    var c = echarts.init(el, null, { renderer: "canvas" });
    option.animation = false;
    option.color = option.color || palette;
    c.setOption(option);
    window.addEventListener("resize", function () { c.resize(); });
    return c;
  }
  var s = payload.series;
  if (s) {
    var units = [];
    s.series.forEach(function (m) { if (units.indexOf(m.unit) < 0) units.push(m.unit); });
    var bars = s.step === "month" || s.step === "day";
    var cut = s.step === "month" ? 7 : s.step === "day" ? 10 : 16;
    var ticks = s.buckets.map(function (b) { return b.replace("T", " ").slice(0, cut); });
    // bars start at zero; lines of a fine step may zoom to the values' range
    var yAxes = units.map(function (u, i) { return { type: "value", name: u, scale: !bars, position: i ? "right" : "left" }; });
    var zoom = [{ type: "inside" }, { type: "slider", height: 18, bottom: 4 }];
    draw("chart-series", {
      tooltip: { trigger: "axis" }, legend: { top: 0 },
      grid: { left: 56, right: units.length > 1 ? 56 : 20, top: 40, bottom: 56 },
      xAxis: { type: "category", data: ticks },
      yAxis: yAxes, dataZoom: zoom,
      series: s.series.map(function (m, i) {
        var line = { name: m.name + " (" + m.unit + ")", type: bars ? "bar" : "line",
          yAxisIndex: units.indexOf(m.unit), data: m.values, showSymbol: false, barMaxWidth: 24 };
        if (i === 0 && s.thresholds.length) {
          line.markLine = { symbol: "none", lineStyle: { color: "#b91c1c", type: "dashed" },
            label: { formatter: labels.threshold + " {c}" },
            data: s.thresholds.map(function (t) { return { yAxis: t }; }) };
        }
        return line;
      })
    });
    if (s.intensity) {
      draw("chart-intensity-series", {
        tooltip: { trigger: "axis" }, grid: { left: 56, right: 20, top: 30, bottom: 56 }, color: ["#f59e0b"],
        xAxis: { type: "category", data: ticks },
        yAxis: { type: "value", name: labels.intensity + " (" + s.intensity_unit + ")", scale: true },
        dataZoom: zoom, series: [{ name: labels.intensity, type: "line", data: s.intensity, showSymbol: false }]
      });
    }
  }
  var h = payload.heat;
  if (h && h.cells.length) {
    var top = 0;
    h.cells.forEach(function (c) { if (c[2] > top) top = c[2]; });
    var hours = []; for (var i = 0; i < 24; i++) hours.push(String(i));
    draw("chart-heat", {
      tooltip: { position: "top", formatter: function (p) { return h.days[p.value[1]] + " " + p.value[0] + ":00 — " + p.value[2] + " " + h.unit; } },
      grid: { left: 86, right: 20, top: 10, bottom: 90 },
      xAxis: { type: "category", data: hours, splitArea: { show: true } },
      yAxis: { type: "category", data: h.days, inverse: true },
      visualMap: { min: 0, max: top || 1, calculable: true, orient: "horizontal", left: "center", bottom: 0,
        inRange: { color: ["#f0fdfa", "#5eead4", "#0f766e", "#134e4a"] } },
      series: [{ type: "heatmap", data: h.cells, progressive: 2000 }]
    });
  }
})();

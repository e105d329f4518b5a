// Supply-chain charts: what contributes to a product's footprint (ECharts, served from the package).
(function () {
  "use strict";
  var node = document.getElementById("contributions-data");
  var target = document.getElementById("chart-contributions");
  if (!node || !target || !window.echarts) return;
  var d = JSON.parse(node.textContent);
  if (!d) return;
  var c = echarts.init(target, null, { renderer: "canvas" });
  var number = new Intl.NumberFormat(document.documentElement.lang, { maximumFractionDigits: 4 });
  var option = {
    animation: false,
    color: ["#0f766e"],
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: function (v) { return number.format(v) + " " + d.unit; } },
    grid: { left: 10, right: 60, top: 10, bottom: 40, containLabel: true },
    xAxis: { type: "value", name: d.unit, nameLocation: "middle", nameGap: 28 },
    yAxis: { type: "category", data: d.labels.slice().reverse(), axisLabel: { width: 190, overflow: "break" } },
    series: [{ type: "bar", data: d.values.slice().reverse(), barMaxWidth: 26,
      label: { show: true, position: "right", formatter: function (p) { return number.format(p.value); } } }]
  };
  c.setOption(option);
  if (window.carbonlinkDescribe) window.carbonlinkDescribe(target, option);  // its data table
  window.addEventListener("resize", function () { c.resize(); });
})();

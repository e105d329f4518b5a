// Supplier green-and-digital index: horizontal bars of the index and its two dimensions.
// Loaded with `defer`, so it runs after the vendored ECharts at the end of the page.
(function () {
  "use strict";
  var node = document.getElementById("chart-supplier-index");
  var source = document.getElementById("supplier-index-data");
  if (!node || !source || !window.echarts) return;
  var data = JSON.parse(source.textContent);
  if (!data) return;
  var labels = node.dataset;
  var chart = echarts.init(node, null, { renderer: "canvas" });
  var bar = function (name, values, color) {
    return { name: name, type: "bar", data: values, color: color, barMaxWidth: 14,
      label: { show: true, position: "right", fontSize: 11, formatter: function (p) { return p.value === null ? "" : p.value.toFixed(1); } } };
  };
  var option = {
    animation: false,
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    legend: { top: 0 },
    grid: { left: 20, right: 48, top: 36, bottom: 20, containLabel: true },
    xAxis: { type: "value", min: 0, max: 100 },
    yAxis: { type: "category", data: data.suppliers, axisLabel: { width: 180, overflow: "truncate" } },
    series: [
      bar(labels.digital, data.digital, "#3b82f6"),
      bar(labels.green, data.green, "#16a34a"),
      bar(labels.score, data.score, "#0f766e")
    ]
  };
  chart.setOption(option);
  if (window.carbonlinkDescribe) window.carbonlinkDescribe(node, option);  // its data table
  window.addEventListener("resize", function () { chart.resize(); });
})();

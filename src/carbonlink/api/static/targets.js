// The targets page's declared targets: the budget line (the pathway, year by year) with the
// emissions of the saved full-year inventories beside it.
(function () {
  "use strict";
  var node = document.getElementById("declared-targets-data");
  if (!node || !window.echarts) return;
  var data = JSON.parse(node.textContent);
  data.targets.forEach(function (target, index) {
    var box = document.getElementById("target-chart-" + index);
    if (!box) return;
    var years = Object.keys(target.pathway_t);
    Object.keys(target.actual_t).forEach(function (y) { if (years.indexOf(y) < 0) years.push(y); });
    years.sort();
    var chart = echarts.init(box, null, { renderer: "canvas" });
    chart.setOption({
      animation: false,
      color: ["#b91c1c", "#0f766e"],
      grid: { left: 72, right: 20, top: 36, bottom: 30 },
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      xAxis: { type: "category", data: years },
      yAxis: { type: "value", name: data.labels.tco2e },
      series: [
        {
          name: data.labels.budget, type: "line", step: false, symbolSize: 6,
          lineStyle: { width: 2, type: "dashed" },
          data: years.map(function (y) { return y in target.pathway_t ? target.pathway_t[y] : null; })
        },
        {
          name: data.labels.actual, type: "bar", barMaxWidth: 28,
          data: years.map(function (y) { return y in target.actual_t ? target.actual_t[y] : null; })
        }
      ]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  });
})();

/* The work desk's charts (shegong/web/templates/shegong/home_desk.html). Each chart's data is the JSON in
   its element's data-chart attribute (no inline script: the Content-Security-Policy allows our static
   files only); ECharts is vendored (static shegong/vendor/echarts.min.js). A click on a
   bar or slice opens the list behind it; the same links are in each chart's "查看数据" table. */
(function () {
  "use strict";
  var PALETTE = ["#2563eb", "#c8102e", "#15803d", "#b45309", "#7c3aed", "#0e7490", "#be185d", "#4b5563",
                 "#65a30d", "#9a3412", "#1e3a8a", "#a16207"];

  function option(c, narrow) {
    var base = { color: PALETTE, animation: false, tooltip: { trigger: c.kind === "pie" ? "item" : "axis",
      valueFormatter: function (v) { return v + " " + c.unit; } } };
    if (c.kind === "pie") {
      // On a phone the names go into a legend below and the slices carry their share only.
      if (narrow) { base.legend = { bottom: 0, type: "scroll" }; }
      base.series = [{ type: "pie", radius: narrow ? ["22%", "66%"] : ["38%", "68%"],
        center: ["50%", narrow ? "45%" : "54%"], cursor: "pointer",
        label: narrow ? { position: "inside", color: "#fff", fontSize: 11,
          formatter: function (p) { return Math.round(p.percent) + "%"; } } : { formatter: "{b}\n{c}({d}%)" },
        data: c.labels.map(function (l, i) { return { name: l, value: c.values[i] }; }) }];
      return base;
    }
    var horizontal = c.kind === "hbar";
    var category = { type: "category", data: c.labels, axisLabel: { interval: 0, hideOverlap: true } };
    var value = { type: "value", name: c.unit, nameTextStyle: { color: "#4b5563" } };
    base.grid = { left: 8, right: 24, top: 30, bottom: 8, containLabel: true };
    base.xAxis = horizontal ? value : category;
    base.yAxis = horizontal ? Object.assign(category, { inverse: true }) : value;
    var series = { type: "bar", data: c.values, cursor: "pointer", barMaxWidth: 36,
      label: { show: true, position: horizontal ? "right" : "top" } };
    if (c.target !== null && c.target !== undefined) {
      series.markLine = { symbol: "none", silent: true, lineStyle: { color: "#c8102e", type: "dashed" },
        label: { formatter: c.target_label, position: "insideEndTop" },
        data: [horizontal ? { xAxis: c.target } : { yAxis: c.target }] };
      value.max = function (v) { return Math.ceil(Math.max(v.max, c.target) * 1.1); };
    }
    base.series = [series];
    return base;
  }

  function draw() {
    if (!window.echarts) { return; }
    var made = [];
    Array.prototype.forEach.call(document.querySelectorAll(".chart[data-chart]"), function (el) {
      var c = JSON.parse(el.getAttribute("data-chart"));
      var chart = window.echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(option(c, el.clientWidth < 480));
      chart.on("click", function (p) {
        var link = c.links[p.dataIndex];
        if (link) { window.location.href = link; }
      });
      made.push(chart);
    });
    window.addEventListener("resize", function () { made.forEach(function (ch) { ch.resize(); }); });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();

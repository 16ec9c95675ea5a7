/* The audit reports' chart, from the json_script element #audit-chart-data (built by
   audits/views_reports.py, its series names translated there); the y axis title comes from
   the canvas's data-axis. The same figures are in the table under the chart.
   - kind "prices" (per product) and "trend" (per month): the lowest–highest range as floating
     bars, the median as a line of points, the suggested retail price as a dashed line;
   - kind "shelves": the share of shops with the product on the shelf, as bars (0-100). */
(function () {
  "use strict";
  var source = document.getElementById("audit-chart-data");
  var canvas = document.getElementById("audit-chart");
  if (!source || !canvas || typeof window.Chart === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  if (!data.labels.length) {
    return;
  }
  var charts = window.crmCharts;
  var primary = charts.colour("--bs-primary", "#0d6efd");
  var secondary = charts.colour("--bs-secondary", "#6c757d");
  var danger = charts.colour("--bs-danger", "#dc3545");
  var datasets;
  var y = { title: { display: true, text: canvas.dataset.axis } };
  if (data.kind === "shelves") {
    datasets = [{ type: "bar", label: data.names.share, data: data.share, backgroundColor: primary }];
    y.beginAtZero = true;
    y.max = 100;
  } else {
    datasets = [
      {
        type: "line",
        label: data.names.median,
        data: data.median,
        borderColor: primary,
        backgroundColor: primary,
        showLine: data.kind === "trend",
        spanGaps: true,
        pointRadius: 4
      },
      {
        type: "line",
        label: data.names.srp,
        data: data.srp,
        borderColor: danger,
        backgroundColor: danger,
        borderDash: [6, 4],
        pointRadius: data.kind === "trend" ? 0 : 3,
        showLine: data.kind === "trend"
      },
      {
        type: "bar",
        label: data.names.range,
        data: data.range.map(function (pair) {
          return pair[0] === null ? null : pair;
        }),
        backgroundColor: secondary + "66",
        borderColor: secondary,
        borderWidth: 1
      }
    ];
  }
  new window.Chart(canvas, {
    data: { labels: data.labels, datasets: datasets },
    options: {
      animation: charts.reduceMotion ? false : undefined,
      maintainAspectRatio: false,
      interaction: { mode: "index", intersect: false },
      plugins: { legend: { position: "bottom" } },
      scales: { y: y }
    }
  });
})();

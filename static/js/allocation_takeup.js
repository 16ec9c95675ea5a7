/* The take-up overview's stacked bar chart of cartons by grade: used, unused and ordered over
   the quota. Data comes from the json_script element #takeup-chart-data ({labels: [grades],
   series: [{key, label, colour, values}]}, built by allocation/monthly.py, its labels
   translated there); the axis words come from the canvas's data-axis and data-label. The same
   figures are in the table under the chart for screen readers and without JS. */
(function () {
  "use strict";
  var source = document.getElementById("takeup-chart-data");
  var canvas = document.getElementById("takeup-grade-chart");
  if (!source || !canvas || typeof window.Chart === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  if (!data.labels.length) {
    return;
  }
  var colour = window.crmCharts.colour;
  var fallback = { success: "#198754", secondary: "#6c757d", danger: "#dc3545" };

  new window.Chart(canvas, {
    type: "bar",
    data: {
      labels: data.labels,
      datasets: data.series.map(function (series) {
        return {
          label: series.label,
          data: series.values,
          backgroundColor: colour("--bs-" + series.colour, fallback[series.colour] || "#6c757d"),
          stack: "cartons"
        };
      })
    },
    options: {
      animation: window.crmCharts.reduceMotion ? false : undefined,
      maintainAspectRatio: false,
      interaction: { mode: "index", intersect: false },
      plugins: { legend: { position: "bottom" } },
      scales: {
        x: { stacked: true, title: { display: true, text: canvas.dataset.axis }, ticks: { autoSkip: false } },
        y: { stacked: true, beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: canvas.dataset.label } }
      }
    }
  });
})();

/* The value overview's stacked bar chart of tiers by area. Data comes from the json_script
   element #value-chart-data ({labels: [area codes], names: [area names], series: [{tier,
   label, colour, counts}]}, built by valuation.views.overview); the series labels are
   translated there, the axis words come from the canvas's data-axis and data-label.
   The same figures are in the table under the chart for screen readers and without JS. */
(function () {
  "use strict";
  var source = document.getElementById("value-chart-data");
  var canvas = document.getElementById("value-area-chart");
  if (!source || !canvas || typeof window.Chart === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  if (!data.labels.length) {
    return;
  }
  var colour = window.crmCharts.colour;
  var fallback = { success: "#198754", primary: "#0d6efd", warning: "#ffc107", secondary: "#6c757d" };

  new window.Chart(canvas, {
    type: "bar",
    data: {
      labels: data.labels,
      datasets: data.series.map(function (series) {
        return {
          label: series.label,
          data: series.counts,
          backgroundColor: colour("--bs-" + series.colour, fallback[series.colour] || "#6c757d"),
          stack: "tiers"
        };
      })
    },
    options: {
      animation: window.crmCharts.reduceMotion ? false : undefined,
      maintainAspectRatio: false,
      interaction: { mode: "index", intersect: false },
      plugins: {
        legend: { position: "bottom" },
        tooltip: {
          callbacks: {
            title: function (items) {
              var i = items[0].dataIndex;
              return data.labels[i] + (data.names[i] ? " " + data.names[i] : "");
            }
          }
        }
      },
      scales: {
        x: { stacked: true, title: { display: true, text: canvas.dataset.axis }, ticks: { autoSkip: false } },
        y: { stacked: true, beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: canvas.dataset.label } }
      }
    }
  });
})();

/* The coverage page's horizontal bar chart: share of customers visited within their cycle per
   account manager. Data comes from the json_script element #coverage-chart-data ({labels:
   [manager names], shares: [0-100], levels: [Bootstrap colour names]}, built by
   visits.views.coverage); the axis words come from the canvas's data-label. The same figures
   are in the table under the chart for screen readers and without JS. */
(function () {
  "use strict";
  var source = document.getElementById("coverage-chart-data");
  var canvas = document.getElementById("coverage-chart");
  if (!source || !canvas || typeof window.Chart === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  if (!data.labels.length) {
    return;
  }
  // A bar per manager: the box grows with them (up to its max-height, max-h-40), set here
  // rather than in a style attribute, which the Content-Security-Policy refuses.
  canvas.parentElement.style.height = "calc(4rem + " + data.labels.length + " * 1.75rem)";
  var colour = window.crmCharts.colour;
  var fallback = { success: "#198754", warning: "#ffc107", danger: "#dc3545", secondary: "#6c757d" };

  new window.Chart(canvas, {
    type: "bar",
    data: {
      labels: data.labels,
      datasets: [{
        label: canvas.dataset.label,
        data: data.shares,
        backgroundColor: data.levels.map(function (level) {
          return colour("--bs-" + level, fallback[level] || fallback.secondary);
        })
      }]
    },
    options: {
      indexAxis: "y",
      animation: window.crmCharts.reduceMotion ? false : undefined,
      maintainAspectRatio: false,
      plugins: {
        legend: { display: false },
        tooltip: {
          callbacks: {
            label: function (item) {
              return item.formattedValue + "%";
            }
          }
        }
      },
      scales: {
        x: { min: 0, max: 100, title: { display: true, text: canvas.dataset.label } },
        y: { ticks: { autoSkip: false } }
      }
    }
  });
})();

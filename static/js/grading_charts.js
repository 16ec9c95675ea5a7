/* The grading overview's distribution charts. Data comes from the json_script element
   #grading-chart-data ({series: {labels: [...], counts: [...]}}, built by
   grading.views.overview); each canvas names its series in data-series and carries its
   translated words in data-label (the bars) and data-axis (the x axis).
   The same figures are in tables next to the charts for screen readers and without JS. */
(function () {
  "use strict";
  var source = document.getElementById("grading-chart-data");
  if (!source || typeof window.Chart === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  var colour = window.crmCharts.colour;
  var colours = {
    grades: colour("--bs-primary", "#0d6efd"),
    categories: colour("--bs-teal", "#20c997"),
    structures: colour("--bs-indigo", "#6610f2")
  };
  var reduceMotion = window.crmCharts.reduceMotion;

  document.querySelectorAll("canvas[data-series]").forEach(function (canvas) {
    var series = data[canvas.dataset.series];
    if (!series || !series.labels.length) {
      return;
    }
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: series.labels,
        datasets: [
          {
            label: canvas.dataset.label,
            data: series.counts,
            backgroundColor: colours[canvas.dataset.series] || colours.grades
          }
        ]
      },
      options: {
        animation: reduceMotion ? false : undefined,
        maintainAspectRatio: false,
        plugins: { legend: { display: false } },
        scales: {
          x: { title: { display: true, text: canvas.dataset.axis }, ticks: { autoSkip: false } },
          y: { beginAtZero: true, ticks: { precision: 0 } }
        }
      }
    });
  });
})();

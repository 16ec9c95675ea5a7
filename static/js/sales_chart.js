/* The customer page's sales charts. Data comes from the json_script element #sales-data
   (orders.selectors.customer_sales_summary()["chart"]); series names from the canvas's
   data-label-* attributes, so every word on the chart is translated by the template.
   The same figures are in tables next to the charts for screen readers and without JS. */
/* Drawn for the page and for a tab loaded on demand (htmx.onLoad: the customer page loads the
   tabs it does not open with the page when they are opened). */
htmx.onLoad(function (root) {
  "use strict";
  var source = root.querySelector("#sales-data");
  if (!source || typeof window.Chart === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  var colour = window.crmCharts.colour;
  var primary = colour("--bs-primary", "#0d6efd");
  var accent = colour("--bs-orange", "#fd7e14");
  var reduceMotion = window.crmCharts.reduceMotion;
  var animation = reduceMotion ? false : undefined;

  var monthly = root.querySelector("#sales-monthly-chart");
  if (monthly) {
    new window.Chart(monthly, {
      data: {
        labels: data.labels,
        datasets: [
          {
            type: "bar",
            label: monthly.dataset.labelCartons,
            data: data.cartons,
            backgroundColor: primary,
            yAxisID: "y",
            order: 2
          },
          {
            type: "line",
            label: monthly.dataset.labelAmount,
            data: data.amount,
            borderColor: accent,
            backgroundColor: accent,
            tension: 0.25,
            yAxisID: "y1",
            order: 1
          }
        ]
      },
      options: {
        animation: animation,
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        plugins: { legend: { position: "bottom" } },
        scales: {
          y: { beginAtZero: true, position: "left", ticks: { precision: 0 } },
          y1: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false } }
        }
      }
    });
  }

  var mix = root.querySelector("#sales-class-chart");
  if (mix) {
    new window.Chart(mix, {
      type: "doughnut",
      data: {
        labels: data.class_labels,
        datasets: [
          {
            data: data.class_cartons,
            // Class 1 (dearest) to class 5 (cheapest): dark to light.
            backgroundColor: ["#084298", "#0d6efd", "#6ea8fe", "#9ec5fe", "#cfe2ff"]
          }
        ]
      },
      options: {
        animation: animation,
        maintainAspectRatio: false,
        plugins: { legend: { position: "right", labels: { boxWidth: 12 } } }
      }
    });
  }
});

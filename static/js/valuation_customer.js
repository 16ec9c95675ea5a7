/* The customer page's value radar: the five indicator scores (0-100) of the latest valued
   month and, dashed, of the valued month before it. Data comes from the json_script element
   #value-radar-data (valuation.selectors.customer.customer_value_card()["chart"]): translated
   indicator labels, the month, the scores and `previous` (null without an earlier month).
   The previous series' name comes from the canvas's data-label-previous attribute, so every
   word is translated by the template; the same scores are in the table beside the chart. */
/* Drawn for the page and for a tab loaded on demand (htmx.onLoad: the customer page loads the
   tabs it does not open with the page when they are opened). */
htmx.onLoad(function (root) {
  "use strict";
  var source = root.querySelector("#value-radar-data");
  var canvas = root.querySelector("#value-radar-chart");
  if (!source || !canvas || typeof window.Chart === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  var colour = window.crmCharts.colour;
  var primary = colour("--bs-primary", "#0d6efd");
  var muted = colour("--bs-secondary", "#6c757d");

  // A translucent fill of a CSS colour given as #rrggbb (anything else: no fill).
  function fill(hex, alpha) {
    var match = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
    if (!match) {
      return "transparent";
    }
    return "rgba(" + parseInt(match[1], 16) + ", " + parseInt(match[2], 16) + ", " +
      parseInt(match[3], 16) + ", " + alpha + ")";
  }

  var datasets = [
    {
      label: data.month,
      data: data.scores,
      borderColor: primary,
      backgroundColor: fill(primary, 0.2),
      pointBackgroundColor: primary,
      fill: true
    }
  ];
  if (data.previous) {
    datasets.push({
      label: canvas.dataset.labelPrevious + " (" + data.previous.month + ")",
      data: data.previous.scores,
      borderColor: muted,
      backgroundColor: "transparent",
      pointBackgroundColor: muted,
      borderDash: [4, 4],
      pointRadius: 2,
      fill: false
    });
  }

  new window.Chart(canvas, {
    type: "radar",
    data: { labels: data.labels, datasets: datasets },
    options: {
      animation: window.crmCharts.reduceMotion ? false : undefined,
      maintainAspectRatio: false,
      plugins: { legend: { position: "bottom" } },
      scales: {
        r: { min: 0, max: 100, beginAtZero: true, ticks: { stepSize: 20, backdropColor: "transparent" } }
      }
    }
  });
});

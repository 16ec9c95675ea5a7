/* The satisfaction page's charts. Data comes from the json_script element
   #satisfaction-chart-data ({labels: ["YYYY-MM"...], series: [{label, data: [mean or null]}],
   total: [mean or null], scores: ["1".."5"], counts: [n...]}, built by
   services.views.satisfaction); every word on the charts comes from the canvases' data-
   attributes, so the template translates it. The same figures are in the table under the
   charts for screen readers and without JS. */
(function () {
  "use strict";
  var source = document.getElementById("satisfaction-chart-data");
  if (!source || typeof window.Chart === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  var colour = window.crmCharts.colour;
  var animation = window.crmCharts.reduceMotion ? false : undefined;
  // One colour per area, from Bootstrap's palette; the line of all areas is grey and dashed.
  var palette = [
    colour("--bs-primary", "#0d6efd"),
    colour("--bs-orange", "#fd7e14"),
    colour("--bs-teal", "#20c997"),
    colour("--bs-pink", "#d63384"),
    colour("--bs-indigo", "#6610f2"),
    colour("--bs-cyan", "#0dcaf0"),
    colour("--bs-green", "#198754"),
    colour("--bs-red", "#dc3545")
  ];
  var muted = colour("--bs-secondary", "#6c757d");

  var trend = document.getElementById("satisfaction-trend-chart");
  if (trend && data.labels.length) {
    var datasets = data.series.map(function (series, i) {
      var c = palette[i % palette.length];
      return { label: series.label, data: series.data, borderColor: c, backgroundColor: c, tension: 0 };
    });
    if (data.series.length > 1) {
      datasets.push({
        label: trend.dataset.labelTotal,
        data: data.total,
        borderColor: muted,
        backgroundColor: muted,
        borderDash: [6, 4],
        pointRadius: 2
      });
    }
    new window.Chart(trend, {
      type: "line",
      data: { labels: data.labels, datasets: datasets },
      options: {
        animation: animation,
        maintainAspectRatio: false,
        spanGaps: false,
        interaction: { mode: "index", intersect: false },
        plugins: { legend: { position: "bottom" } },
        scales: {
          y: { min: 1, max: 5, ticks: { stepSize: 1 }, title: { display: true, text: trend.dataset.axis } }
        }
      }
    });
  }

  var distribution = document.getElementById("satisfaction-distribution-chart");
  if (distribution) {
    var fallback = ["#dc3545", "#fd7e14", "#ffc107", "#20c997", "#198754"];
    var names = ["--bs-danger", "--bs-orange", "--bs-warning", "--bs-teal", "--bs-success"];
    new window.Chart(distribution, {
      type: "bar",
      data: {
        labels: data.scores,
        datasets: [{
          label: distribution.dataset.label,
          data: data.counts,
          backgroundColor: names.map(function (name, i) { return colour(name, fallback[i]); })
        }]
      },
      options: {
        animation: animation,
        maintainAspectRatio: false,
        plugins: { legend: { display: false } },
        scales: {
          x: { title: { display: true, text: distribution.dataset.axis } },
          y: { beginAtZero: true, ticks: { precision: 0 } }
        }
      }
    });
  }
})();

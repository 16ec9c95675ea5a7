/* The home page's charts. Data comes from the json_script element #home-chart-data, built by
   home.views.HomeView from the panels' `home_chart` parts:
   - grades / tiers (account managers): {labels, counts, links, colours} — customers per
     current grade and per value tier; a bar opens the customer list filtered by it;
   - movements (supervisors): {labels: [row names], datasets: [{key, label, colour, data,
     links}]} — customers whose grade and tier went up, down, across or stayed; a segment
     opens the overview it counts.
   Each canvas names its series in data-home-chart and carries its translated words in
   data-label / data-axis; colours are Bootstrap CSS variables. The same figures are written
   under every chart as links, for screen readers, keyboards and without JS. */
(function () {
  "use strict";
  var source = document.getElementById("home-chart-data");
  if (!source || typeof window.Chart === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  var colour = window.crmCharts.colour;
  var animation = window.crmCharts.reduceMotion ? false : undefined;
  var fallbacks = {
    "--bs-primary": "#0d6efd",
    "--bs-success": "#198754",
    "--bs-danger": "#dc3545",
    "--bs-warning": "#ffc107",
    "--bs-info": "#0dcaf0",
    "--bs-secondary": "#6c757d"
  };
  function paint(name) {
    return colour(name, fallbacks[name] || "#0d6efd");
  }
  // A click on a bar follows its link; the pointer says which bars have one.
  function linkOf(chart, element) {
    var links = chart.data.datasets[element.datasetIndex].links || [];
    return links[element.index] || null;
  }
  function onClick(event, elements, chart) {
    if (elements.length) {
      var link = linkOf(chart, elements[0]);
      if (link) {
        window.location.href = link;
      }
    }
  }
  function onHover(event, elements, chart) {
    var linked = elements.length && linkOf(chart, elements[0]);
    event.native.target.style.cursor = linked ? "pointer" : "default";
  }

  function countChart(canvas, series, horizontal) {
    var valueAxis = { beginAtZero: true, ticks: { precision: 0 } };
    var categoryAxis = { title: { display: !horizontal, text: canvas.dataset.axis }, ticks: { autoSkip: false } };
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: series.labels,
        datasets: [{
          label: canvas.dataset.label,
          data: series.counts,
          links: series.links,
          backgroundColor: series.colours.map(paint)
        }]
      },
      options: {
        animation: animation,
        maintainAspectRatio: false,
        indexAxis: horizontal ? "y" : "x",
        onClick: onClick,
        onHover: onHover,
        plugins: { legend: { display: false } },
        scales: horizontal ? { x: valueAxis, y: categoryAxis } : { x: categoryAxis, y: valueAxis }
      }
    });
  }

  function movementChart(canvas, series) {
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: series.labels,
        datasets: series.datasets.map(function (set) {
          return { label: set.label, data: set.data, links: set.links, backgroundColor: paint(set.colour) };
        })
      },
      options: {
        animation: animation,
        maintainAspectRatio: false,
        indexAxis: "y",
        onClick: onClick,
        onHover: onHover,
        plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } },
        scales: {
          x: { stacked: true, beginAtZero: true, ticks: { precision: 0 } },
          y: { stacked: true }
        }
      }
    });
  }

  document.querySelectorAll("canvas[data-home-chart]").forEach(function (canvas) {
    var name = canvas.dataset.homeChart;
    var series = data[name];
    if (!series || !series.labels.length) {
      return;
    }
    if (name === "movements") {
      movementChart(canvas, series);
    } else {
      countChart(canvas, series, name === "tiers");
    }
  });
})();

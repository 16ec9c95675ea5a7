/* The customer page's retail price chart (audits panel): per product the shop's price per
   carton in each month observed and, dashed, the product's suggested retail price. Data comes
   from the json_script element #audit-price-data (audits.panels._chart): the months and per
   product its name, prices (null where not seen) and suggested price (null when none). The
   word for the suggested price comes from the canvas's data-label-srp attribute; the same
   figures are in the table below the chart. */
/* Drawn for the page and for a tab loaded on demand (htmx.onLoad: the customer page loads the
   tabs it does not open with the page when they are opened). */
htmx.onLoad(function (root) {
  "use strict";
  var source = root.querySelector("#audit-price-data");
  var canvas = root.querySelector("#audit-price-chart");
  if (!source || !canvas || typeof window.Chart === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  var palette = ["#0d6efd", "#198754", "#fd7e14", "#6f42c1", "#d63384", "#20c997"];
  var datasets = [];
  data.products.forEach(function (product, i) {
    var colour = palette[i % palette.length];
    datasets.push({
      label: product.name,
      data: product.prices,
      borderColor: colour,
      backgroundColor: colour,
      spanGaps: true
    });
    if (product.srp !== null) {
      datasets.push({
        label: product.name + " (" + canvas.dataset.labelSrp + ")",
        data: data.months.map(function () { return product.srp; }),
        borderColor: colour,
        borderDash: [4, 4],
        pointRadius: 0,
        fill: false
      });
    }
  });
  new window.Chart(canvas, {
    type: "line",
    data: { labels: data.months, datasets: datasets },
    options: {
      animation: window.crmCharts && window.crmCharts.reduceMotion ? false : undefined,
      maintainAspectRatio: false,
      plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } },
      scales: { y: { beginAtZero: false } }
    }
  });
});

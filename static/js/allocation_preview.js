/* The plan preview's chart: the cartons each grade asks for (demand) and gets (allocated), as
   grouped bars (crm.js's crmCharts.pairedBars). Data comes from the json_script element
   #allocation-preview-data ({labels, demand, allocated}); the series names and axis title from
   the canvas's data-* attributes, so every word is translated by the template. The same
   figures are in the table beside it (the chart's text alternative). */
(function () {
  "use strict";
  var source = document.getElementById("allocation-preview-data");
  var canvas = document.getElementById("allocation-preview-chart");
  if (!source || !canvas || typeof window.Chart === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  window.crmCharts.pairedBars(
    canvas,
    data.labels,
    { label: canvas.dataset.labelDemand, data: data.demand },
    { label: canvas.dataset.labelAllocated, data: data.allocated }
  );
})();

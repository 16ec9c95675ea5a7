/* The scheme preview's chart: customers per grade now and with the previewed scheme, as
   grouped bars. Data comes from the json_script element #scheme-preview-data ({labels, now,
   draft}); the series names and axis title from the canvas's data-* attributes, so every word
   is translated by the template. The preview arrives by htmx, so the chart is drawn again
   after each swap. The same figures are in the table beside it. */
(function () {
  "use strict";
  var chart = null;
  var reduceMotion = window.crmCharts.reduceMotion;

  function draw() {
    var source = document.getElementById("scheme-preview-data");
    var canvas = document.getElementById("scheme-preview-chart");
    if (chart) {
      chart.destroy();
      chart = null;
    }
    if (!source || !canvas || typeof window.Chart === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    chart = window.crmCharts.pairedBars(
      canvas,
      data.labels,
      { label: canvas.dataset.labelNow, data: data.now },
      { label: canvas.dataset.labelDraft, data: data.draft }
    );
  }

  // After a preview arrives, bring it (or the first value to correct) into view: on a phone
  // it lands far below the button.
  function reveal() {
    var target = document.querySelector(
      "#scheme-editor [data-testid=form-errors], #scheme-editor .is-invalid, #scheme-editor [data-error-for]"
    ) ||
      document.querySelector("[data-testid=preview-result]");
    if (target && target.scrollIntoView) {
      target.scrollIntoView({ behavior: reduceMotion ? "auto" : "smooth", block: "center" });
    }
  }

  draw();
  document.body.addEventListener("htmx:afterSettle", function () {
    draw();
    reveal();
  });
})();

/* The customer page's grading history chart. Data comes from the json_script element
   #grading-history-data (grading.selectors.customer_grading_card()["chart"]): 12 month labels
   and, per month, the effective grade, the computed grade and the structure class (null where
   the month was not graded). Series names come from the canvas's data-label-* attributes, so
   every word is translated by the template; the same figures are in the table below it.
   Grade 1 and structure class 1 are the best, so both axes are reversed (1 on top). */
/* Drawn for the page and for a tab loaded on demand (htmx.onLoad: the customer page loads the
   tabs it does not open with the page when they are opened). */
htmx.onLoad(function (root) {
  "use strict";
  var source = root.querySelector("#grading-history-data");
  var canvas = root.querySelector("#grading-history-chart");
  if (!source || !canvas || typeof window.Chart === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  var colour = window.crmCharts.colour;
  var primary = colour("--bs-primary", "#0d6efd");
  var muted = colour("--bs-secondary", "#6c757d");
  var accent = colour("--bs-teal", "#20c997");
  var reduceMotion = window.crmCharts.reduceMotion;

  // Draw the computed grade only where an override made it differ from the effective one.
  var overridden = data.computed.some(function (value, i) {
    return value !== null && value !== data.grade[i];
  });
  var datasets = [
    {
      label: canvas.dataset.labelGrade,
      data: data.grade,
      borderColor: primary,
      backgroundColor: primary,
      stepped: false,
      tension: 0,
      yAxisID: "y"
    }
  ];
  if (overridden) {
    datasets.push({
      label: canvas.dataset.labelComputed,
      data: data.computed,
      borderColor: muted,
      backgroundColor: muted,
      borderDash: [4, 4],
      pointRadius: 2,
      yAxisID: "y"
    });
  }
  datasets.push({
    label: canvas.dataset.labelStructure,
    data: data.structure,
    borderColor: accent,
    backgroundColor: accent,
    pointStyle: "rectRot",
    yAxisID: "y1"
  });

  // A reversed axis from 1 (top) to `max` with a tick per whole number, padded by half a step
  // so a line at 1 or at `max` is not drawn on the chart's border.
  function integerAxis(max, position, title) {
    return {
      reverse: true,
      min: 0.5,
      max: max + 0.5,
      position: position,
      grid: position === "left" ? {} : { drawOnChartArea: false },
      afterBuildTicks: function (axis) {
        var ticks = [];
        for (var value = 1; value <= max; value += 1) {
          ticks.push({ value: value });
        }
        axis.ticks = ticks;
      },
      ticks: { autoSkip: true, precision: 0 },
      title: { display: true, text: title }
    };
  }

  new window.Chart(canvas, {
    type: "line",
    data: { labels: data.labels, datasets: datasets },
    options: {
      animation: reduceMotion ? false : undefined,
      maintainAspectRatio: false,
      spanGaps: false,
      interaction: { mode: "index", intersect: false },
      plugins: { legend: { position: "bottom" } },
      scales: {
        y: integerAxis(Math.max(data.grade_count || 1, 2), "left", canvas.dataset.labelGrade),
        y1: integerAxis(10, "right", canvas.dataset.labelStructure)
      }
    }
  });
});

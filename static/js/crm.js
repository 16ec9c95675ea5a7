/* Confirmation before actions that cannot be undone: add data-confirm="question" to a form
   or to the submit button that needs it. */
document.addEventListener("submit", function (event) {
  var question = (event.submitter && event.submitter.dataset.confirm) || event.target.dataset.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});

/* Shared by the chart scripts (loaded after this file): a colour from Bootstrap's CSS
   variables, and whether the user asked for less motion (then charts do not animate). */
window.crmCharts = {
  colour: function (name, fallback) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
  },
  reduceMotion: !!(window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches),
  /* Two series as grouped bars — grey for the first (what is, or what is asked), blue for the
     second (what would be, or what is given) — the x axis titled by the canvas's data-axis:
     the previews' charts. Each series is {label, data}. Needs Chart.js loaded. */
  pairedBars: function (canvas, labels, first, second) {
    var charts = window.crmCharts;
    return new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: labels,
        datasets: [
          { label: first.label, data: first.data, backgroundColor: charts.colour("--bs-secondary", "#6c757d") },
          { label: second.label, data: second.data, backgroundColor: charts.colour("--bs-primary", "#0d6efd") }
        ]
      },
      options: {
        animation: charts.reduceMotion ? false : undefined,
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        plugins: { legend: { position: "bottom" } },
        scales: {
          x: { title: { display: true, text: canvas.dataset.axis } },
          y: { beginAtZero: true, ticks: { precision: 0 } }
        }
      }
    });
  }
};

/* Progress bars carry their width (a percentage) in data-bar-width: set here through the
   CSSOM, as the Content-Security-Policy refuses style="" attributes. htmx runs this for the
   page and for every fragment it swaps in (run rows that poll their status). */
htmx.onLoad(function (root) {
  var bars = Array.prototype.slice.call(root.querySelectorAll("[data-bar-width]"));
  if (root.matches && root.matches("[data-bar-width]")) bars.push(root);
  bars.forEach(function (bar) {
    bar.style.width = Math.max(0, Math.min(100, parseFloat(bar.dataset.barWidth) || 0)) + "%";
  });
});

/* A region that scrolls on its own (a wide table on a phone, a long list in a box) must be
   reachable from the keyboard to be scrolled (WCAG 2.1.1): focusable, for the page and for every
   fragment htmx swaps in; and, focusable, it is announced as a region named by the heading just
   before it in its card or fieldset (or by base.html's generic name). */
function crmRegionTitle(region) {
  var scope = region.closest(".card, fieldset") || document.getElementById("main") || document.body;
  var found = null;
  scope.querySelectorAll("h1, h2, h3, h4, h5, h6, legend, .card-header").forEach(function (h) {
    if (!h.contains(region) && !region.contains(h) &&
        (h.compareDocumentPosition(region) & Node.DOCUMENT_POSITION_FOLLOWING)) found = h;
  });
  return found;
}
htmx.onLoad(function (root) {
  var selector = ".table-responsive, .overflow-auto, .overflow-y-auto";
  var regions = Array.prototype.slice.call(root.querySelectorAll(selector));
  if (root.matches && root.matches(selector)) regions.push(root);
  regions.forEach(function (region) {
    if (!region.hasAttribute("tabindex")) region.tabIndex = 0;
    // A list keeps its own role (its items need it); a box becomes a named region.
    if (!region.hasAttribute("role") && !region.matches("ul, ol, table")) region.setAttribute("role", "region");
    if (region.hasAttribute("aria-label") || region.hasAttribute("aria-labelledby")) return;
    var title = crmRegionTitle(region);
    if (title) {
      if (!title.id) title.id = "region-title-" + (crmRegionTitle.count = (crmRegionTitle.count || 0) + 1);
      region.setAttribute("aria-labelledby", title.id);
    } else {
      region.setAttribute("aria-label", document.body.dataset.scrollRegionLabel || "");
    }
  });
});

/* Phone-width tables (crm.css, "Phone widths"): below 768 px a `table.table-cards` shows each
   row as a card whose cells carry their column's name. The names come from the table's head,
   written here into each cell's data-label (a head cell whose only text is visually hidden,
   such as "Actions", gives no label), for the page and for every row htmx swaps in. */
htmx.onLoad(function (root) {
  var tables = [];
  if (root.closest) {
    var own = root.closest("table.table-cards");
    if (own) tables.push(own);
  }
  Array.prototype.push.apply(tables, root.querySelectorAll ? root.querySelectorAll("table.table-cards") : []);
  tables.forEach(function (table) {
    var labels = [];
    var headRow = table.tHead && table.tHead.rows[table.tHead.rows.length - 1];
    if (!headRow) return;
    Array.prototype.forEach.call(headRow.cells, function (th) {
      var hidden = th.querySelector(".visually-hidden");
      var text = th.textContent.trim();
      if (hidden && hidden.textContent.trim() === text) text = "";
      for (var i = 0; i < (th.colSpan || 1); i++) labels.push(text);
    });
    Array.prototype.forEach.call(table.tBodies, function (body) {
      Array.prototype.forEach.call(body.rows, function (row) {
        var column = 0;
        Array.prototype.forEach.call(row.cells, function (cell) {
          if (!cell.hasAttribute("data-label") && cell.colSpan < labels.length) {
            cell.setAttribute("data-label", labels[column] || "");
          }
          column += cell.colSpan || 1;
        });
      });
    });
  });
});

/* htmx swaps, for keyboard and screen-reader users (WCAG 2.4.3, 4.1.3). An action's answer
   replaces the row or form holding the button that was pressed: the browser would drop focus to
   <body>, so it goes to the new content's heading, or to the content itself. Only when focus was
   inside what was replaced: a row that polls its status never takes the focus. What the action
   did is read from base.html's live region (templates/inc/live_message.html fills it out of
   band), emptied first so the same message twice is read twice. */
(function () {
  var focusWasIn = null;
  document.addEventListener("htmx:beforeRequest", function (event) {
    var live = document.getElementById("live-region");
    if (live && event.detail.requestConfig && event.detail.requestConfig.verb !== "get") {
      live.textContent = "";
    }
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    var active = document.activeElement;
    focusWasIn = target && active && active !== document.body && target.contains(active) ? target : null;
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    var root = event.target;
    if (!focusWasIn || !root || !root.isConnected || root.closest("#live-region")) return;
    focusWasIn = null;
    var active = document.activeElement;
    if (active && active !== document.body && active.isConnected) return;  // focus survived the swap
    var heading = root.querySelector("h1, h2, h3, h4, h5, h6, legend");
    var to = heading || root;
    if (!to.hasAttribute("tabindex") && to.tabIndex < 0) to.setAttribute("tabindex", "-1");
    to.focus();
  });
})();

/* The customer page's tabs (templates/customers/customer_detail.html). Bootstrap's tab plugin
   switches them (arrow keys, Home and End move between them); this keeps the open tab in the
   address (?tab=key) so a reload, a link or the back button opens it again, and opens the tab
   holding the element an address's #fragment names (#visits, #value-warnings, ...). The tab
   links are plain links to ?tab=key, so without JavaScript each opens its tab from the server. */
(function () {
  "use strict";
  var list = document.querySelector("[data-customer-tabs]");
  if (!list || !window.bootstrap) {
    return;
  }
  var opening = null; // a tab opened for a #fragment: the address keeps its fragment

  function linkFor(key) {
    return list.querySelector('[data-tab="' + key + '"]');
  }

  function show(link) {
    window.bootstrap.Tab.getOrCreateInstance(link).show();
  }

  function openFragment(hash, focus) {
    if (!hash || hash.length < 2) {
      return;
    }
    var target = document.getElementById(decodeURIComponent(hash.slice(1)));
    var pane = target && target.closest(".tab-pane");
    if (!pane) {
      return;
    }
    var link = list.querySelector('[data-bs-target="#' + pane.id + '"]');
    if (link && !link.classList.contains("active")) {
      opening = link.dataset.tab;
      show(link);
    }
    target.scrollIntoView();
    if (focus) {
      pane.focus({ preventScroll: true });
    }
  }

  list.addEventListener("shown.bs.tab", function (event) {
    var key = event.target.dataset.tab;
    if (opening === key) {
      opening = null;
      return;
    }
    var url = new URL(window.location.href);
    url.searchParams.set("tab", key);
    url.hash = "";
    window.history.replaceState(null, "", url.pathname + url.search);
  });

  // The summary's figures link to the card behind them (data-tab-link: its tab).
  document.addEventListener("click", function (event) {
    var anchor = event.target.closest("a[data-tab-link]");
    var link = anchor && linkFor(anchor.dataset.tabLink);
    if (!link) {
      return;
    }
    event.preventDefault();
    var hash = new URL(anchor.href).hash;
    show(link);
    var url = new URL(window.location.href);
    url.searchParams.set("tab", link.dataset.tab);
    url.hash = hash;
    window.history.replaceState(null, "", url.pathname + url.search + url.hash);
    openFragment(hash, true);
  });

  window.addEventListener("hashchange", function () {
    openFragment(window.location.hash, false);
  });
  openFragment(window.location.hash, false);
})();

/* The customer page's tabs (templates/customers/customer_detail.html). Bootstrap's tab plugin
   switches them (arrow keys, Home and End move between them); this keeps the open tab in the
   address (?tab=key) so a reload, a link or the back button opens it again, and opens the tab
   holding the element an address's #fragment names (#visits, #value-warnings, ...). The tab
   links are plain links to ?tab=key, so without JavaScript each opens its tab from the server.

   The page draws only its open tab; another one (data-on-demand, hx-get: its address) is loaded
   by htmx the first time it is shown. Until it comes, it says it is loading; if it does not come
   (no network, an error), it says so, with a link that opens the tab from the server. A
   #fragment inside a tab still loading is scrolled to once it has come. */
(function () {
  "use strict";
  var list = document.querySelector("[data-customer-tabs]");
  if (!list || !window.bootstrap) {
    return;
  }
  var opening = null; // a tab opened for a #fragment: the address keeps its fragment
  var waiting = null; // a #fragment in a tab still loading: {pane, hash}

  function linkFor(key) {
    return list.querySelector('[data-tab="' + key + '"]');
  }

  function show(link) {
    window.bootstrap.Tab.getOrCreateInstance(link).show();
  }

  function openFragment(hash, focus) {
    if (!hash || hash.length < 2) {
      return true;
    }
    var id = decodeURIComponent(hash.slice(1));
    var target = document.getElementById(id);
    var pane = target && target.closest(".tab-pane");
    if (!pane) {
      // In a tab still to load? Open it; the fragment is scrolled to once it has come.
      pane = paneHolding(id);
      if (!pane) {
        return false;
      }
      waiting = { pane: pane, hash: hash };
      var pending = list.querySelector('[data-bs-target="#' + pane.id + '"]');
      if (pending && !pending.classList.contains("active")) {
        opening = pending.dataset.tab;
        show(pending);
      }
      return true;
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
    return true;
  }

  function paneHolding(id) {
    var panes = document.querySelectorAll("[data-on-demand][data-anchors]");
    for (var i = 0; i < panes.length; i += 1) {
      if (panes[i].dataset.anchors.split(" ").indexOf(id) !== -1) return panes[i];
    }
    return null;
  }

  function paneOf(link) {
    return document.querySelector(link.dataset.bsTarget);
  }

  list.addEventListener("show.bs.tab", function (event) {
    var pane = paneOf(event.target);
    if (pane && pane.hasAttribute("data-on-demand") && window.htmx) {
      window.htmx.trigger(pane, "crm:open");
    }
  });

  function failed(pane) {
    var loading = pane.querySelector("[data-tab-loading]");
    var message = pane.querySelector("[data-tab-failed]");
    if (loading) loading.hidden = true;
    if (message) message.hidden = false;
  }

  document.addEventListener("htmx:responseError", function (event) {
    if (event.target.hasAttribute("data-on-demand")) failed(event.target);
  });
  document.addEventListener("htmx:sendError", function (event) {
    if (event.target.hasAttribute("data-on-demand")) failed(event.target);
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    if (waiting && event.target === waiting.pane) {
      var hash = waiting.hash;
      waiting = null;
      openFragment(hash, true);
    }
  });

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
    var pane = paneOf(link);
    if (!openFragment(hash, true) && pane && pane.hasAttribute("data-on-demand")) {
      waiting = { pane: pane, hash: hash };
    }
  });

  window.addEventListener("hashchange", function () {
    openFragment(window.location.hash, false);
  });
  // Once htmx has read the page (its own DOMContentLoaded listener comes first): a tab opened
  // for the address's #fragment may have to be loaded.
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      openFragment(window.location.hash, false);
    });
  } else {
    openFragment(window.location.hash, false);
  }
})();

/* The service worker of the installable web app (served as /sw.js by crm.offline, which puts in
   VERSION and SHELL). It lets the account manager open, with no network, what the agenda asked
   it to keep: today's and tomorrow's agenda, the customer pages of those shops and their visit
   forms (static/js/offline.js puts them in the "crm-pages" cache when the agenda is loaded online).

   - /static/ files: from the cache of this version (kept at install), else the network.
   - Pages (navigations): the network first, so that a page online is always the server's
     answer; a page that the "crm-pages" cache holds is refreshed with it, unless the answer
     leaves parts to load on demand (a customer page's other tabs: header X-CRM-Tabs-On-Demand;
     the kept copy is the whole page, which offline.js asks for). With no network, the kept
     copy, else a short page saying that this page was not kept.
   - Anything else (posts, htmx fragments, photos, the API): the network, untouched. Visits
     logged with no network are not the worker's business: offline.js queues them in IndexedDB
     and sends them from the page once the network returns (a page can say what it sent). */
"use strict";

var VERSION = "__VERSION__";
var SHELL = [] /* __SHELL__ */;
var SHELL_CACHE = "crm-shell-" + VERSION;
var PAGES_CACHE = "crm-pages";

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(SHELL_CACHE)
      .then(function (cache) { return cache.addAll(SHELL); })
      .then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) {
        return name.indexOf("crm-shell-") === 0 && name !== SHELL_CACHE;
      }).map(function (name) { return caches.delete(name); }));
    }).then(function () { return self.clients.claim(); })
  );
});

function notKept(request) {
  /* Both languages: the worker does not know the reader's, and the page is rarely seen. */
  var body = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">" +
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">" +
    "<title>Offline · 离线</title><link rel=\"stylesheet\" href=\"" + SHELL[0] + "\"></head>" +
    "<body class=\"bg-body-tertiary\"><main class=\"container py-4\">" +
    "<h1 class=\"h4\">No connection</h1><p>This page was not kept on this phone. " +
    "Today's and tomorrow's agenda, their shops and their visit forms are kept when the agenda is opened online.</p>" +
    "<p lang=\"zh-Hans\">没有网络连接。此页面未保存在本机上。联网打开日程时，会保存今天和明天的日程、其门店和拜访表单。</p>" +
    "<p><a class=\"btn btn-primary\" href=\"/visits/\">Agenda · 日程</a></p></main></body></html>";
  return new Response(body, {
    status: 503,
    headers: { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" }
  });
}

function page(request) {
  return fetch(request).then(function (response) {
    if (response.ok && !response.redirected && !response.headers.get("X-CRM-Tabs-On-Demand")) {
      var copy = response.clone();
      caches.open(PAGES_CACHE).then(function (cache) {
        return cache.match(request, { ignoreVary: true }).then(function (kept) {
          if (kept) return cache.put(request, copy);
          return null;
        });
      });
    }
    return response;
  }, function () {
    return caches.open(PAGES_CACHE).then(function (cache) {
      return cache.match(request, { ignoreVary: true });
    }).then(function (kept) { return kept || notKept(request); });
  });
}

function staticFile(request) {
  return caches.open(SHELL_CACHE).then(function (cache) {
    return cache.match(request, { ignoreVary: true, ignoreSearch: true });
  }).then(function (kept) { return kept || fetch(request); });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(staticFile(request));
  } else if (request.mode === "navigate") {
    event.respondWith(page(request));
  }
});

/* The offline route, on every page (templates/crm/inc/offline.html):

   - Registers the service worker (/sw.js, scope "/": static/js/sw.js).
   - Keeps pages for the road: a page that lists URLs in #offline-urls (today's agenda, online)
     has them put in the "crm-pages" cache, which the worker answers from with no network; the
     pages kept before and not listed any more are dropped. Signing out drops them all (they
     hold the user's customers).
   - The outbox: visits logged with no network (static/js/visit_form.js calls crmOutbox.add)
     wait in IndexedDB, photo included, and are sent once the network returns, oldest first,
     one at a time (Web Locks keep two tabs from sending together). Each carries the draft id
     of its form (client_id): the server stores a draft once and answers a second sending
     with the visit it already has ("duplicate"), which counts as sent; an item is removed
     from IndexedDB only after such an answer, so a crash in between means a second sending,
     never a lost or a doubled visit.
     CSRF and the session: a sent item carries the CSRF token of the page that sends it (the
     current session's), else the one stored with it; an item is sent only by a page of the
     user who logged it. When the session has ended (the server answers with the sign-in page)
     or refuses the token, the item stays, the panel says to sign in again, and it goes on
     the next page loaded after signing in. A visit the server refuses (a field it does not
     take) stays too, with the server's message, until it is discarded.
   - The panel (#outbox, moved to the top of <main>) says what waits, what was refused and
     what was sent (links to the visits), in the page's language. */
(function () {
  "use strict";

  var script = document.currentScript;
  var config = script ? script.dataset : {};
  var textNode = document.getElementById("offline-text");
  var text = textNode ? JSON.parse(textNode.textContent) : {};
  var PAGES_CACHE = "crm-pages";
  var DB_NAME = "crm-offline";
  var RETRY_MS = 30000;
  var SENT_KEPT = 5;
  var SENT_HOURS = 24;

  /* --- the service worker and the pages kept ------------------------------------------- */

  if ("serviceWorker" in navigator && config.sw) {
    navigator.serviceWorker.register(config.sw, { scope: "/" }).catch(function () {
      /* refused (private mode, an old browser): every page still works online */
    });
  }

  /* On signing out: the kept pages and the list of sent visits (they name the user's
     customers) go; visits still waiting stay, for their user's next sign-in. */
  function forgetPages() {
    if (window.indexedDB) clearSent();
    if (window.caches) return window.caches.delete(PAGES_CACHE).catch(function () {});
    return Promise.resolve();
  }

  document.querySelectorAll("form").forEach(function (form) {
    if (config.logoutUrl && form.getAttribute("action") === config.logoutUrl) {
      form.addEventListener("submit", forgetPages);
    }
  });

  function keepPages() {
    var list = document.getElementById("offline-urls");
    if (!list || !window.caches || !navigator.onLine) return;
    var urls = JSON.parse(list.textContent).map(function (u) {
      return new URL(u, window.location.href).href;
    });
    var note = document.getElementById("offline-kept");
    window.caches.open(PAGES_CACHE).then(function (cache) {
      return cache.keys().then(function (requests) {
        return Promise.all(requests.filter(function (r) { return urls.indexOf(r.url) === -1; })
          .map(function (r) { return cache.delete(r); }));
      }).then(function () {
        // One after the other: a phone's connection on the road is slow enough as it is.
        return urls.reduce(function (chain, url) {
          return chain.then(function (kept) {
            // The whole page: a customer page drawn for the road holds every tab (online, it
            // loads the tabs other than the open one on demand).
            return fetch(url, {
              credentials: "same-origin",
              headers: { "X-CRM-Whole-Page": "1" }
            }).then(function (response) {
              if (!response.ok || response.redirected) return kept;
              return cache.put(url, response).then(function () { return kept + 1; });
            }).catch(function () { return kept; });
          });
        }, Promise.resolve(0));
      });
    }).then(function (kept) {
      if (note) {
        note.textContent = text.kept.replace("%(n)s", String(kept));
        note.hidden = false;
        note.dataset.kept = String(kept);
      }
    }).catch(function () {});
  }

  /* --- IndexedDB ----------------------------------------------------------------------- */

  var dbPromise = null;

  function db() {
    if (!window.indexedDB) return Promise.reject(new Error("no IndexedDB"));
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var request = window.indexedDB.open(DB_NAME, 1);
        request.onupgradeneeded = function () {
          request.result.createObjectStore("outbox", { keyPath: "id", autoIncrement: true });
          request.result.createObjectStore("sent", { keyPath: "id", autoIncrement: true });
        };
        request.onsuccess = function () { resolve(request.result); };
        request.onerror = function () { reject(request.error); };
      });
    }
    return dbPromise;
  }

  function run(storeName, mode, work) {
    return db().then(function (database) {
      return new Promise(function (resolve, reject) {
        var tx = database.transaction(storeName, mode);
        var result;
        tx.oncomplete = function () { resolve(result); };
        tx.onerror = function () { reject(tx.error); };
        tx.onabort = function () { reject(tx.error); };
        var request = work(tx.objectStore(storeName));
        if (request) request.onsuccess = function () { result = request.result; };
      });
    });
  }

  function all(storeName) {
    return run(storeName, "readonly", function (store) { return store.getAll(); });
  }

  /* --- the outbox ---------------------------------------------------------------------- */

  function currentToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (e) {
      return "";
    }
  }

  function add(form, customer) {
    var fields = [];
    var files = [];
    new FormData(form).forEach(function (value, name) {
      // The token goes in the header, from the page that sends (see above): a form field
      // would win over it in Django's check, and a stored one fails after a new sign-in.
      if (name === "csrfmiddlewaretoken") return;
      if (value instanceof File) {
        if (value.size) files.push({ name: name, blob: value, filename: value.name, type: value.type });
      } else {
        fields.push([name, value]);
      }
    });
    var token = form.querySelector('input[name="csrfmiddlewaretoken"]');
    var item = {
      user: config.user,
      url: form.action,
      csrf: token ? token.value : "",
      customer: customer,
      createdAt: new Date().toISOString(),
      fields: fields,
      files: files,
      state: "waiting",
      errors: []
    };
    return run("outbox", "readwrite", function (store) { return store.add(item); })
      .then(function (id) {
        render();
        return id;
      });
  }

  function bodyOf(item) {
    var data = new FormData();
    item.fields.forEach(function (pair) { data.append(pair[0], pair[1]); });
    item.files.forEach(function (f) { data.append(f.name, f.blob, f.filename); });
    return data;
  }

  function messagesOf(errors) {
    var lines = [];
    Object.keys(errors || {}).forEach(function (key) {
      (errors[key] || []).forEach(function (m) { lines.push(m); });
    });
    return lines;
  }

  /* One sending: resolves to {kind: "sent", url} | {kind: "refused", errors} | {kind:
     "signed_out"} | {kind: "network"} | {kind: "server"}. */
  function send(item) {
    var token = currentToken() || item.csrf;
    return fetch(item.url, {
      method: "POST",
      body: bodyOf(item),
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch", "X-CSRFToken": token }
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      var landed = new URL(response.url, window.location.href).pathname;
      if ((response.redirected && config.loginUrl && landed === config.loginUrl) || response.status === 403) {
        return { kind: "signed_out" };
      }
      if (type.indexOf("application/json") === -1) return { kind: "server" };
      return response.json().then(function (data) {
        if (data.redirect) return { kind: "sent", url: data.redirect, duplicate: data.status === "duplicate" };
        if (response.status === 400) return { kind: "refused", errors: messagesOf(data.errors) };
        return { kind: "server" };
      });
    }, function () {
      return { kind: "network" };
    });
  }

  /* The server has the visit: the item leaves the outbox and the visit is listed as sent (once:
     a second sending of the same draft, answered "duplicate", names a visit listed already). */
  function remember(item, answer) {
    var entry = { customer: item.customer, url: answer.url, sentAt: new Date().toISOString() };
    return db().then(function (database) {
      return new Promise(function (resolve, reject) {
        var tx = database.transaction(["outbox", "sent"], "readwrite");
        tx.oncomplete = function () { resolve(); };
        tx.onerror = function () { reject(tx.error); };
        tx.objectStore("outbox").delete(item.id);
        var sent = tx.objectStore("sent");
        var listed = sent.getAll();
        listed.onsuccess = function () {
          var known = listed.result.some(function (s) { return s.url === entry.url; });
          if (!known) sent.add(entry);
        };
      });
    });
  }

  function update(item) {
    return run("outbox", "readwrite", function (store) { return store.put(item); });
  }

  var problem = ""; // what stopped the last sending: "signed_out", "server", "network" or ""
  var flushing = null;

  function sendAll() {
    return all("outbox").then(function (items) {
      items.sort(function (a, b) { return a.id - b.id; });
      var mine = items.filter(function (item) { return item.user === config.user && item.state !== "refused"; });
      var index = 0;
      function next() {
        if (index >= mine.length) return null;
        var item = mine[index++];
        return send(item).then(function (answer) {
          if (answer.kind === "sent") {
            return remember(item, answer).then(function () {
              // The visit form that queued it says so (static/js/visit_form.js).
              window.dispatchEvent(new CustomEvent("crm-outbox-sent", { detail: { id: item.id, url: answer.url } }));
            }).then(next);
          }
          if (answer.kind === "refused") {
            item.state = "refused";
            item.errors = answer.errors;
            return update(item).then(next);
          }
          // Stop here, in order: the items after this one wait with it.
          problem = answer.kind;
          return null;
        });
      }
      problem = "";
      return next();
    });
  }

  function flush() {
    if (!config.user || !navigator.onLine) return Promise.resolve();
    if (flushing) return flushing;
    var work = function () { return sendAll(); };
    var locked = navigator.locks && navigator.locks.request
      ? navigator.locks.request("crm-outbox", work)
      : work();
    flushing = Promise.resolve(locked).catch(function () {}).then(function () {
      flushing = null;
      return render();
    });
    return flushing;
  }

  function discard(id) {
    return run("outbox", "readwrite", function (store) { return store.delete(id); }).then(render);
  }

  function clearSent() {
    return run("sent", "readwrite", function (store) { return store.clear(); }).then(render);
  }

  /* --- the panel ----------------------------------------------------------------------- */

  var panel = document.getElementById("outbox");
  var main = document.querySelector("main");
  if (panel && main) main.insertBefore(panel, main.firstChild);

  function say(key, n) {
    return (text[key] || "").replace("%(n)s", String(n));
  }

  function line(content, testid) {
    var li = document.createElement("li");
    li.className = "list-group-item px-2 py-1";
    if (testid) li.dataset.testid = testid;
    li.append(content);
    return li;
  }

  function timeOf(iso) {
    var d = new Date(iso);
    return d.toLocaleTimeString(document.documentElement.lang || undefined, { hour: "2-digit", minute: "2-digit" });
  }

  function render() {
    if (!panel) return Promise.resolve();
    return Promise.all([all("outbox"), all("sent")]).then(function (stores) {
      var items = stores[0].sort(function (a, b) { return a.id - b.id; });
      var since = Date.now() - SENT_HOURS * 3600 * 1000;
      var sent = stores[1].filter(function (s) { return Date.parse(s.sentAt) >= since; })
        .sort(function (a, b) { return b.id - a.id; }).slice(0, SENT_KEPT);
      var waiting = items.filter(function (i) { return i.state !== "refused"; });
      var refused = items.filter(function (i) { return i.state === "refused"; });
      var others = waiting.filter(function (i) { return i.user !== config.user; });

      var summary = panel.querySelector("[data-outbox-summary]");
      var list = panel.querySelector("[data-outbox-list]");
      var sendButton = panel.querySelector("[data-outbox-send]");
      var hideButton = panel.querySelector("[data-outbox-hide]");
      panel.dataset.waiting = String(waiting.length);
      panel.dataset.sent = String(sent.length);
      list.replaceChildren();

      var parts = [];
      if (waiting.length) parts.push(say(waiting.length === 1 ? "waiting_one" : "waiting_many", waiting.length));
      if (waiting.length && !navigator.onLine) parts.push(text.offline);
      if (waiting.length && navigator.onLine && problem === "signed_out") parts.push(text.signed_out);
      if (waiting.length && navigator.onLine && problem === "server") parts.push(text.server);
      if (others.length && !config.user) parts.push(text.signed_out);
      else if (others.length) parts.push(text.other_user);
      if (!waiting.length && sent.length) parts.push(say(sent.length === 1 ? "sent_one" : "sent_many", sent.length));
      summary.textContent = parts.join(" ");

      waiting.forEach(function (item) {
        var span = document.createElement("span");
        span.textContent = text.waiting_item.replace("%(customer)s", item.customer).replace("%(time)s", timeOf(item.createdAt)) +
          (item.files.length ? " · " + text.with_photo : "");
        list.append(line(span, "outbox-waiting"));
      });
      refused.forEach(function (item) {
        var box = document.createElement("div");
        var head = document.createElement("div");
        head.className = "text-danger-emphasis";
        head.textContent = text.refused.replace("%(customer)s", item.customer);
        box.append(head);
        item.errors.forEach(function (m) {
          var e = document.createElement("div");
          e.className = "small";
          e.textContent = m;
          box.append(e);
        });
        var button = document.createElement("button");
        button.type = "button";
        button.className = "btn btn-sm btn-outline-danger mt-1";
        button.textContent = text.discard;
        button.addEventListener("click", function () { discard(item.id); });
        box.append(button);
        list.append(line(box, "outbox-refused"));
      });
      sent.forEach(function (entry) {
        var a = document.createElement("a");
        a.href = entry.url;
        a.textContent = text.sent_item.replace("%(customer)s", entry.customer).replace("%(time)s", timeOf(entry.sentAt));
        list.append(line(a, "outbox-sent"));
      });

      sendButton.hidden = !(waiting.length > others.length && navigator.onLine);
      hideButton.hidden = !(sent.length && !waiting.length);
      panel.classList.toggle("border-warning", waiting.length > 0 || refused.length > 0);
      panel.classList.toggle("border-success", !waiting.length && !refused.length && sent.length > 0);
      panel.hidden = !(items.length || sent.length);
    }).catch(function () {
      panel.hidden = true;
    });
  }

  if (panel) {
    panel.querySelector("[data-outbox-send]").addEventListener("click", flush);
    panel.querySelector("[data-outbox-hide]").addEventListener("click", clearSent);
  }

  window.addEventListener("online", function () { render().then(flush); });
  window.addEventListener("offline", render);
  window.setInterval(function () {
    if (panel && panel.dataset.waiting && panel.dataset.waiting !== "0") flush();
  }, RETRY_MS);

  window.crmOutbox = { add: add, flush: flush, render: render, available: !!window.indexedDB };

  // What waits goes first; then the pages are kept (sent visits change them).
  render().then(flush).then(keepPages);
})();

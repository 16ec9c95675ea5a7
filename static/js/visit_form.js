/* The visit form (templates/visits/visit_form.html), on a phone that may lose its connection.

   - Position: asked for when the form opens (with a "Try again"), put in the hidden latitude /
     longitude / accuracy fields; the distance to the shop's recorded position is shown, with a
     warning beyond the radius. The server computes the distance again when it stores the visit.
   - Draft: every change is kept in localStorage under "crm-visit-draft:<user id>:<customer code>"
     (not the photo), restored when the form is opened again for that customer, cleared once the
     server has the visit and when the user signs out.
   - Check in / check out: a tap puts the time of the tap in "Time in" / "Time out" and asks for
     the position then (check-out only when none was found yet); a refusal or a failure is said
     in the position box, the time is kept.
   - Sending: fetch() with the form's data (photo included). Without a connection the visit goes
     to the outbox (static/js/offline.js: IndexedDB, photo included, sent once the connection
     returns, in order); where the outbox cannot be used (no IndexedDB), the draft stays and is
     sent again when the connection returns, every 30 s, or on "Send now". Either way the
     draft's client_id does not change, so the server stores it once. A refused field comes
     back as the form re-rendered (JSON "html"), which replaces the form's content.
   - Audit forms due at the shop: a question shows only while its condition is met (it is
     switched off otherwise, so not sent); a price far from the suggested retail price asks for
     its confirmation box to be ticked. Their answers go in the draft (radios and checkboxes by
     their checked state) and, photos included, in the outbox like the rest of the form.

   Also loaded by the other visit pages, for the sign-out part only. Without JavaScript the form
   is an ordinary form post. */
(function () {
  "use strict";

  var DRAFT_PREFIX = "crm-visit-draft:";
  var RETRY_MS = 30000;
  var script = document.currentScript;

  function storage() {
    try {
      return window.localStorage;
    } catch (e) {
      return null; // storage disabled: the form still works, without a draft
    }
  }

  /* Signing out forgets every visit draft kept in this browser. */
  function forgetDraftsOnSignOut() {
    var url = script && script.dataset.logoutUrl;
    if (!url) return;
    document.querySelectorAll("form").forEach(function (candidate) {
      if (candidate.getAttribute("action") !== url) return;
      candidate.addEventListener("submit", function () {
        var store = storage();
        if (!store) return;
        var keys = [];
        for (var i = 0; i < store.length; i++) {
          var key = store.key(i);
          if (key && key.indexOf(DRAFT_PREFIX) === 0) keys.push(key);
        }
        keys.forEach(function (key) { store.removeItem(key); });
      });
    });
  }
  forgetDraftsOnSignOut();

  var form = document.getElementById("visit-form");
  if (!form) return;

  var text = JSON.parse(document.getElementById("visit-form-text").textContent);
  var draftKey = form.dataset.draftKey;
  var draftNotice = document.getElementById("visit-draft-notice");
  var sendStatus = document.getElementById("visit-send-status");
  var store = storage();

  function say(template, metres) {
    return template.replace("%(d)s", distanceText(metres));
  }

  /* 850 → "850 m", 1290 → "1.3 km" (as the visit pages' `distance` filter writes it). */
  function distanceText(metres) {
    metres = Math.round(metres); // 999.6 m reads "1.0 km", not "1000 m"
    if (metres >= 1000) return text.kilometres.replace("%(km)s", (metres / 1000).toFixed(1));
    return text.metres.replace("%(m)s", String(Math.round(metres)));
  }

  /* --- position ------------------------------------------------------------------------- */

  var lastPosition = null; // {lat, lon, accuracy} or {error: key}

  function haversine(lat1, lon1, lat2, lon2) {
    var rad = Math.PI / 180;
    var dPhi = (lat2 - lat1) * rad;
    var dLambda = (lon2 - lon1) * rad;
    var a = Math.pow(Math.sin(dPhi / 2), 2) +
      Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.pow(Math.sin(dLambda / 2), 2);
    return 2 * 6371008.8 * Math.asin(Math.min(1, Math.sqrt(a)));
  }

  function showPosition() {
    var box = form.querySelector("#visit-location");
    if (!box || !lastPosition) return;
    var line = box.querySelector("[data-location-text]");
    var retry = box.querySelector("[data-location-retry]");
    box.classList.remove("border-warning", "text-warning-emphasis", "border-success");
    if (lastPosition.error) {
      line.textContent = text[lastPosition.error];
      retry.hidden = lastPosition.error === "unsupported";
      box.classList.add("border-warning");
      return;
    }
    if (lastPosition.pending) {
      line.textContent = text.locating;
      retry.hidden = true;
      return;
    }
    var parts = [say(text.accuracy, lastPosition.accuracy)];
    var shopLat = parseFloat(form.dataset.shopLat);
    var shopLon = parseFloat(form.dataset.shopLon);
    var radius = parseFloat(form.dataset.radius);
    box.dataset.distance = "";
    if (isNaN(shopLat) || isNaN(shopLon)) {
      parts.push(text.no_shop);
    } else {
      var distance = Math.round(haversine(lastPosition.lat, lastPosition.lon, shopLat, shopLon));
      box.dataset.distance = String(distance);
      parts.push(say(text.distance, distance));
      if (distance > radius) {
        parts.push(say(text.far, radius));
        box.classList.add("border-warning", "text-warning-emphasis");
      } else {
        box.classList.add("border-success");
      }
    }
    line.textContent = parts.join(" ");
    retry.hidden = false;
  }

  function setHidden(name, value) {
    var input = form.querySelector('input[name="' + name + '"]');
    if (input) input.value = value;
  }

  function locate() {
    if (!navigator.geolocation) {
      lastPosition = { error: "unsupported" };
      showPosition();
      return;
    }
    lastPosition = { pending: true };
    showPosition();
    navigator.geolocation.getCurrentPosition(function (position) {
      var c = position.coords;
      lastPosition = { lat: c.latitude, lon: c.longitude, accuracy: c.accuracy };
      setHidden("latitude", c.latitude.toFixed(6));
      setHidden("longitude", c.longitude.toFixed(6));
      setHidden("location_accuracy_m", c.accuracy.toFixed(1));
      showPosition();
      saveDraftIfStarted();
    }, function (error) {
      lastPosition = { error: error.code === 1 ? "denied" : "unavailable" };
      showPosition();
    }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 });
  }

  form.addEventListener("click", function (event) {
    if (event.target.closest("[data-location-retry]")) locate();
    var check = event.target.closest("[data-check]");
    if (check) checkInOut(check.dataset.check);
  });

  /* --- check in / check out --------------------------------------------------------------- */

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  /* Now, as the wall-clock time of the site's time zone (the form's fields are read in it),
     whatever the phone's own zone: the page gives the zone's offset from UTC in minutes. */
  function siteNow() {
    var offset = parseInt(form.dataset.utcOffset, 10);
    if (isNaN(offset)) offset = -new Date().getTimezoneOffset();
    return new Date(Date.now() + offset * 60000); // read with the getUTC… methods
  }

  function localInput(d) {
    return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) + "T" +
      pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes());
  }

  function checkInOut(which) {
    var now = siteNow();
    var input = form.querySelector(which === "in" ? "#id_visited_at" : "#id_ended_at");
    if (!input) return;
    input.value = localInput(now);
    var status = form.querySelector("[data-check-status]");
    if (status) {
      status.textContent = text[which === "in" ? "checked_in" : "checked_out"]
        .replace("%(time)s", pad(now.getUTCHours()) + ":" + pad(now.getUTCMinutes()));
    }
    onEdit();
    var known = lastPosition && !lastPosition.error && !lastPosition.pending;
    if (which === "in" || !known) locate();
  }

  function showCheckButtons() {
    form.querySelectorAll("[data-check]").forEach(function (button) { button.hidden = false; });
  }

  /* --- the draft ------------------------------------------------------------------------ */

  var started = false; // a draft is kept only once the user has typed something

  function fieldsOf() {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && el.type !== "file" && el.type !== "submit" && el.type !== "button" &&
        el.name !== "csrfmiddlewaretoken";
    });
  }

  /* Radios and checkboxes (the audit questions) are kept by their checked state, under
     "name=value"; every other field by its value. */
  function draftKeyOf(el) {
    return el.type === "radio" || el.type === "checkbox" ? el.name + "=" + el.value : el.name;
  }

  function saveDraft() {
    if (!store) return;
    var values = {};
    fieldsOf().forEach(function (el) {
      var choice = el.type === "radio" || el.type === "checkbox";
      values[draftKeyOf(el)] = choice ? el.checked : el.value;
    });
    try {
      store.setItem(draftKey, JSON.stringify({ savedAt: new Date().toISOString(), fields: values }));
    } catch (e) {
      /* storage full or refused: the form still sends */
    }
  }

  function saveDraftIfStarted() {
    if (started) saveDraft();
  }

  function readDraft() {
    if (!store) return null;
    try {
      return JSON.parse(store.getItem(draftKey) || "null");
    } catch (e) {
      return null;
    }
  }

  function clearDraft() {
    if (store) store.removeItem(draftKey);
  }

  function restoreDraft() {
    var draft = readDraft();
    if (!draft || !draft.fields) return false;
    fieldsOf().forEach(function (el) {
      var key = draftKeyOf(el);
      if (!Object.prototype.hasOwnProperty.call(draft.fields, key)) return;
      if (el.type === "radio" || el.type === "checkbox") el.checked = draft.fields[key] === true;
      else el.value = draft.fields[key];
    });
    started = true;
    draftNotice.hidden = false;
    // Follow-up rows and audit forms kept in the draft are shown.
    form.querySelectorAll("details").forEach(function (details) {
      var filled = Array.prototype.some.call(details.querySelectorAll("input, textarea, select"), function (el) {
        if (el.type === "radio" || el.type === "checkbox") return el.checked;
        return el.type !== "file" && el.value;
      });
      if (filled) details.open = true;
    });
    return true;
  }

  function onEdit() {
    if (queued) return;
    applyAudits();
    started = true;
    saveDraft();
  }

  /* --- the audit forms (templates/audits/inc/audit_fields.html) ------------------------- */

  /* The values chosen in a field (radios and checkboxes: the checked ones); none when it is
     switched off because its own condition is not met. */
  function chosen(name) {
    var values = [];
    form.querySelectorAll("[name]").forEach(function (el) {
      if (el.name !== name || el.disabled) return;
      if (el.type === "radio" || el.type === "checkbox") {
        if (el.checked) values.push(el.value);
      } else if (el.value) {
        values.push(el.value);
      }
    });
    return values;
  }

  /* A question whose condition is not met is hidden and its inputs are switched off, so that
     it is neither sent nor checked by the browser. In page order: a condition is always on an
     earlier question, so chains of conditions settle in one pass. */
  function applyConditions() {
    form.querySelectorAll("[data-condition-field]").forEach(function (box) {
      var wanted = [];
      try {
        wanted = JSON.parse(box.dataset.conditionValues || "[]").map(String);
      } catch (e) { /* a broken list: never shown */ }
      var on = chosen(box.dataset.conditionField).some(function (v) { return wanted.indexOf(v) !== -1; });
      box.hidden = !on;
      box.querySelectorAll("input, select, textarea").forEach(function (el) {
        // The confirmation of a price stays off unless the price needs it (checkPrices).
        if (!el.closest("[data-confirm-for]")) el.disabled = !on;
      });
    });
  }

  /* A price outside 50–200 % of the suggested retail price shows the box to confirm it, which
     must then be ticked before the form goes (the server refuses it unconfirmed). */
  function checkPrices() {
    form.querySelectorAll("input[data-srp]").forEach(function (input) {
      var box = form.querySelector('[data-confirm-for="' + input.name + '"]');
      if (!box) return;
      var confirm = box.querySelector("input[type=checkbox]");
      // The bounds come from the server (audits.fields.AuditField.price_bounds), which holds
      // the answer to the same ones.
      var low = parseFloat(input.dataset.priceLow);
      var high = parseFloat(input.dataset.priceHigh);
      var price = parseFloat(input.value);
      var far = !input.disabled && !isNaN(price) && !isNaN(low) && !isNaN(high) && (price < low || price > high);
      box.hidden = !far;
      confirm.disabled = !far;
      confirm.required = far;
      if (!far) confirm.checked = false;
    });
  }

  function applyAudits() {
    applyConditions();
    checkPrices();
  }
  form.addEventListener("input", onEdit);
  form.addEventListener("change", onEdit);

  draftNotice.querySelector("[data-draft-discard]").addEventListener("click", function () {
    clearDraft();
    // A fresh form: new times, a new draft id.
    window.location.replace(window.location.href);
  });

  /* --- sending -------------------------------------------------------------------------- */

  var sending = false;
  var pending = false;
  var queued = false; // in the outbox: this form is done with
  var queuedId = null;

  // The outbox sent this form's visit: the status says so, with the way to the visit.
  window.addEventListener("crm-outbox-sent", function (event) {
    if (!queued || event.detail.id !== queuedId) return;
    showSendStatus("sent");
    sendStatus.classList.replace("alert-warning", "alert-success");
    var link = document.createElement("a");
    link.href = event.detail.url;
    link.className = "ms-1";
    link.textContent = text.see_visit;
    sendStatus.querySelector("[data-send-text]").append(link);
  });
  var retryTimer = null;

  function showSendStatus(key) {
    if (!key) {
      sendStatus.hidden = true;
      return;
    }
    sendStatus.querySelector("[data-send-text]").textContent = text[key];
    sendStatus.dataset.state = key;
    sendStatus.hidden = false;
  }

  function setBusy(busy) {
    form.querySelectorAll("button[type=submit]").forEach(function (button) { button.disabled = busy; });
    sendStatus.querySelector("[data-send-now]").disabled = busy;
  }

  function keepTrying() {
    pending = true;
    if (retryTimer === null) retryTimer = window.setInterval(send, RETRY_MS);
  }

  function stopTrying() {
    pending = false;
    if (retryTimer !== null) {
      window.clearInterval(retryTimer);
      retryTimer = null;
    }
  }

  function csrfToken() {
    var input = form.querySelector('input[name="csrfmiddlewaretoken"]');
    return input ? input.value : "";
  }

  function replaceForm(html) {
    // The photos chosen (the visit's, the audits'): a file input cannot be filled again.
    var chosenPhotos = Array.prototype.filter.call(form.querySelectorAll("input[type=file]"), function (el) {
      return el.files && el.files.length;
    }).map(function (el) { return el.name; });
    form.innerHTML = html;
    applyAudits();
    showCheckButtons();
    showPosition();
    saveDraft();
    chosenPhotos.forEach(function (name) {
      var photo = form.querySelector('input[type=file][name="' + name + '"]');
      var note = document.createElement("div");
      note.className = "form-text text-warning-emphasis";
      note.textContent = text.photo_again;
      if (photo) photo.insertAdjacentElement("afterend", note);
    });
    var first = form.querySelector(".is-invalid, [role=alert]");
    if (first) first.scrollIntoView({ block: "center" });
    revealDraftNote();
  }

  function send() {
    if (sending) return;
    sending = true;
    setBusy(true);
    if (!sendStatus.hidden) showSendStatus("sending");
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch", "X-CSRFToken": csrfToken() }
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (type.indexOf("application/json") === -1) return { problem: "server" };
      return response.json().then(function (data) { return { status: response.status, data: data }; });
    }).then(function (answer) {
      sending = false;
      setBusy(false);
      if (answer.data && answer.data.redirect) {
        // Saved now or saved before: either way the server has it.
        stopTrying();
        clearDraft();
        window.location.assign(answer.data.redirect);
        return;
      }
      if (answer.data && answer.status === 400 && answer.data.html) {
        stopTrying();
        showSendStatus(null);
        replaceForm(answer.data.html);
        return;
      }
      showSendStatus("server");
      keepTrying();
    }).catch(function () {
      // fetch() rejects only when nothing came back: no connection.
      sending = false;
      setBusy(false);
      queueOrKeep();
    });
  }

  /* No connection: the visit goes to the outbox (photo included) when this browser has one,
     else the draft stays here and is sent again from this page. */
  function queueOrKeep() {
    var outbox = window.crmOutbox;
    if (!outbox || !outbox.available) {
      saveDraft();
      showSendStatus("offline");
      keepTrying();
      return;
    }
    outbox.add(form, form.dataset.customerName || "").then(function (id) {
      queuedId = id;
      stopTrying();
      clearDraft();
      started = false;
      queued = true;
      showSendStatus("queued");
      sendStatus.querySelector("[data-send-now]").hidden = true;
      setBusy(true);
    }, function () {
      saveDraft();
      showSendStatus("offline");
      keepTrying();
    });
  }

  form.addEventListener("submit", function (event) {
    if (!window.fetch || !window.FormData) return; // an ordinary form post
    event.preventDefault();
    if (queued) return;
    started = true;
    saveDraft();
    if (navigator.onLine === false) queueOrKeep();
    else send();
  });
  sendStatus.querySelector("[data-send-now]").addEventListener("click", send);
  window.addEventListener("online", function () {
    if (pending) send();
  });

  /* --- start ---------------------------------------------------------------------------- */

  function revealDraftNote() {
    var note = form.querySelector("[data-draft-note]");
    if (note && store) note.hidden = false;
  }

  // A form the server sent back with errors shows what was posted: that, not an older draft.
  /* A fresh form may be the copy the phone kept for the road (static/js/sw.js), hours old: it
     gets the time of now and a draft id of its own, so that two visits logged from that copy
     are two drafts, not one sent twice. */
  function freshen() {
    var visited = form.querySelector("#id_visited_at");
    if (visited) visited.value = localInput(siteNow());
    if (window.crypto && window.crypto.randomUUID) setHidden("client_id", window.crypto.randomUUID());
  }

  if (form.dataset.bound === "true") started = true;
  else if (!restoreDraft()) freshen();
  applyAudits();
  revealDraftNote();
  showCheckButtons();
  locate();
})();

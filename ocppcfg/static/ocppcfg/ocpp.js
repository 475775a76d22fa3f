/* The OCPP pages (no inline script: the Content-Security-Policy allows none).
   Status: the live socket swaps #ocpp-connection, whose data-log-seq / data-timeline-seq are the
   newest message and connection event the OCPP agent wrote; when they pass what the page shows,
   the new message rows (newest first) and the timeline are fetched with htmx.
   Settings: the certificate upload shows only for a wss:// backend URL.
   Server variables: a change (by the backend) re-renders the table unless the user is editing;
   then a notice offers to show the new values. */
(function () {
  "use strict";
  var POLL_MS = 400;
  var RETRY_MS = 2000;

  function int(value) { var n = parseInt(value || "0", 10); return isNaN(n) ? 0 : n; }

  // --- status -----------------------------------------------------------------------------
  var log = { busy: false, lastTry: 0 };
  var timeline = { busy: false, shown: -1 };

  function newestShown(body) {
    var first = body.querySelector("tr[data-id]");
    return first ? int(first.dataset.id) : 0;
  }

  function trim(page, body) {
    var keep = int(page.dataset.keep) || 50;
    var rows = body.querySelectorAll("tr[data-id]");
    for (var i = keep; i < rows.length; i++) { rows[i].remove(); }
    if (rows.length) {
      var empty = body.querySelector("tr.ocpp-empty");
      if (empty) { empty.remove(); }
    }
  }

  function followStatus() {
    var page = document.getElementById("ocpp-status-page");
    var conn = document.getElementById("ocpp-connection");
    var body = document.getElementById("ocpp-messages-body");
    if (!page || !conn || !body || !window.htmx) { return; }
    var now = Date.now();
    var seq = int(conn.dataset.logSeq);
    var newest = newestShown(body);
    if (seq > newest && !log.busy && now - log.lastTry > (log.lastTry ? RETRY_MS : 0)) {
      log.busy = true;
      log.lastTry = now;
      window.htmx.ajax("GET", page.dataset.messagesUrl + "?after=" + newest, { target: body, swap: "afterbegin" })
        .then(function () { trim(page, body); if (newestShown(body) >= seq) { log.lastTry = 0; } })
        .finally(function () { log.busy = false; });
    }
    var tseq = int(conn.dataset.timelineSeq);
    if (timeline.shown < 0) { timeline.shown = int(page.dataset.timelineShown); }  // as rendered
    if (tseq > timeline.shown && !timeline.busy) {
      timeline.busy = true;
      timeline.shown = tseq;
      window.htmx.ajax("GET", page.dataset.timelineUrl, { target: "#ocpp-timeline", swap: "outerHTML" })
        .finally(function () { timeline.busy = false; });
    }
  }

  // --- settings ---------------------------------------------------------------------------
  function showCertificateUpload() {
    var url = document.getElementById("id_backend_url");
    var upload = document.getElementById("ocpp-cert-upload");
    var note = document.getElementById("ocpp-cert-wss-only");
    if (!url || !upload) { return; }
    var wss = url.value.trim().toLowerCase().indexOf("wss://") === 0;
    upload.hidden = !wss;
    if (note) { note.hidden = wss; }
  }
  document.addEventListener("input", function (ev) {
    if (ev.target && ev.target.id === "id_backend_url") { showCertificateUpload(); }
  });
  document.addEventListener("htmx:afterSwap", showCertificateUpload);

  // --- server variables ---------------------------------------------------------------------
  var editing = false;
  document.addEventListener("input", function (ev) {
    if (ev.target && ev.target.closest && ev.target.closest("#ocpp-variables-form")) { editing = true; }
  });
  document.addEventListener("change", function (ev) {
    if (ev.target && ev.target.closest && ev.target.closest("#ocpp-variables-form")) { editing = true; }
  });
  var reloading = false;

  function reloadVariables() {
    var page = document.getElementById("ocpp-variables-page");
    if (!page || reloading) { return; }
    reloading = true;
    // a "saved" message the reload would wipe out stays with the new table
    var old = document.getElementById("ocpp-variables-form");
    var saved = old && old.querySelector("[data-testid=ocpp-variables-saved]");
    window.htmx.ajax("GET", page.dataset.tableUrl, { target: "#ocpp-variables-form", swap: "outerHTML" })
      .then(function () {
        editing = false;
        var form = document.getElementById("ocpp-variables-form");
        if (saved && form && !form.querySelector("[data-testid=ocpp-variables-saved]")) {
          form.insertBefore(saved, form.firstElementChild ? form.firstElementChild.nextSibling : null);
        }
        var notice = document.getElementById("ocpp-variables-notice");
        if (notice) { notice.hidden = true; }
      })
      .finally(function () { reloading = false; });
  }

  function followVariables() {
    var seqEl = document.getElementById("ocpp-values-seq");
    var form = document.getElementById("ocpp-variables-form");
    if (!seqEl || !form || !window.htmx) { return; }
    var seq = int(seqEl.dataset.seq);
    var shown = int(form.dataset.shownSeq);
    if (seq < shown) { form.dataset.shownSeq = String(seq); return; }  // the OCPP service restarted: it counts anew
    if (seq === shown) { return; }
    var busy = editing || form.contains(document.activeElement) && document.activeElement !== form;
    if (busy) {
      var notice = document.getElementById("ocpp-variables-notice");
      if (notice) { notice.hidden = false; }
    } else {
      reloadVariables();
    }
  }
  document.addEventListener("click", function (ev) {
    if (ev.target && ev.target.closest && ev.target.closest("#ocpp-variables-reload")) {
      editing = false;
      reloadVariables();
    }
  });
  document.addEventListener("htmx:afterSwap", function (ev) {
    var target = ev.detail && ev.detail.target;
    if (target && target.id === "ocpp-variables-form") { editing = false; }
  });

  setInterval(function () { followStatus(); followVariables(); }, POLL_MS);
  document.addEventListener("DOMContentLoaded", showCertificateUpload);
})();

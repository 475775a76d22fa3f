/* Live connection indicator: marks the page stale when the WebSocket closes or goes quiet.
   The runtime publishes at least once a second, so 5 s of silence means values are stale. */
(function () {
  "use strict";
  var QUIET_MS = 5000;
  var lastMessage = 0;
  var open = false;

  // Reconnect soon after the server is back: at most 5 s between attempts (htmx's own
  // "full-jitter" backs off to random waits of up to 64 s).
  if (window.htmx) {
    window.htmx.config.wsReconnectDelay = function (retries) {
      var ceiling = Math.min(1000 * Math.pow(2, retries), 5000);
      return ceiling / 2 + Math.random() * ceiling / 2;
    };
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function hhmmss(t) { var d = new Date(t); return pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds()); }

  function render() {
    var indicator = document.getElementById("live-indicator");
    var banner = document.getElementById("stale-banner");
    if (!indicator) { return; }
    var fresh = open && lastMessage && (Date.now() - lastMessage) < QUIET_MS;
    indicator.classList.toggle("ok", !!fresh);
    indicator.classList.toggle("stale", !fresh && lastMessage > 0);
    var text = indicator.querySelector(".text");
    if (fresh) {
      text.textContent = indicator.dataset.labelLive;
    } else if (lastMessage) {
      text.textContent = indicator.dataset.labelStale.replace("%(time)s", hhmmss(lastMessage));
    } else {
      text.textContent = indicator.dataset.labelConnecting;
    }
    if (banner) {
      banner.hidden = !!fresh || !lastMessage;
      var since = banner.querySelector("[data-stale-since]");
      if (since && lastMessage) { since.textContent = hhmmss(lastMessage); }
    }
    document.body.dataset.live = fresh ? "live" : (lastMessage ? "stale" : "connecting");
  }

  document.addEventListener("htmx:wsOpen", function () { open = true; render(); });
  document.addEventListener("htmx:wsClose", function (ev) {
    open = false;
    render();
    // 4401: the session ended (logout, expiry, password change): reload, so the page shows what
    // this browser may see now (the login, or the Guest's dashboard) instead of staying stale
    var code = ev.detail && ev.detail.event && ev.detail.event.code;
    if (code === 4401) { window.location.reload(); }
  });
  document.addEventListener("htmx:wsError", function () { open = false; render(); });
  document.addEventListener("htmx:wsAfterMessage", function () { lastMessage = Date.now(); render(); });
  setInterval(render, 1000);

  document.addEventListener("click", function (ev) {
    var toggle = ev.target.closest && ev.target.closest(".navtoggle");
    if (toggle) {
      document.body.classList.toggle("nav-open");
      toggle.setAttribute("aria-expanded", document.body.classList.contains("nav-open") ? "true" : "false");
    }
  });
})();

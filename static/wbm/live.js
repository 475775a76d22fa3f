/* Live connection indicator: marks the page stale when the WebSocket closes or goes quiet, and
   says so when the server reports that the controller runtime is not running or that the live
   data store cannot be reached (#live-heartbeat data-runtime="down" | "unreachable", data-since:
   epoch ms, set by the page render and by every frame). The runtime publishes at least once a
   second, so 2.5 s of silence means the values are stale (or this web process is gone). */
(function () {
  "use strict";
  var QUIET_MS = 2500;
  var RENDER_EVERY_MS = 500;
  var lastMessage = 0;
  var open = false;

  var TRY_AGAIN_LATER = 4013;  // the server cannot reach its live data store (Redis) right now
  var laterRetries = 0;
  var closedForLater = false;  // the last close was a 4013: the server's word on the runtime still holds

  // Reconnect soon after the server is back: at most 5 s between attempts (htmx's own
  // "full-jitter" backs off to random waits of up to 64 s).
  function reconnectDelay(retries) {
    var ceiling = Math.min(1000 * Math.pow(2, retries), 5000);
    return ceiling / 2 + Math.random() * ceiling / 2;
  }
  if (window.htmx) { window.htmx.config.wsReconnectDelay = reconnectDelay; }

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function hhmmss(t) { var d = new Date(t); return pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds()); }

  // what the server last said of the runtime: {state: "alive" | "down" | "unreachable", since: ms}
  function runtime() {
    var beat = document.getElementById("live-heartbeat");
    var state = (beat && beat.dataset.runtime) || "alive";
    var since = beat && beat.dataset.since ? parseInt(beat.dataset.since, 10) : 0;
    return { state: state, since: since };
  }

  function showBanner(banner, reason, since) {
    banner.hidden = !reason;
    if (!reason) { return; }
    banner.dataset.reason = reason;
    banner.querySelectorAll("[data-reason-show]").forEach(function (el) {
      el.hidden = el.dataset.reasonShow.split(" ").indexOf(reason) < 0;
    });
    banner.querySelectorAll(reason === "lost" ? "[data-stale-since]" : "[data-since]").forEach(function (el) {
      el.textContent = hhmmss(since);
    });
  }

  // --- compact values (the dashboard) ---------------------------------------------------------
  // Every frame's heartbeat carries the hub's sequence number (data-seq) and the values that
  // changed (data-v: {"c": {cp id: {"p": power, "e": energy, "c"/"u": [seconds, counting]}},
  // "P": total power}), already formatted in the page's language; they go into the elements
  // marked data-live. Running times are counted on by the page between updates, from the
  // snapshot time they were valid at (data-s at data-g), but never past what the indicator
  // admits: once the page is not live they stay at the last frame's time. A gap in the sequence
  // (a lost frame) asks the server for the whole picture, so the page converges on the next frame.
  var lastSeq = null;
  var lastG = 0;  // snapshot time (epoch s) of the latest frame
  var lastArrival = 0;  // when that frame arrived (Date.now())

  function duration(s) {  // as the server's |duration filter: 1:02:03
    s = Math.max(0, Math.floor(s));
    return Math.floor(s / 3600) + ":" + pad(Math.floor(s % 3600 / 60)) + ":" + pad(s % 60);
  }

  function countTimers(fresh) {
    if (!lastG) { return; }
    var now = lastG + (fresh ? Math.min(Date.now() - lastArrival, QUIET_MS) / 1000 : 0);
    document.querySelectorAll("[data-live][data-g]").forEach(function (el) {
      var s = parseInt(el.dataset.s, 10) + Math.max(0, Math.floor(now - parseFloat(el.dataset.g)));
      var text = duration(s);
      if (el.textContent !== text) { el.textContent = text; }
    });
  }

  function setTimer(el, value, g) {
    if (!el) { return; }
    el.textContent = duration(value[0]);
    if (value[1]) {
      el.dataset.s = value[0];
      el.dataset.g = g;
    } else {
      delete el.dataset.s;
      delete el.dataset.g;
    }
  }

  function applyValues(socket) {
    var beat = document.getElementById("live-heartbeat");
    if (!beat || !beat.dataset.seq) { return; }
    var seq = parseInt(beat.dataset.seq, 10);
    var gap = lastSeq !== null && seq > lastSeq + 1;
    lastSeq = seq;
    var g = parseFloat(beat.dataset.generatedAt);
    if (g) { lastG = g; lastArrival = Date.now(); }
    var values = beat.dataset.v ? JSON.parse(beat.dataset.v) : {};
    if (values.P !== undefined) {
      var total = document.querySelector('[data-live="total-power"]');
      if (total) { total.textContent = values.P; }
    }
    Object.keys(values.c || {}).forEach(function (id) {
      var card = document.getElementById("cp-" + id);
      if (!card) { gap = true; return; }
      var entry = values.c[id];
      var field = function (key) { return card.querySelector('[data-live="' + key + '"]'); };
      if (entry.p !== undefined && field("power")) { field("power").textContent = entry.p; }
      if (entry.e !== undefined && field("energy")) { field("energy").textContent = entry.e; }
      if (entry.c) { setTimer(field("charging"), entry.c, g); }
      if (entry.u) { setTimer(field("plugin"), entry.u, g); }
    });
    if (gap && socket && socket.send) { socket.send(JSON.stringify({ resync: seq })); }
  }

  function render() {
    var indicator = document.getElementById("live-indicator");
    var banner = document.getElementById("stale-banner");
    if (!indicator) { return; }
    var rt = runtime();
    // what the server said of the runtime holds while its socket is open (or before the first
    // frame: the page was rendered so); once a socket that streamed is gone, the server itself
    // may be gone (a stopping process may say "not running" just before it goes), so the page
    // says the connection was lost, since the last frame
    var heard = open || !lastMessage || closedForLater;
    var down = heard && (rt.state === "down" || rt.state === "unreachable");
    var fresh = !down && open && lastMessage && (Date.now() - lastMessage) < QUIET_MS;
    var stale = !fresh && (down || lastMessage > 0);
    indicator.classList.toggle("ok", !!fresh);
    indicator.classList.toggle("stale", stale);
    var text = indicator.querySelector(".text");
    var reason = "";
    if (fresh) {
      text.textContent = indicator.dataset.labelLive;
    } else if (down && !rt.since) {
      text.textContent = indicator.dataset.labelDownNever;  // never seen: the page says so itself
    } else if (down) {
      var label = rt.state === "down" ? indicator.dataset.labelDown : indicator.dataset.labelUnreachable;
      text.textContent = label.replace("%(time)s", hhmmss(rt.since));
      reason = rt.state;
    } else if (lastMessage) {
      text.textContent = indicator.dataset.labelStale.replace("%(time)s", hhmmss(lastMessage));
      reason = "lost";
    } else {
      text.textContent = indicator.dataset.labelConnecting;
    }
    if (banner) { showBanner(banner, reason, reason === "lost" ? lastMessage : rt.since); }
    document.body.dataset.live = fresh ? "live" : (stale ? "stale" : "connecting");
    countTimers(!!fresh);
  }

  document.addEventListener("htmx:wsOpen", function () { open = true; closedForLater = false; lastSeq = null; render(); });
  document.addEventListener("htmx:wsClose", function (ev) {
    open = false;
    render();
    // 4401: the session ended (logout, expiry, password change): reload, so the page shows what
    // this browser may see now (the login, or the Guest's dashboard) instead of staying stale
    var code = ev.detail && ev.detail.event && ev.detail.event.code;
    closedForLater = code === TRY_AGAIN_LATER;
    render();
    if (code === 4401) { window.location.reload(); }
    // 4013: try again later (htmx reconnects by itself only after 1006, 1011, 1012 and 1013,
    // which a server behind Daphne cannot send)
    var socket = ev.detail && ev.detail.socketWrapper;
    if (code === TRY_AGAIN_LATER && socket && socket.reconnect) {
      setTimeout(function () { socket.reconnect(); }, reconnectDelay(laterRetries));
      laterRetries += 1;
    }
  });
  document.addEventListener("htmx:wsError", function () { open = false; render(); });
  document.addEventListener("htmx:wsAfterMessage", function (ev) {
    lastMessage = Date.now();
    // more than the runtime state alone (which precedes a 4013): the server streams again
    var message = (ev.detail && ev.detail.message) || "";
    if (message.indexOf('<span id="live-heartbeat"') !== 0 || message.indexOf(" data-seq=") > 0) { laterRetries = 0; }
    applyValues(ev.detail && ev.detail.socketWrapper);
    render();
  });
  setInterval(render, RENDER_EVERY_MS);
  render();  // the state the page was rendered with (a runtime not running: greyed at once)

  document.addEventListener("click", function (ev) {
    var toggle = ev.target.closest && ev.target.closest(".navtoggle");
    if (toggle) {
      document.body.classList.toggle("nav-open");
      toggle.setAttribute("aria-expanded", document.body.classList.contains("nav-open") ? "true" : "false");
    }
  });
})();

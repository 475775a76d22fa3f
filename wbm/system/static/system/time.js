// System Control / Time: the browser's local time beside the system's UTC, and "apply the time
// of this PC" (the browser's clock, sent as epoch milliseconds when the form is submitted).
(() => {
  "use strict";
  const pad = (n) => String(n).padStart(2, "0");
  const fmt = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  const fmtUtc = (d) => `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  function start() {
    const local = document.getElementById("browser-now");
    const utc = document.getElementById("utc-now");
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    const offset = utc ? Number(utc.dataset.epochMs) - Date.now() : 0;  // system minus browser
    const tick = () => {
      if (local) local.textContent = `${fmt(new Date())} ${zone}`;
      if (utc && Number.isFinite(offset)) utc.textContent = fmtUtc(new Date(Date.now() + offset));
    };
    tick();
    setInterval(tick, 1000);
    const form = document.getElementById("browser-time-form");
    if (form) form.addEventListener("submit", () => { form.elements.browser_ms.value = String(Date.now()); });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();

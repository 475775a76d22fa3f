/* Page behaviour the Content-Security-Policy does not allow inline (no onchange="…", no
   style="…", no eval for hx-trigger filters): wired here by data attributes instead. */
(function () {
  "use strict";

  // <select data-autosubmit>: choosing an option submits its form (language, simulator).
  document.addEventListener("change", function (ev) {
    var el = ev.target;
    if (el.matches && el.matches("select[data-autosubmit]") && el.form) {
      el.form.submit();
    }
    // A controlling field of the charge point configuration (data-controls="1") re-renders the
    // form: the container listens for this event (hx-trigger="controlschange").
    if (el.dataset && el.dataset.controls === "1") {
      el.dispatchEvent(new CustomEvent("controlschange", { bubbles: true }));
    }
  });

  // The LED of a CHARX RFID/NFC board: its period and brightness come as data attributes and
  // become CSS custom properties (set through the CSSOM, which the policy allows).
  var LED_PROPERTIES = { ledPeriod: "--led-period", ledMax: "--led-max", ledMin: "--led-min" };
  function paintLeds(root) {
    if (!root || !root.querySelectorAll) { return; }
    var leds = Array.prototype.slice.call(root.querySelectorAll("[data-led-period]"));
    if (root.matches && root.matches("[data-led-period]")) { leds.push(root); }
    leds.forEach(function (led) {
      Object.keys(LED_PROPERTIES).forEach(function (key) {
        if (led.dataset[key]) { led.style.setProperty(LED_PROPERTIES[key], led.dataset[key]); }
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { paintLeds(document); });
  document.addEventListener("htmx:load", function (ev) { paintLeds(ev.detail && ev.detail.elt); });
})();

// MQTT bridge page: copy a full topic to the clipboard; ask before "Clear configuration".
(function () {
  "use strict";
  document.addEventListener("click", function (ev) {
    var target = ev.target && ev.target.closest ? ev.target : null;
    if (!target) { return; }
    var confirmButton = target.closest("[data-confirm]");
    if (confirmButton && !window.confirm(confirmButton.getAttribute("data-confirm"))) {
      ev.preventDefault();
      ev.stopImmediatePropagation();
      return;
    }
    var copy = target.closest("[data-copy]");
    if (copy) {
      var text = copy.getAttribute("data-copy");
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).then(function () { copy.setAttribute("data-copied", "1"); }, function () {});
      }
      copy.setAttribute("data-copied", "1");
    }
  }, true);
})();

// System Control / Software: show the upload's progress (htmx reports the XHR's upload events).
(function () {
  "use strict";
  document.addEventListener("htmx:xhr:progress", function (event) {
    var form = event.target.closest && event.target.closest("#bundle-form");
    if (!form || !event.detail.lengthComputable) return;
    var bar = document.getElementById("upload-progress");
    var label = document.getElementById("upload-progress-label");
    var pct = Math.round((event.detail.loaded / event.detail.total) * 100);
    if (bar) { bar.value = pct; bar.hidden = false; }
    if (label) { label.textContent = pct + " %"; }
  });
})();

/* Dashboard filter: status, station and a text (name, location, station) narrow the cards
   shown; the cards themselves stay on the page and live, so live updates that replace a card
   or the whole section are filtered again after each frame. The filter lives in the address
   (?status=&station=&q=), so a reload or a bookmark keeps it. */
(function () {
  "use strict";
  var active = false;  // a filter was applied: cards may be hidden

  function form() { return document.getElementById("cp-filter"); }
  function norm(text) { return (text || "").toLocaleLowerCase().replace(/\s+/g, " "); }

  function apply() {
    var f = form();
    if (!f) { return; }
    var status = f.elements.status.value;
    var station = f.elements.station.value;
    var q = norm(f.elements.q.value.trim());
    var filtering = !!(status || station || q);
    if (!filtering && !active) { return; }
    active = filtering;
    var shown = 0;
    document.querySelectorAll("#cp-cards .station").forEach(function (group) {
      var inGroup = 0;
      var stationOk = !station || group.dataset.station === station;
      var heading = group.querySelector(".station-name");
      var groupText = heading ? heading.textContent : "";
      group.querySelectorAll("article.card").forEach(function (card) {
        var ok = stationOk && (!status || card.dataset.status === status);
        if (ok && q) {
          var name = card.querySelector(".name");
          var where = card.querySelector(".where");
          ok = norm((name ? name.textContent : "") + " " + (where ? where.textContent : "") + " " + groupText).indexOf(q) >= 0;
        }
        card.hidden = !ok;
        if (ok) { inGroup += 1; }
      });
      group.hidden = inGroup === 0;
      shown += inGroup;
    });
    var none = document.getElementById("no-match");
    if (none) { none.hidden = shown > 0 || !document.querySelector("#cp-cards article.card"); }
  }

  function remember() {
    var f = form();
    var params = new URLSearchParams();
    ["status", "station", "q"].forEach(function (name) {
      var value = f.elements[name].value.trim();
      if (value) { params.set(name, value); }
    });
    var query = params.toString();
    window.history.replaceState(null, "", query ? "?" + query : window.location.pathname);
  }

  function changed(ev) {
    if (ev.target.closest && ev.target.closest("#cp-filter")) { apply(); remember(); }
  }
  document.addEventListener("input", changed);
  document.addEventListener("change", changed);
  document.addEventListener("submit", function (ev) { if (ev.target.id === "cp-filter") { ev.preventDefault(); } });
  document.addEventListener("htmx:wsAfterMessage", apply);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", apply);
  } else {
    apply();
  }
})();

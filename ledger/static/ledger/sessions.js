/* The chart of a charging session (power and energy over time) with the vendored uPlot.
   Data come in data-chart (JSON: t epoch seconds, p kW, e kWh); while the session runs, each
   live reading the page polls (#session-live, data-at/-power-w/-energy-wh) is added.
   No inline script or style: the Content-Security-Policy allows neither. */
(function () {
  "use strict";
  var plot = null;
  var data = null;

  function width(box) { return Math.max(260, Math.floor(box.getBoundingClientRect().width)); }
  function height(box) { return box.getBoundingClientRect().width < 600 ? 220 : 300; }

  function build() {
    var box = document.getElementById("session-chart");
    if (!box || typeof uPlot === "undefined") { return; }
    var raw;
    try { raw = JSON.parse(box.dataset.chart || "{}"); } catch (e) { raw = {}; }
    data = [raw.t || [], raw.p || [], raw.e || []];
    var lang = document.documentElement.lang || "en";
    var num = function (digits) {
      var f = new Intl.NumberFormat(lang, { maximumFractionDigits: digits });
      return function (u, values) { return values.map(function (v) { return v == null ? "" : f.format(v); }); };
    };
    var opts = {
      width: width(box),
      height: height(box),
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"); },
      // 24-hour clock and ISO dates, as everywhere else in the WBM (uPlot's own are US style)
      fmtDate: function (tpl) {
        return uPlot.fmtDate(tpl.replace(/\{h\}/g, "{HH}").replace(/\{aa\}/g, "")
          .replace(/\{M\}\/\{D\}\/\{YY\}/g, "{YYYY}-{MM}-{DD}").replace(/\{M\}\/\{D\}/g, "{MM}-{DD}"));
      },
      cursor: { drag: { x: true, y: false } },
      legend: { live: true },
      scales: { x: { time: true }, kw: { auto: true, range: function (u, min, max) { return [0, Math.max(1, max * 1.1)]; } },
                kwh: { auto: true, range: function (u, min, max) { return [0, Math.max(1, max * 1.1)]; } } },
      series: [
        { label: box.dataset.labelTime || "Time" },
        { label: box.dataset.labelPower || "kW", scale: "kw", stroke: "#0b6e4f", fill: "rgba(11,110,79,0.12)", width: 2,
          value: function (u, v) { return v == null ? "–" : new Intl.NumberFormat(lang, { maximumFractionDigits: 2 }).format(v) + " kW"; } },
        { label: box.dataset.labelEnergy || "kWh", scale: "kwh", stroke: "#2563eb", width: 2, dash: [6, 4],
          value: function (u, v) { return v == null ? "–" : new Intl.NumberFormat(lang, { maximumFractionDigits: 2 }).format(v) + " kWh"; } }
      ],
      axes: [
        {},
        { scale: "kw", label: box.dataset.labelPower, values: num(1), size: 60 },
        { scale: "kwh", side: 1, label: box.dataset.labelEnergy, values: num(1), grid: { show: false }, size: 60 }
      ]
    };
    box.textContent = "";
    plot = new uPlot(opts, data, box);
    var last = box.getBoundingClientRect().width;
    window.addEventListener("resize", function () {
      var now = box.getBoundingClientRect().width;
      if (Math.abs(now - last) > 4) { last = now; plot.setSize({ width: width(box), height: height(box) }); }
    });
  }

  function addLive(el) {
    if (!plot || !el || !el.dataset || !el.dataset.at) { return; }
    var t = parseFloat(el.dataset.at), p = parseFloat(el.dataset.powerW), e = parseFloat(el.dataset.energyWh);
    if (!isFinite(t) || !isFinite(p) || !isFinite(e)) { return; }
    var ts = data[0];
    if (ts.length && t <= ts[ts.length - 1]) { return; }
    data[0].push(t); data[1].push(p / 1000); data[2].push(e / 1000);
    plot.setData(data);
  }

  document.addEventListener("DOMContentLoaded", function () {
    build();
    addLive(document.getElementById("session-live"));
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (target && target.id === "session-live") { addLive(target); }
    addLive(document.getElementById("session-live"));
  });
})();

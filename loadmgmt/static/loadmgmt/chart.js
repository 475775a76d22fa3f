/* The Load Management page's chart: current per phase against the load circuit's limit, drawn
   with the vendored uPlot. The series come in a data attribute of #lm-chart-data (no inline
   script: CSP), which the page's live socket replaces; the chart follows. */
(function () {
  "use strict";
  var plot = null;
  var shown = "";

  function series() {
    var el = document.getElementById("lm-chart-data");
    if (!el) { return null; }
    var raw = el.getAttribute("data-series") || "[]";
    if (raw === shown && plot) { return null; }
    shown = raw;
    try { return JSON.parse(raw); } catch (e) { return []; }
  }

  function columns(rows) {
    var cols = [[], [], [], [], []];
    rows.forEach(function (r) { for (var i = 0; i < 5; i++) { cols[i].push(r[i]); } });
    return cols;
  }

  function width(box) { return Math.max(240, box.clientWidth || 600); }

  function draw() {
    var box = document.getElementById("lm-chart");
    if (!box || typeof uPlot === "undefined") { return; }
    var rows = series();
    if (rows === null) { return; }
    var data = columns(rows);
    if (plot) { plot.setData(data); return; }
    box.textContent = "";
    if (!rows.length) {
      var p = document.createElement("p");
      p.className = "lm-empty";
      p.textContent = box.getAttribute("data-empty") || "";
      box.appendChild(p);
      shown = "";
      return;
    }
    var amps = function (u, v) { return v == null ? "–" : v.toFixed(1) + " A"; };
    plot = new uPlot({
      width: width(box),
      height: 240,
      // 24-hour clock and ISO dates, as everywhere else in the WBM (uPlot's own are US style)
      fmtDate: function (tpl) {
        return uPlot.fmtDate(tpl.replace(/\{h\}/g, "{HH}").replace(/\{aa\}/g, "")
          .replace(/\{M\}\/\{D\}\/\{YY\}/g, "{YYYY}-{MM}-{DD}").replace(/\{M\}\/\{D\}/g, "{MM}-{DD}"));
      },
      series: [
        { label: box.getAttribute("data-label-time") || "Time" },
        { label: "L1", stroke: "#8a5a00", width: 2, value: amps },
        { label: "L2", stroke: "#1f1f1f", width: 2, value: amps },
        { label: "L3", stroke: "#6b7280", width: 2, value: amps },
        { label: box.getAttribute("data-label-limit") || "Limit", stroke: "#c62828", width: 2, dash: [6, 4], value: amps }
      ],
      axes: [{}, { values: function (u, vals) { return vals.map(function (v) { return v + " A"; }); } }],
      scales: { y: { range: function (u, min, max) { return [0, Math.max(10, max * 1.1)]; } } }
    }, data, box);
  }

  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:oobAfterSwap", function (ev) {
    var t = ev.detail && (ev.detail.target || ev.detail.elt);
    if (t && t.id === "lm-chart-data") { draw(); }
  });
  window.addEventListener("resize", function () {
    var box = document.getElementById("lm-chart");
    if (plot && box) { plot.setSize({ width: width(box), height: 240 }); }
  });
})();

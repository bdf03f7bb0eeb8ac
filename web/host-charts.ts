// The host page's browser script, served from memory like the stylesheet: draws each `data-chart` element's
// series with uPlot (served from node_modules, CONTRIBUTING "Web console libraries"). The page's facts stay
// in the HTML; this only turns them into canvases, and marks each chart with how many points it drew.
export const hostChartsScript = `
(function () {
  var colors = ['#1f6feb', '#b3261e', '#17663a'];
  function bytes(v) {
    var units = ['B', 'K', 'M', 'G', 'T'], i = 0;
    while (Math.abs(v) >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    return (i === 0 ? v : v.toFixed(1)) + units[i];
  }
  function seconds(v) { return v < 10 ? v.toFixed(1) + 's' : v < 120 ? v.toFixed(0) + 's' : (v / 60).toFixed(1) + 'm'; }
  function format(unit) { return unit === 'bytes' ? bytes : unit === 'seconds' ? seconds : String; }
  document.querySelectorAll('[data-chart]').forEach(function (el) {
    var spec = JSON.parse(el.getAttribute('data-chart'));
    var scales = [];
    spec.series.forEach(function (s) { if (scales.indexOf(s.unit) < 0) scales.push(s.unit); });
    var chart = new uPlot({
      title: spec.title,
      width: Math.max(320, el.clientWidth || 800),
      height: 220,
      series: [{}].concat(spec.series.map(function (s, i) {
        var show = format(s.unit);
        return { label: s.label, scale: s.unit, stroke: colors[i % colors.length], width: 2,
          points: { show: true, size: 6 }, value: function (u, v) { return v == null ? '-' : show(v); } };
      })),
      axes: [{}].concat(scales.map(function (unit, i) {
        var show = format(unit);
        return { scale: unit, side: i === 0 ? 3 : 1, grid: { show: i === 0 }, size: 60,
          values: function (u, vals) { return vals.map(show); } };
      })),
    }, [spec.x].concat(spec.series.map(function (s) { return s.values; })), el);
    el.setAttribute('data-points', String(chart.data[0].length));
  });
})();
`;

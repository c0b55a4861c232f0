// The preface's twin: softmax(z / tau), its entropy and the norm of its Jacobian (e2t.temperature), in float64.
var WIDGET = (function () {
  "use strict";
  var F = 14, SUB = 12.5;

  function stats(z, tau) {
    var p = E2T.softmax(z.map(function (v) { return v / tau; })), n = p.length, sq = 0;
    for (var i = 0; i < n; i++) {
      for (var j = 0; j < n; j++) {
        var J = ((i === j ? p[i] : 0) - p[i] * p[j]) / tau;  // (diag(p) - p p^T) / tau
        sq += J * J;
      }
    }
    return {p: p, entropy: E2T.entropy(p), jacobian_norm: Math.sqrt(sq), max_weight: Math.max.apply(null, p)};
  }
  var curves = null;  // the same at every setting: computed once
  function curveData(data) {
    if (!curves) curves = data.curve_taus.map(function (t) { return stats(data.scores, t); });
    return curves;
  }

  function compute(s, data) { return stats(data.scores, s.tau); }

  function draw(s, v, data, W) {
    var z = data.scores, n = z.length, stacked = W < 720, PH = 330, H = stacked ? 2 * PH + 30 : PH + 30;
    var fig = new SVG.Fig(W, H, F), fmt = function (x) { return x.toFixed(2); };
    fig.text(0, 16, "τ = " + s.tau + ":  max weight " + fmt(v.max_weight) + ",  entropy " + fmt(v.entropy) +
      " nats (uniform: " + fmt(Math.log(n)) + "),  ‖∂p/∂z‖ = " + fmt(v.jacobian_norm), {weight: 600});
    var lw = stacked ? W : Math.round(W * 0.52);
    var ax = fig.axes({x: 70, y: 70, w: lw - 90, h: PH - 160}, {
      x: {min: 0, max: n - 1, band: true, ticks: z.map(function (zi, i) { return [i, "z = " + SVG.tickLabel(zi)]; }),
          label: "item i and its score z" + fig.sub("i", SUB), html: true},
      y: {min: 0, max: 1, ticks: [0, 0.25, 0.5, 0.75, 1], grid: true, label: "weight p" + fig.sub("i", SUB),
          html: true},
      title: "softmax(z / τ)"});
    var bw = (ax.x(1) - ax.x(0)) * 0.7;
    v.p.forEach(function (p, i) {
      fig.rect(ax.x(i) - bw / 2, ax.y(p), bw, ax.y(0) - ax.y(p), {fill: "#1f77b4",
        title: "p" + i + " = " + p.toPrecision(4)});
    });
    fig.line(ax.box.x, ax.y(1 / n), ax.box.x + ax.box.w, ax.y(1 / n), {stroke: "#888", dash: "4 3"});
    fig.text(ax.box.x + ax.box.w - 4, ax.y(1 / n) - 5, "uniform 1/n", {anchor: "end", fill: "#666"});

    var cs = curveData(data), taus = data.curve_taus, logn = Math.log(n);
    var top = Math.max(1, Math.max.apply(null, cs.map(function (c) { return c.jacobian_norm; })));
    var ox = stacked ? 0 : lw, oy = stacked ? PH + 40 : 0;
    var cx = fig.axes({x: ox + 70, y: oy + 70, w: W - ox - 90, h: PH - 160}, {
      x: {min: taus[0], max: taus[taus.length - 1], log: true, ticks: [0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10], grid: true,
          label: "temperature τ (log scale)"},
      y: {min: 0, max: top * 1.05, n: 4, grid: true, label: "value"},
      title: "over all temperatures"});
    var series = [["max_weight", 1, "#9467bd", "max weight"], ["entropy", logn, "#2ca02c", "entropy / log n"],
                  ["jacobian_norm", 1, "#ff7f0e", "‖∂p/∂z‖"]];
    series.forEach(function (sr) {
      fig.poly(cs.map(function (c, k) { return [cx.x(taus[k]), cx.y(c[sr[0]] / sr[1])]; }), {stroke: sr[2], sw: 2});
    });
    fig.line(cx.x(s.tau), cx.box.y, cx.x(s.tau), cx.box.y + cx.box.h, {stroke: "#222"});
    series.forEach(function (sr) {
      fig.circle(cx.x(s.tau), cx.y(v[sr[0]] / sr[1]), 4.5, {fill: sr[2], stroke: "#222"});
    });
    fig.legend(ox + 40, oy + PH, series.map(function (sr) { return {label: sr[3], stroke: sr[2], sw: 2.5}; }),
      {across: true});
    return fig.toString();
  }

  return {compute: compute, draw: draw};
})();

// Chapter 4's twin: one query's softmax weights with and without 1/sqrt(d), their entropy and Jacobian norm
// (e2t.scaling.softmax_jacobian_fro), from the scores embedded per width; histograms and curves are embedded data.
var WIDGET = (function () {
  "use strict";
  var F = 14, RED = "#d62728", BLUE = "#1f77b4";

  function jacobianFro(p) {  // sqrt(sum p^2 - 2 sum p^3 + (sum p^2)^2), as e2t.scaling.softmax_jacobian_fro
    var s2 = 0, s3 = 0;
    p.forEach(function (x) { s2 += x * x; s3 += x * x * x; });
    return Math.sqrt(Math.max(0, s2 - 2 * s3 + s2 * s2));
  }

  function compute(s, data) {
    var w = data.per_width[String(s.d)], c = Math.sqrt(s.d), out = {};
    [["raw", w.z], ["scaled", w.z.map(function (x) { return x / c; })]].forEach(function (pair) {
      var p = E2T.softmax(pair[1]);
      out[pair[0]] = p;
      out[pair[0] + "_max"] = Math.max.apply(null, p);
      out[pair[0] + "_entropy"] = E2T.entropy(p);
      out[pair[0] + "_jacobian"] = jacobianFro(p);
    });
    out.hist_raw = w.hist_raw;
    out.hist_scaled = w.hist_scaled;
    out.lim = w.lim;
    return out;
  }

  function draw(s, v, data, W) {
    var w = data.per_width[String(s.d)], stacked = W < 820, PH = 350, AY = 60, AH = 160, LEG = 290;
    var pw = stacked ? W : (W - 20) / 3, H = stacked ? 3 * PH + 10 : PH + 10;
    var fig = new SVG.Fig(W, H, F), f2 = function (x) { return x.toFixed(2); };
    function origin(k) { return stacked ? [0, k * PH] : [k * (pw + 10), 0]; }
    fig.text(0, 16, "d = " + s.d + ": one query's largest weight " + f2(v.raw_max) + " without the scale, " +
      f2(v.scaled_max) + " with it; ‖∂p/∂z‖ " + f2(v.raw_jacobian) + " vs " + f2(v.scaled_jacobian), {weight: 600});

    // 1. histograms of all 200 x 16 scores, over the same bins
    var o = origin(0), n = data.bins, lim = w.lim, peak = Math.max.apply(null, w.hist_raw.concat(w.hist_scaled));
    var ax = fig.axes({x: o[0] + 62, y: o[1] + AY, w: pw - 86, h: AH}, {
      x: {min: -lim, max: lim, n: 4, label: "score"}, y: {min: 0, max: peak * 1.05, n: 4, label: "count", grid: true},
      title: "scores of 200 queries × 16 keys"});
    var bw = (ax.x(lim) - ax.x(-lim)) / n;
    [["hist_raw", RED], ["hist_scaled", BLUE]].forEach(function (h) {
      w[h[0]].forEach(function (count, k) {
        if (count) fig.rect(ax.x(-lim) + k * bw, ax.y(count), bw, ax.y(0) - ax.y(count),
          {fill: h[1], opacity: 0.55, title: count + " scores"});
      });
    });
    fig.legend(o[0] + 20, o[1] + LEG, [{label: "q·k  (std " + w.std[0].toFixed(1) + ")", fill: RED, opacity: 0.55},
      {label: "q·k/√d  (std " + w.std[1].toFixed(1) + ")", fill: BLUE, opacity: 0.55}]);

    // 2. one query's weights, both ways
    o = origin(1);
    var K = v.raw.length;
    ax = fig.axes({x: o[0] + 62, y: o[1] + AY, w: pw - 86, h: AH}, {
      x: {min: 0, max: K - 1, band: true, ticks: [0, 3, 6, 9, 12, 15], label: "key j"},
      y: {min: 0, max: 1, ticks: [0, 0.25, 0.5, 0.75, 1], label: "weight", grid: true},
      title: "weights of one query"});
    var cw = ax.x(1) - ax.x(0);
    [["raw", RED, -0.2], ["scaled", BLUE, 0.2]].forEach(function (b) {
      v[b[0]].forEach(function (p, j) {
        fig.rect(ax.x(j + b[2]) - 0.2 * cw, ax.y(p), 0.4 * cw, ax.y(0) - ax.y(p), {fill: b[1],
          title: "key " + j + ": " + p.toFixed(4)});
      });
    });
    fig.legend(o[0] + 20, o[1] + LEG, [{label: "softmax(q·k)", fill: RED}, {label: "softmax(q·k/√d)", fill: BLUE}]);

    // 3. statistics over all widths (500 queries each), the current width marked
    o = origin(2);
    var widths = data.widths, curves = data.curves, logS = Math.log(K);
    var top = Math.max.apply(null, curves.raw.grad_norm.concat(curves.scaled.grad_norm));
    ax = fig.axes({x: o[0] + 62, y: o[1] + AY, w: pw - 86, h: AH}, {
      x: {min: 1, max: 1024, log: true, ticks: [1, 4, 16, 64, 256, 1024],
          label: "width d (log scale)", grid: true},
      y: {min: 0, max: 1.05, ticks: [0, 0.25, 0.5, 0.75, 1], grid: true, label: "mean over 500 queries"},
      title: "solid: q·k, dashed: q·k/√d"});
    var series = [["max_weight", 1, "#9467bd", "max weight"], ["entropy", logS, "#2ca02c", "entropy / log 16"],
                  ["grad_norm", top, "#ff7f0e", "‖∂p/∂z‖ / its max"]];
    ["raw", "scaled"].forEach(function (kind) {
      series.forEach(function (sr) {
        fig.poly(widths.map(function (d, k) { return [ax.x(d), ax.y(curves[kind][sr[0]][k] / sr[1])]; }),
          {stroke: sr[2], sw: 2, dash: kind === "scaled" ? "6 4" : null});
      });
    });
    fig.line(ax.x(s.d), ax.box.y, ax.x(s.d), ax.box.y + ax.box.h, {stroke: "#222"});
    fig.legend(o[0] + 20, o[1] + LEG, series.map(function (sr) { return {label: sr[3], stroke: sr[2], sw: 2.5}; }));
    return fig.toString();
  }

  return {compute: compute, draw: draw};
})();

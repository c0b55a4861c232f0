// Chapter 4's twin: Luong's local-p weights (e2t.luong.local_weights): softmax over the window [p - D, p + D]
// (e2t.luong.window_mask), times the Gaussian exp(-(s - p)^2 / (2 sigma^2)), sigma = D / 2 (gaussian_window).
var WIDGET = (function () {
  "use strict";
  var F = 14;

  function compute(s, data) {
    var z = data.scores, S = z.length, D = s.D, p = s.p, win = [], gauss = [], local, sum = 0;
    for (var i = 0; i < S; i++) {
      var diff = i - p;
      win.push(Math.abs(diff) <= D + 1e-6 ? 1 : 0);
      gauss.push(D === 0 ? (Math.abs(diff) < 1e-6 ? 1 : 0) : Math.exp(-diff * diff / (2 * (D / 2) * (D / 2))));
    }
    local = E2T.softmax(z, win).map(function (w, i) { return w * gauss[i]; });
    local.forEach(function (w) { sum += w; });
    return {global: E2T.softmax(z), window: win, gaussian: gauss, local: local, local_sum: sum};
  }

  function draw(s, v, data, W) {
    var tokens = data.tokens, S = tokens.length, rotate = W < 760 ? 40 : 0, H = 385 + (rotate ? 30 : 0);
    var fig = new SVG.Fig(W, H, F), inside = v.window.reduce(function (a, b) { return a + b; }, 0);
    fig.text(0, 16, "p_t = " + s.p.toFixed(2) + ", D = " + s.D + " (σ = " + (s.D / 2) + "): " + inside +
      " positions in the window; the local weights sum to " + v.local_sum.toFixed(3), {weight: 600});
    var ax = fig.axes({x: 66, y: 40, w: W - 80, h: 220}, {
      x: {min: 0, max: S - 1, band: true, ticks: tokens.map(function (t, i) { return [i, t]; }), rotate: rotate,
          label: "source position s (word " + "0–" + (S - 1) + ")", labelGap: rotate ? 64 : 34},
      y: {min: 0, max: 1.05, ticks: [0, 0.25, 0.5, 0.75, 1], grid: true, label: "weight"}});
    var lo = Math.max(-0.5, s.p - s.D - 0.5), hi = Math.min(S - 0.5, s.p + s.D + 0.5);
    if (hi > lo) fig.rect(ax.x(lo), ax.box.y, ax.x(hi) - ax.x(lo), ax.box.h, {fill: "#ff7f0e", opacity: 0.12});
    var cw = ax.x(1) - ax.x(0);
    for (var i = 0; i < S; i++) {
      fig.rect(ax.x(i - 0.2) - 0.2 * cw, ax.y(v.global[i]), 0.4 * cw, ax.y(0) - ax.y(v.global[i]),
        {fill: "#999", title: tokens[i] + ": global " + v.global[i].toFixed(4)});
      fig.rect(ax.x(i + 0.2) - 0.2 * cw, ax.y(v.local[i]), 0.4 * cw, ax.y(0) - ax.y(v.local[i]),
        {fill: "#ff7f0e", title: tokens[i] + ": local-p " + v.local[i].toFixed(4) + " (Gaussian " +
          v.gaussian[i].toFixed(3) + ")"});
    }
    var pts = [], sigma = s.D / 2;
    for (var k = 0; k <= 200; k++) {
      var x = -0.5 + k * S / 200;
      pts.push([ax.x(x), ax.y(Math.exp(-(x - s.p) * (x - s.p) / (2 * sigma * sigma)))]);
    }
    fig.poly(pts, {stroke: "#d62728", sw: 2});
    fig.line(ax.x(s.p), ax.box.y, ax.x(s.p), ax.box.y + ax.box.h, {stroke: "#d62728", dash: "5 4"});
    fig.legend(66, H - 36, [{label: "global: softmax over all", fill: "#999"},
      {label: "local-p: window softmax × Gaussian", fill: "#ff7f0e"},
      {label: "Gaussian, σ = D/2", stroke: "#d62728"}, {label: "window [p_t − D, p_t + D]", fill: "#ff7f0e",
        opacity: 0.15}], {across: true, maxX: W});
    return fig.toString();
  }

  return {compute: compute, draw: draw};
})();

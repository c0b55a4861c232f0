// Chapter 5's second twin: the NTM's addressing (e2t.ntm), stage by stage, in float64:
// content  w_c = softmax(beta cos[k, M(i)])      (cosine_rows, content_addressing; norms floored at 1e-8)
// gate     w_g = g w_c + (1 - g) w_prev          (interpolate)
// shift    w_s(i) = sum_j w_g(j) s(i - j mod N)  (shift; s = s(-1), s(0) = 1 - s(-1) - s(+1), s(+1))
// sharpen  w = w_s^gamma / sum w_s^gamma         (sharpen: a softmax of gamma log w_s; zeros stay 0)
var WIDGET = (function () {
  "use strict";
  var F = 15, SMALL = 13.5;

  function norm(v) { return Math.sqrt(v.reduce(function (a, x) { return a + x * x; }, 0)); }

  function compute(s, data) {
    var M = data.memory, k = data.key, prev = data.prev, N = M.length, i, j;
    var kn = Math.max(norm(k), 1e-8), cos = M.map(function (row) {
      var dot = 0;
      for (var c = 0; c < row.length; c++) dot += row[c] * k[c];
      return dot / (kn * Math.max(norm(row), 1e-8));
    });
    var wc = E2T.softmax(cos.map(function (x) { return s.beta * x; }));
    var wg = wc.map(function (x, r) { return s.g * x + (1 - s.g) * prev[r]; });
    var sh = [s.s_minus, Math.max(0, 1 - s.s_minus - s.s_plus), s.s_plus], ws = [];
    for (i = 0; i < N; i++) {  // a move by d rows brings row i - d to row i with weight s(d)
      var acc = 0;
      for (var d = -1; d <= 1; d++) acc += wg[((i - d) % N + N) % N] * sh[d + 1];
      ws.push(acc);
    }
    var logs = ws.map(function (x) { return Math.log(Math.max(x, E2T.TINY)); });
    var top = Math.max.apply(null, logs);
    var w = E2T.softmax(logs.map(function (l) { return s.gamma * (l - top); }), ws.map(function (x) { return x > 0; }));
    for (j = 0; j < N; j++) if (!(ws[j] > 0)) w[j] = 0;
    return {cosine: cos, w_c: wc, w_prev: prev.slice(), w_g: wg, w_s: ws, w: w, s: sh};
  }

  function readout(s, v) {
    return "shift weights as used: s(−1) = " + v.s[0].toFixed(2) + ", s(0) = 1 − s(−1) − s(+1) = " +
      v.s[1].toFixed(2) + ", s(+1) = " + v.s[2].toFixed(2);
  }

  function draw(s, v, data, W) {
    var M = data.memory, N = M.length, C = M[0].length, fig = new SVG.Fig(W, 10, F), i;
    var lim = Math.ceil(Math.max.apply(null, M.map(function (r) {
      return Math.max.apply(null, r.map(Math.abs)); })));
    var rh = 30, RY = 112, cell = 34, mx = 62, mw = C * cell, gap = 16;
    var cols = ["cosine", "w_c", "w_prev", "w_g", "w_s", "w"];
    var cw = Math.max(82, Math.floor((W - mx - mw - 30 - gap * cols.length) / cols.length));
    var H = RY + N * rh + 160;
    fig.h = H;
    var best = v.w.indexOf(Math.max.apply(null, v.w));
    fig.text(0, 18, "final focus: row " + best + " (weight " + v.w[best].toFixed(2) + ");  content match: row " +
      v.w_c.indexOf(Math.max.apply(null, v.w_c)) + ";  previous focus: row " + v.w_prev.indexOf(
        Math.max.apply(null, v.w_prev)), {weight: 600});

    // the key above the memory, on the memory's colour scale
    var rows = [];
    for (i = 0; i < N; i++) rows.push(String(i));
    var cmap = {cmap: "RdBu_r", min: -lim, max: lim, fmt: function (x) { return x.toFixed(3); }};
    fig.heatmap({x: mx, y: RY - 50, w: mw, h: 32}, [data.key], {cmap: "RdBu_r", min: -lim, max: lim, fmt: cmap.fmt,
      rowLabels: ["k"], tip: function (r, c) { return "key, column " + c; }});
    fig.text(mx + mw / 2, RY - 58, "key k", {anchor: "middle", weight: 600});
    var cols4 = [];
    for (i = 0; i < C; i++) cols4.push(String(i));
    fig.heatmap({x: mx, y: RY, w: mw, h: N * rh}, M, {cmap: "RdBu_r", min: -lim, max: lim, fmt: cmap.fmt,
      rowLabels: rows, colLabels: cols4, tip: function (r, c) { return "row " + r + ", column " + c; }});
    fig.text(mx + mw / 2, RY + N * rh + 26, "memory M", {anchor: "middle", base: "hanging", weight: 600});
    fig.text(16, RY + N * rh / 2, "memory row i", {anchor: "middle", rotate: -90});
    var cticks = [];
    for (var t = -lim; t <= lim; t += lim) cticks.push(t);
    fig.colorbar({x: mx, y: RY + N * rh + 84, w: mw, h: 12}, {cmap: "RdBu_r", min: -lim, max: lim, ticks: cticks,
      horizontal: true, label: "value in M and k"});

    // one column per stage, the rows aligned with the memory's
    var heads = {
      cosine: ["cos(k, M(i))", "similarity"],
      w_c: ["1 content w", "c", "β = " + s.beta.toFixed(1)],
      w_prev: ["previous w", "", "w(t−1), given"],
      w_g: ["2 gate w", "g", "g = " + s.g.toFixed(2)],
      w_s: ["3 shift w̃", "", "by s (below)"],
      w: ["4 sharpen w", "", "γ = " + s.gamma.toFixed(1)]
    };
    var before = {w_s: "w_g", w: "w_s"};
    cols.forEach(function (name, k) {
      var x = mx + mw + 30 + k * (cw + gap), lo = name === "cosine" ? -1 : 0;
      var ax = fig.axes({x: x, y: RY, w: cw, h: N * rh}, {
        x: {min: lo, max: 1, ticks: lo ? [[-1, "−1"], [0, "0"], [1, "1"]] : [[0, "0"], [0.5, ".5"], [1, "1"]],
            grid: true},
        y: {min: N - 1, max: 0, band: true, ticks: []}});
      var h = heads[name], title = SVG.esc(h[0]) + (h.length > 2 && h[1] ? fig.sup(h[1], SMALL) : "");
      fig.text(x + cw / 2, RY - 34, title, {anchor: "middle", weight: 600, html: true});
      fig.text(x + cw / 2, RY - 12, h[h.length - 1], {anchor: "middle"});
      var colour = name === "cosine" || name === "w_prev" ? "#888" : "#1f77b4";
      v[name].forEach(function (val, r) {
        var y = RY + r * rh;
        fig.rect(ax.x(0), y + 4, ax.x(val) - ax.x(0), rh - 8, {fill: colour,
          title: name + "(" + r + ") = " + val.toPrecision(4)});
        if (before[name]) {
          var b = v[before[name]][r];
          if (ax.x(b) - ax.x(0) > 3) fig.rect(ax.x(0), y + 4, ax.x(b) - ax.x(0), rh - 8, {stroke: "#111", sw: 1.2});
        }
      });
      if (lo) fig.line(ax.x(0), RY, ax.x(0), RY + N * rh, {stroke: "#444"});
      fig.text(x + cw / 2, RY + N * rh + 30, name === "cosine" ? "cosine" : "weight", {anchor: "middle",
        base: "hanging"});
      if (name === "w_s") {  // the shift weights as used, under the shift column
        var kx = x, ky = RY + N * rh + 78, kw = cw, kh = 50, bw = kw / 3;
        v.s.forEach(function (val, d) {
          fig.rect(kx + d * bw + 6, ky + kh * (1 - val), bw - 12, kh * val, {fill: "#2ca02c",
            title: "s(" + (d - 1) + ") = " + val.toFixed(2)});
          fig.text(kx + (d + 0.5) * bw, ky + kh + 6, ["−1", "0", "+1"][d], {anchor: "middle", base: "hanging"});
          fig.text(kx + (d + 0.5) * bw, ky + kh * (1 - val) - 4, val.toFixed(2).replace(/^0\./, "."),
            {anchor: "middle"});
        });
        fig.line(kx, ky + kh, kx + kw, ky + kh, {stroke: "#444"});
        fig.text(kx - 8, ky + kh / 2, "s", {anchor: "end", base: "middle", weight: 600});
      }
    });
    fig.text(mx + mw + 30, RY + N * rh + 84, "Black outline: the stage before.", {base: "middle"});
    fig.text(mx + mw + 30, RY + N * rh + 106, "Shift +1 moves the focus one row down", {base: "middle"});
    fig.text(mx + mw + 30, RY + N * rh + 128, "(row 9 wraps to row 0).", {base: "middle"});
    return fig.toString();
  }

  return {compute: compute, draw: draw, readout: readout};
})();

// Chapter 5's first twin: a focus weighting (e2t.viz.ntm_read_write.focus_weighting), the NTM's write
// M_t(i) = M_{t-1}(i) [1 - w(i) e] + w(i) a (e2t.ntm.write) and the read r = sum_i w(i) M_t(i) (e2t.ntm.read).
var WIDGET = (function () {
  "use strict";
  var F = 14;

  function compute(s, data) {
    var mem = data.memory, N = mem.length, M = mem[0].length, e = data.erase[s.erase], a = data.add[s.add];
    var logits = [];
    for (var i = 0; i < N; i++) {
      var d = Math.min(Math.abs(i - s.row), N - Math.abs(i - s.row));
      logits.push(-s.sharpness * d * d);
    }
    var w = E2T.softmax(logits), after = [], change = [], r = [];
    for (i = 0; i < N; i++) {
      var row = [], diff = [];
      for (var j = 0; j < M; j++) {
        var v = mem[i][j] * (1 - w[i] * e[j]) + w[i] * a[j];
        row.push(v);
        diff.push(v - mem[i][j]);
      }
      after.push(row);
      change.push(diff);
    }
    for (j = 0; j < M; j++) {
      var acc = 0;
      for (i = 0; i < N; i++) acc += w[i] * after[i][j];
      r.push(acc);
    }
    return {w: w, after: after, change: change, read: r};
  }

  function draw(s, v, data, W) {
    var mem = data.memory, N = mem.length, M = mem[0].length, L = data.limit, c = Math.max(22, Math.min(34,
      Math.floor((W - 50 - 150 - 4 * 34 - 90) / (3 * M))));
    var hw = M * c, bw = 150, top = 64, x0 = 58;
    var xs = [x0, x0 + hw + 34, x0 + hw + 34 + bw + 34, x0 + 2 * hw + 34 + bw + 34 + 34];
    var H = top + N * c + 62 + 2 * c + 56, fig = new SVG.Fig(W, H, F), cols = [];
    for (var j = 0; j < M; j++) cols.push(String(j));
    var rowsLabels = [];
    for (var i = 0; i < N; i++) rowsLabels.push(String(i));
    var cmap = {cmap: "RdBu_r", min: -L, max: L, fmt: function (x) { return x.toFixed(3); }};
    function hm(x, y, m, title, tip, rowLabels, colLabels) {
      return fig.heatmap({x: x, y: y, w: m[0].length * c, h: m.length * c}, m, {cmap: "RdBu_r", min: -L, max: L,
        fmt: cmap.fmt, title: title, rowLabels: rowLabels, colLabels: colLabels, tip: tip});
    }
    fig.text(0, 16, "focus row " + s.row.toFixed(2) + ", sharpness " + s.sharpness.toFixed(2) + ":  " + s.erase +
      ",  " + s.add, {weight: 600});
    var tip = function (i, j) { return "row " + i + ", column " + j; };
    hm(xs[0], top, mem, "memory before", tip, rowsLabels, cols);
    fig.text(14, top + N * c / 2, "row i", {anchor: "middle", rotate: -90});
    var ax = fig.axes({x: xs[1], y: top, w: bw, h: N * c}, {
      x: {min: 0, max: 1, ticks: [0, 0.5, 1], grid: true, label: "weight"},
      y: {min: N - 1, max: 0, band: true, ticks: []}, title: "focus w(i)"});
    v.w.forEach(function (wi, k) {
      var y = top + k * c;
      fig.rect(ax.x(0), y + 0.15 * c, ax.x(wi) - ax.x(0), 0.7 * c, {fill: "#ff7f0e", title: "w(" + k + ") = " +
        wi.toFixed(4)});
    });
    hm(xs[2], top, v.after, "memory after", tip, rowsLabels, cols);
    hm(xs[3], top, v.change, "change (after − before)", tip, rowsLabels, cols);
    [xs[0], xs[2], xs[3]].forEach(function (x) {
      fig.text(x + hw / 2, top + N * c + 26, "column j", {anchor: "middle", base: "hanging"});
    });
    var cbx = xs[3] + hw + 26;
    fig.colorbar({x: cbx, y: top, w: 16, h: N * c}, {cmap: "RdBu_r", min: -L, max: L,
      ticks: [-2, -1, 0, 1, 2], label: "value (every panel)", labelGap: 52});
    var y2 = top + N * c + 62;
    hm(xs[0], y2, [data.erase[s.erase]], "", function (i, j) { return "erase e, column " + j; }, ["e"], []);
    hm(xs[0], y2 + c + 12, [data.add[s.add]], "", function (i, j) { return "add a, column " + j; }, ["a"], []);
    hm(xs[2], y2, [v.read], "", function (i, j) { return "read r, column " + j; }, ["r"], []);
    fig.text(xs[2], y2 + 1.5 * c + 12, "r = " + v.read.map(function (x) { return x.toFixed(2); }).join(", ")
      .replace(/-/g, "\u2212"), {base: "middle"});
    fig.text(0, y2 + 2 * c + 40, "e: erase vector (0 keeps a value, 1 wipes it);  a: add vector;  " +
      "r: the vector read back from the new memory, r = Σ w(i) M(i).", {base: "middle"});
    return fig.toString();
  }

  return {compute: compute, draw: draw};
})();

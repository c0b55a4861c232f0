// Chapter 6's twin: a mask (e2t.masks) and the weights of both heads of a small MultiHeadAttention under it: the
// scores Q K^T / sqrt(Dh) from the layer's embedded input and projections, then e2t.attention.masked_softmax.
var WIDGET = (function () {
  "use strict";
  var F = 14;

  function project(x, W, b, n) {  // x[:n] @ W^T + b, as torch.nn.Linear
    var out = [];
    for (var t = 0; t < n; t++) {
      var row = [];
      for (var o = 0; o < W.length; o++) {
        var acc = 0;
        for (var i = 0; i < x[t].length; i++) acc += x[t][i] * W[o][i];
        row.push(acc + b[o]);
      }
      out.push(row);
    }
    return out;
  }
  function maskOf(kind, length, padded) {
    var m = [];
    for (var t = 0; t < padded; t++) {
      var row = [];
      for (var s = 0; s < padded; s++) {
        var ok = true;
        if (kind === "causal" || kind === "both") ok = ok && s <= t;
        if (kind === "padding" || kind === "both") ok = ok && s < length;
        row.push(ok ? 1 : 0);
      }
      m.push(row);
    }
    return m;
  }

  function compute(s, data) {
    var P = s.padded, mask = maskOf(s.kind, s.length, P), Dh = data.d_head, scale = Math.sqrt(Dh);
    var q = project(data.x, data.W_q, data.b_q, P), k = project(data.x, data.W_k, data.b_k, P), weights = [];
    for (var h = 0; h < data.heads; h++) {
      var rows = [];
      for (var t = 0; t < P; t++) {
        var z = [];
        for (var j = 0; j < P; j++) {
          var acc = 0;
          for (var d = h * Dh; d < (h + 1) * Dh; d++) acc += q[t][d] * k[j][d];
          z.push(acc / scale);
        }
        rows.push(E2T.softmax(z, mask[t]));
      }
      weights.push(rows);
    }
    return {mask: mask, weights: weights};
  }

  function draw(s, v, data, W) {
    var P = s.padded, L = s.length, fig, keys = [], rowsMask = [], rowsQ = [];
    for (var i = 0; i < P; i++) {
      keys.push(i < L ? "x" + i : "pad");
      var seen = v.mask[i].reduce(function (a, b) { return a + b; }, 0);
      rowsMask.push("q" + i + " sees " + seen);
      rowsQ.push("q" + i);
    }
    var stacked = W < 820, side = stacked ? Math.min(W - 150, 300) : Math.min(260, (W - 368) / 3);
    var top = 58, H = stacked ? 3 * (side + 120) + 40 : side + 175;
    fig = new SVG.Fig(W, H, F);
    var boxes = stacked ?
      [{x: 100, y: top, w: side, h: side}, {x: 100, y: top + side + 120, w: side, h: side},
       {x: 100, y: top + 2 * (side + 120), w: side, h: side}] :
      [{x: 112, y: top, w: side, h: side}, {x: 172 + side, y: top, w: side, h: side},
       {x: 222 + 2 * side, y: top, w: side, h: side}];
    fig.heatmap(boxes[0], v.mask, {cmap: "Greens", min: 0, max: 1.4, rowLabels: rowsMask, colLabels: keys,
      colRotate: 45, title: "mask '" + s.kind + "'", fmt: function (m) { return m ? "may attend" : "blocked"; },
      tip: function (t, j) { return "q" + t + " → key " + j; }});
    for (var h = 0; h < data.heads; h++) {
      var box = boxes[h + 1], cell = box.w / P, wts = v.weights[h];
      fig.heatmap(box, wts, {cmap: "viridis", min: 0, max: 1, rowLabels: rowsQ, colLabels: keys, colRotate: 45,
        title: "weights, head " + (h + 1), fmt: function (x) { return x.toFixed(3); },
        tip: function (t, j) { return "q" + t + " → key " + j; }});
      for (var t = 0; t < P; t++) {
        for (var j = 0; j < P; j++) {
          if (!v.mask[t][j]) fig.rect(box.x + j * cell, box.y + t * cell, cell, cell, {fill: "#d9d9d9",
            stroke: "#fff", sw: 0.5, title: "q" + t + " → key " + j + ": blocked, weight exactly 0"});
        }
      }
    }
    boxes.forEach(function (b) {
      fig.text(b.x + b.w / 2, b.y + b.h + 52, "key position s", {anchor: "middle", base: "hanging"});
    });
    fig.text(14, boxes[0].y + boxes[0].h / 2, "query position t", {anchor: "middle", rotate: -90});
    var last = boxes[2];
    fig.colorbar(stacked ? {x: last.x + last.w + 20, y: last.y, w: 16, h: last.h} :
                           {x: last.x + last.w + 22, y: last.y, w: 16, h: last.h},
      {cmap: "viridis", min: 0, max: 1, ticks: [0, 0.25, 0.5, 0.75, 1], label: "attention weight", labelGap: 60});
    fig.text(0, 18, "Each row of weights sums to 1 over the keys its mask allows (padded length " + P +
      ", real tokens " + L + ").", {});
    fig.legend(100, H - 16, [{label: "may attend", fill: SVG.colour("Greens", 1, 0, 1.4)},
      {label: "blocked (mask False; weight exactly 0)", fill: "#d9d9d9"}], {across: true});
    return fig.toString();
  }

  return {compute: compute, draw: draw};
})();

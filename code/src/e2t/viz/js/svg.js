// e2t twin drawing helper: a figure built as one SVG string at 1:1 CSS pixels (no viewBox scaling, so a font size
// here is the size the reader sees), with axes, ticks, bars, heatmaps, colour bars and legends.
// Inlined into every browser twin by e2t.viz.browser; no library, no network.
var SVG = (function () {
  "use strict";
  var CMAPS = {
    viridis: ["#440154", "#482878", "#3e4989", "#31688e", "#26828e", "#1f9e89", "#35b779", "#6ece58", "#b5de2b",
              "#fde725"],
    RdBu_r: ["#053061", "#2166ac", "#4393c3", "#92c5de", "#d1e5f0", "#f7f7f7", "#fddbc7", "#f4a582", "#d6604d",
             "#b2182b", "#67001f"],
    Greens: ["#f7fcf5", "#e5f5e0", "#c7e9c0", "#a1d99b", "#74c476", "#41ab5d", "#238b45", "#006d2c", "#00441b"]
  };
  var RGB = {};
  Object.keys(CMAPS).forEach(function (name) {
    RGB[name] = CMAPS[name].map(function (h) {
      return [parseInt(h.slice(1, 3), 16), parseInt(h.slice(3, 5), 16), parseInt(h.slice(5, 7), 16)];
    });
  });

  function esc(s) {
    return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  }
  function r2(x) { return Math.round(x * 100) / 100; }

  // The colour of value v on colour map `name` over [lo, hi].
  function colour(name, v, lo, hi) {
    var stops = RGB[name], t = hi > lo ? (v - lo) / (hi - lo) : 0.5;
    t = Math.max(0, Math.min(1, t)) * (stops.length - 1);
    var i = Math.min(stops.length - 2, Math.floor(t)), f = t - i, a = stops[i], b = stops[i + 1];
    return "rgb(" + Math.round(a[0] + f * (b[0] - a[0])) + "," + Math.round(a[1] + f * (b[1] - a[1])) + "," +
      Math.round(a[2] + f * (b[2] - a[2])) + ")";
  }

  // About n "nice" tick values covering [lo, hi].
  function ticks(lo, hi, n) {
    if (!(hi > lo)) return [lo];
    var raw = (hi - lo) / Math.max(1, n), mag = Math.pow(10, Math.floor(Math.log10(raw))), step = mag;
    [1, 2, 2.5, 5, 10].some(function (m) { step = m * mag; return step >= raw; });
    var out = [], first = Math.ceil(lo / step - 1e-9) * step;
    for (var v = first; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
    return out;
  }
  function tickLabel(v) {
    var s = Math.abs(v) >= 1000 || v === Math.round(v) ? String(Math.round(v)) : String(Number(v.toPrecision(3)));
    return s.replace("-", "\u2212");
  }

  function Fig(width, height, font) {
    this.w = Math.round(width); this.h = Math.round(height); this.font = font; this.parts = []; this.minFont = 1e9;
  }
  Fig.prototype.toString = function () {
    return '<svg xmlns="http://www.w3.org/2000/svg" width="' + this.w + '" height="' + this.h +
      '" font-family="DejaVu Sans, Verdana, Arial, sans-serif" data-e2t-min-font-px="' + this.minFont +
      '" style="display:block;overflow:visible">' + this.parts.join("") + "</svg>";
  };
  // Text; o: size, anchor (start|middle|end), base (auto|middle|hanging), weight, fill, rotate (degrees), title.
  Fig.prototype.text = function (x, y, s, o) {
    o = o || {};
    var size = o.size || this.font;
    this.minFont = Math.min(this.minFont, size);
    var tr = o.rotate ? ' transform="rotate(' + o.rotate + " " + r2(x) + " " + r2(y) + ')"' : "";
    this.parts.push('<text x="' + r2(x) + '" y="' + r2(y) + '" font-size="' + size + '" text-anchor="' +
      (o.anchor || "start") + '" dominant-baseline="' + (o.base || "auto") + '"' + tr +
      (o.weight ? ' font-weight="' + o.weight + '"' : "") + ' fill="' + (o.fill || "#222") + '">' +
      (o.html ? s : esc(s)) + "</text>");
  };
  // A superscript inside text(..., {html: true}): at `size` px, raised; the book keeps it >= the figure's minimum.
  Fig.prototype.sup = function (s, size) {
    this.minFont = Math.min(this.minFont, size);
    return '<tspan baseline-shift="super" font-size="' + size + '">' + esc(s) + "</tspan>";
  };
  // A subscript, likewise.
  Fig.prototype.sub = function (s, size) {
    this.minFont = Math.min(this.minFont, size);
    return '<tspan baseline-shift="sub" font-size="' + size + '">' + esc(s) + "</tspan>";
  };
  Fig.prototype.rect = function (x, y, w, h, o) {
    o = o || {};
    if (w < 0) { x += w; w = -w; }
    if (h < 0) { y += h; h = -h; }
    this.parts.push('<rect x="' + r2(x) + '" y="' + r2(y) + '" width="' + r2(w) + '" height="' + r2(h) +
      '" fill="' + (o.fill || "none") + '"' + (o.stroke ? ' stroke="' + o.stroke + '" stroke-width="' +
      (o.sw || 1) + '"' : "") + (o.opacity !== undefined ? ' fill-opacity="' + o.opacity + '"' : "") +
      (o.title ? "><title>" + esc(o.title) + "</title></rect>" : "/>"));
  };
  Fig.prototype.line = function (x1, y1, x2, y2, o) {
    o = o || {};
    this.parts.push('<line x1="' + r2(x1) + '" y1="' + r2(y1) + '" x2="' + r2(x2) + '" y2="' + r2(y2) +
      '" stroke="' + (o.stroke || "#222") + '" stroke-width="' + (o.sw || 1) + '"' +
      (o.dash ? ' stroke-dasharray="' + o.dash + '"' : "") + "/>");
  };
  Fig.prototype.poly = function (points, o) {
    o = o || {};
    var d = points.map(function (p) { return r2(p[0]) + "," + r2(p[1]); }).join(" ");
    this.parts.push('<polyline points="' + d + '" fill="none" stroke="' + (o.stroke || "#222") +
      '" stroke-width="' + (o.sw || 1.5) + '"' + (o.dash ? ' stroke-dasharray="' + o.dash + '"' : "") + "/>");
  };
  Fig.prototype.circle = function (x, y, r, o) {
    o = o || {};
    this.parts.push('<circle cx="' + r2(x) + '" cy="' + r2(y) + '" r="' + r + '" fill="' + (o.fill || "#222") +
      '"' + (o.stroke ? ' stroke="' + o.stroke + '"' : "") + "/>");
  };

  // A scale from data [d0, d1] to pixels [p0, p1]; log: base-10 logarithmic.
  function scale(d0, d1, p0, p1, log) {
    if (log) { d0 = Math.log10(d0); d1 = Math.log10(d1); }
    var k = (p1 - p0) / (d1 - d0 || 1);
    return function (v) { return p0 + ((log ? Math.log10(v) : v) - d0) * k; };
  }

  // Axes in box {x, y, w, h}. o.x / o.y: {min, max, ticks: [values] or [[value, label]], label, log, grid, band}.
  // band: categorical axis (ticks at integers, limits min - 0.5 .. max + 0.5). o.title above, o.frame: all 4 sides.
  // Returns {x: data -> px, y: data -> px, box}.
  Fig.prototype.axes = function (box, o) {
    var self = this, f = this.font;
    function axis(a, p0, p1) {
      var lo = a.band ? a.min - 0.5 : a.min, hi = a.band ? a.max + 0.5 : a.max;
      return {fn: scale(lo, hi, p0, p1, a.log), ticks: (a.ticks || ticks(lo, hi, a.n || 5)).map(function (t) {
        return Array.isArray(t) ? t : [t, tickLabel(t)];
      })};
    }
    var X = axis(o.x, box.x, box.x + box.w), Y = axis(o.y, box.y + box.h, box.y);
    X.ticks.forEach(function (t) {
      var px = X.fn(t[0]);
      if (o.x.grid) self.line(px, box.y, px, box.y + box.h, {stroke: "#e4e4e4"});
      self.line(px, box.y + box.h, px, box.y + box.h + 4);
      if (o.x.rotate) self.text(px + 3, box.y + box.h + 8, t[1], {anchor: "end", base: "hanging", rotate: -o.x.rotate});
      else self.text(px, box.y + box.h + 7, t[1], {anchor: "middle", base: "hanging"});
    });
    Y.ticks.forEach(function (t) {
      var py = Y.fn(t[0]);
      if (o.y.grid) self.line(box.x, py, box.x + box.w, py, {stroke: "#e4e4e4"});
      self.line(box.x - 4, py, box.x, py);
      self.text(box.x - 7, py, t[1], {anchor: "end", base: "middle"});
    });
    this.line(box.x, box.y + box.h, box.x + box.w, box.y + box.h, {stroke: "#444"});
    this.line(box.x, box.y, box.x, box.y + box.h, {stroke: "#444"});
    if (o.frame) {
      this.line(box.x + box.w, box.y, box.x + box.w, box.y + box.h, {stroke: "#444"});
      this.line(box.x, box.y, box.x + box.w, box.y, {stroke: "#444"});
    }
    if (o.x.label) this.text(box.x + box.w / 2, box.y + box.h + (o.x.labelGap || 2.4 * f), o.x.label,
      {anchor: "middle", base: "hanging", html: o.x.html});
    if (o.y.label) this.text(box.x - (o.y.labelGap || 3.5 * f), box.y + box.h / 2, o.y.label,
      {anchor: "middle", rotate: -90, html: o.y.html});
    if (o.title) {
      this.text(box.x + box.w / 2, box.y - 0.7 * f, o.title, {anchor: "middle", weight: 600, html: o.titleHtml});
    }
    return {x: X.fn, y: Y.fn, box: box};
  };

  // A heatmap of matrix m (rows down) in box; o: cmap, min, max, rowLabels, colLabels, title, fmt (tooltip),
  // cellStroke. Returns the cell size.
  Fig.prototype.heatmap = function (box, m, o) {
    var rows = m.length, cols = m[0].length, cw = box.w / cols, ch = box.h / rows, fmt = o.fmt || tickLabel;
    for (var i = 0; i < rows; i++) {
      for (var j = 0; j < cols; j++) {
        var v = m[i][j];
        this.rect(box.x + j * cw, box.y + i * ch, cw, ch, {fill: colour(o.cmap, v, o.min, o.max),
          stroke: o.cellStroke, sw: 0.5, title: (o.tip ? o.tip(i, j) + ": " : "") + fmt(v)});
      }
    }
    this.rect(box.x, box.y, box.w, box.h, {stroke: "#444"});
    var self = this;
    (o.rowLabels || []).forEach(function (s, i) {
      self.text(box.x - 6, box.y + (i + 0.5) * ch, s, {anchor: "end", base: "middle"});
    });
    (o.colLabels || []).forEach(function (s, j) {
      if (o.colRotate) self.text(box.x + (j + 0.5) * cw + 3, box.y + box.h + 6, s,
        {anchor: "end", base: "hanging", rotate: -o.colRotate});
      else self.text(box.x + (j + 0.5) * cw, box.y + box.h + 6, s, {anchor: "middle", base: "hanging"});
    });
    if (o.title) this.text(box.x + box.w / 2, box.y - 0.7 * this.font, o.title,
      {anchor: "middle", weight: 600, html: o.titleHtml});
    return {cw: cw, ch: ch};
  };

  // A colour bar in box; vertical unless o.horizontal; o: cmap, min, max, ticks, label.
  Fig.prototype.colorbar = function (box, o) {
    var n = 48, self = this, horizontal = !!o.horizontal;
    for (var k = 0; k < n; k++) {
      var v = o.min + (k + 0.5) / n * (o.max - o.min), c = colour(o.cmap, v, o.min, o.max);
      if (horizontal) this.rect(box.x + k * box.w / n, box.y, box.w / n + 0.6, box.h, {fill: c});
      else this.rect(box.x, box.y + box.h - (k + 1) * box.h / n, box.w, box.h / n + 0.6, {fill: c});
    }
    this.rect(box.x, box.y, box.w, box.h, {stroke: "#444"});
    var at = scale(o.min, o.max, horizontal ? box.x : box.y + box.h, horizontal ? box.x + box.w : box.y);
    (o.ticks || ticks(o.min, o.max, 4)).forEach(function (t) {
      var p = at(t);
      if (horizontal) {
        self.line(p, box.y + box.h, p, box.y + box.h + 4);
        self.text(p, box.y + box.h + 7, tickLabel(t), {anchor: "middle", base: "hanging"});
      } else {
        self.line(box.x + box.w, p, box.x + box.w + 4, p);
        self.text(box.x + box.w + 7, p, tickLabel(t), {base: "middle"});
      }
    });
    if (o.label) {
      if (horizontal) this.text(box.x + box.w / 2, box.y - 6, o.label, {anchor: "middle"});
      else this.text(box.x + box.w + (o.labelGap || 3.4 * this.font), box.y + box.h / 2, o.label,
        {anchor: "middle", rotate: -90});
    }
  };

  // A legend: items [{label, fill} | {label, stroke, dash}] from (x, y) down, or across when o.across (wrapping
  // to a new row before o.maxX). Returns the y of its last row.
  Fig.prototype.legend = function (x, y, items, o) {
    o = o || {};
    var f = this.font, self = this, cx = x, cy = y;
    items.forEach(function (it, k) {
      var wide = f * 3.2 + it.label.length * f * 0.6;
      if (o.across && k > 0 && o.maxX && cx + wide > o.maxX) { cx = x; cy += f * 1.45; }
      if (it.fill) {
        self.rect(cx, cy - f * 0.45, f * 1.2, f * 0.9, {fill: it.fill, opacity: it.opacity, stroke: it.stroke});
      }
      else self.line(cx, cy, cx + f * 1.6, cy, {stroke: it.stroke, sw: it.sw || 2, dash: it.dash});
      self.text(cx + f * 2, cy, it.label, {base: "middle"});
      if (o.across) cx += wide;
      else if (k < items.length - 1) cy += f * 1.45;
    });
    return cy;
  };

  return {Fig: Fig, scale: scale, ticks: ticks, tickLabel: tickLabel, colour: colour, esc: esc};
})();

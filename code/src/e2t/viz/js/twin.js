// e2t twin runtime: wires a browser twin's controls, presets and constraints to its widget module, redraws on every
// input, and exposes on the twin's element what it computed (data-e2t-settings, data-e2t-values) and how long the
// redraw took (data-e2t-redraw-ms: input event to the end of the redraw, layout included; data-e2t-frame-ms: input
// event to the next animation frame). Inlined into every twin by e2t.viz.browser, scoped to the twin's container
// (found through document.currentScript), so two twins on a page never drive each other.
var E2T = (function () {
  "use strict";
  var TINY = 2.2250738585072014e-308;  // float64's smallest normal number, torch.finfo(torch.float64).tiny

  // softmax over the entries where allowed[i] (all when allowed is omitted), 0 elsewhere; all zeros when nothing
  // is allowed (e2t.attention.masked_softmax).
  function softmax(z, allowed) {
    var m = -Infinity, i, n = z.length, out = new Array(n), sum = 0;
    for (i = 0; i < n; i++) if (!allowed || allowed[i]) m = Math.max(m, z[i]);
    for (i = 0; i < n; i++) {
      out[i] = (!allowed || allowed[i]) ? Math.exp(z[i] - m) : 0;
      sum += out[i];
    }
    for (i = 0; i < n; i++) out[i] = sum > 0 ? out[i] / sum : 0;
    return out;
  }
  // Entropy in nats with 0 log 0 = 0 (e2t.temperature.entropy).
  function entropy(p) {
    var h = 0;
    for (var i = 0; i < p.length; i++) h -= p[i] * Math.log(Math.max(p[i], TINY));
    return h;
  }
  function decimals(step) {
    var s = String(step), i = s.indexOf(".");
    return i < 0 ? 0 : s.length - i - 1;
  }
  function roundTo(x, step) { return Number((Math.round(x / step) * step).toFixed(decimals(step))); }
  function format(c, v) {
    if (c.kind === "range") return v.toFixed(decimals(c.step));
    return c.labels[c.values.indexOf(v)];
  }

  function start(root, widget) {
    // On the book's site, widen the notebook cell as the theme widens one tagged full-width (136 % of the column
    // at >= 992 px, folding the table of contents while it is in view); elsewhere there is no div.cell.
    var cell = root.closest ? root.closest("div.cell") : null;
    if (cell) cell.classList.add("tag_full-width");
    var payload = JSON.parse(root.querySelector("script.e2t-twin-data").textContent);
    var spec = payload.spec, data = payload.data, holder = root.querySelector(".e2t-figure");
    var controls = {}, frames = 0, lastWidth = -1;
    spec.controls.forEach(function (c) {
      controls[c.name] = {spec: c, input: root.querySelector('[data-e2t-control="' + c.name + '"]'),
                          out: root.querySelector('output[data-e2t-value="' + c.name + '"]')};
    });
    var readout = root.querySelector("output.e2t-readout");

    function get(name) {
      var c = controls[name], s = c.spec;
      if (s.kind === "range") return Number(c.input.value);
      if (s.kind === "values") return s.values[parseInt(c.input.value, 10)];
      return s.values[c.input.selectedIndex];
    }
    function set(name, v) {
      var c = controls[name], s = c.spec;
      if (s.kind === "range") { c.input.value = String(v); return; }
      var i = s.values.indexOf(v);
      if (i < 0) throw new Error("e2t twin: " + name + " has no value " + v);
      if (s.kind === "values") c.input.value = String(i);
      else c.input.selectedIndex = i;
    }
    function settings() {
      var out = {};
      spec.controls.forEach(function (c) { out[c.name] = get(c.name); });
      return out;
    }
    // The moved control keeps its value; its partner moves (visibly) to the nearest value that satisfies the rule.
    function constrain(moved) {
      spec.constraints.forEach(function (k) {
        var a = k.names[0], b = k.names[1], va = get(a), vb = get(b);
        if (k.kind === "sum_at_most" && va + vb > k.total + 1e-9) {
          var other = moved === b ? a : b;
          set(other, roundTo(k.total - (other === a ? vb : va), controls[other].spec.step));
        } else if (k.kind === "at_most" && va > vb) {
          if (moved === b) set(a, vb); else set(b, va);
        }
      });
    }
    function redraw(t0, timed) {
      var s = settings(), width = Math.max(300, Math.floor(holder.clientWidth));
      try {
        var v = widget.compute(s, data);
        holder.innerHTML = widget.draw(s, v, data, width);
        root.removeAttribute("data-e2t-error");
      } catch (err) {
        holder.textContent = "This figure failed to draw: " + err;
        root.setAttribute("data-e2t-error", String(err));
        throw err;
      }
      spec.controls.forEach(function (c) {
        if (controls[c.name].out) controls[c.name].out.textContent = format(c, s[c.name]);
      });
      if (readout && widget.readout) readout.textContent = widget.readout(s, v);
      root.setAttribute("data-e2t-settings", JSON.stringify(s));
      root.setAttribute("data-e2t-values", JSON.stringify(v));
      lastWidth = width;
      void root.offsetHeight;  // style and layout now, so the time below includes them
      if (!timed) return;
      root.setAttribute("data-e2t-redraw-ms", (performance.now() - t0).toFixed(3));
      requestAnimationFrame(function () {
        root.setAttribute("data-e2t-frame-ms", (performance.now() - t0).toFixed(3));
        root.setAttribute("data-e2t-frames", String(++frames));
      });
    }
    function when(e) {
      var now = performance.now();
      return e && e.timeStamp > 0 && e.timeStamp <= now ? e.timeStamp : now;
    }
    spec.controls.forEach(function (c) {
      controls[c.name].input.addEventListener(c.kind === "choice" ? "change" : "input", function (e) {
        var t0 = when(e);
        constrain(c.name);
        redraw(t0, true);
      });
    });
    Array.prototype.forEach.call(root.querySelectorAll("button.e2t-preset"), function (button) {
      button.addEventListener("click", function (e) {
        var t0 = when(e), preset = spec.presets[parseInt(button.getAttribute("data-e2t-preset"), 10)];
        Object.keys(preset.settings).forEach(function (name) { set(name, preset.settings[name]); });
        redraw(t0, true);
      });
    });
    if (window.ResizeObserver) {
      new ResizeObserver(function () {
        if (Math.floor(holder.clientWidth) !== lastWidth) redraw(performance.now(), false);
      }).observe(holder);
    }
    redraw(performance.now(), false);
    root.setAttribute("data-e2t-ready", "1");
  }

  return {start: start, softmax: softmax, entropy: entropy, TINY: TINY, decimals: decimals};
})();

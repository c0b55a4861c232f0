"""Chapter 4's widget: why the scaled dot product divides by sqrt(d) (the computation is ``e2t.scaling``).

One control, the width ``d``. Left: the spread of the scores of 200 random queries with 16 keys each, with and
without the scale; middle: one query's softmax weights both ways; right: the largest weight, the entropy and the
Jacobian norm over all widths (from ``scaling_curves``), the current width marked. The random scores are drawn in
Python (``sample_scores``); the browser twin (``js/scaling.js``) embeds, per width, the first query's 16 scores and
the histogram counts, and computes the two softmaxes, their entropy and their Jacobian norm in float64. The curves
over widths are statistics of 500 samples per width, not something a control changes: they are embedded as data.

Introduced in: chapter 4.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from e2t.scaling import WIDTHS, sample_scores, scaling_curves, softmax_jacobian_fro
from e2t.temperature import entropy
from e2t.viz.browser import BrowserExplorer, preset
from e2t.viz.widgets import Painter, slider

__all__ = ["draw_scaling", "scaling_values", "scaling_explorer"]

N_KEYS, SEED, BINS = 16, 0, 40


def _histograms(d: int) -> tuple[float, list[int], list[int]]:
    """The histogram range (+-lim) and the counts of q.k and q.k/sqrt(d) over the same 40 bins."""
    z, zs = sample_scores(d, N_KEYS, SEED)
    lim = max(4.0, float(z.abs().max()))
    edges = np.linspace(-lim, lim, BINS + 1)
    return lim, *(np.histogram(v.flatten().numpy(), bins=edges)[0].tolist() for v in (z, zs))


def scaling_values(d: int) -> dict:
    """What the figure shows at width ``d``, in float64: the first query's weights without (``raw``) and with
    (``scaled``) the 1/sqrt(d), their largest weight, entropy and Jacobian norm, and the histogram counts and
    standard deviations of all scores (the values the browser twin exposes)."""
    z, _ = sample_scores(d, N_KEYS, SEED)
    z0 = z[0].double()  # (S,)
    out = {}
    for name, scores in (("raw", z0), ("scaled", z0 / math.sqrt(d))):
        p = torch.softmax(scores, -1)  # (S,)
        out[name] = p.tolist()
        out[f"{name}_max"] = float(p.max())
        out[f"{name}_entropy"] = float(entropy(p))
        out[f"{name}_jacobian"] = float(softmax_jacobian_fro(p))
    lim, out["hist_raw"], out["hist_scaled"] = _histograms(d)
    out["lim"] = lim
    return out


class _ScalingPainter(Painter):
    figsize = (12.8, 4.2)  # 922 x 302 px at 72 dpi

    def build(self, fig):
        axes = self.axes = fig.subplots(1, 3)
        self.hist = [self.dynamic(axes[0].stairs([0.0] * BINS, np.linspace(-1, 1, BINS + 1), fill=True, alpha=0.6,
                                                 color=colour)) for colour in ("tab:red", "tab:blue")]
        self.legend = None
        axes[0].set_xlabel("score", fontsize=12)
        axes[0].set_ylabel("count", fontsize=12)
        x = np.arange(N_KEYS)
        self.raw_bars = self.dynamic(*axes[1].bar(x - 0.2, np.zeros(N_KEYS), width=0.4, color="tab:red",
                                                  label="softmax(q·k)"))
        self.scaled_bars = self.dynamic(*axes[1].bar(x + 0.2, np.zeros(N_KEYS), width=0.4, color="tab:blue",
                                                     label="softmax(q·k/√d)"))
        axes[1].set_ylim(0, 1.02)
        axes[1].set_xlabel("key j", fontsize=12)
        axes[1].set_ylabel("weight", fontsize=12)
        axes[1].set_title("weights of one query", fontsize=13)
        axes[1].legend(fontsize=12, loc="upper left")
        curves = scaling_curves(n_keys=N_KEYS, seed=SEED)
        widths = np.array(WIDTHS)
        top = max(curves["scaled"]["grad_norm"] + curves["raw"]["grad_norm"])
        for name, style in (("raw", "-"), ("scaled", "--")):
            c = curves[name]
            axes[2].plot(widths, c["max_weight"], style, color="tab:purple")
            axes[2].plot(widths, np.array(c["entropy"]) / math.log(N_KEYS), style, color="tab:green")
            axes[2].plot(widths, np.array(c["grad_norm"]) / top, style, color="tab:orange")
        self.marker = self.dynamic(axes[2].axvline(WIDTHS[0], color="k", lw=0.8))
        axes[2].set_xscale("log", base=2)
        axes[2].set_xticks(widths[::2], [str(w) for w in WIDTHS[::2]])  # plain labels: mathtext ones are slow
        axes[2].minorticks_off()
        axes[2].set_ylim(0, 1.05)
        axes[2].set_xlabel("width d (log scale)", fontsize=12)
        axes[2].set_title("solid: q·k, dashed: q·k/√d", fontsize=13)
        for ax in axes:
            ax.tick_params(labelsize=12)
        fig.legend([axes[2].lines[i] for i in range(3)], ["max weight", "entropy / log 16", "‖∂p/∂z‖ / its max"],
                   loc="lower right", ncol=3, fontsize=12, bbox_to_anchor=(0.99, 0.0))
        fig.subplots_adjust(left=0.06, right=0.99, bottom=0.25, top=0.9, wspace=0.25)

    def update(self, d):
        v = scaling_values(d)
        bins = np.linspace(-v["lim"], v["lim"], BINS + 1)
        for step, counts in zip(self.hist, (v["hist_raw"], v["hist_scaled"])):
            step.set_data(counts, bins)
        self.axes[0].set_xlim(-v["lim"], v["lim"])  # static per width: the layout key is d
        self.axes[0].set_ylim(0, 1.05 * max(v["hist_raw"] + v["hist_scaled"]))
        self.axes[0].set_title(f"scores of random q, k at d = {d}", fontsize=13)
        z, zs = sample_scores(d, N_KEYS, SEED)
        if self.legend is not None:
            self._dynamic.remove(self.legend)
        self.legend = self.dynamic(self.axes[0].legend(
            self.hist, [f"q·k (std {z.std():.1f})", f"q·k/√d (std {zs.std():.1f})"], fontsize=12, loc="upper right"))
        for bars, p in ((self.raw_bars, v["raw"]), (self.scaled_bars, v["scaled"])):
            for bar, h in zip(bars, p):
                bar.set_height(h)
        self.marker.set_xdata([d, d])
        return d


def draw_scaling(d: int):
    r"""The widget's figure at width ``d``: the scores' spread, one example softmax, and the stats over widths.

    Left: histogram of $q\cdot k$ and $q\cdot k/\sqrt d$. Middle: the weights of one query over 16 keys, both
    ways. Right: largest weight, entropy / $\log S$ and Jacobian norm against $d$ (log axis), the current width
    marked.
    """
    return _ScalingPainter().figure(d=d)


def scaling_explorer() -> BrowserExplorer:
    """The widget: one slider for the width ``d`` (live, and computed in the browser on the site)."""
    curves = scaling_curves(n_keys=N_KEYS, seed=SEED)
    per_width = {}
    for d in WIDTHS:
        z, zs = sample_scores(d, N_KEYS, SEED)
        lim, raw, scaled = _histograms(d)
        per_width[str(d)] = {"z": z[0].double().tolist(), "lim": lim, "hist_raw": raw, "hist_scaled": scaled,
                             "std": [float(z.std()), float(zs.std())]}
    data = {"widths": list(WIDTHS), "per_width": per_width, "bins": BINS,
            "curves": {k: {s: list(v) for s, v in c.items()} for k, c in curves.items()}}
    painter = _ScalingPainter()
    for d in WIDTHS:
        painter.png(d=d)  # each width's axes (its histogram range) drawn once, so a live move redraws only data
    return BrowserExplorer(
        painter, [slider("d", WIDTHS, value=64, label="vector width d")],
        key=f"{__name__}.scaling_explorer", script="scaling", data=data, expected=scaling_values,
        title="Why divide q·k by √d", presets=[preset("d = 4", d=4), preset("d = 1024", d=1024)])

"""Chapter 4's widget: why the scaled dot product divides by sqrt(d) (the computation is ``e2t.scaling``).

Introduced in: chapter 4.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from e2t.scaling import WIDTHS, sample_scores, scaling_curves
from e2t.viz.widgets import Explorer, Painter, explore, slider

__all__ = ["draw_scaling", "scaling_explorer"]


class _ScalingPainter(Painter):
    figsize = (11, 3.1)

    def __init__(self, *, n_keys: int = 16, seed: int = 0):
        self.n_keys, self.seed = n_keys, seed
        super().__init__()

    def build(self, fig):
        n_keys = self.n_keys
        axes = self.axes = fig.subplots(1, 3)
        self.hist = [self.dynamic(axes[0].stairs([0.0] * 40, np.linspace(-1, 1, 41), fill=True, alpha=0.6,
                                                 color=colour)) for colour in ("tab:red", "tab:blue")]
        self.hist_title = self.dynamic(axes[0].set_title(" ", fontsize=9, y=1.0))
        self.legend = None
        axes[0].set_yticks([])
        x = np.arange(n_keys)
        self.raw_bars = self.dynamic(*axes[1].bar(x - 0.2, np.zeros(n_keys), width=0.4, color="tab:red",
                                                  label="softmax(q·k)"))
        self.scaled_bars = self.dynamic(*axes[1].bar(x + 0.2, np.zeros(n_keys), width=0.4, color="tab:blue",
                                                     label="softmax(q·k/√d)"))
        axes[1].set_ylim(0, 1.02)
        axes[1].set_xlabel("key")
        axes[1].set_title("weights of one query", fontsize=9, y=1.0)
        axes[1].legend(fontsize=7)
        curves = scaling_curves(n_keys=n_keys, seed=self.seed)
        widths = np.array(WIDTHS)
        log_s = math.log(n_keys)
        for name, style in (("raw", "-"), ("scaled", "--")):
            c = curves[name]
            suffix = "" if name == "raw" else " /√d"
            axes[2].plot(widths, c["max_weight"], style, color="tab:purple", label="max weight" + suffix)
            axes[2].plot(widths, np.array(c["entropy"]) / log_s, style, color="tab:green",
                         label="entropy/log S" + suffix)
            axes[2].plot(widths, np.array(c["grad_norm"]) / max(curves["scaled"]["grad_norm"]), style,
                         color="tab:orange", label="‖∂p/∂z‖ (rel.)" + suffix)
        self.marker = self.dynamic(axes[2].axvline(WIDTHS[0], color="k", lw=0.8))
        axes[2].set_xscale("log", base=2)
        axes[2].set_xticks(widths[::2], [str(w) for w in WIDTHS[::2]])  # plain labels: mathtext ones are slow
        axes[2].minorticks_off()
        axes[2].set_ylim(0, 1.05)
        axes[2].set_xlabel("width d")
        axes[2].set_title("solid: q·k, dashed: q·k/√d", fontsize=9, y=1.0)
        axes[2].legend(fontsize=6, ncol=2, loc="center left")
        fig.subplots_adjust(left=0.03, right=0.99, bottom=0.16, top=0.9, wspace=0.22)

    def update(self, d):
        z, zs = sample_scores(d, self.n_keys, self.seed)
        lim = max(4.0, float(z.abs().max()))
        bins = np.linspace(-lim, lim, 41)
        peak = 0
        for step, values in zip(self.hist, (z, zs)):
            counts, _ = np.histogram(values.flatten().numpy(), bins=bins)
            step.set_data(counts, bins)
            peak = max(peak, int(counts.max()))
        self.axes[0].set_xlim(-lim, lim)  # static per width: the layout key is d
        self.axes[0].set_ylim(0, 1.05 * peak)
        self.hist_title.set_text(f"scores of random q, k at d = {d}")
        if self.legend is not None:
            self._dynamic.remove(self.legend)
        self.legend = self.dynamic(self.axes[0].legend(
            self.hist, [f"q·k (std {z.std():.1f})", f"q·k/√d (std {zs.std():.1f})"], fontsize=7, loc="upper right"))
        for bars, scores in ((self.raw_bars, z[0]), (self.scaled_bars, zs[0])):
            for bar, h in zip(bars, torch.softmax(scores, -1).tolist()):
                bar.set_height(h)
        self.marker.set_xdata([d, d])
        return d


def draw_scaling(d: int, *, n_keys: int = 16, seed: int = 0):
    r"""The widget's figure at width ``d``: the scores' spread, one example softmax, and the stats over widths.

    Left: histogram of $q\cdot k$ and $q\cdot k/\sqrt d$. Middle: the weights of one query over ``n_keys`` keys,
    both ways. Right: largest weight, entropy / $\log S$ and Jacobian norm against $d$ (log axis), the current
    width marked.
    """
    return _ScalingPainter(n_keys=n_keys, seed=seed).figure(d=d)


def scaling_explorer() -> Explorer:
    """The widget: one slider for the width ``d`` (live and as a static twin).

    Built once: the random scores of every width and each width's axes (its histogram range); a move then
    recomputes the histograms, the softmax weights and the marker, and redraws only those.
    """
    painter = _ScalingPainter()
    for d in WIDTHS:
        painter.png(d=d)  # precompute each width's samples and fixed part
    return explore(painter, slider("d", WIDTHS, value=64, label="vector width d"), title="Why divide q·k by √d")

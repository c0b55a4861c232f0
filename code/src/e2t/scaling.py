r"""Why the scaled dot-product divides by $\sqrt{d}$: chapter 4's widget.

For a query and a key with independent entries of mean 0 and variance 1, $q \cdot k = \sum_{j=1}^{d} q_j k_j$ is a
sum of $d$ terms of variance 1, so its variance is $d$ and its spread $\sqrt d$. Fed to a softmax over $S$ keys,
scores that spread widely make the softmax nearly one-hot: its largest weight tends to 1, its entropy to 0, and the
gradient it passes back, the Jacobian $\partial p / \partial z = \mathrm{diag}(p) - p p^\top$, tends to 0. Dividing
by $\sqrt d$ (Vaswani et al. 2017) keeps the spread at 1 whatever the width.

``dot_product_stats`` measures this on random vectors; ``draw_scaling(d)`` draws it; ``scaling_explorer()`` is the
widget with the width $d$ as its control.

Introduced in: chapter 4.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch

from .widgets import Explorer, Painter, explore, slider

__all__ = ["WIDTHS", "softmax_jacobian_fro", "dot_product_stats", "scaling_curves", "draw_scaling",
           "scaling_explorer"]

#: The widths the widget (and its static twin) offers.
WIDTHS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


def softmax_jacobian_fro(p: torch.Tensor) -> torch.Tensor:
    r"""Frobenius norm of the softmax Jacobian $J = \mathrm{diag}(p) - p p^\top$, from the weights $p$.

    $\lVert J\rVert_F^2 = \sum_i p_i^2 - 2\sum_i p_i^3 + (\sum_i p_i^2)^2$, so no $S \times S$ matrix is built.
    It is 0 for a one-hot $p$ and largest for a uniform one.

    Shapes: p (..., S) -> (...).

    Introduced in: chapter 4.
    """
    s2 = (p ** 2).sum(-1)
    s3 = (p ** 3).sum(-1)
    return (s2 - 2 * s3 + s2 ** 2).clamp_min(0.0).sqrt()


def dot_product_stats(d: int, *, n_keys: int = 16, samples: int = 500, scaled: bool = False,
                      seed: int = 0) -> dict[str, float]:
    r"""Statistics of $\mathrm{softmax}(q \cdot k_i / c)$ for random $q, k_i \sim \mathcal N(0, I_d)$, $c = \sqrt d$
    if ``scaled`` else 1, over ``samples`` queries with ``n_keys`` keys each.

    Returns the standard deviation of the scores, and the means of the largest weight, of the entropy (nats;
    $\log S$ is uniform) and of the Jacobian norm ``softmax_jacobian_fro``.

    Introduced in: chapter 4.
    """
    if not isinstance(d, int) or d < 1:
        raise ValueError(f"d must be a positive int, got {d!r}")
    if not isinstance(n_keys, int) or n_keys < 2:
        raise ValueError(f"n_keys must be an int >= 2, got {n_keys!r}")
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(samples, 1, d, generator=g)  # (B, 1, d)
    k = torch.randn(samples, n_keys, d, generator=g)  # (B, S, d)
    z = (q * k).sum(-1)  # (B, S)
    if scaled:
        z = z / math.sqrt(d)
    p = torch.softmax(z, dim=-1)  # (B, S)
    entropy = -(p * torch.log(p.clamp_min(1e-30))).sum(-1)  # (B,)
    return {"score_std": float(z.std()), "max_weight": float(p.max(-1).values.mean()),
            "entropy": float(entropy.mean()), "grad_norm": float(softmax_jacobian_fro(p).mean())}


@functools.lru_cache(maxsize=4)
def scaling_curves(widths: tuple[int, ...] = WIDTHS, *, n_keys: int = 16, samples: int = 500,
                   seed: int = 0) -> dict[str, dict[str, tuple[float, ...]]]:
    """``dot_product_stats`` for every width, with and without the scale: ``{"raw"|"scaled": {stat: values}}``.

    Introduced in: chapter 4.
    """
    out = {}
    for name, scaled in (("raw", False), ("scaled", True)):
        rows = [dot_product_stats(d, n_keys=n_keys, samples=samples, scaled=scaled, seed=seed) for d in widths]
        out[name] = {key: tuple(r[key] for r in rows) for key in rows[0]}
    return out


@functools.lru_cache(maxsize=32)
def _samples(d: int, n_keys: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The widget's random scores at width ``d``: ``(z, z / sqrt(d))``, each (200, n_keys)."""
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(200, 1, d, generator=g)  # (B, 1, d)
    k = torch.randn(200, n_keys, d, generator=g)  # (B, S, d)
    z = (q * k).sum(-1)  # (B, S)
    return z, z / math.sqrt(d)


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
        z, zs = _samples(d, self.n_keys, self.seed)
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

    Introduced in: chapter 4.
    """
    return _ScalingPainter(n_keys=n_keys, seed=seed).figure(d=d)


def scaling_explorer() -> Explorer:
    """The widget: one slider for the width ``d`` (live and as a static twin).

    Built once: the random scores of every width and each width's axes (its histogram range); a move then
    recomputes the histograms, the softmax weights and the marker, and redraws only those.

    Introduced in: chapter 4.
    """
    painter = _ScalingPainter()
    for d in WIDTHS:
        painter.png(d=d)  # precompute each width's samples and fixed part
    return explore(painter, slider("d", WIDTHS, value=64, label="vector width d"), title="Why divide q·k by √d")

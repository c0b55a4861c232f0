"""Chapter 4's widget: Luong's local attention window, its Gaussian and the weights it leaves (``e2t.luong``).

Controls: the half-width ``D`` (1 to 5) and the aligned position ``p_t``, continuous from 0 to 10 in steps of
0.05. The figure shows the global weights for the same scores, the window, the Gaussian with sigma = D/2 and the
local-p weights. The browser twin (``js/local_window.js``) computes the window mask, the masked softmax and the
Gaussian the way ``e2t.luong.local_weights`` does, in float64.

Introduced in: chapter 4.
"""

from __future__ import annotations

import numpy as np
import torch

from e2t.luong import gaussian_window, local_weights, window_mask
from e2t.viz.browser import BrowserExplorer, preset
from e2t.viz.widgets import Painter, slider

__all__ = ["WIDGET_SOURCE", "WIDGET_SCORES", "draw_local_window", "local_window_values", "local_window_explorer"]

#: The widget's example: an English source and fixed scores (as a trained model might give at one target step).
WIDGET_SOURCE = ("three", "hundred", "and", "forty", "two", "thousand", "five", "hundred", "and", "sixty", "one")
WIDGET_SCORES = (0.2, 0.5, -0.3, 1.6, 2.2, 0.4, 0.1, 0.6, -0.2, 1.0, 0.3)


def local_window_values(D: int, p: float, scores=WIDGET_SCORES) -> dict:
    """What the figure shows, in float64: the ``global`` softmax, the ``window`` (0/1), the ``gaussian`` and the
    ``local`` (local-p) weights over the source, and their sum ``local_sum`` (the values the browser twin exposes)."""
    S = len(scores)
    z = torch.tensor(scores, dtype=torch.float64).view(1, 1, S)  # (1, 1, S)
    pt = torch.tensor([[float(p)]], dtype=torch.float64)  # (1, 1)
    local = local_weights(z, pt, D=D)[0, 0]  # (S,)
    return {"global": torch.softmax(z, -1)[0, 0].tolist(), "window": window_mask(pt, S=S, D=D)[0, 0].int().tolist(),
            "gaussian": gaussian_window(pt, S=S, D=D)[0, 0].tolist(), "local": local.tolist(),
            "local_sum": float(local.sum())}


class _LocalWindowPainter(Painter):
    figsize = (12.8, 3.9)  # 922 x 281 px at 72 dpi

    def __init__(self, tokens=WIDGET_SOURCE, scores=WIDGET_SCORES):
        self.tokens, self.scores = tuple(tokens), tuple(scores)
        super().__init__()

    def build(self, fig):
        S = len(self.tokens)
        ax = fig.add_subplot()
        x = np.arange(S)
        self.span = self.dynamic(ax.axvspan(-0.5, 0.5, color="tab:orange", alpha=0.12, lw=0))
        ax.bar(x - 0.2, local_window_values(1, 0.0, self.scores)["global"], width=0.4, color="0.6",
               label="global: softmax over all")
        self.bars = self.dynamic(*ax.bar(x + 0.2, np.zeros(S), width=0.4, color="tab:orange",
                                         label="local-p: window softmax × Gaussian"))
        self.xs = np.linspace(-0.5, S - 0.5, 200)
        (self.curve,) = ax.plot(self.xs, np.zeros_like(self.xs), color="tab:red", lw=1.5, label="Gaussian, σ = D/2")
        self.dynamic(self.curve)
        self.centre = self.dynamic(ax.axvline(0.0, color="tab:red", lw=1, ls="--"))
        ax.set_xticks(x, self.tokens, fontsize=12)
        ax.set_xlim(-0.6, S - 0.4)
        ax.set_ylim(0, 1.05)
        ax.set_xlabel("source position s (word)", fontsize=12)
        ax.set_ylabel("weight", fontsize=12)
        ax.tick_params(labelsize=12)
        self.title = self.dynamic(ax.set_title(" ", fontsize=13))
        ax.legend(fontsize=12, loc="upper right")
        fig.subplots_adjust(left=0.06, right=0.99, bottom=0.17, top=0.9)

    def update(self, D, p):
        v = local_window_values(D, p, self.scores)
        self.span.set_x(p - D - 0.5)
        self.span.set_width(2 * D + 1)
        for bar, h in zip(self.bars, v["local"]):
            bar.set_height(h)
        self.curve.set_ydata(np.exp(-(self.xs - p) ** 2 / (2 * (D / 2) ** 2)))
        self.centre.set_xdata([p, p])
        self.title.set_text(f"p_t = {p:g}, D = {D}: {sum(v['window'])} positions in the window, local weights sum "
                            f"to {v['local_sum']:.2f}")


def draw_local_window(D: int, p: float, *, tokens=WIDGET_SOURCE, scores=WIDGET_SCORES):
    r"""The local-attention widget's figure: the window $[p_t - D, p_t + D]$, the Gaussian with $\sigma = D/2$,
    and the resulting local-p weights next to the global ones, over a fixed example source.
    """
    return _LocalWindowPainter(tokens, scores).figure(D=D, p=p)


def local_window_explorer() -> BrowserExplorer:
    """The widget: sliders for the half-width ``D`` and the aligned position ``p_t`` (live, and computed in the
    browser on the site). Each move recomputes the window, the Gaussian and the local-p weights."""
    return BrowserExplorer(
        _LocalWindowPainter(),
        [slider("D", (1, 2, 3, 4, 5), value=2, label="half-width D", live_step=1),
         slider("p", tuple(float(i) for i in range(len(WIDGET_SOURCE))), value=4.0, label="aligned position p_t",
                live_step=0.05)],
        key=f"{__name__}.local_window_explorer", script="local_window",
        data={"tokens": list(WIDGET_SOURCE), "scores": list(WIDGET_SCORES)}, expected=local_window_values,
        title="Local attention: the window and its weights",
        presets=[preset("p_t between two words", D=2, p=4.5), preset("window at the edge", D=3, p=0.0)])

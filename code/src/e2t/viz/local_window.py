"""Chapter 4's widget: Luong's local attention window, its Gaussian and the weights it leaves (``e2t.luong``).

Introduced in: chapter 4.
"""

from __future__ import annotations

import numpy as np
import torch

from e2t.luong import local_weights, window_mask
from e2t.viz.widgets import Painter, explore, slider

__all__ = ["WIDGET_SOURCE", "WIDGET_SCORES", "draw_local_window", "local_window_explorer"]

#: The widget's example: an English source and fixed scores (as a trained model might give at one target step).
WIDGET_SOURCE = ("three", "hundred", "and", "forty", "two", "thousand", "five", "hundred", "and", "sixty", "one")
WIDGET_SCORES = (0.2, 0.5, -0.3, 1.6, 2.2, 0.4, 0.1, 0.6, -0.2, 1.0, 0.3)


def _local_window_painter(tokens=WIDGET_SOURCE, scores=WIDGET_SCORES):
    """The widget's ``e2t.viz.widgets.Painter``."""

    class LocalWindowPainter(Painter):
        figsize = (7.5, 2.8)

        def build(self, fig):
            S = len(tokens)
            self.S = S
            self.z = torch.tensor(scores, dtype=torch.float64).view(1, 1, S)  # (1, 1, S)
            ax = fig.add_subplot()
            x = np.arange(S)
            self.span = self.dynamic(ax.axvspan(-0.5, 0.5, color="tab:orange", alpha=0.12, lw=0))
            ax.bar(x - 0.2, torch.softmax(self.z, -1)[0, 0].numpy(), width=0.4, color="0.6",
                   label="global: softmax over all")
            self.bars = self.dynamic(*ax.bar(x + 0.2, np.zeros(S), width=0.4, color="tab:orange",
                                             label="local-p: window softmax × Gaussian"))
            self.xs = np.linspace(-0.5, S - 0.5, 200)
            (self.curve,) = ax.plot(self.xs, np.zeros_like(self.xs), color="tab:red", lw=1,
                                    label="Gaussian, σ = D/2")
            self.dynamic(self.curve)
            self.centre = self.dynamic(ax.axvline(0.0, color="tab:red", lw=0.8, ls="--"))
            ax.set_xticks(x, tokens, rotation=40, ha="right", fontsize=8)
            ax.set_xlim(-0.6, S - 0.4)
            ax.set_ylim(0, 1.05)
            ax.set_ylabel("weight")
            self.title = self.dynamic(ax.set_title(" ", fontsize=9, y=1.0))
            ax.legend(fontsize=7, loc="upper right")
            fig.subplots_adjust(left=0.08, right=0.99, bottom=0.28, top=0.88)

        def update(self, D, p):
            pt = torch.tensor([[float(p)]], dtype=torch.float64)  # (1, 1)
            local = local_weights(self.z, pt, D=D)[0, 0].numpy()
            self.span.set_x(p - D - 0.5)
            self.span.set_width(2 * D + 1)
            for bar, h in zip(self.bars, local.tolist()):
                bar.set_height(h)
            self.curve.set_visible(D > 0)
            if D > 0:
                self.curve.set_ydata(np.exp(-(self.xs - p) ** 2 / (2 * (D / 2) ** 2)))
            self.centre.set_xdata([p, p])
            inside = int(window_mask(pt, S=self.S, D=D).sum())
            self.title.set_text(f"p_t = {p:g}, D = {D}: {inside} positions in the window, local weights sum to "
                                f"{local.sum():.2f}")

    return LocalWindowPainter()


def draw_local_window(D: int, p: float, *, tokens=WIDGET_SOURCE, scores=WIDGET_SCORES):
    r"""The local-attention widget's figure: the window $[p_t - D, p_t + D]$, the Gaussian with $\sigma = D/2$,
    and the resulting local-p weights next to the global ones, over a fixed example source.
    """
    return _local_window_painter(tokens, scores).figure(D=D, p=p)


def local_window_explorer():
    """The widget: sliders for the half-width ``D`` and the aligned position ``p`` (live + static twin).

    Each move recomputes the local-p weights and redraws the window, the bars, the Gaussian and the title.
    """
    return explore(_local_window_painter(), slider("D", (1, 2, 3, 4, 5), value=2, label="half-width D"),
                   slider("p", tuple(float(i) for i in range(len(WIDGET_SOURCE))), value=4.0,
                          label="aligned position p_t", live_step=0.25),
                   title="Local attention: the window and its weights")

"""The preface's widget: a softmax's weights as its temperature changes (the computation is ``e2t.temperature``).

Introduced in: the preface.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from e2t.temperature import entropy, softmax_jacobian_norm, softmax_with_temperature
from e2t.viz.widgets import Explorer, Painter, explore, slider

__all__ = ["EXAMPLE_SCORES", "TEMPERATURES", "draw_temperature", "temperature_explorer"]

#: The score vector the preface uses.
EXAMPLE_SCORES = (2.0, 1.0, 0.5, 0.1, -0.5, -1.0)
#: The temperatures the static twin precomputes.
TEMPERATURES = (0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)


class _TemperaturePainter(Painter):
    figsize = (4.8, 2.6)

    def __init__(self, scores: Sequence[float] = EXAMPLE_SCORES):
        self.scores = tuple(float(v) for v in scores)
        super().__init__()

    def build(self, fig):
        n = len(self.scores)
        ax = fig.add_subplot()
        self.bars = self.dynamic(*ax.bar(range(n), [0.0] * n, color="tab:blue"))
        ax.set_ylim(0, 1.02)
        ax.set_xticks(range(n), [f"z={s:g}" for s in self.scores], fontsize=8)
        ax.set_ylabel("weight")
        self.title = self.dynamic(ax.set_title(" ", fontsize=8, y=1.0))
        fig.subplots_adjust(left=0.12, right=0.98, bottom=0.11, top=0.9)

    def update(self, tau):
        z = torch.tensor(self.scores, dtype=torch.float64)
        p = softmax_with_temperature(z, tau)
        for bar, h in zip(self.bars, p.tolist()):
            bar.set_height(h)
        self.title.set_text(f"τ = {tau:g}: max weight {p.max():.2f}, entropy {entropy(p):.2f} nats, "
                            f"‖∂p/∂z‖ = {softmax_jacobian_norm(z, tau):.2f}")


def draw_temperature(tau: float, scores: Sequence[float] = EXAMPLE_SCORES):
    """The preface's figure: the softmax weights at temperature ``tau``, with their entropy and gradient norm."""
    return _TemperaturePainter(scores).figure(tau=tau)


def temperature_explorer() -> Explorer:
    """The preface's widget: one slider for the temperature, live and as a static twin.

    Each move recomputes the softmax and redraws the bars and the title over the figure's fixed part.
    """
    return explore(_TemperaturePainter(), slider("tau", TEMPERATURES, value=1.0, label="temperature τ"),
                   title="Softmax with a temperature")

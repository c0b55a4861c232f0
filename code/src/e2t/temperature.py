r"""Softmax with a temperature: the preface's widget.

$\mathrm{softmax}(z/\tau)_i = e^{z_i/\tau} / \sum_j e^{z_j/\tau}$. A small temperature $\tau$ (equivalently, scores of
a large scale) makes the softmax peaky: the largest weight tends to 1 and the gradient that flows back through the
softmax tends to 0. This is why the Transformer divides its dot products by $\sqrt{d_k}$ (chapter 4 and 6).

Introduced in: the preface.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .checks import check_tensor
from .widgets import Explorer, Painter, explore, slider

#: The score vector the preface uses.
EXAMPLE_SCORES = (2.0, 1.0, 0.5, 0.1, -0.5, -1.0)
#: The temperatures the static twin precomputes.
TEMPERATURES = (0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)


def softmax_with_temperature(z: torch.Tensor, tau: float) -> torch.Tensor:
    r"""$\mathrm{softmax}(z / \tau)$ over the last dimension.

    Shapes: z (..., S) -> (..., S).

    Introduced in: the preface.
    """
    check_tensor("z", z, dtype_kind="float")
    if not tau > 0:
        raise ValueError(f"tau must be > 0, got {tau}")
    return torch.softmax(z / tau, dim=-1)


def entropy(p: torch.Tensor) -> torch.Tensor:
    r"""Entropy $-\sum_i p_i \log p_i$ in nats, with $0 \log 0 = 0$. Shapes: p (..., S) -> (...).

    Introduced in: the preface.
    """
    return -(p * torch.log(p.clamp_min(torch.finfo(p.dtype).tiny))).sum(-1)


def softmax_jacobian_norm(z: torch.Tensor, tau: float) -> torch.Tensor:
    r"""Frobenius norm of $\partial\,\mathrm{softmax}(z/\tau) / \partial z = (\mathrm{diag}(p) - p p^\top)/\tau$.

    It measures how much gradient a softmax passes back to its scores. Shapes: z (S,) -> ().

    Introduced in: the preface.
    """
    check_tensor("z", z, ndim=1, dtype_kind="float")
    p = softmax_with_temperature(z, tau)  # (S,)
    jacobian = (torch.diag(p) - p[:, None] * p[None, :]) / tau  # (S, S)
    return torch.linalg.matrix_norm(jacobian)


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
    """The preface's figure: the softmax weights at temperature ``tau``, with their entropy and gradient norm.

    Introduced in: the preface.
    """
    return _TemperaturePainter(scores).figure(tau=tau)


def temperature_explorer() -> Explorer:
    """The preface's widget: one slider for the temperature, live and as a static twin.

    Each move recomputes the softmax and redraws the bars and the title over the figure's fixed part.

    Introduced in: the preface.
    """
    return explore(_TemperaturePainter(), slider("tau", TEMPERATURES, value=1.0, label="temperature τ"),
                   title="Softmax with a temperature")

"""The preface's widget: a softmax's weights as its temperature changes (the computation is ``e2t.temperature``).

The controls offer about 60 temperatures from 0.05 to 10, a few per cent apart on a log scale and each a round
number, so the value shown is exactly the value used. Beside the bars, the largest weight, the entropy and the
norm of the softmax's Jacobian are drawn over all temperatures, with the current one marked: the reader sees both
ends (peaky and flat) pass little gradient. The browser twin (``js/temperature.js``) computes the same softmax,
entropy and Jacobian norm in float64.

Introduced in: the preface.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from e2t.temperature import entropy, softmax_jacobian_norm, softmax_with_temperature
from e2t.viz.browser import BrowserExplorer, preset
from e2t.viz.widgets import Painter, slider

__all__ = ["EXAMPLE_SCORES", "TEMPERATURES", "draw_temperature", "temperature_values", "temperature_explorer"]

#: The score vector the preface uses.
EXAMPLE_SCORES = (2.0, 1.0, 0.5, 0.1, -0.5, -1.0)
_MANTISSAS = (1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.8, 2.0, 2.2, 2.5, 2.8, 3.0, 3.5, 4.0, 4.5, 5.0, 5.5, 6.0, 7.0,
              8.0, 9.0)
#: The temperatures the controls offer: round numbers about 3-10 % apart from 0.05 to 10.
TEMPERATURES = tuple(round(m * 10.0 ** e, 4) for e in (-2, -1, 0, 1) for m in _MANTISSAS
                     if 0.05 <= round(m * 10.0 ** e, 4) <= 10.0)
#: The temperatures at which the curves are drawn (log-spaced).
_CURVE_TAUS = tuple(0.05 * 200.0 ** (k / 120) for k in range(121))


def temperature_values(tau: float, scores: Sequence[float] = EXAMPLE_SCORES) -> dict:
    """What the figure shows at ``tau``, in float64: the weights ``p``, their ``entropy`` (nats), the Frobenius
    ``jacobian_norm`` of d softmax(z / tau) / dz and the ``max_weight`` (the values the browser twin exposes)."""
    z = torch.tensor(scores, dtype=torch.float64)
    p = softmax_with_temperature(z, tau)
    return {"p": p.tolist(), "entropy": float(entropy(p)), "jacobian_norm": float(softmax_jacobian_norm(z, tau)),
            "max_weight": float(p.max())}


class _TemperaturePainter(Painter):
    figsize = (12.8, 3.9)  # 922 x 281 px at 72 dpi: fonts of 12-13 pt are 9-10 pt on a screen

    def __init__(self, scores: Sequence[float] = EXAMPLE_SCORES):
        self.scores = tuple(float(v) for v in scores)
        super().__init__()

    def build(self, fig):
        n = len(self.scores)
        ax, curves = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.15, 1]})
        self.bars = self.dynamic(*ax.bar(range(n), [0.0] * n, color="tab:blue"))
        ax.set_ylim(0, 1.02)
        ax.set_xticks(range(n), [f"z={s:g}" for s in self.scores], fontsize=12)
        ax.set_xlabel("item i (its score)", fontsize=12)
        ax.set_ylabel("weight p_i", fontsize=12)
        ax.tick_params(labelsize=12)
        ax.grid(axis="y", color="0.9")
        self.title = self.dynamic(ax.set_title(" ", fontsize=13, y=1.0))
        stats = [temperature_values(tau, self.scores) for tau in _CURVE_TAUS]
        log_n = math.log(n)
        for key, scale, colour, label in (("max_weight", 1, "tab:purple", "max weight"),
                                          ("entropy", log_n, "tab:green", "entropy / log n"),
                                          ("jacobian_norm", 1, "tab:orange", "‖∂p/∂z‖ (Frobenius)")):
            curves.plot(_CURVE_TAUS, [s[key] / scale for s in stats], color=colour, label=label)
        curves.set_xscale("log")
        ticks = (0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10)
        curves.set_xticks(ticks, [f"{t:g}" for t in ticks])
        curves.minorticks_off()
        curves.set_xlabel("temperature τ (log scale)", fontsize=12)
        curves.tick_params(labelsize=12)
        curves.legend(fontsize=12, loc="upper right")
        curves.grid(color="0.9")
        self.marker = self.dynamic(curves.axvline(1.0, color="k", lw=1))
        fig.subplots_adjust(left=0.06, right=0.99, bottom=0.17, top=0.9, wspace=0.15)

    def update(self, tau):
        v = temperature_values(tau, self.scores)
        for bar, h in zip(self.bars, v["p"]):
            bar.set_height(h)
        self.marker.set_xdata([tau, tau])
        self.title.set_text(f"τ = {tau:g}: max weight {v['max_weight']:.2f}, entropy {v['entropy']:.2f} nats, "
                            f"‖∂p/∂z‖ = {v['jacobian_norm']:.2f}")


def draw_temperature(tau: float, scores: Sequence[float] = EXAMPLE_SCORES):
    """The preface's figure: the softmax weights at temperature ``tau``, and the largest weight, the entropy and the
    Jacobian norm over all temperatures (``tau`` marked)."""
    return _TemperaturePainter(scores).figure(tau=tau)


def temperature_explorer() -> BrowserExplorer:
    """The preface's widget: one slider for the temperature (live, and computed in the browser on the site)."""
    return BrowserExplorer(
        _TemperaturePainter(), [slider("tau", TEMPERATURES, value=1.0, label="temperature τ")],
        key=f"{__name__}.temperature_explorer", script="temperature",
        data={"scores": list(EXAMPLE_SCORES), "curve_taus": list(_CURVE_TAUS)},
        expected=temperature_values, title="Softmax with a temperature",
        presets=[preset("τ = 0.05: peaky", tau=0.05), preset("τ = 1", tau=1.0), preset("τ = 10: flat", tau=10.0)])

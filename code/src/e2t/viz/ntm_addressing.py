"""Chapter 5's second widget: the NTM's addressing, stage by stage, under its controls β, g, s and γ (``e2t.ntm``).

Introduced in: chapter 5.
"""

from __future__ import annotations

import torch

from e2t.ntm import address, content_addressing, interpolate, sharpen, shift
from e2t.viz.widgets import Painter, explore, slider

__all__ = ["widget_addressing_inputs", "shift_weights", "draw_addressing", "addressing_explorer"]


def widget_addressing_inputs() -> dict[str, torch.Tensor]:
    """The addressing widget's fixed inputs: a random memory (1, 10, 4), a key most like row 2 (1, 4), and last
    step's weighting focused on row 6 (1, 10).
    """
    g_mem = torch.Generator().manual_seed(5)
    memory = torch.randn(1, 10, 4, generator=g_mem)  # (1, N=10, M=4)
    key = (memory[:, 2] + 0.3 * memory[:, 7]).clone()  # (1, M): most like row 2
    prev = torch.full((1, 10), 0.01)  # (1, N): last step's focus on row 6
    prev[0, 6] = 0.91
    return {"memory": memory, "key": key, "prev": prev}


def shift_weights(s_minus: float, s_plus: float) -> torch.Tensor:
    """Three shift weights summing to 1: s(-1), s(0) = what is left, s(+1); rescaled if the two exceed 1.
    Shapes: () -> (1, 3).
    """
    s = torch.tensor([s_minus, max(0.0, 1.0 - s_minus - s_plus), s_plus])
    return (s / s.sum()).unsqueeze(0)  # (1, 3)


def _addressing_painter():
    class AddressingPainter(Painter):
        figsize = (10, 2.3)

        def build(self, fig):
            self.inputs = widget_addressing_inputs()
            axes = fig.subplots(1, 4, sharey=True)
            self.bars, self.titles = [], []
            for ax in axes:
                self.bars.append(self.dynamic(*ax.bar(range(10), [0.0] * 10, color="tab:blue")))
                self.titles.append(self.dynamic(ax.set_title(" ", fontsize=10, y=1.0)))
                ax.set_xticks(range(10))
                ax.set_ylim(0, 1)
                ax.tick_params(labelsize=7)
            axes[1].step(range(10), self.inputs["prev"][0].numpy(), where="mid", color="grey", lw=1)
            self.suptitle = self.dynamic(fig.suptitle(" ", fontsize=9, y=0.99))
            fig.subplots_adjust(left=0.04, right=0.99, bottom=0.12, top=0.76, wspace=0.08)

        def update(self, beta, g, s_minus, s_plus, gamma):
            memory, key, prev = self.inputs["memory"], self.inputs["key"], self.inputs["prev"]
            s = shift_weights(s_minus, s_plus)  # (1, 3)
            beta_, g_, gamma_ = torch.tensor([[beta]]), torch.tensor([[g]]), torch.tensor([[gamma]])  # (1, 1)
            w_c = content_addressing(memory, key, beta_)
            w_g = interpolate(w_c, prev, g_)
            w_s = shift(w_g, s)
            w = sharpen(w_s, gamma_)
            torch.testing.assert_close(w, address(memory, key=key, beta=beta_, g=g_, s=s, gamma=gamma_, w_prev=prev))
            stages = [(w_c, r"$w^c$: content, $\beta$" f"={beta:g}"), (w_g, r"$w^g$: gate, $g$" f"={g:g}"),
                      (w_s, r"$\tilde w$: shift"), (w, r"$w$: sharpen, $\gamma$" f"={gamma:g}")]
            for bars, title, (weights, text) in zip(self.bars, self.titles, stages):
                for bar, v in zip(bars, weights[0].tolist()):
                    bar.set_height(v)
                title.set_text(text)
            self.suptitle.set_text("s(-1), s(0), s(+1) = " + ", ".join(f"{v:.2f}" for v in s[0])
                                   + "   (x axis: memory row)")

    return AddressingPainter()


def draw_addressing(beta: float, g: float, s_minus: float, s_plus: float, gamma: float):
    r"""The addressing widget's figure: the four stages $w^c$ (content, $\beta$), $w^g$ (gate $g$, last step's
    weighting in grey), $\tilde w$ (shift by ``shift_weights``) and $w$ (sharpen, $\gamma$) on
    ``widget_addressing_inputs``.
    """
    return _addressing_painter().figure(beta=beta, g=g, s_minus=s_minus, s_plus=s_plus, gamma=gamma)


def addressing_explorer():
    """Chapter 5's second widget: β, g, the shift weights and γ, each stage of the addressing drawn.

    Each move recomputes the four stages and redraws the bars and titles.
    """
    return explore(_addressing_painter(),
                   slider("beta", [0.0, 1.0, 3.0, 10.0, 30.0, 100.0], value=10.0, label="β (key strength)",
                          live_step=0.5),
                   slider("g", [0.0, 0.25, 0.5, 0.75, 1.0], value=0.5, label="g (gate)", live_step=0.05),
                   slider("s_minus", [0.0, 0.25, 0.5, 0.75, 1.0], value=0.0, label="s(-1)", live_step=0.05),
                   slider("s_plus", [0.0, 0.25, 0.5, 0.75, 1.0], value=0.5, label="s(+1)", live_step=0.05),
                   slider("gamma", [1.0, 1.5, 2.0, 5.0, 20.0], value=1.0, label="γ (sharpening)", live_step=0.5),
                   title="NTM addressing: content, interpolation, shift, sharpening")

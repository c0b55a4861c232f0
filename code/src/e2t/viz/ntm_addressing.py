"""Chapter 5's second widget: the NTM's addressing, stage by stage, under its controls β, g, s and γ (``e2t.ntm``).

The figure is a table over the ten memory rows: the memory and the key, the cosine of the key with every row, then
the weighting after each stage (content w^c, the previous weighting, gate w^g, shift w~, sharpen w), each stage
outlined over the one before, and the shift weights as used. Every control is continuous: β in [0, 50], g in
[0, 1], the weights s(-1) and s(+1) of a move by one row up or down in [0, 1] with s(0) = 1 - s(-1) - s(+1) (when
the two ask for more than 1 the *other* slider moves down, visibly: the values shown are the values used), and γ
in [1, 20]. The defaults make every control's effect visible: a key most like row 2, a previous focus on row 6, a
gate that mixes them, an asymmetric shift (so γ has a largest entry to sharpen towards) and γ = 2. Presets set the
prose's experiments. The browser twin (``js/ntm_addressing.js``) embeds the memory, the key and the previous
weighting and computes the four stages the way ``e2t.ntm`` does, in float64.

Introduced in: chapter 5.
"""

from __future__ import annotations

import numpy as np
import torch

from e2t.ntm import content_addressing, cosine_rows, interpolate, sharpen, shift
from e2t.viz.browser import BrowserExplorer, preset, sum_at_most
from e2t.viz.widgets import Painter, slider

__all__ = ["widget_addressing_inputs", "shift_weights", "addressing_values", "draw_addressing",
           "addressing_explorer"]

#: The defaults: content row 2 and the previous focus (row 6) both visible, an asymmetric shift, some sharpening.
DEFAULTS = {"beta": 10.0, "g": 0.7, "s_minus": 0.1, "s_plus": 0.6, "gamma": 2.0}
STAGES = ("w_c", "w_prev", "w_g", "w_s", "w")


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


def shift_weights(s_minus: float, s_plus: float, *, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The three shift weights s(-1), s(0), s(+1) with s(0) = 1 - s(-1) - s(+1), exactly as the sliders say.

    Raises ``ValueError`` when a weight is negative or s(-1) + s(+1) exceeds 1 (no silent rescaling).
    Shapes: () -> (1, 3).
    """
    if s_minus < 0 or s_plus < 0 or s_minus + s_plus > 1 + 1e-9:
        raise ValueError(f"need s(-1), s(+1) >= 0 and s(-1) + s(+1) <= 1, got {s_minus} and {s_plus}")
    return torch.tensor([[s_minus, max(0.0, 1.0 - s_minus - s_plus), s_plus]], dtype=dtype)  # (1, 3)


def addressing_values(beta: float, g: float, s_minus: float, s_plus: float, gamma: float) -> dict:
    """Every stage on ``widget_addressing_inputs``, in float64 with ``e2t.ntm``: the ``cosine`` of the key with
    each row, ``w_c`` (content), ``w_prev``, ``w_g`` (gate), ``w_s`` (shift), ``w`` (sharpen), each (N,), and the
    shift weights ``s`` as used (the values the browser twin exposes)."""
    inputs = {k: v.double() for k, v in widget_addressing_inputs().items()}
    memory, key, prev = inputs["memory"], inputs["key"], inputs["prev"]
    s = shift_weights(s_minus, s_plus, dtype=torch.float64)  # (1, 3)
    beta_, g_, gamma_ = (torch.tensor([[float(v)]], dtype=torch.float64) for v in (beta, g, gamma))  # (1, 1)
    w_c = content_addressing(memory, key, beta_)  # (1, N)
    w_g = interpolate(w_c, prev, g_)  # (1, N)
    w_s = shift(w_g, s)  # (1, N)
    w = sharpen(w_s, gamma_)  # (1, N)
    return {"cosine": cosine_rows(memory, key)[0].tolist(), "w_c": w_c[0].tolist(), "w_prev": prev[0].tolist(),
            "w_g": w_g[0].tolist(), "w_s": w_s[0].tolist(), "w": w[0].tolist(), "s": s[0].tolist()}


class _AddressingPainter(Painter):
    figsize = (12.8, 5.6)  # 922 x 403 px at 72 dpi: 13.5-pt fonts are 10 pt on a screen

    def build(self, fig):
        inputs = widget_addressing_inputs()
        memory = inputs["memory"][0].numpy()  # (N, M)
        n, m = memory.shape
        lim = float(np.ceil(np.abs(memory).max()))
        grid = fig.add_gridspec(4, 7, height_ratios=[1, n, 1.6, 0.5], width_ratios=[1.3, 1, 1, 1, 1, 1, 1],
                                hspace=0.1, wspace=0.28, left=0.06, right=0.99, top=0.8, bottom=0.19)
        kw = dict(vmin=-lim, vmax=lim, cmap="RdBu_r", aspect="auto", interpolation="nearest")
        key_ax, mem_ax = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[1, 0])
        key_ax.imshow(inputs["key"].numpy(), **kw)
        key_ax.set_xticks([])
        key_ax.set_yticks([0], ["key k"])
        image = mem_ax.imshow(memory, **kw)
        mem_ax.set_yticks(range(n))
        mem_ax.set_xticks(range(m))
        mem_ax.set_ylabel("memory row i", fontsize=13.5)
        bar = fig.colorbar(image, cax=fig.add_subplot(grid[3, 0]), orientation="horizontal")
        bar.set_label("value in M and k", fontsize=13.5)
        bar.ax.tick_params(labelsize=13.5)
        self.bars, self.outlines, self.titles = {}, {}, {}
        names = ("cosine",) + STAGES
        for k, name in enumerate(names):
            ax = fig.add_subplot(grid[1, k + 1], sharey=mem_ax)  # rows aligned with the memory's
            ax.set_xlim((-1, 1) if name == "cosine" else (0, 1))
            ax.set_xticks((-1, 0, 1) if name == "cosine" else (0, 0.5, 1), ["−1", "0", "1"] if name == "cosine"
                          else ["0", ".5", "1"])
            ax.tick_params(labelleft=False, labelsize=13.5)
            ax.grid(axis="x", color="0.9")
            colour = "0.5" if name in ("cosine", "w_prev") else "tab:blue"
            self.bars[name] = self.dynamic(*ax.barh(range(n), [0.0] * n, height=0.7, color=colour))
            if name in ("w_s", "w"):
                self.outlines[name] = self.dynamic(*ax.barh(range(n), [0.0] * n, height=0.7, fill=False,
                                                            edgecolor="k", lw=1))
            self.titles[name] = self.dynamic(ax.set_title(" ", fontsize=13.5))
        for ax in (key_ax, mem_ax):
            ax.tick_params(labelsize=13.5)
        self.caption = self.dynamic(fig.text(0.01, 0.96, " ", fontsize=13.5, weight="bold", va="top"))
        fig.text(0.01, 0.02, "Outlined in 'shift' and 'sharpen': the stage before. A move by +1 takes the focus one "
                 "row down (row 9 wraps to row 0).", fontsize=13.5)

    def update(self, beta, g, s_minus, s_plus, gamma):
        v = addressing_values(beta, g, s_minus, s_plus, gamma)
        for name, bars in self.bars.items():
            for bar, h in zip(bars, v[name]):
                bar.set_width(h)
        for name, before in (("w_s", "w_g"), ("w", "w_s")):
            for bar, h in zip(self.outlines[name], v[before]):
                bar.set_width(h)
        s = v["s"]
        titles = {"cosine": "cos(k, M(i))", "w_c": f"1 content $w^c$\nβ = {beta:.1f}",
                  "w_prev": "previous\nw(t−1)", "w_g": f"2 gate $w^g$\ng = {g:.2f}",
                  "w_s": "3 shift $\\tilde w$\nby s (top line)", "w": f"4 sharpen w\nγ = {gamma:.1f}"}
        for name, text in titles.items():
            self.titles[name].set_text(text)
        self.caption.set_text(f"s(−1) = {s[0]:.2f}, s(0) = 1 − s(−1) − s(+1) = {s[1]:.2f}, s(+1) = {s[2]:.2f};  "
                              f"final focus: row {int(np.argmax(v['w']))} ({max(v['w']):.2f})")


def draw_addressing(beta: float, g: float, s_minus: float, s_plus: float, gamma: float):
    r"""The addressing widget's figure: the memory and key, the cosine per row, and the stages $w^c$ (content,
    $\beta$), the previous weighting, $w^g$ (gate $g$), $\tilde w$ (shift by ``shift_weights``) and $w$
    (sharpen, $\gamma$) on ``widget_addressing_inputs``.
    """
    return _AddressingPainter().figure(beta=beta, g=g, s_minus=s_minus, s_plus=s_plus, gamma=gamma)


def _readout(settings: dict) -> str:
    s = shift_weights(settings["s_minus"], settings["s_plus"], dtype=torch.float64)[0].tolist()
    return f"shift weights as used: s(−1) = {s[0]:.2f}, s(0) = 1 − s(−1) − s(+1) = {s[1]:.2f}, s(+1) = {s[2]:.2f}"


def addressing_explorer() -> BrowserExplorer:
    """Chapter 5's second widget: β, g, the shift weights and γ, each stage of the addressing drawn (live, and
    computed in the browser on the site)."""
    inputs = {k: v[0].double().tolist() for k, v in widget_addressing_inputs().items()}
    return BrowserExplorer(
        _AddressingPainter(),
        [slider("beta", [0.0, 1.0, 3.0, 10.0, 30.0, 50.0], value=DEFAULTS["beta"], label="β (key strength)",
                live_step=0.1),
         slider("g", [0.0, 0.25, 0.5, 0.7, 1.0], value=DEFAULTS["g"], label="g (gate)", live_step=0.01),
         slider("s_minus", [0.0, 0.1, 0.25, 0.5, 1.0], value=DEFAULTS["s_minus"], label="s(−1) (one row up)",
                live_step=0.01),
         slider("s_plus", [0.0, 0.25, 0.6, 1.0], value=DEFAULTS["s_plus"], label="s(+1) (one row down)",
                live_step=0.01),
         slider("gamma", [1.0, 2.0, 5.0, 10.0, 20.0], value=DEFAULTS["gamma"], label="γ (sharpening)",
                live_step=0.1)],
        key=f"{__name__}.addressing_explorer", script="ntm_addressing", data=inputs, expected=addressing_values,
        title="NTM addressing: content, gate, shift, sharpen", constraints=[sum_at_most("s_minus", "s_plus")],
        readout=_readout,
        presets=[preset("start", **DEFAULTS),
                 preset("content only", beta=10.0, g=1.0, s_minus=0.0, s_plus=0.0, gamma=1.0),
                 preset("β = 0: no preference", beta=0.0, g=1.0, s_minus=0.0, s_plus=0.0, gamma=1.0),
                 preset("g = 0, shift +1", beta=10.0, g=0.0, s_minus=0.0, s_plus=1.0, gamma=1.0),
                 preset("blur then sharpen", beta=10.0, g=0.0, s_minus=0.25, s_plus=0.25, gamma=10.0)])

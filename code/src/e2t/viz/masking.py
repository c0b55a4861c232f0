"""Chapter 6's widget: causal and padding masks in self-attention, and the weights they leave (``e2t.masks``).

Controls: the mask kind, the real length and the padded length (any length from 1 up to the padded length; moving
one past the other takes the other along, visibly). The figure shows the mask and the weights of both heads of a
small random ``MultiHeadAttention``; blocked cells are grey (weight exactly 0), the others coloured on one colour
bar. The browser twin (``js/masking.js``) embeds the layer's input and its query and key projections (float64) and
computes the scores, the mask and the masked softmax the way ``e2t.attention`` does.

Introduced in: chapter 6.
"""

from __future__ import annotations

import copy

import numpy as np
import torch

from e2t.masks import causal_mask, padding_mask
from e2t.transformer import MultiHeadAttention, sinusoidal_positions
from e2t.viz.browser import BrowserExplorer, at_most, preset
from e2t.viz.widgets import Painter, choice, slider

__all__ = ["MASK_KINDS", "example_mask", "masking_demo", "masking_values", "draw_masking", "masking_explorer"]

MASK_KINDS = ("none", "causal", "padding", "both")
MAX_LEN = 8


def example_mask(kind: str, length: int, padded: int) -> torch.Tensor:
    """The masking widget's mask over ``padded`` positions of which the first ``length`` are real tokens:
    ``kind`` is "none", "causal", "padding" or "both" (causal & padding). True = may attend.

    Shapes: () -> (T, S) with T = S = ``padded``.
    """
    if kind not in MASK_KINDS:
        raise ValueError(f"kind must be one of {MASK_KINDS}, got {kind!r}")
    if not 1 <= length <= padded:
        raise ValueError(f"need 1 <= length <= padded, got length={length}, padded={padded}")
    allowed = torch.ones(padded, padded, dtype=torch.bool)  # (T, S)
    if kind in ("causal", "both"):
        allowed &= causal_mask(padded)
    if kind in ("padding", "both"):
        allowed &= padding_mask(torch.tensor([length]), padded)[0, 0]  # (S,) broadcast over queries
    return allowed


def masking_demo(max_len: int = MAX_LEN) -> tuple[MultiHeadAttention, torch.Tensor]:
    """The masking widget's small random attention layer (D = 16, 2 heads, seed 0) and its input: random token
    vectors plus sinusoidal positions. The global random state is left as it was.

    Shapes: () -> (module, x (1, max_len, 16)).
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        attn = MultiHeadAttention(d_model=16, num_heads=2).eval()
        x = torch.randn(1, max_len, 16) + sinusoidal_positions(max_len, 16)  # (1, max_len, D)
    return attn, x


def masking_values(kind: str, length: int, padded: int) -> dict:
    """What the figure shows, computed in float64 with ``masking_demo``'s layer: the ``mask`` (T, S) as 0/1 and
    the ``weights`` of every head (H, T, S) (the values the browser twin exposes)."""
    attn, x = masking_demo()
    attn = copy.deepcopy(attn).double()
    x = x[:, :padded].double()  # (1, T, D)
    mask = example_mask(kind, length, padded)  # (T, S)
    with torch.no_grad():
        _, w = attn(x, x, x, mask)  # (1, H, T, S)
    return {"mask": mask.int().tolist(), "weights": w[0].tolist()}


class _MaskingPainter(Painter):
    """Layout key: (kind, length, padded), i.e. the tick labels; the mask and the weights are recomputed."""

    figsize = (12.8, 4.3)  # 922 x 310 px at 72 dpi

    def build(self, fig):
        grid = fig.add_gridspec(1, 4, width_ratios=[1, 1, 1, 0.05], wspace=0.45, left=0.1, right=0.93, bottom=0.2,
                                top=0.9)
        self.axes = [fig.add_subplot(grid[0, k]) for k in range(3)]
        self.images = []
        for i, ax in enumerate(self.axes):
            cmap = "Greens" if i == 0 else "viridis"
            image = ax.imshow(np.zeros((MAX_LEN, MAX_LEN)), cmap=cmap, vmin=0, vmax=1.4 if i == 0 else 1,
                              aspect="equal", interpolation="nearest")
            self.images.append(self.dynamic(image))
            ax.set_xlabel("key position s", fontsize=12)
            ax.tick_params(labelsize=12)
        self.blocked = [self.dynamic(ax.imshow(np.zeros((MAX_LEN, MAX_LEN, 4)), aspect="equal",
                                               interpolation="nearest")) for ax in self.axes[1:]]
        self.axes[0].set_ylabel("query position t", fontsize=12)
        self.axes[1].set_title("weights, head 1 (grey: blocked)", fontsize=13)
        self.axes[2].set_title("weights, head 2", fontsize=13)
        bar = fig.colorbar(self.images[1], cax=fig.add_subplot(grid[0, 3]))
        bar.set_label("attention weight", fontsize=12)
        bar.ax.tick_params(labelsize=12)
        self.mask_title = self.axes[0].set_title(" ", fontsize=13)

    def update(self, kind, length, padded):
        v = masking_values(kind, length, padded)
        mask = np.array(v["mask"], dtype=float)  # (T, S)
        grey = np.zeros((padded, padded, 4))
        grey[mask == 0] = (0.85, 0.85, 0.85, 1.0)
        extent = (-0.5, padded - 0.5, padded - 0.5, -0.5)
        self.images[0].set_data(mask)
        for h, (image, cover) in enumerate(zip(self.images[1:], self.blocked)):
            image.set_data(np.array(v["weights"][h]))
            cover.set_data(grey)
        for image in (*self.images, *self.blocked):
            image.set_extent(extent)
        for ax in self.axes:
            ax.set_xlim(-0.5, padded - 0.5)
            ax.set_ylim(padded - 0.5, -0.5)
        return kind, length, padded

    def layout(self, key):
        kind, length, padded = key
        mask = example_mask(kind, length, padded)  # (T, S)
        keys = [f"x{i}" for i in range(length)] + ["pad"] * (padded - length)
        self.mask_title.set_text(f"mask '{kind}' (green: may attend)")
        for i, ax in enumerate(self.axes):
            ax.set_xticks(range(padded), keys, rotation=45, ha="right")
            rows = [f"q{t} sees {int(mask[t].sum())}" for t in range(padded)] if i == 0 else \
                [f"q{t}" for t in range(padded)]
            ax.set_yticks(range(padded), rows)


def draw_masking(kind: str = "both", length: int = 4, padded: int = 6):
    """The masking widget's figure: the boolean mask (rows are queries, columns keys, each row labelled with how
    many keys it may see) and the weights of both heads of ``masking_demo``'s attention under that mask.
    """
    return _MaskingPainter().figure(kind=kind, length=length, padded=padded)


def masking_explorer() -> BrowserExplorer:
    """Chapter 6's widget: the mask kind, the real length and the padded length (live, and computed in the
    browser on the site). Each move recomputes the mask and the attention weights of both heads."""
    attn, x = masking_demo()
    lengths = tuple(range(1, MAX_LEN + 1))
    data = {"x": x[0].double().tolist(), "heads": attn.num_heads, "d_head": attn.d_head,
            "W_q": attn.W_q.weight.double().tolist(), "b_q": attn.W_q.bias.double().tolist(),
            "W_k": attn.W_k.weight.double().tolist(), "b_k": attn.W_k.bias.double().tolist()}
    return BrowserExplorer(
        _MaskingPainter(),
        [choice("kind", list(MASK_KINDS), value="both", label="mask"),
         slider("length", lengths, value=4, label="sequence length", live_step=1),
         slider("padded", lengths, value=6, label="padded length", live_step=1)],
        key=f"{__name__}.masking_explorer", script="masking", data=data, expected=masking_values,
        title="Masks in self-attention", constraints=[at_most("length", "padded")],
        presets=[preset("encoder: padding only", kind="padding", length=5, padded=8),
                 preset("decoder: causal, no padding", kind="causal", length=8, padded=8),
                 preset("decoder batch: causal and padding", kind="both", length=5, padded=8)])

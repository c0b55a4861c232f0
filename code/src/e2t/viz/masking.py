"""Chapter 6's widget: causal and padding masks in self-attention, and the weights they leave (``e2t.masks``).

Introduced in: chapter 6.
"""

from __future__ import annotations

import torch

from e2t.masks import causal_mask, padding_mask
from e2t.transformer import MultiHeadAttention, sinusoidal_positions
from e2t.viz.widgets import Painter, choice, explore, slider

__all__ = ["MASK_KINDS", "example_mask", "masking_demo", "draw_masking", "masking_explorer"]

MASK_KINDS = ("none", "causal", "padding", "both")


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


def masking_demo(max_len: int = 8) -> tuple[MultiHeadAttention, torch.Tensor]:
    """The masking widget's small random attention layer (D = 16, 2 heads, seed 0) and its input: random token
    vectors plus sinusoidal positions. The global random state is left as it was.

    Shapes: () -> (module, x (1, max_len, 16)).
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        attn = MultiHeadAttention(d_model=16, num_heads=2).eval()
        x = torch.randn(1, max_len, 16) + sinusoidal_positions(max_len, 16)  # (1, max_len, D)
    return attn, x


def _masking_painter():
    class MaskingPainter(Painter):
        """Layout key: (kind, length, padded), i.e. the tick labels; the mask and the weights are recomputed."""

        figsize = (8, 3.2)

        def build(self, fig):
            self.attn, self.x = masking_demo()
            self.axes = fig.subplots(1, 2)
            self.mask_image = self.dynamic(self.axes[0].imshow([[0]], cmap="Greens", vmin=0, vmax=1.5,
                                                               aspect="auto", interpolation="nearest"))
            self.weight_image = self.dynamic(self.axes[1].imshow([[0.0]], cmap="viridis", vmin=0, vmax=1,
                                                                 aspect="auto", interpolation="nearest"))
            fig.colorbar(self.weight_image, ax=self.axes[1], fraction=0.06, pad=0.03)
            self.mask_title = self.dynamic(self.axes[0].set_title(" ", y=1.0))
            self.axes[1].set_title("attention weights, head 1", y=1.0)
            self.axes[0].set_xlabel("key")
            self.axes[1].set_xlabel("key")
            self.axes[1].set_ylabel("query")
            fig.subplots_adjust(left=0.13, right=0.93, bottom=0.2, top=0.9, wspace=0.45)

        def update(self, kind, length, padded):
            length = min(length, padded)
            mask = example_mask(kind, length, padded)  # (T, S)
            x = self.x[:, :padded]  # (1, T, D)
            with torch.no_grad():
                _, w = self.attn(x, x, x, mask)  # (1, H, T, S)
            self.mask_image.set_data(mask.int().numpy())
            self.weight_image.set_data(w[0, 0].numpy())
            self.mask_title.set_text(f"mask '{kind}' (green = may attend)")
            extent = (-0.5, padded - 0.5, padded - 0.5, -0.5)
            for ax, image in zip(self.axes, (self.mask_image, self.weight_image)):
                image.set_extent(extent)
                ax.set_xlim(-0.5, padded - 0.5)
                ax.set_ylim(padded - 0.5, -0.5)
            return kind, length, padded

        def layout(self, key):
            kind, length, padded = key
            mask = example_mask(kind, length, padded)  # (T, S)
            keys = [f"x{i}" for i in range(length)] + ["pad"] * (padded - length)
            rows = [f"q{t} sees {int(mask[t].sum())}" for t in range(padded)]
            for ax, y_labels in zip(self.axes, (rows, keys)):
                ax.set_xticks(range(padded), keys, rotation=60, ha="right")
                ax.set_yticks(range(padded), y_labels)

    return MaskingPainter()


def draw_masking(kind: str = "both", length: int = 4, padded: int = 6):
    """The masking widget's figure: the boolean mask (rows are queries, columns keys, each row labelled with how
    many keys it may see) and the weights of one head of ``masking_demo``'s attention under that mask.
    """
    return _masking_painter().figure(kind=kind, length=length, padded=padded)


def masking_explorer():
    """Chapter 6's widget: the mask kind, the real length and the padded length.

    Each move recomputes the mask and the attention weights and redraws the two matrices; the axes and labels of
    each combination are drawn once, when the explorer is built.
    """
    painter = _masking_painter()
    for kind in MASK_KINDS:
        for length in (2, 4, 6):
            for padded in (6, 8):
                painter.png(kind=kind, length=length, padded=padded)
    return explore(painter, choice("kind", list(MASK_KINDS), value="both", label="mask"),
                   slider("length", [2, 4, 6], value=4, label="sequence length"),
                   slider("padded", [6, 8], value=6, label="padded length"),
                   title="Masks in self-attention")

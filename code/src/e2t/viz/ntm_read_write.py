"""Chapter 5's first widget: a head writes into memory (erase, then add) and reads back (``e2t.ntm``).

Controls: where the head focuses (a row, continuous from 0 to 7: between two rows it writes to both), how sharply
(0 spreads the write over every row), and the erase and add vectors. The figure shows the memory before, the
weighting, the memory after, the change, the erase and add vectors and the vector read back, on one colour bar.
The browser twin (``js/ntm_read_write.js``) embeds the memory and computes the weighting, the write and the read
the way ``focus_weighting``, ``e2t.ntm.write`` and ``e2t.ntm.read`` do, in float64.

Introduced in: chapter 5.
"""

from __future__ import annotations

import numpy as np
import torch

from e2t.ntm import read, write
from e2t.viz.browser import BrowserExplorer, preset
from e2t.viz.widgets import Painter, choice, slider

__all__ = ["WIDGET_ERASE", "WIDGET_ADD", "widget_memory", "focus_weighting", "read_write_values", "draw_read_write",
           "read_write_explorer"]

#: The read/write widget's erase and add vectors (memory width M = 6).
WIDGET_ERASE = {"e = 0 (keep)": (0.0,) * 6, "e = 1 (wipe)": (1.0,) * 6,
                "e = 1 on the first half": (1.0,) * 3 + (0.0,) * 3}
WIDGET_ADD = {"a = 0": (0.0,) * 6, "a = 1": (1.0,) * 6, "a = +1, -1, ...": (1.0, -1.0) * 3}
N, M = 8, 6
LIMIT = 2.0  # the colour bar's range: every value the widget can show lies in [-LIMIT, LIMIT]


def widget_memory(dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The read/write widget's memory: a smooth pattern of N = 8 rows of width M = 6. Shapes: () -> (1, 8, 6)."""
    return torch.linspace(-0.8, 0.8, N * M, dtype=dtype).reshape(1, N, M).sin()  # (1, N=8, M=6)


def focus_weighting(row: float, sharpness: float, N: int = N, *, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    r"""A weighting centred on ``row``: $w(i) \propto \exp(-\mathrm{sharpness}\cdot d(i, \mathrm{row})^2)$, $d$ the
    circular distance. Shapes: () -> (1, N).
    """
    i = torch.arange(N, dtype=dtype)
    d = torch.minimum((i - row).abs(), N - (i - row).abs())
    return torch.softmax(-sharpness * d**2, dim=0).unsqueeze(0)  # (1, N)


def read_write_values(row: float, sharpness: float, erase: str, add: str) -> dict:
    """What the figure shows, in float64: the weighting ``w`` (N,), the memory ``after`` the write and its
    ``change`` (N, M), and the vector ``read`` back from the new memory (M,) (the values the browser twin
    exposes)."""
    memory = widget_memory(torch.float64)  # (1, N, M)
    w = focus_weighting(row, sharpness, dtype=torch.float64)  # (1, N)
    e = torch.tensor([WIDGET_ERASE[erase]], dtype=torch.float64)  # (1, M)
    a = torch.tensor([WIDGET_ADD[add]], dtype=torch.float64)  # (1, M)
    after = write(memory, w, e, a)  # (1, N, M)
    return {"w": w[0].tolist(), "after": after[0].tolist(), "change": (after - memory)[0].tolist(),
            "read": read(after, w)[0].tolist()}


class _ReadWritePainter(Painter):
    figsize = (12.8, 5.0)  # 922 x 360 px at 72 dpi

    def build(self, fig):
        before = widget_memory(torch.float64)[0].numpy()
        grid = fig.add_gridspec(2, 5, width_ratios=[3, 1.6, 3, 3, 0.18], height_ratios=[8, 2.2], hspace=0.45,
                                wspace=0.3, left=0.075, right=0.95, top=0.9, bottom=0.08)
        kw = dict(vmin=-LIMIT, vmax=LIMIT, cmap="RdBu_r", aspect="auto", interpolation="nearest")
        axes = [fig.add_subplot(grid[0, k]) for k in range(4)]
        image = axes[0].imshow(before, **kw)
        self.after = self.dynamic(axes[2].imshow(before, **kw))
        self.change = self.dynamic(axes[3].imshow(before, **kw))
        self.bars = self.dynamic(*axes[1].barh(range(N), [0.0] * N, color="tab:orange"))
        axes[1].set_ylim(N - 0.5, -0.5)
        axes[1].set_xlim(0, 1)
        axes[1].set_xlabel("weight", fontsize=12)
        for ax, title in zip(axes, ("memory before", "w_t (focus)", "memory after", "change")):
            ax.set_title(title, fontsize=13)
            ax.set_yticks(range(N), [f"row {i}" if ax is axes[0] else str(i) for i in range(N)])
            ax.tick_params(labelsize=12)
        for ax in (axes[0], axes[2], axes[3]):
            ax.set_xticks(range(M))
            ax.set_xlabel("column j", fontsize=12)
        bar = fig.colorbar(image, cax=fig.add_subplot(grid[0, 4]))
        bar.set_label("value", fontsize=12)
        bar.ax.tick_params(labelsize=12)
        strips = [fig.add_subplot(grid[1, k]) for k in (0, 2, 3)]
        self.e_image = self.dynamic(strips[0].imshow(np.zeros((2, M)), **kw))
        self.r_image = self.dynamic(strips[1].imshow(np.zeros((1, M)), **kw))
        strips[0].set_yticks([0, 1], ["erase e", "add a"])
        strips[1].set_yticks([0], ["read r_t"])
        strips[2].axis("off")
        self.caption = self.dynamic(strips[2].text(0, 0.5, " ", fontsize=12, va="center"))
        for ax in strips[:2]:
            ax.set_xticks(range(M))
            ax.tick_params(labelsize=12)

    def update(self, row, sharpness, erase, add):
        v = read_write_values(row, sharpness, erase, add)
        self.after.set_data(np.array(v["after"]))
        self.change.set_data(np.array(v["change"]))
        for bar, h in zip(self.bars, v["w"]):
            bar.set_width(h)
        self.e_image.set_data(np.array([WIDGET_ERASE[erase], WIDGET_ADD[add]]))
        self.r_image.set_data(np.array([v["read"]]))
        self.caption.set_text(f"focus row {row:g}, sharpness {sharpness:g}\nr_t = "
                              + ", ".join(f"{x:.2f}" for x in v["read"]))


def draw_read_write(row: float, sharpness: float, erase: str, add: str):
    r"""The read/write widget's figure: write $M_t(i) = M_{t-1}(i)[1 - w_t(i) e_t] + w_t(i) a_t$ with a weighting
    focused on ``row`` (``focus_weighting``) and the ``erase``/``add`` vectors named in ``WIDGET_ERASE`` and
    ``WIDGET_ADD``: the memory before, $w_t$, the memory after, the change, and the vector read back.
    """
    return _ReadWritePainter().figure(row=row, sharpness=sharpness, erase=erase, add=add)


def read_write_explorer() -> BrowserExplorer:
    """Chapter 5's first widget: where the head writes (row, sharpness) and what (erase and add vectors), live
    and computed in the browser on the site. Each move recomputes the weighting, the write and the read."""
    return BrowserExplorer(
        _ReadWritePainter(),
        [slider("row", [float(i) for i in range(N)], value=2.0, label="focus row", live_step=0.05),
         slider("sharpness", [0.0, 0.5, 1.0, 2.0, 4.0, 8.0], value=2.0, label="sharpness", live_step=0.05),
         choice("erase", list(WIDGET_ERASE), value="e = 1 (wipe)", label="erase vector e"),
         choice("add", list(WIDGET_ADD), value="a = +1, -1, ...", label="add vector a")],
        key=f"{__name__}.read_write_explorer", script="ntm_read_write",
        data={"memory": widget_memory(torch.float64)[0].tolist(), "erase": WIDGET_ERASE, "add": WIDGET_ADD,
              "limit": LIMIT},
        expected=read_write_values, title="Write into memory: erase, then add",
        presets=[preset("sharp: wipe row 2, write ±1", row=2.0, sharpness=8.0, erase="e = 1 (wipe)",
                        add="a = +1, -1, ..."),
                 preset("spread over every row", row=2.0, sharpness=0.0, erase="e = 1 (wipe)", add="a = 1"),
                 preset("add without erasing", row=5.0, sharpness=2.0, erase="e = 0 (keep)", add="a = 1"),
                 preset("between rows 3 and 4", row=3.5, sharpness=2.0, erase="e = 1 on the first half",
                        add="a = 0")])

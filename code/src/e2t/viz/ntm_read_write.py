"""Chapter 5's first widget: a head writes into memory (erase, then add) and reads back (``e2t.ntm``).

Introduced in: chapter 5.
"""

from __future__ import annotations

import torch

from e2t.ntm import read, write
from e2t.viz.widgets import Painter, choice, explore, slider

__all__ = ["WIDGET_ERASE", "WIDGET_ADD", "widget_memory", "focus_weighting", "draw_read_write", "read_write_explorer"]

#: The read/write widget's erase and add vectors (memory width M = 6).
WIDGET_ERASE = {"e = 0 (keep)": (0.0,) * 6, "e = 1 (wipe)": (1.0,) * 6,
                "e = 1 on the first half": (1.0,) * 3 + (0.0,) * 3}
WIDGET_ADD = {"a = 0": (0.0,) * 6, "a = 1": (1.0,) * 6, "a = +1, -1, ...": (1.0, -1.0) * 3}


def widget_memory() -> torch.Tensor:
    """The read/write widget's memory: a smooth pattern of N = 8 rows of width M = 6. Shapes: () -> (1, 8, 6)."""
    return torch.linspace(-0.8, 0.8, 8 * 6).reshape(1, 8, 6).sin()  # (1, N=8, M=6)


def focus_weighting(row: float, sharpness: float, N: int = 8) -> torch.Tensor:
    r"""A weighting centred on ``row``: $w(i) \propto \exp(-\mathrm{sharpness}\cdot d(i, \mathrm{row})^2)$, $d$ the
    circular distance. Shapes: () -> (1, N).
    """
    i = torch.arange(N, dtype=torch.float32)
    d = torch.minimum((i - row).abs(), N - (i - row).abs())
    return torch.softmax(-sharpness * d**2, dim=0).unsqueeze(0)  # (1, N)


def _read_write_painter():
    class ReadWritePainter(Painter):
        figsize = (9.5, 2.6)

        def build(self, fig):
            self.memory = widget_memory()  # (1, 8, 6)
            axes = fig.subplots(1, 4, gridspec_kw={"width_ratios": [3, 1.2, 3, 3]})
            kw = dict(vmin=-1.5, vmax=1.5, cmap="RdBu_r", aspect="auto", interpolation="nearest")
            axes[0].imshow(self.memory[0].numpy(), **kw)
            self.after = self.dynamic(axes[2].imshow(self.memory[0].numpy(), **kw))
            self.change = self.dynamic(axes[3].imshow(self.memory[0].numpy(), **kw))
            for ax, title in zip(axes, ("memory before", "$w_t$", "memory after", "change")):
                ax.set_title(title, y=1.0)
            for ax in axes[[0, 2, 3]]:
                ax.set_xticks([])
                ax.set_yticks([])
            self.bars = self.dynamic(*axes[1].barh(range(8), [0.0] * 8, color="tab:orange"))
            axes[1].set_ylim(7.5, -0.5)
            axes[1].set_xlim(0, 1)
            axes[1].set_yticks([])
            self.suptitle = self.dynamic(fig.suptitle(" ", fontsize=9, y=0.98))
            fig.subplots_adjust(left=0.01, right=0.99, bottom=0.1, top=0.8, wspace=0.12)

        def update(self, row, sharpness, erase, add):
            w = focus_weighting(row, sharpness)  # (1, N)
            e, a = torch.tensor([WIDGET_ERASE[erase]]), torch.tensor([WIDGET_ADD[add]])  # (1, M)
            after = write(self.memory, w, e, a)  # (1, N, M)
            self.after.set_data(after[0].numpy())
            self.change.set_data((after[0] - self.memory[0]).numpy())
            for bar, v in zip(self.bars, w[0].tolist()):
                bar.set_width(v)
            self.suptitle.set_text(f"{erase}, {add}: read back r_t = "
                                   + ", ".join(f"{v:.2f}" for v in read(after, w)[0]))

    return ReadWritePainter()


def draw_read_write(row: float, sharpness: float, erase: str, add: str):
    r"""The read/write widget's figure: write $M_t(i) = M_{t-1}(i)[1 - w_t(i) e_t] + w_t(i) a_t$ with a weighting
    focused on ``row`` (``focus_weighting``) and the ``erase``/``add`` vectors named in ``WIDGET_ERASE`` and
    ``WIDGET_ADD``: the memory before, $w_t$, the memory after, the change, and the vector read back.
    """
    return _read_write_painter().figure(row=row, sharpness=sharpness, erase=erase, add=add)


def read_write_explorer():
    """Chapter 5's first widget: where the head writes (row, sharpness) and what (erase and add vectors).

    Each move recomputes the weighting, the write and the read, and redraws the bars and the two changed matrices.
    """
    return explore(_read_write_painter(),
                   slider("row", list(range(8)), value=2, label="focus row", live_step=1),
                   slider("sharpness", [0.0, 0.5, 1.0, 2.0, 8.0], value=2.0, label="sharpness"),
                   choice("erase", list(WIDGET_ERASE), value="e = 1 (wipe)", label="erase vector e"),
                   choice("add", list(WIDGET_ADD), value="a = +1, -1, ...", label="add vector a"),
                   title="Write into memory: erase, then add")

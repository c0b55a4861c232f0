"""Drawing a Turing machine's run (chapter 5): one row per step, the head's cell highlighted.

Introduced in: chapter 5.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

from e2t.turing import BLANK, Snapshot

__all__ = ["draw_run"]


def draw_run(history: list[Snapshot], *, ax: plt.Axes | None = None, title: str | None = None):
    """Draw a run as a grid: one row per step, one column per tape cell, the head's cell highlighted.

    Returns the figure.
    """
    if not history:
        raise ValueError("history is empty: run the machine first")
    cells = set().union(*(s.tape.keys() for s in history), (s.head for s in history))
    lo, hi = min(cells) - 1, max(cells) + 1
    width, rows = hi - lo + 1, len(history)
    if ax is None:
        _, ax = plt.subplots(figsize=(0.42 * width + 1.8, 0.32 * rows + 0.6))
    for r, snap in enumerate(history):
        for c, pos in enumerate(range(lo, hi + 1)):
            face = "#ffd54f" if pos == snap.head else "white"
            ax.add_patch(plt.Rectangle((c, -r - 1), 1, 1, facecolor=face, edgecolor="#999", lw=0.6))
            symbol = snap.tape.get(pos, BLANK)
            if symbol != BLANK:
                ax.text(c + 0.5, -r - 0.5, symbol, ha="center", va="center", fontsize=10, family="monospace")
        ax.text(-0.3, -r - 0.5, f"{snap.step:>2} {snap.state}", ha="right", va="center", fontsize=8,
                family="monospace")
    ax.set_xlim(-3.2, width)
    ax.set_ylim(-rows, 0)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=10)
    return ax.figure

"""Plots every chapter shares: attention heatmaps with token labels and a colour bar, learning curves, positional
encodings as curves, a memory weighting cropped to the rows a head used, and ``readable`` (a minimum font size).

Every plot keeps its text at ``MIN_FONT`` points or more, so it stays legible on a 1280-pixel page.

Introduced in: the preface.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
import torch
from matplotlib.figure import Figure
from matplotlib.text import Text

from e2t.transformer import sinusoidal_positions

__all__ = ["MIN_FONT", "heatmap", "learning_curves", "readable", "positional_encoding_curves", "used_rows",
           "weighting_heatmap"]

#: The smallest font size (points) of the book's plots.
MIN_FONT = 10
_STEPS = (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000)


def _to_numpy(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().to("cpu", torch.float64).numpy()
    return np.asarray(x, dtype=float)


def _tick_step(n: int, most: int = 12) -> int:
    """The smallest round step that puts at most ``most`` ticks on ``n`` cells."""
    return next((s for s in _STEPS if math.ceil(n / s) <= most), max(1, n // most))


def _index_ticks(ax: plt.Axes, axis: str, values: Sequence[int]) -> None:
    """Tick cells whose value (a row or step number) is a multiple of a round step, labelled with the value."""
    step = _tick_step(len(values))
    where = [i for i, v in enumerate(values) if v % step == 0]
    (ax.set_xticks if axis == "x" else ax.set_yticks)([i + 0.5 for i in where],
                                                      [str(values[i]) for i in where])


def readable(fig: Figure, min_size: float = MIN_FONT) -> Figure:
    """Raise every text of ``fig`` (labels, ticks, legends, titles) to at least ``min_size`` points; returns it."""
    for text in fig.findobj(Text):
        if text.get_text() and text.get_fontsize() < min_size:
            text.set_fontsize(min_size)
    return fig


def heatmap(weights, *, x_labels: Sequence[str] | None = None, y_labels: Sequence[str] | None = None,
            ax: plt.Axes | None = None, title: str | None = None, xlabel: str | None = None,
            ylabel: str | None = None, cmap: str = "viridis", vmin: float | None = 0.0, vmax: float | None = None,
            annot: bool = False, cbar: bool = True, cbar_label: str | None = None, ticks: bool = True) -> plt.Axes:
    """Draw a (rows, columns) weight matrix, e.g. attention (T, S), with token labels on the axes.

    Rows are queries (targets), columns are keys (sources), as in Bahdanau et al.'s alignment figures. A colour bar
    (labelled ``cbar_label``) is drawn unless ``cbar=False``. Without labels the axes are ticked with cell indices
    (0, 5, 10, ...) unless ``ticks=False``. Text is at least ``MIN_FONT`` points.
    """
    w = _to_numpy(weights)
    if w.ndim != 2:
        raise ValueError(f"weights must be 2-D (rows, columns), got shape {w.shape}")
    for name, labels, n in (("x_labels", x_labels, w.shape[1]), ("y_labels", y_labels, w.shape[0])):
        if labels is not None and len(labels) != n:
            raise ValueError(f"{name} has {len(labels)} labels but weights has shape {w.shape}")
    if ax is None:
        cell_w, cell_h = (0.45, 0.4) if x_labels is not None or y_labels is not None else (0.22, 0.22)
        _, ax = plt.subplots(figsize=(min(11.0, max(3.5, cell_w * w.shape[1] + 2.2)),
                                      min(8.0, max(2.5, cell_h * w.shape[0] + 1.4))))
    sns.heatmap(w, ax=ax, cmap=cmap, vmin=vmin, vmax=vmax, annot=annot, fmt=".2f", cbar=cbar, square=False,
                xticklabels=list(x_labels) if x_labels is not None else False,
                yticklabels=list(y_labels) if y_labels is not None else False, linewidths=0.0,
                cbar_kws={"label": cbar_label} if cbar and cbar_label else None,
                annot_kws={"fontsize": MIN_FONT})
    if x_labels is not None:
        ax.set_xticklabels(ax.get_xticklabels(), rotation=60, ha="right")
    elif ticks:
        _index_ticks(ax, "x", range(w.shape[1]))
    if y_labels is not None:
        ax.set_yticklabels(ax.get_yticklabels(), rotation=0)
    elif ticks:
        _index_ticks(ax, "y", range(w.shape[0]))
    ax.tick_params(labelsize=MIN_FONT)
    if cbar and ax.collections and ax.collections[0].colorbar is not None:
        bar = ax.collections[0].colorbar
        bar.ax.tick_params(labelsize=MIN_FONT)
        bar.ax.yaxis.label.set_fontsize(MIN_FONT + 1)
    if title:
        ax.set_title(title, fontsize=MIN_FONT + 2)
    if xlabel:
        ax.set_xlabel(xlabel, fontsize=MIN_FONT + 1)
    if ylabel:
        ax.set_ylabel(ylabel, fontsize=MIN_FONT + 1)
    return ax


def learning_curves(curves: dict[str, Sequence[float]], *, x: dict[str, Sequence[float]] | None = None,
                    ax: plt.Axes | None = None, xlabel: str = "step", ylabel: str = "loss", logy: bool = True,
                    title: str | None = None) -> plt.Axes:
    """Plot several named curves (e.g. smoothed losses) on one axis."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.6))
    for name, ys in curves.items():
        xs = x[name] if x is not None else range(1, len(ys) + 1)
        ax.plot(list(xs), list(ys), label=name)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel, fontsize=MIN_FONT + 1)
    ax.set_ylabel(ylabel, fontsize=MIN_FONT + 1)
    ax.tick_params(labelsize=MIN_FONT)
    if title:
        ax.set_title(title, fontsize=MIN_FONT + 2)
    ax.legend(fontsize=MIN_FONT)
    ax.grid(alpha=0.3)
    return ax


def positional_encoding_curves(max_len: int = 50, d_model: int = 64, *, dims: Sequence[int] = (0, 1, 8, 9, 24, 25),
                               width: float = 9.0) -> Figure:
    r"""A few dimensions of the sinusoidal positional encodings as curves over the positions, one panel per
    frequency: dimension $2i$ is $\sin(pos / 10000^{2i/d_{model}})$ and $2i+1$ the cosine of the same angle, so each
    pair turns at its own wavelength $2\pi \cdot 10000^{2i/d_{model}}$ positions. Computed with
    ``e2t.transformer.sinusoidal_positions``.

    Introduced in: chapter 6.
    """
    bad = [d for d in dims if not 0 <= d < d_model]
    if not dims or bad:
        raise ValueError(f"dims must be a non-empty list of dimensions in 0..{d_model - 1}, got {list(dims)}")
    pe = sinusoidal_positions(max_len, d_model).double().numpy()  # (max_len, d_model)
    groups = sorted({d // 2 for d in dims})
    fig, axes = plt.subplots(len(groups), 1, figsize=(width, 1.35 * len(groups) + 1.0), sharex=True, squeeze=False)
    for ax, i in zip(axes[:, 0], groups):
        for d in sorted(x for x in dims if x // 2 == i):
            kind = "sin" if d % 2 == 0 else "cos"
            ax.plot(range(max_len), pe[:, d], marker=".", ls="-" if kind == "sin" else "--",
                    label=f"dim {d} ({kind})")
        wavelength = 2 * math.pi * 10000 ** (2 * i / d_model)
        ax.set_title(f"$i = {i}$: wavelength {wavelength:,.1f} positions", fontsize=MIN_FONT + 1, loc="left")
        ax.set_ylim(-1.15, 1.15)
        ax.set_yticks([-1, 0, 1])
        ax.tick_params(labelsize=MIN_FONT)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=MIN_FONT, loc="center left", bbox_to_anchor=(1.0, 0.5))
    axes[-1, 0].set_xlabel("position", fontsize=MIN_FONT + 1)
    fig.supylabel("encoding value", fontsize=MIN_FONT + 1)
    fig.tight_layout()
    return fig


def used_rows(*weights, threshold: float = 0.05, margin: int = 1, circular: bool = True) -> range:
    """The memory rows a head used: the shortest run of rows holding every row whose weight reaches ``threshold``
    at some step, widened by ``margin`` rows on each side.

    Each weighting is (T, N): steps x memory rows (several share one range, e.g. the write and read heads). With
    ``circular`` the run may wrap around the end of the memory (NTM shifts are circular); the range then starts
    below 0, and ``weights[:, list(rows)]`` still indexes it (row -1 is row N - 1).

    Introduced in: chapter 5.
    """
    arrays = [_to_numpy(w) for w in weights]
    if not arrays or any(a.ndim != 2 or a.shape[1] != arrays[0].shape[1] for a in arrays):
        raise ValueError(f"give one or more weightings (T, N) with the same N, got shapes {[a.shape for a in arrays]}")
    n = arrays[0].shape[1]
    hit = np.flatnonzero(np.max([a.max(axis=0) for a in arrays], axis=0) >= threshold)
    if hit.size == 0:
        raise ValueError(f"no row reaches weight {threshold}; lower the threshold")
    start, stop = int(hit[0]), int(hit[-1]) + 1
    if not circular:
        return range(max(0, start - margin), min(n, stop + margin))
    gaps = np.diff(np.append(hit, hit[0] + n))  # the gap after each used row; the last one wraps around
    k = int(np.argmax(gaps))
    if gaps[k] > gaps[-1]:  # leaving out an inner gap is shorter: the run wraps, from row hit[k + 1] - n
        start, stop = int(hit[k + 1]) - n, int(hit[k]) + 1
    if stop - start + 2 * margin >= n:
        return range(0, n)
    if stop + margin > n:  # count from the end instead, so that every index stays below n
        start, stop = start - n, stop - n
    return range(start - margin, stop + margin)


def weighting_heatmap(weights, rows: range | Sequence[int] | None = None, *, threshold: float = 0.05,
                      ax: plt.Axes | None = None, title: str | None = None, xlabel: str = "time step",
                      ylabel: str = "memory row", cmap: str = "gray_r", vmax: float = 1.0, cbar: bool = True,
                      cbar_label: str | None = "weight") -> plt.Axes:
    """A memory weighting (T, N) as rows x steps, cropped to ``rows`` (default ``used_rows(weights, threshold)``),
    with the real row numbers (modulo N) and the step numbers as ticks, as in Graves et al.'s Fig. 6.

    Introduced in: chapter 5.
    """
    w = _to_numpy(weights)
    if w.ndim != 2:
        raise ValueError(f"weights must be (T, N), got shape {w.shape}")
    rows = list(used_rows(w, threshold=threshold) if rows is None else rows)
    n = w.shape[1]
    if not rows or any(not -n <= r < n for r in rows):
        raise ValueError(f"rows must be row indices in -{n}..{n - 1}, got {rows[:3]}...{rows[-3:]}")
    crop = w[:, rows].T  # (rows, T)
    if ax is None:
        _, ax = plt.subplots(figsize=(min(11.0, max(4.0, 0.14 * w.shape[0] + 2.2)),
                                      min(7.0, max(2.4, 0.16 * len(rows) + 1.2))))
    heatmap(crop, ax=ax, cmap=cmap, vmin=0.0, vmax=vmax, cbar=cbar, cbar_label=cbar_label, title=title,
            xlabel=xlabel, ylabel=ylabel, ticks=False)
    _index_ticks(ax, "x", range(w.shape[0]))
    step = _tick_step(len(rows), most=10)
    where = [i for i, r in enumerate(rows) if (r % n) % step == 0]
    ax.set_yticks([i + 0.5 for i in where], [str(rows[i] % n) for i in where], rotation=0)
    ax.tick_params(labelsize=MIN_FONT)
    return ax

"""Plots every chapter shares: attention heatmaps with token labels, learning curves.

Introduced in: the preface.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
import torch


def _to_numpy(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().to("cpu", torch.float64).numpy()
    return np.asarray(x, dtype=float)


def heatmap(weights, *, x_labels: Sequence[str] | None = None, y_labels: Sequence[str] | None = None,
            ax: plt.Axes | None = None, title: str | None = None, xlabel: str | None = None,
            ylabel: str | None = None, cmap: str = "viridis", vmin: float | None = 0.0, vmax: float | None = None,
            annot: bool = False, cbar: bool = True) -> plt.Axes:
    """Draw a (rows, columns) weight matrix, e.g. attention (T, S), with token labels on the axes.

    Rows are queries (targets), columns are keys (sources), as in Bahdanau et al.'s alignment figures.
    """
    w = _to_numpy(weights)
    if w.ndim != 2:
        raise ValueError(f"weights must be 2-D (rows, columns), got shape {w.shape}")
    for name, labels, n in (("x_labels", x_labels, w.shape[1]), ("y_labels", y_labels, w.shape[0])):
        if labels is not None and len(labels) != n:
            raise ValueError(f"{name} has {len(labels)} labels but weights has shape {w.shape}")
    if ax is None:
        _, ax = plt.subplots(figsize=(0.45 * w.shape[1] + 2, 0.4 * w.shape[0] + 1.2))
    sns.heatmap(w, ax=ax, cmap=cmap, vmin=vmin, vmax=vmax, annot=annot, fmt=".2f", cbar=cbar, square=False,
                xticklabels=list(x_labels) if x_labels is not None else False,
                yticklabels=list(y_labels) if y_labels is not None else False, linewidths=0.0)
    if x_labels is not None:
        ax.set_xticklabels(ax.get_xticklabels(), rotation=60, ha="right")
    if y_labels is not None:
        ax.set_yticklabels(ax.get_yticklabels(), rotation=0)
    if title:
        ax.set_title(title)
    if xlabel:
        ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    return ax


def learning_curves(curves: dict[str, Sequence[float]], *, x: dict[str, Sequence[float]] | None = None,
                    ax: plt.Axes | None = None, xlabel: str = "step", ylabel: str = "loss", logy: bool = True,
                    title: str | None = None) -> plt.Axes:
    """Plot several named curves (e.g. smoothed losses) on one axis."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.2))
    for name, ys in curves.items():
        xs = x[name] if x is not None else range(1, len(ys) + 1)
        ax.plot(list(xs), list(ys), label=name)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)
    return ax

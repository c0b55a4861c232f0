"""Alignment matrices of a trained RNNsearch, as in Bahdanau et al.'s Fig. 3, and the chapter's explorer.

``plot_alignment`` draws one ``e2t.rnnsearch.Alignment`` with ``e2t.viz.plot.heatmap`` (source words across, output
words down, brighter = more weight). ``alignment_explorer`` wraps it in ``e2t.viz.widgets.explore``: choose a
held-out example and see its translation and alignment (live in Jupyter; the static twin steps through the same
examples, precomputed). ``crossing`` finds alignments that cross ("forty-two" -> "zwei und vierzig").

Introduced in: chapter 3.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import matplotlib.pyplot as plt
import torch

from e2t.data.text import Example, NumberTask, german_detokenize, make_examples, number_task
from e2t.rnnsearch import Alignment, RNNsearch, alignments, make_rnnsearch
from e2t.train import checkpoints
from e2t.viz.plot import MIN_FONT, heatmap
from e2t.viz.widgets import Painter, choice, explore

__all__ = ["plot_alignment", "crossing", "align_number", "default_examples", "alignment_explorer"]


def plot_alignment(item: Alignment, *, ax: plt.Axes | None = None, title: str | None = None,
                   cbar: bool = True, cbar_label: str | None = "attention weight α") -> plt.Axes:
    """Draw the alignment matrix of one translation: row t = output token t, column i = source word i.

    Several alignments side by side on one scale can share one colour bar: pass ``cbar=False`` to all but one.
    """
    w = item.weights
    if ax is None:
        _, ax = plt.subplots(figsize=(0.42 * w.shape[1] + 1.6, 0.34 * w.shape[0] + 1.4))
    if title is None:
        mark = "correct" if item.correct else f"wrong; reference: {german_detokenize(item.example.tgt)}"
        width = max(30, int(5 * w.shape[1]))  # characters that fit above the matrix
        title = textwrap.fill(f"{item.example.value:,} -> {german_detokenize(item.output)} ({mark})", width,
                              break_long_words=False)
    heatmap(w, x_labels=list(item.example.src), y_labels=item.rows, ax=ax, cmap="gray", vmin=0.0, vmax=1.0,
            cbar=cbar, cbar_label=cbar_label, xlabel="source (English)", ylabel="output (German)")
    ax.set_title(title, fontsize=MIN_FONT + 1)
    return ax


def crossing(item: Alignment) -> bool:
    """Whether the alignment crosses: some output token attends (argmax) to an EARLIER source word than the
    output token before it, e.g. "vierzig" after "zwei" in "forty-two" -> "zwei und vierzig".
    """
    peaks = item.weights[:-1].argmax(dim=-1).tolist()  # one source position per output token (eos row dropped)
    return any(b < a for a, b in zip(peaks, peaks[1:]))


def align_number(model: RNNsearch, task: NumberTask, value: int) -> Alignment:
    """Translate one number (any non-negative int below 10**12) and return its alignment."""
    (example,) = make_examples([int(value)])
    unknown = [t for t in example.src if t not in task.src_vocab]
    if unknown:
        raise ValueError(f"value {value} has source words outside the vocabulary: {unknown}")
    return alignments(model, task, [example])[0]


def default_examples(task: NumberTask) -> list[Example]:
    """The explorer's held-out numbers: every 125th of the first 2000 test examples, shortest source first."""
    return sorted(task.test[:2000:125], key=lambda e: len(e.src))


class _AlignmentPainter(Painter):
    """One axes of fixed size; per example the matrix, its labels and title (the layout key is the example)."""

    mode = "L"  # grey-scale frames: a third of the bytes of RGB
    dpi = 96  # frames at most ~660 px wide, the page's column, so the site shows them unscaled: 10 pt = 13 px

    def __init__(self, items: Sequence[Alignment]):
        self.items = list(items)
        longest = max(i.weights.shape[1] for i in self.items)
        deepest = max(i.weights.shape[0] for i in self.items)
        self.figsize = (0.25 * longest + 2.45, 0.28 * deepest + 1.7)
        super().__init__()

    def build(self, fig):
        w, h = self.figsize
        # inches: German row labels, the colour bar and its label, rotated English words, a 3-line title
        left, right, bottom, top = 1.05, 1.0, 1.0, 0.8
        fig.subplots_adjust(left=left / w, right=1 - right / w, bottom=bottom / h, top=1 - top / h)
        self.ax = fig.add_subplot()
        self.image = self.dynamic(self.ax.imshow([[0.0]], cmap="gray", vmin=0.0, vmax=1.0, aspect="auto",
                                                 interpolation="nearest"))
        cax = fig.add_axes(((w - right + 0.15) / w, bottom / h, 0.15 / w, 1 - (bottom + top) / h))
        bar = fig.colorbar(self.image, cax=cax)
        bar.set_label("attention weight α", fontsize=MIN_FONT + 1)
        bar.ax.tick_params(labelsize=MIN_FONT)
        self.ax.set_xlabel("source (English)", fontsize=MIN_FONT + 1)
        self.ax.set_ylabel("output (German)", fontsize=MIN_FONT + 1)
        self.ax.tick_params(labelsize=MIN_FONT)
        self.title = self.ax.set_title(" ", fontsize=MIN_FONT + 1, y=1.0)

    def update(self, example: int):
        item = self.items[example]
        w = item.weights.detach().to(torch.float64).numpy()  # (T+1, S)
        T, S = w.shape
        self.image.set_data(w)
        self.image.set_extent((-0.5, S - 0.5, T - 0.5, -0.5))
        ax = self.ax
        ax.set_xlim(-0.5, S - 0.5)
        ax.set_ylim(T - 0.5, -0.5)
        return example

    def layout(self, example):
        item = self.items[example]
        self.ax.set_xticks(range(item.weights.shape[1]), list(item.example.src), rotation=60, ha="right")
        self.ax.set_yticks(range(item.weights.shape[0]), item.rows)
        mark = "correct" if item.correct else f"wrong; reference: {german_detokenize(item.example.tgt)}"
        width = max(30, int(10 * (self.figsize[0] - 1.0)))  # characters that fit above the matrix
        self.title.set_text(textwrap.fill(f"{item.example.value:,} -> {german_detokenize(item.output)} ({mark})",
                                          width, break_long_words=False))


def alignment_explorer(model: RNNsearch | None = None, task: NumberTask | None = None,
                       examples: Sequence[Example] | None = None, *,
                       title: str = "Alignment explorer: choose a held-out number"):
    """An ``e2t.viz.widgets`` explorer over ``examples``: its translation and alignment heatmap, one per choice.

    With no arguments it loads the shipped ``rnnsearch`` checkpoint, the number task and ``default_examples``.
    A slow widget precomputes: building it translates every example (one batch) and draws each example's axes and
    labels once; a move then redraws the chosen alignment matrix over them, well under the 100 ms budget.
    """
    if task is None:
        task = number_task()
    if model is None:
        model, _ = checkpoints.load("rnnsearch", make_rnnsearch)
    examples = default_examples(task) if examples is None else list(examples)
    if len(examples) < 2:
        raise ValueError(f"examples needs at least 2 examples to choose from, got {len(examples)}")
    painter = _AlignmentPainter(alignments(model, task, examples))
    for i in range(len(examples)):
        painter.png(example=i)  # each example's axes, labels and title, drawn once
    options = {f"{e.value:,}": i for i, e in enumerate(examples)}
    return explore(painter, choice("example", options, label="held-out number"), title=title)

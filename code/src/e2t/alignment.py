"""Alignment matrices of a trained RNNsearch, as in Bahdanau et al.'s Fig. 3, and the chapter's explorer.

``plot_alignment`` draws one ``e2t.rnnsearch.Alignment`` with ``e2t.plot.heatmap`` (source words across, output
words down, brighter = more weight). ``alignment_explorer`` wraps it in ``e2t.widgets.explore``: choose a
held-out example and see its translation and alignment (live in Jupyter; the static twin steps through the same
examples, precomputed). ``crossing`` finds alignments that cross ("forty-two" -> "zwei und vierzig").

Introduced in: chapter 3.
"""

from __future__ import annotations

import functools
import textwrap
from collections.abc import Sequence

import matplotlib.pyplot as plt

from e2t.data.text import Example, NumberTask, german_detokenize, make_examples
from e2t.plot import heatmap
from e2t.rnnsearch import Alignment, RNNsearch, alignments

__all__ = ["plot_alignment", "crossing", "align_number", "alignment_explorer"]


def plot_alignment(item: Alignment, *, ax: plt.Axes | None = None, title: str | None = None,
                   cbar: bool = False) -> plt.Axes:
    """Draw the alignment matrix of one translation: row t = output token t, column i = source word i.

    Introduced in: chapter 3.
    """
    w = item.weights
    if ax is None:
        _, ax = plt.subplots(figsize=(0.42 * w.shape[1] + 1.6, 0.34 * w.shape[0] + 1.4))
    if title is None:
        mark = "correct" if item.correct else f"wrong; reference: {german_detokenize(item.example.tgt)}"
        width = max(30, int(5 * w.shape[1]))  # characters that fit above the matrix
        title = textwrap.fill(f"{item.example.value:,} -> {german_detokenize(item.output)} ({mark})", width)
    heatmap(w, x_labels=list(item.example.src), y_labels=item.rows, ax=ax, cmap="gray", vmin=0.0, vmax=1.0,
            cbar=cbar, xlabel="source (English)", ylabel="output (German)")
    ax.set_title(title, fontsize=9)
    return ax


def crossing(item: Alignment) -> bool:
    """Whether the alignment crosses: some output token attends (argmax) to an EARLIER source word than the
    output token before it, e.g. "vierzig" after "zwei" in "forty-two" -> "zwei und vierzig".

    Introduced in: chapter 3.
    """
    peaks = item.weights[:-1].argmax(dim=-1).tolist()  # one source position per output token (eos row dropped)
    return any(b < a for a, b in zip(peaks, peaks[1:]))


def align_number(model: RNNsearch, task: NumberTask, value: int) -> Alignment:
    """Translate one number (any non-negative int below 10**12) and return its alignment.

    Introduced in: chapter 3.
    """
    (example,) = make_examples([int(value)])
    unknown = [t for t in example.src if t not in task.src_vocab]
    if unknown:
        raise ValueError(f"value {value} has source words outside the vocabulary: {unknown}")
    return alignments(model, task, [example])[0]


def alignment_explorer(model: RNNsearch, task: NumberTask, examples: Sequence[Example], *,
                       title: str = "Alignment explorer: choose a held-out number"):
    """An ``e2t.widgets`` explorer over ``examples``: its translation and alignment heatmap, one per choice.

    Each frame is computed on first use and cached (one translation is a few milliseconds; one drawing well
    under 100 ms), so the live control stays fast.

    Introduced in: chapter 3.
    """
    from e2t.widgets import choice, explore

    examples = list(examples)
    if len(examples) < 2:
        raise ValueError(f"examples needs at least 2 examples to choose from, got {len(examples)}")

    @functools.lru_cache(maxsize=None)
    def aligned(index: int) -> Alignment:
        return alignments(model, task, [examples[index]])[0]

    longest = max(len(e.src) for e in examples)
    deepest = max(len(e.tgt) for e in examples) + 1

    def draw(example: int):
        item = aligned(example)
        fig, ax = plt.subplots(figsize=(0.36 * longest + 1.8, 0.28 * deepest + 1.6))
        plot_alignment(item, ax=ax)
        fig.tight_layout()
        return fig

    options = {f"{e.value:,}": i for i, e in enumerate(examples)}
    return explore(draw, choice("example", options, label="held-out number"), title=title)

"""The book's synthesis: every architecture on the same two tasks, one table and one plot each.

(a) Translation (the number task of chapter 2): the fixed-vector encoder-decoder, Bahdanau attention, Luong's global,
local-m and local-p attention and the Transformer, all loaded from their shipped checkpoints and scored live on the
same test examples (exact match by source-length bucket, BLEU), with parameters counted from the model, training
steps and wall time read from each card and decoding time measured here.
(b) The copy task of chapter 5 with lengths beyond training: the LSTM, the NTM, the attention model and the
Transformer of ``e2t.copy_models``, scored live on the same seeded sequences.

Nothing here holds a result: the tables are built from the models, the cards and the evaluation runs passed in.
The map from the source's sections to the code is ``e2t.book.catalog``.

Introduced in: chapter 7.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator
from torch import nn

from e2t.copy_models import make_attention_copy, make_transformer_copy
from e2t.luong import make_luong
from e2t.ntm_model import make_lstm, make_ntm
from e2t.recipes.copy_task import evaluate_copy
from e2t.recipes.transformer import task_translator
from e2t.rnnsearch import make_rnnsearch
from e2t.seq2seq import make_seq2seq
from e2t.train import checkpoints
from e2t.train.evaluation import DEFAULT_BUCKETS, bucket_label, evaluate
from e2t.train.translate import translator
from e2t.transformer_model import make_transformer
from e2t.viz.plot import MIN_FONT, readable

__all__ = ["ModelSpec", "Loaded", "TRANSLATION_MODELS", "COPY_MODELS", "COPY_TRAIN_LENGTHS", "COPY_LENGTHS",
           "count_parameters", "card_note", "card_batch_size", "load_translators", "evaluate_translators", "decode_ms_per_sentence",
           "translation_table", "load_copy_models", "evaluate_copy_models", "copy_table", "plot_translation",
           "plot_copy"]


@dataclass(frozen=True)
class ModelSpec:
    """One shipped checkpoint of the synthesis: its row label, checkpoint name, the chapter of its architecture and
    the function that builds its model from the card's config.
    """

    label: str
    checkpoint: str
    chapter: int
    build: Callable[[dict], nn.Module]


@dataclass(frozen=True)
class Loaded:
    """A loaded checkpoint: its spec, the model, its card and (translation models) a ``translate_fn``."""

    spec: ModelSpec
    model: nn.Module
    card: dict[str, Any]
    translate: Callable | None = None


#: The translation models, in the book's order.
#: The fixed-vector model is chapter 2's baseline GRU (``seq2seq_gru_baseline``), the one chapters 2 and 6 use too.
TRANSLATION_MODELS: tuple[ModelSpec, ...] = (
    ModelSpec("fixed vector (GRU)", "seq2seq_gru_baseline", 2, make_seq2seq),
    ModelSpec("Bahdanau (RNNsearch)", "rnnsearch", 3, make_rnnsearch),
    ModelSpec("Luong global", "ch4_luong_global", 4, make_luong),
    ModelSpec("Luong local-m", "ch4_luong_local_m", 4, make_luong),
    ModelSpec("Luong local-p", "ch4_luong_local_p", 4, make_luong),
    ModelSpec("Transformer", "transformer_numbers", 6, make_transformer),
)

#: The copy-task models (``chapter`` = where the architecture is introduced).
COPY_MODELS: tuple[ModelSpec, ...] = (
    ModelSpec("LSTM", "lstm_copy", 5, make_lstm),
    ModelSpec("NTM", "ntm_copy", 5, make_ntm),
    ModelSpec("attention (Bahdanau)", "attention_copy", 3, make_attention_copy),
    ModelSpec("Transformer", "transformer_copy", 6, make_transformer_copy),
)

#: Lengths the copy models were trained on (inclusive) and the lengths the synthesis tests: 1/2x, 1x, 2x, 4x.
COPY_TRAIN_LENGTHS = (1, 20)
COPY_LENGTHS = (10, 20, 40, 80)


def _select(specs: Sequence[ModelSpec], names: Sequence[str] | None) -> list[ModelSpec]:
    if names is None:
        return list(specs)
    if isinstance(names, str):
        raise ValueError(f"names must be a sequence of checkpoint names, got the string {names!r}")
    known = {s.checkpoint: s for s in specs}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"names: unknown model(s) {unknown}; choose from {sorted(known)}")
    if not names:
        raise ValueError("names is empty")
    return [known[n] for n in names]


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters of ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def card_note(card: Mapping[str, Any]) -> str:
    """The card's remark on how its timings were taken (``note`` or ``timing_note``), or ``""``.
    """
    return str(card.get("note") or card.get("timing_note") or "")


def card_batch_size(card: Mapping[str, Any]) -> int | None:
    """The training batch size a card records (under ``train``, ``training`` or at its top level), or ``None``."""
    for source in (card.get("train") or {}, card.get("training") or {}, card):
        if "batch_size" in source:
            return int(source["batch_size"])
    return None


# ---------------------------------------------------------------------------------------------- (a) translation

def _load_translation(spec: ModelSpec, task, directory) -> Loaded:
    model, card = checkpoints.load(spec.checkpoint, spec.build, directory=directory)
    translate = task_translator(model, task) if spec.build is make_transformer else translator(model, task)
    return Loaded(spec, model, card, translate)


def load_translators(task, *, names: Sequence[str] | None = None, directory=None) -> dict[str, Loaded]:
    """Load the shipped translation checkpoints (all of ``TRANSLATION_MODELS``, or the checkpoint ``names``), each
    with a greedy ``translate_fn`` for ``e2t.train.evaluation.evaluate``; keyed by row label.
    """
    return {s.label: _load_translation(s, task, directory) for s in _select(TRANSLATION_MODELS, names)}


def evaluate_translators(loaded: Mapping[str, Loaded], examples: Sequence) -> dict[str, dict[str, Any]]:
    """``e2t.train.evaluation.evaluate`` of every loaded model on the same ``examples`` (exact match, token accuracy and
    BLEU, overall and by source-length bucket).
    """
    examples = list(examples)
    if not examples:
        raise ValueError("examples is empty")
    return {label: evaluate(m.translate, examples) for label, m in loaded.items()}


def decode_ms_per_sentence(loaded: Mapping[str, Loaded], examples: Sequence, *, repeats: int = 3) -> dict[str, float]:
    """Greedy decoding time in milliseconds per sentence (the translators' own batching), the median of ``repeats``
    runs over ``examples`` timed with ``time.perf_counter``.
    """
    examples = list(examples)
    if not examples:
        raise ValueError("examples is empty")
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    out = {}
    for label, m in loaded.items():
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            m.translate(examples)
            times.append(time.perf_counter() - start)
        out[label] = 1000.0 * statistics.median(times) / len(examples)
    return out


def _check_keys(loaded: Mapping[str, Any], results: Mapping[str, Any], name: str) -> None:
    if set(loaded) != set(results):
        raise ValueError(f"{name} has models {sorted(results)} but loaded has {sorted(loaded)}")


def translation_table(loaded: Mapping[str, Loaded], results: Mapping[str, Mapping[str, Any]], *,
                      decode_ms: Mapping[str, float] | None = None, digits: int = 3):
    """One row per model: chapter, exact match per source-length bucket and overall, BLEU (0-1), parameters
    (counted), training steps, batch size and wall time (from the card; "–" for a batch size the card does not
    record) and decoding ms per sentence (if given).
    """
    _check_keys(loaded, results, "results")
    if decode_ms is not None:
        _check_keys(loaded, decode_ms, "decode_ms")
    rows = {}
    for label, m in loaded.items():
        res = results[label]
        row: dict[str, Any] = {"chapter": m.spec.chapter}
        for bucket, scores in res["by_bucket"].items():
            row[f"EM {bucket}"] = round(scores["exact_match"], digits)
        row["EM all"] = round(res["overall"]["exact_match"], digits)
        row["BLEU"] = round(res["overall"]["bleu"], digits)
        row["parameters"] = count_parameters(m.model)
        row["train steps (card)"] = m.card.get("steps")
        batch = card_batch_size(m.card)
        row["batch (card)"] = "–" if batch is None else batch
        row["train wall s (card)"] = m.card.get("wall_time_s")
        if decode_ms is not None:
            row["decode ms/sentence"] = round(decode_ms[label], 2)
        rows[label] = row
    return pd.DataFrame.from_dict(rows, orient="index")


# ---------------------------------------------------------------------------------------------- (b) the copy task

def _load_copy(spec: ModelSpec, directory) -> Loaded:
    model, card = checkpoints.load(spec.checkpoint, spec.build, directory=directory)
    return Loaded(spec, model, card)


def load_copy_models(*, names: Sequence[str] | None = None, directory=None) -> dict[str, Loaded]:
    """Load the shipped copy-task checkpoints (all of ``COPY_MODELS``, or the checkpoint ``names``); keyed by label."""
    return {s.label: _load_copy(s, directory) for s in _select(COPY_MODELS, names)}


def evaluate_copy_models(loaded: Mapping[str, Loaded], *, lengths: Sequence[int] = COPY_LENGTHS,
                         sequences: int = 100, seed: int = 2027) -> dict[str, dict[int, float]]:
    """Bit error rate (wrong bits / all bits, outputs thresholded at 1/2) of every model at each length, on the same
    seeded sequences for every model (``e2t.recipes.copy_task.evaluate_copy``).

    Shapes: each length L feeds inputs (sequences, 2L + 1, 9) and scores the last L outputs (sequences, L, 8).
    """
    lengths = list(lengths)
    if not lengths or any(int(L) != L or L < 1 for L in lengths):
        raise ValueError(f"lengths must be positive integers, got {lengths}")
    if sequences < 1:
        raise ValueError(f"sequences must be >= 1, got {sequences}")
    return {label: {L: r["bit_error_rate"] for L, r in
                    evaluate_copy(m.model, lengths=lengths, sequences=sequences, seed=seed).items()}
            for label, m in loaded.items()}


def _first_below_at(card: Mapping[str, Any]) -> int | str:
    """Sequences seen when the training cost first fell below 0.01 wrong bits per sequence (chapter 5's cost): the
    card's ``first_below_at_sequences``, or for cards written with stay=0 (where the two agree) its
    ``converged_at_sequences``. A card of several seeds (the NTM's) is read at its shipped seed's run."""
    shipped = [r for r in card.get("runs") or [] if r.get("seed") == card.get("seed")]
    for key in ("first_below_at_sequences", "converged_at_sequences"):
        for source in (*shipped, card, card.get("metrics", {})):
            if key in source:
                value = source[key]
                return "not reached" if value is None else int(value)
    return "–"


def copy_table(loaded: Mapping[str, Loaded], results: Mapping[str, Mapping[int, float]], *, digits: int = 3):
    """One row per model: chapter, bit error rate at each length, parameters (counted), and from the card: training
    sequences, the sequences seen when the cost first fell below 0.01 wrong bits per sequence (chapter 5's
    convergence rule; "not reached" if never), training wall time and the card's note.
    """
    _check_keys(loaded, results, "results")
    rows = {}
    for label, m in loaded.items():
        row: dict[str, Any] = {"chapter": m.spec.chapter}
        for L, ber in results[label].items():
            row[f"BER L={L}"] = round(ber, digits)
        row["parameters"] = count_parameters(m.model)
        row["train sequences (card)"] = m.card.get("sequences_seen", m.card.get("sequences"))
        row["first below 0.01 at (card)"] = _first_below_at(m.card)
        row["train wall s (card)"] = m.card.get("wall_time_s")
        row["card note"] = card_note(m.card) or "–"
        rows[label] = row
    return pd.DataFrame.from_dict(rows, orient="index")


# ---------------------------------------------------------------------------------------------- plots

def plot_translation(results: Mapping[str, Mapping[str, Any]], *, ax=None):
    """Share of test sentences translated wrongly (1 - exact match) by source-length bucket, one marker per model,
    on a log axis; a bucket a model translates without an error sits on the "none wrong" line at the bottom.
    Models are set side by side within each bucket so equal values do not hide each other. Returns the figure.
    """
    if not results:
        raise ValueError("results is empty")
    labels = [bucket_label(b) for b in DEFAULT_BUCKETS]
    first = next(iter(results.values()))["by_bucket"]
    sizes = [int(first[b].get("n", 0)) for b in labels]
    largest = max(sizes) or 1
    floor = 0.4 / largest  # below the smallest non-zero share, one error in the largest bucket
    if ax is None:
        _, ax = plt.subplots(figsize=(7.0, 4.6))
    ax.axhspan(floor / 1.6, floor * 1.6, color="0.92", zorder=0)
    x = np.arange(len(labels))
    offsets = np.linspace(-0.3, 0.3, len(results)) if len(results) > 1 else np.zeros(1)
    markers = "osD^vP*Xh"
    for k, (name, res) in enumerate(results.items()):
        wrong = np.array([1.0 - res["by_bucket"][b]["exact_match"] for b in labels])
        shown = np.where(wrong > 0, wrong, floor)
        ax.plot(x + offsets[k], shown, marker=markers[k % len(markers)], ms=7, lw=1.0, alpha=0.9, label=name)
    ax.set_yscale("log")
    ticks = [t for t in (0.001, 0.01, 0.1, 1.0) if t > floor * 1.6]
    ax.yaxis.set_major_locator(FixedLocator([floor, *ticks]))
    ax.yaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: "none wrong" if v == floor else f"{100 * v:g} %"))
    ax.set_ylim(floor / 1.6, 1.3)
    ax.set_xticks(x, [f"{lab}\n(n = {n})" for lab, n in zip(labels, sizes)])
    ax.set_xlabel("English source length in words (test numbers per bucket)")
    ax.set_ylabel("translated wrongly (1 - exact match)")
    ax.grid(axis="y", alpha=0.3)
    for boundary in x[:-1] + 0.5:
        ax.axvline(boundary, color="0.85", lw=0.8, zorder=0)
    ax.legend(fontsize=MIN_FONT, loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=3, frameon=False)
    ax.set_title("translation, greedy decoding: share wrong by source length (log scale)")
    readable(ax.figure)
    ax.figure.tight_layout()
    return ax.figure


def plot_copy(results: Mapping[str, Mapping[int, float]], *, train_lengths: tuple[int, int] = COPY_TRAIN_LENGTHS,
              ax=None):
    """Bit error rate against sequence length (log-2 axis), one line per model, the training lengths shaded and
    chance (0.5) dashed; returns the figure.
    """

    if not results:
        raise ValueError("results is empty")
    lo, hi = train_lengths
    if not 1 <= lo <= hi:
        raise ValueError(f"train_lengths must be (lo, hi) with 1 <= lo <= hi, got {train_lengths}")
    if ax is None:
        _, ax = plt.subplots(figsize=(7.0, 4.2))
    lengths = sorted({L for r in results.values() for L in r})
    ax.axvspan(min(lo, lengths[0]) / 1.2, hi, color="0.85", label=f"training lengths {lo}-{hi}")
    ax.axhline(0.5, color="0.4", ls="--", lw=1, label="chance (0.5)")
    for name, res in results.items():
        xs = sorted(res)
        ax.plot(xs, [res[L] for L in xs], marker="o", label=name)
    ax.set_xscale("log", base=2)
    ax.set_xticks(lengths, [str(L) for L in lengths])
    ax.set_xlim(lengths[0] / 1.2, lengths[-1] * 1.2)
    ax.set_ylim(-0.02, 0.55)
    ax.set_xlabel("sequence length (log-2 scale)")
    ax.set_ylabel("bit error rate")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=MIN_FONT, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=3, frameon=False)
    ax.set_title("copy task: errors beyond the training lengths")
    readable(ax.figure)
    ax.figure.tight_layout()
    return ax.figure

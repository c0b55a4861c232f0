r"""Training curves of the shipped models, read from their cards, and the Transformer's learning-rate schedule.

A card (``data/checkpoints/NAME.json``) records how its model learned: ``curve`` (rows ``[step, training loss]``;
``[step, loss, validation exact match]`` where ``curve_columns`` says so; ``[sequences, cost in bits, wrong bits]``
for the copy task), ``valid_curve`` (``[{step, valid_exact_match}]``), ``valid`` (the validation scores at the end,
or a list of evaluations) and, for runs with several seeds, ``runs[i]["curve"]`` and ``runs[i]["valid"]``.
``training_curves`` draws whatever a card holds (loss on the left axis, validation exact match on the right); the
helpers below draw the book's comparisons. A card without the key a plot needs raises ``MissingKeyError`` naming
the card, the key and the command that rewrites the card.

Introduced in: chapter 2.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from e2t.recipes.transformer import TASK_CONFIG, TASK_TRAINING, warmup_decay
from e2t.train.checkpoints import read_card
from e2t.viz.plot import MIN_FONT

__all__ = ["MissingKeyError", "load_card", "card_value", "training_curves", "compare_curves", "seq2seq_curves",
           "rnnsearch_fig2_curves", "ntm_curves", "transformer_curves", "lr_schedule", "SEQ2SEQ_CARDS"]

#: The seq2seq settings of chapter 2, one card each (every card holds three seeds in ``runs``).
SEQ2SEQ_CARDS = ("seq2seq_rnn", "seq2seq_gru", "seq2seq_lstm", "seq2seq_gru_reversed", "seq2seq_gru_twice")
_COPY_COLUMNS = ("sequences", "cost (bits per sequence)", "wrong bits per sequence")
_VALID = "validation exact match"


class MissingKeyError(KeyError):
    """A card lacks a key a plot needs (the message names the card, the key and how to rewrite the card)."""

    def __str__(self) -> str:
        return str(self.args[0])


def load_card(card_or_name: Mapping[str, Any] | str, *, directory=None) -> tuple[str, dict[str, Any]]:
    """``(name, card)`` for a card given as a dict or by its checkpoint name (read from ``directory``)."""
    if isinstance(card_or_name, str):
        card = read_card(card_or_name, directory=directory)
        return str(card.get("name", card_or_name)), card
    if isinstance(card_or_name, Mapping):
        return str(card_or_name.get("name", "<unnamed card>")), dict(card_or_name)
    raise TypeError(f"give a card (a dict) or a checkpoint name, got {type(card_or_name).__name__}")


def card_value(card: Mapping[str, Any], name: str, *path: str | int) -> Any:
    """``card[path[0]][path[1]]...``, or a ``MissingKeyError`` that names the card and the missing key."""
    value: Any = card
    where = ""
    for key in path:
        where += f"[{key!r}]"
        try:
            value = value[key]
        except (KeyError, IndexError, TypeError):
            command = card.get("command", "python -m e2t.jobs ...")
            raise MissingKeyError(f"card {name!r} has no {where}; it was written before this key existed. Rewrite "
                                  f"it with `{command}` (make checkpoints)") from None
    return value


def _rows(card, name: str, *path: str | int) -> np.ndarray:
    """A curve as a float array (points, columns), checked to have at least two columns."""
    rows = card_value(card, name, *path)
    try:
        a = np.asarray(rows, dtype=float)
    except (TypeError, ValueError):
        a = np.zeros((0, 0))
    if a.ndim != 2 or a.shape[0] == 0 or a.shape[1] < 2:
        where = "".join(f"[{k!r}]" for k in path)
        raise ValueError(f"card {name!r}: {where} must be a non-empty list of [x, y, ...] rows, got {rows!r:.80}")
    return a


def _columns(card, n: int) -> tuple[str, ...]:
    if "curve_columns" in card:
        return tuple(card["curve_columns"])
    return _COPY_COLUMNS[:n] if n == 3 else ("step", "training loss", *[f"column {i}" for i in range(2, n)])


def _exact_match(result) -> float | None:
    """The exact match of an evaluation: ``{"exact_match": x}`` or ``{"overall": {"exact_match": x}}``."""
    if isinstance(result, Mapping):
        if "exact_match" in result:
            return float(result["exact_match"])
        if isinstance(result.get("overall"), Mapping) and "exact_match" in result["overall"]:
            return float(result["overall"]["exact_match"])
    return None


def _style(ax: plt.Axes, *, xlabel: str, ylabel: str, title: str | None = None, logy: bool = False) -> None:
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel, fontsize=MIN_FONT + 1)
    ax.set_ylabel(ylabel, fontsize=MIN_FONT + 1)
    ax.tick_params(labelsize=MIN_FONT)
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title, fontsize=MIN_FONT + 2)


def _valid_axis(ax: plt.Axes) -> plt.Axes:
    twin = ax.twinx()
    twin.set_ylim(-0.02, 1.02)
    twin.set_ylabel(_VALID, fontsize=MIN_FONT + 1)
    twin.tick_params(labelsize=MIN_FONT)
    return twin


def _legend(ax: plt.Axes, *others: plt.Axes, **kw) -> None:
    handles, labels = [], []
    for a in (ax, *others):
        h, lab = a.get_legend_handles_labels()
        handles += h
        labels += lab
    ax.legend(handles, labels, fontsize=MIN_FONT, **kw)


def _new_axes(ax: plt.Axes | None, size=(8.0, 3.8)) -> tuple[Figure, plt.Axes]:
    if ax is None:
        fig, ax = plt.subplots(figsize=size)
        return fig, ax
    return ax.figure, ax


def training_curves(card_or_name: Mapping[str, Any] | str, *, directory=None, ax: plt.Axes | None = None,
                    title: str | None = None, logy: bool = True) -> Figure:
    """One card's training loss (the copy task: cost in bits) against steps (or sequences), and its validation
    exact match on a second axis where the card records it (a curve, or one point at the end of training). A card
    with ``runs`` draws one line per seed. Returns the figure.
    """
    name, card = load_card(card_or_name, directory=directory)
    fig, ax = _new_axes(ax)
    valid_ax = None
    if "curve" in card or "runs" not in card:  # one curve (a card with neither fails here, naming "curve")
        series = [(_rows(card, name, "curve"), None, card)]
    else:  # one curve per seed
        series = [(_rows(card, name, "runs", i, "curve"), f"seed {run.get('seed', i)}", run)
                  for i, run in enumerate(card_value(card, name, "runs"))]
    if not series:
        raise ValueError(f"card {name!r}: ['runs'] is empty")
    cols = _columns(card, series[0][0].shape[1])
    several = len(series) > 1  # then lines are labelled by seed, and the line styles get one grey entry each
    styles = {}
    for k, (a, seed, run) in enumerate(series):
        color = f"C{k}"
        ax.plot(a[:, 0], a[:, 1], color=color, label=seed if several else cols[1])
        for j in (j for j in range(2, a.shape[1]) if "validation" in cols[j]):  # other columns: see ntm_curves
            valid_ax = valid_ax or _valid_axis(ax)
            valid_ax.plot(a[:, 0], a[:, j], color=color, ls="--", marker="o", ms=4, label=None if several else cols[j])
            styles[cols[j]] = {"ls": "--", "marker": "o", "ms": 4}
        em = _exact_match(run.get("valid"))
        if em is not None:  # one validation score, at the end of training
            valid_ax = valid_ax or _valid_axis(ax)
            label = f"{_VALID} (end of training)"
            valid_ax.plot([a[-1, 0]], [em], color=color, marker="*", ms=12, ls="none",
                          label=None if several else f"{label}: {em:.3f}")
            styles[label] = {"ls": "none", "marker": "*", "ms": 12}
    if several:
        for label, style in styles.items():
            ax.plot([], [], color="0.35", label=label, **style)
    if "valid_curve" in card:
        points = card_value(card, name, "valid_curve")
        key = next((k for k in (points[0] if points else {}) if k.startswith("valid")), None)
        if key is None:
            card_value(card, name, "valid_curve", 0, "valid_exact_match")  # raises, naming the key
        valid_ax = valid_ax or _valid_axis(ax)
        valid_ax.plot([p["step"] for p in points], [p[key] for p in points], color="C3", ls="--", marker="o",
                      ms=5, label=_VALID if key == "valid_exact_match" else key.replace("_", " "))
    _style(ax, xlabel=cols[0], ylabel=cols[1], title=title or f"{name}: training", logy=logy)
    _legend(ax, *([valid_ax] if valid_ax else []), loc="upper center", bbox_to_anchor=(0.5, -0.2),
            ncol=2 if len(series) < 3 else 4, frameon=False)
    fig.tight_layout()
    return fig


def compare_curves(names: Sequence[Mapping[str, Any] | str], *, labels: Sequence[str] | None = None,
                   directory=None, ax: plt.Axes | None = None, title: str | None = None,
                   logy: bool = True) -> Figure:
    """The training loss of several cards (each with a top-level ``curve``) on one axis, e.g. GPT and BERT, or
    Luong's three attentions; a card's validation exact match at the end (``valid``), where recorded, goes in its
    legend entry. Returns the figure.

    Introduced in: chapter 4.
    """
    if labels is not None and len(labels) != len(names):
        raise ValueError(f"labels has {len(labels)} entries but names has {len(names)}")
    fig, ax = _new_axes(ax)
    xlabel = "step"
    for k, item in enumerate(names):
        name, card = load_card(item, directory=directory)
        a = _rows(card, name, "curve")
        xlabel = _columns(card, a.shape[1])[0]
        em = _exact_match(card.get("valid"))
        label = (labels[k] if labels else name) + ("" if em is None else f" (validation exact match {em:.3f})")
        ax.plot(a[:, 0], a[:, 1], color=f"C{k}", label=label)
    _style(ax, xlabel=xlabel, ylabel="training loss", title=title or "training loss", logy=logy)
    _legend(ax)
    fig.tight_layout()
    return fig


def seq2seq_curves(names: Sequence[str] = SEQ2SEQ_CARDS[:3], *, directory=None, ax: plt.Axes | None = None,
                   logy: bool = True) -> Figure:
    """Chapter 2's settings: the training loss of every seed (``runs[i]["curve"]``), one colour per setting, and
    the mean validation exact match of the seeds (``runs[i]["valid"]``) in the legend. Returns the figure.
    """
    fig, ax = _new_axes(ax)
    for k, item in enumerate(names):
        name, card = load_card(item, directory=directory)
        runs = card_value(card, name, "runs")
        scores = []
        for i in range(len(runs)):
            a = _rows(card, name, "runs", i, "curve")
            em = _exact_match(card_value(card, name, "runs", i, "valid"))
            if em is None:
                card_value(card, name, "runs", i, "valid", "overall", "exact_match")  # raises, naming the key
            scores.append(em)
            label = f"{name.removeprefix('seq2seq_')}: valid EM {np.mean(scores):.2f} ({len(runs)} seeds)"
            ax.plot(a[:, 0], a[:, 1], color=f"C{k}", alpha=0.85, lw=1.3,
                    label=label if i == len(runs) - 1 else None)
    _style(ax, xlabel="step", ylabel="training loss", title="seq2seq: training loss, every seed", logy=logy)
    _legend(ax)
    fig.tight_layout()
    return fig


def rnnsearch_fig2_curves(card: Mapping[str, Any] | str = "rnnsearch_fig2", *, directory=None,
                          buckets: Sequence[str] = ("overall", "21+")) -> Figure:
    """Bahdanau et al.'s Fig. 2 on the number task: validation exact match against training steps for RNNenc (the
    fixed vector) and RNNsearch (attention), every seed (``runs[i]["valid"]``), one panel per source-length
    bucket (``"overall"`` for all of them). Returns the figure.

    Introduced in: chapter 3.
    """
    name, card = load_card(card, directory=directory)
    runs = card_value(card, name, "runs")
    fig, axes = plt.subplots(1, len(buckets), figsize=(min(11.0, 4.6 * len(buckets) + 0.6), 3.8), sharey=True,
                             squeeze=False)
    models = sorted({str(r.get("model", "?")) for r in runs})
    for ax, bucket in zip(axes[0], buckets):
        for i, run in enumerate(runs):
            evals = card_value(card, name, "runs", i, "valid")
            path = ("overall",) if bucket == "overall" else ("by_bucket", bucket)
            ys = [card_value(e, name, *path, "exact_match") for e in evals]
            steps = [card_value(e, name, "step") for e in evals]
            seed = run.get("seed", i)
            ax.plot(steps, ys, color=f"C{models.index(str(run.get('model', '?')))}", marker="o", ms=3,
                    ls="-" if seed == min(r.get("seed", 0) for r in runs) else "--",
                    label=f"{run.get('model', '?')} seed {seed}")
        _style(ax, xlabel="training step", ylabel=_VALID if bucket == buckets[0] else "",
               title="all sources" if bucket == "overall" else f"sources of {bucket} words")
        ax.set_ylim(-0.02, 1.02)
    _legend(axes[0, -1], loc="lower right")
    fig.tight_layout()
    return fig


def ntm_curves(card: Mapping[str, Any] | str = "ntm_copy", *, baseline: Mapping[str, Any] | str | None = "lstm_copy",
               directory=None, ax: plt.Axes | None = None, column: int = 1) -> Figure:
    """The copy task's learning curves (Graves et al.'s Fig. 3): the NTM's cost per sequence for every seed
    (``runs[i]["curve"]``; the shipped seed drawn thicker) and the LSTM baseline's (``curve``), against sequences
    seen. ``column=2`` plots wrong bits per sequence instead of the cost in bits. Returns the figure.

    Introduced in: chapter 5.
    """
    if column not in (1, 2):
        raise ValueError(f"column must be 1 (cost in bits) or 2 (wrong bits), got {column}")
    name, card = load_card(card, directory=directory)
    fig, ax = _new_axes(ax)
    runs = card_value(card, name, "runs")
    for i, run in enumerate(runs):
        a = _rows(card, name, "runs", i, "curve")
        shipped = run.get("seed") == card.get("seed")
        ax.plot(a[:, 0], a[:, column], color=f"C{i}", lw=2.2 if shipped else 1.2,
                label=f"NTM seed {run.get('seed', i)}" + (" (shipped)" if shipped else ""))
    if baseline is not None:
        base_name, base = load_card(baseline, directory=directory)
        a = _rows(base, base_name, "curve")
        ax.plot(a[:, 0], a[:, column], color="0.45", lw=1.4, label=f"LSTM ({base_name})")
    ax.set_xscale("log")
    _style(ax, xlabel="sequences seen (log scale)", ylabel=_COPY_COLUMNS[column] + " (log scale)",
           title="copy task: learning curves", logy=True)
    _legend(ax, loc="lower left")
    fig.tight_layout()
    return fig


def transformer_curves(card: Mapping[str, Any] | str = "transformer_numbers", *, directory=None) -> Figure:
    """The Transformer's training: loss and validation exact match (``curve``, ``valid_curve``) on the left, the
    learning rate it was trained with (``lr_factor_every_1pct`` times ``training["lr"]``) on the right.

    Introduced in: chapter 6.
    """
    name, card = load_card(card, directory=directory)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11.0, 3.8), gridspec_kw={"width_ratios": [1.6, 1]})
    card_value(card, name, "valid_curve")  # the left panel must show validation too
    training_curves(card, ax=left, title=f"{name}: loss and validation")
    factors = card_value(card, name, "lr_factor_every_1pct")
    steps, lr = card_value(card, name, "training", "steps"), card_value(card, name, "training", "lr")
    every = max(1, steps // 100)
    right.plot([every * i for i in range(len(factors))], [lr * f for f in factors], color="C2")
    _style(right, xlabel="step", ylabel="learning rate", title="learning rate (from the card)")
    fig.tight_layout()
    return fig


def lr_schedule(warmup: int = TASK_TRAINING["warmup"], total: int = TASK_TRAINING["steps"], *,
                lr: float = TASK_TRAINING["lr"], d_model: int = TASK_CONFIG["d_model"], paper: bool = True,
                ax: plt.Axes | None = None) -> Figure:
    r"""The book's Transformer schedule, ``lr * warmup_decay(step, warmup, total)`` (linear warmup, cosine decay to
    0), and with ``paper`` the paper's $d_{model}^{-0.5} \min(step^{-0.5}, step \cdot warmup^{-1.5})$ for the
    same warmup and width (Vaswani et al. 2017, eq. 3). Returns the figure.

    Introduced in: chapter 6.
    """
    if not (isinstance(warmup, int) and isinstance(total, int) and 0 < warmup < total):
        raise ValueError(f"need integers 0 < warmup < total, got warmup={warmup!r}, total={total!r}")
    fig, ax = _new_axes(ax, size=(8.0, 3.6))
    steps = list(range(total))
    ax.plot(steps, [lr * warmup_decay(s, warmup=warmup, total=total) for s in steps], color="C0", lw=2,
            label=f"this book: {lr:g} × warmup_decay (linear warmup, cosine decay)")
    if paper:
        ax.plot(steps, [d_model ** -0.5 * min((s + 1) ** -0.5, (s + 1) * warmup ** -1.5) for s in steps],
                color="C1", ls="--", lw=2,
                label=r"paper: $d_{model}^{-0.5}\,\min(step^{-0.5},\ step \cdot warmup^{-1.5})$, " f"$d_{{model}}={d_model}$")
    ax.axvline(warmup, color="0.5", ls=":", lw=1.2, label=f"end of warmup (step {warmup})")
    _style(ax, xlabel="training step", ylabel="learning rate", title="Transformer learning-rate schedules")
    ax.set_ylim(bottom=0)
    _legend(ax, loc="upper right")
    fig.tight_layout()
    return fig


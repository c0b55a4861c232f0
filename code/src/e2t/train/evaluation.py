"""Scoring a translator on the number task: exact match, token accuracy and BLEU, overall and by source length.

``evaluate(translate_fn, examples)`` works with any model: ``translate_fn(list_of_examples) -> list of token
lists``. The by-length buckets are what shows the fixed-vector bottleneck (chapter 2) and what attention fixes
(chapter 3). ``summary_table`` turns several runs (e.g. three seeds per setting) into a mean ± std table.

Introduced in: chapter 2.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd
import torch
from torch import nn

from e2t.data.text import LENGTH_BUCKETS, Example, NumberTask, collate
from e2t.data.word_alignment import gold_alignment
from e2t.train import metrics

__all__ = ["DEFAULT_BUCKETS", "METRICS", "bucket_label", "evaluate", "by_bucket_table", "summary_table",
           "mean_std", "to_markdown", "alignment_accuracy"]

#: Source-length buckets (inclusive; ``None`` = no upper end) covering the task's 1..23 English words.
DEFAULT_BUCKETS: tuple[tuple[int, int | None], ...] = LENGTH_BUCKETS

#: The metrics ``evaluate`` reports, all in [0, 1] (BLEU is divided by 100 to match).
METRICS = ("exact_match", "token_accuracy", "bleu")

Translate = Callable[[list[Example]], list[list[str]]]


def bucket_label(bucket: tuple[int, int | None]) -> str:
    """``(6, 10)`` -> ``"6-10"``, ``(21, None)`` -> ``"21+"``.
    """
    lo, hi = bucket
    return f"{lo}+" if hi is None else f"{lo}-{hi}"


def _scores(hyps: Sequence[Sequence[str]], refs: Sequence[Sequence[str]]) -> dict[str, float]:
    if not refs:  # nothing to score: defined zeros, flagged by n = 0 (as e2t.train.metrics does)
        return {"n": 0, "exact_match": 0.0, "token_accuracy": 0.0, "bleu": 0.0}
    return {"n": len(refs),
            "exact_match": metrics.exact_match(hyps, refs),
            "token_accuracy": metrics.token_accuracy(hyps, refs),
            "bleu": metrics.corpus_bleu(hyps, refs) / 100.0}


def evaluate(translate_fn: Translate, examples: Sequence[Example], *,
             buckets: Sequence[tuple[int, int | None]] = DEFAULT_BUCKETS, max_source_len: int | None = None,
             return_hypotheses: bool = False) -> dict[str, Any]:
    """Translate ``examples`` and score the output against their targets.

    Returns ``{"overall": {...}, "by_bucket": {"1-5": {...}, ...}}`` where each ``{...}`` holds ``n``,
    ``exact_match``, ``token_accuracy`` and ``bleu`` (corpus BLEU / 100, from sacrebleu via ``e2t.train.metrics``). A
    bucket is a range of English source lengths (in words, before any reversal or doubling); an empty bucket has
    ``n = 0`` and scores 0.0 (nothing to score; check ``n``). ``max_source_len`` keeps only examples up to that length
    (e.g. 10 for the chapter's acceptance test); ``return_hypotheses`` adds the translations.
    """
    examples = list(examples)
    if max_source_len is not None:
        examples = [e for e in examples if len(e.src) <= max_source_len]
    if not examples:
        raise ValueError("examples is empty (after the max_source_len filter)")
    for lo, hi in buckets:
        if lo < 1 or (hi is not None and hi < lo):
            raise ValueError(f"bad bucket {(lo, hi)}: need 1 <= lo <= hi")
    hyps = [list(h) for h in translate_fn(examples)]
    if len(hyps) != len(examples):
        raise ValueError(f"translate_fn returned {len(hyps)} outputs for {len(examples)} examples")
    refs = [list(e.tgt) for e in examples]
    result: dict[str, Any] = {"overall": _scores(hyps, refs), "by_bucket": {}}
    for lo, hi in buckets:
        idx = [i for i, e in enumerate(examples) if lo <= len(e.src) and (hi is None or len(e.src) <= hi)]
        result["by_bucket"][bucket_label((lo, hi))] = _scores([hyps[i] for i in idx], [refs[i] for i in idx])
    if return_hypotheses:
        result["hypotheses"] = hyps
    return result


def by_bucket_table(results: Mapping[str, Mapping[str, Any]], *, metric: str = "exact_match"):
    """One row per run name, one column per bucket (plus ``all``): ``metric`` from ``evaluate`` results."""
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
    rows = {}
    for name, res in results.items():
        row = {label: scores[metric] for label, scores in res["by_bucket"].items()}
        row["all"] = res["overall"][metric]
        rows[name] = row
    return pd.DataFrame.from_dict(rows, orient="index")


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value); ``values`` must hold a number."""
    vals = [float(v) for v in values]
    if not vals or any(math.isnan(v) for v in vals):
        raise ValueError(f"values must be a non-empty list of numbers, got {list(values)!r}")
    return statistics.fmean(vals), (statistics.stdev(vals) if len(vals) > 1 else 0.0)


def summary_table(runs: Mapping[str, Sequence[Mapping[str, Any]]], *, columns: Sequence[str] | None = None,
                  digits: int = 3):
    """Mean ± std over seeds: ``runs`` maps a setting name to its runs' ``evaluate`` results.

    ``columns`` are ``"exact_match"``-style overall metrics or ``"exact_match@6-10"``-style bucket metrics
    (default: the three overall metrics). Cells are strings ``"0.912 ± 0.004"``.
    """
    columns = list(columns or METRICS)
    table = {}
    for name, results in runs.items():
        if not results:
            raise ValueError(f"setting {name!r} has no runs")
        row = {}
        for col in columns:
            metric, _, bucket = col.partition("@")
            if metric not in METRICS:
                raise ValueError(f"column {col!r}: metric must be one of {METRICS}")
            vals = [r["by_bucket"][bucket][metric] if bucket else r["overall"][metric] for r in results]
            m, s = mean_std(vals)
            row[col] = f"{m:.{digits}f} ± {s:.{digits}f}"
        row["seeds"] = len(results)
        table[name] = row
    return pd.DataFrame.from_dict(table, orient="index")


def to_markdown(frame, *, digits: int = 3) -> str:
    """A pandas table as a Markdown string (numbers rounded), without needing the ``tabulate`` package."""
    cols = [str(c) for c in frame.columns]
    lines = ["| | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    for name, row in frame.iterrows():
        cells = [f"{v:.{digits}f}" if isinstance(v, float) else str(v) for v in row.tolist()]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


@torch.no_grad()
def alignment_accuracy(model: nn.Module, task: NumberTask, examples: Sequence[Example], *,
                       batch_size: int = 500) -> float:
    """How often the attention's largest weight falls on the source word the target word translates.

    The model reads the reference under teacher forcing (``forward(..., return_weights=True)``); for every target
    morpheme that has an English counterpart (``e2t.data.word_alignment.gold_alignment``; "und" has none) the weight row that
    predicts it is compared with the gold source position. Returns the share of hits over all such morphemes.
    """
    model.eval()
    hits = total = 0
    for first in range(0, len(examples), batch_size):
        chunk = list(examples[first:first + batch_size])
        b = collate(chunk, task)
        _, weights = model(b.src, b.src_lengths, b.tgt_in, return_weights=True)  # (B, T, S)
        best = weights.argmax(dim=-1)  # (B, T)
        for i, e in enumerate(chunk):
            for t, j in enumerate(gold_alignment(e)):
                if j is not None:
                    hits += int(best[i, t]) == j
                    total += 1
    if total == 0:
        raise ValueError("examples hold no alignable target word")
    return hits / total

"""One decoder, six scores (and three attentions): chapter 4's training study on the book's number task.

Every run trains the same attentional encoder-decoder (``e2t.local_attention.LuongTranslator``: a bidirectional GRU
encoder, a GRU decoder whose state $h_t$ queries the encoder states) with the same data order, optimiser and number
of steps; only the alignment score (one of ``e2t.scores.SCORE_NAMES``) or the attention's reach (global, local-m,
local-p; ``e2t.local_attention.MODES``) changes. Each run is scored on the whole test split with greedy decoding:
exact match overall, on long sources (``LONG`` words or more) and by source-length bucket; the card also records
the parameter count and the milliseconds per training step.

Results are a card only (``data/checkpoints/ch4_score_study.json``, no weights): ``checkpoint_job`` writes it and
``load_study`` / ``results_table`` read it.

Why this decoder and not chapter 3's RNNsearch: Luong's decoder attends with the *current* state $h_t$, so under
teacher forcing all target steps run at once, several times faster on a CPU than RNNsearch's step-by-step loop (18+
trainings have to fit the machine); and the scores of the table's Luong rows (location, general, dot) are defined
with $h_t$ in the first place.

Introduced in: chapter 4.
"""

from __future__ import annotations

import json
import math
import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .data.text import NumberTask, number_task
from .local_attention import MODES, train_luong, translator
from .scores import SCORE_NAMES

__all__ = ["SEEDS", "STEPS", "LONG", "CARD", "run_one", "settings", "checkpoint_job", "load_study",
           "results_table", "mean_exact_match"]

#: The study's seeds, steps and the shortest source counted as "long".
SEEDS = (0, 1, 2)
STEPS = 300
LONG = 16
#: How many test numbers each run is scored on (the first ones of the test split).
N_TEST = 1000
#: The card's name in ``data/checkpoints``.
CARD = "ch4_score_study"


def settings() -> list[tuple[str, str]]:
    """The study's (mode, score) pairs: global attention with each of the six scores, then local-m and local-p
    with the general score (global + general is shared by both comparisons).

    Introduced in: chapter 4.
    """
    return [("global", s) for s in SCORE_NAMES] + [(m, "general") for m in MODES if m != "global"]


def run_one(mode: str, score: str, seed: int, *, steps: int = STEPS, task: NumberTask | None = None,
            n_test: int | None = None) -> dict[str, Any]:
    """Train one (mode, score, seed) and score it on the test split (its first ``n_test`` examples if given).

    Returns a JSON-able record: exact match overall / on long sources / by bucket, token accuracy, parameters,
    ms per training step, final loss and a coarse loss curve.

    Introduced in: chapter 4.
    """
    from . import metrics
    from .evaluation import evaluate

    task = task or number_task()
    start = time.perf_counter()
    model, history = train_luong(mode=mode, score=score, seed=seed, steps=steps, task=task)
    train_s = time.perf_counter() - start
    examples = list(task.test if n_test is None else task.test[:n_test])
    result = evaluate(translator(model, task), examples, return_hypotheses=True)
    long_idx = [i for i, e in enumerate(examples) if len(e.src) >= LONG]
    hyps = result["hypotheses"]
    long_em = (metrics.exact_match([hyps[i] for i in long_idx], [list(examples[i].tgt) for i in long_idx])
               if long_idx else 0.0)
    smooth = history.smoothed(25)
    return {"mode": mode, "score": score, "seed": seed, "steps": len(history.steps),
            "parameters": sum(p.numel() for p in model.parameters()),
            "ms_per_step": round(1000 * train_s / len(history.steps), 1),
            "final_loss": round(smooth[-1], 4),
            "loss_curve": [round(x, 4) for x in smooth[::10]],
            "exact_match": round(result["overall"]["exact_match"], 4),
            "token_accuracy": round(result["overall"]["token_accuracy"], 4),
            "exact_match_long": round(long_em, 4), "n_long": len(long_idx), "n_test": len(examples),
            "by_bucket": {k: round(v["exact_match"], 4) for k, v in result["by_bucket"].items()}}


def _run(args: tuple) -> dict[str, Any]:
    mode, score, seed, steps, n_test = args
    import e2t

    e2t.set_seed(seed)  # one torch thread per worker
    return run_one(mode, score, seed, steps=steps, n_test=n_test)


def checkpoint_job(*, quick: bool = False, directory=None, seeds: Sequence[int] = SEEDS, steps: int = STEPS,
                   workers: int = 1, n_test: int | None = N_TEST) -> dict[str, Any]:
    """Run every setting of ``settings()`` with every seed and write the card ``ch4_score_study.json``.

    The card is rewritten after every finished run (``"complete": false`` until the last), so a stopped study
    keeps what it measured. ``workers > 1`` trains in that many processes at once. ``quick=True`` (tests) runs 3 steps of one seed,
    scores 40 test examples and must write to ``directory``. Each run is scored on the first ``n_test``
    test numbers (all 2,000 with ``None``). Returns the card.

    Introduced in: chapter 4.
    """
    from .checkpoints import checkpoint_paths

    if quick and directory is None:
        raise ValueError("quick=True must write to a directory of its own")
    if quick:
        seeds, steps, n_test = tuple(seeds)[:1], 3, 40
    # seed-major order: every setting of the first seed before any of the next (a stopped run still has a table)
    jobs = [(mode, score, seed, steps, n_test) for seed in seeds for mode, score in settings()]
    _, path = checkpoint_paths(CARD, directory)
    path.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    runs: list[dict[str, Any]] = []

    def write(complete: bool) -> dict[str, Any]:
        done = [m_s for m_s in settings() if any(r["mode"] == m_s[0] and r["score"] == m_s[1] for r in runs)]
        card = {"name": CARD, "command": f"python -m e2t.jobs score_study  # workers={workers}",
                "seed": sorted({r["seed"] for r in runs}), "steps": steps,
                "wall_time_s": round(time.perf_counter() - start, 1), "complete": complete,
                "note": ("ms_per_step measured while 2 CPU cores were shared with other jobs (one torch thread per "
                         f"run, {workers} runs at a time): compare the rows with each other, not with other machines"),
                "train": {"batch_size": 64, "lr": 3e-3, "schedule": "cosine decay to lr/20", "optimizer": "Adam",
                          "decoder": "e2t.local_attention.LuongTranslator (d_emb 64, d_hidden 128)"},
                "long": LONG, "runs": runs,
                "metrics": {f"{m}/{s}": round(statistics.fmean(r["exact_match"] for r in runs
                                                               if r["mode"] == m and r["score"] == s), 4)
                            for m, s in done}}
        path.write_text(json.dumps(card, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        return card

    if workers > 1:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn")) as pool:
            for run in pool.map(_run, jobs):  # in job order; the card is rewritten after every finished run
                runs.append(run)
                write(False)
    else:
        for job in jobs:
            runs.append(_run(job))
            write(False)
    return write(True)


def load_study(*, directory=None) -> dict[str, Any]:
    """Read the study's card.

    Introduced in: chapter 4.
    """
    from .checkpoints import read_card

    return read_card(CARD, directory=directory)


def _mean_std(values: list[float]) -> tuple[float, float]:
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def results_table(card: dict[str, Any], *, modes: Sequence[str] = ("global",), by: str = "score"):
    """A pandas table, one row per setting: exact match (mean ± std over seeds) overall and on long sources,
    parameters and ms per training step (mean). ``modes`` picks the rows (global: the six scores; all three modes
    with ``by="mode"`` for the global-vs-local comparison, general score).

    Introduced in: chapter 4.
    """
    import pandas as pd

    if by not in ("score", "mode"):
        raise ValueError(f"by must be 'score' or 'mode', got {by!r}")
    rows = {}
    for mode, score in settings():
        if mode not in modes or (by == "mode" and score != "general"):
            continue
        runs = [r for r in card["runs"] if r["mode"] == mode and r["score"] == score]
        if not runs:
            continue
        em, em_sd = _mean_std([r["exact_match"] for r in runs])
        lg, lg_sd = _mean_std([r["exact_match_long"] for r in runs])
        rows[score if by == "score" else mode] = {
            "exact match": f"{em:.3f} ± {em_sd:.3f}", f"exact match, {card['long']}+ words": f"{lg:.3f} ± {lg_sd:.3f}",
            "parameters": runs[0]["parameters"], "ms / step": round(statistics.fmean(r["ms_per_step"] for r in runs)),
            "seeds": len(runs)}
    if not rows:
        raise ValueError(f"no runs for modes {tuple(modes)} in the card")
    return pd.DataFrame.from_dict(rows, orient="index")


def mean_exact_match(card: dict[str, Any], mode: str, score: str, *, long: bool = False) -> float:
    """Mean exact match over seeds of one setting (``long=True``: on long sources only).

    Introduced in: chapter 4.
    """
    key = "exact_match_long" if long else "exact_match"
    values = [r[key] for r in card["runs"] if r["mode"] == mode and r["score"] == score]
    if not values:
        raise ValueError(f"no runs for mode {mode!r} and score {score!r}")
    return statistics.fmean(values) if values else math.nan


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="chapter 4's score study")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument("--n-test", type=int, default=None)
    args = parser.parse_args()
    print(json.dumps(checkpoint_job(workers=args.workers, steps=args.steps, n_test=args.n_test)["metrics"], indent=1))

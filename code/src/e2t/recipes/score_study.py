"""One decoder, six scores (and three attentions): chapter 4's training study on the book's number task.

The study has two parts, each with 3 seeds and the same data order, optimiser (Adam, cosine-decayed learning rate,
gradient norm clipped at 1) and number of steps for every run:

- **scores**: chapter 3's RNNsearch (``e2t.rnnsearch``: a bidirectional GRU encoder, a GRU decoder whose previous
  state $s_{t-1}$ queries the encoder states and whose context $c_t$ feeds the next state) trained with each of the
  six alignment scores of ``e2t.scores.SCORE_NAMES``; only the score changes;
- **reach**: Luong's decoder (``e2t.luong.LuongTranslator``, the current state $h_t$ is the query) with the
  general score and global, local-m or local-p attention (``e2t.luong.MODES``); only the reach changes.

Each run is scored on the first ``N_TEST`` numbers of the test split with greedy decoding: exact match overall, on
long sources (``LONG`` words or more) and by source-length bucket, and the *alignment accuracy*: how often the
attention's largest weight falls on the source word each target word translates
(``e2t.train.evaluation.alignment_accuracy``). The card also records the parameter count and the milliseconds per
training step. Nothing is chosen: every setting trains the same steps, and all seeds are reported.

Results are a card only (``data/checkpoints/ch4_score_study.json``, no weights): ``checkpoint_job`` writes it and
``load_study`` / ``results_table`` read it.

Introduced in: chapter 4.
"""

from __future__ import annotations

import math
import multiprocessing as mp
import statistics
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pandas as pd
import torch

import e2t
from e2t.data.text import NumberTask, batches, number_task
from e2t.luong import MODES
from e2t.recipes.luong import train_luong
from e2t.rnnsearch import RNNsearchConfig, make_rnnsearch
from e2t.scores import SCORE_NAMES
from e2t.train import fit, metrics
from e2t.train.checkpoints import read_card, save_card
from e2t.train.evaluation import alignment_accuracy, evaluate
from e2t.train.losses import teacher_forced_loss
from e2t.train.translate import translator

__all__ = ["SEEDS", "STEPS", "LONG", "CARD", "DECODERS", "RNNSEARCH_SIZES", "study_config", "train_rnnsearch_study",
           "run_one", "settings", "checkpoint_job", "load_study", "results_table", "mean_exact_match"]

#: The study's seeds, steps and the shortest source counted as "long".
SEEDS = (0, 1, 2)
STEPS = 300
LONG = 16
#: How many test numbers each run is scored on (the first ones of the test split).
N_TEST = 1000
#: The card's name in ``data/checkpoints``.
CARD = "ch4_score_study"
#: The two decoders: chapter 3's RNNsearch (the scores part) and Luong's (the reach part).
DECODERS = ("rnnsearch", "luong")
#: RNNsearch's widths in the study: chapter 3's model at half its width, about Luong's decoder's size.
RNNSEARCH_SIZES = {"d_embed": 64, "d_enc": 64, "d_dec": 128, "d_attn": 64, "d_out": 128}
#: The training recipe shared by every run.
BATCH_SIZE, LR, CLIP = 64, 3e-3, 1.0


def study_config(score: str, task: NumberTask):
    """The ``RNNsearchConfig`` of the scores part for ``score`` (``RNNSEARCH_SIZES``, the task's vocabularies)."""
    return RNNsearchConfig.for_task(task, score=score, **RNNSEARCH_SIZES)


def train_rnnsearch_study(*, score: str, seed: int, steps: int = STEPS, task: NumberTask | None = None,
                          progress: bool = False):
    """Train chapter 3's RNNsearch with ``score`` under the study's recipe (the same one ``train_luong`` uses:
    batches of 64, Adam at 3e-3 decayed along a cosine to 1/20 of it, gradient norm clipped at 1).
    Returns ``(model, history)``.
    """
    if score not in SCORE_NAMES:
        raise ValueError(f"score must be one of {SCORE_NAMES}, got {score!r}")
    task = task or number_task()
    e2t.set_seed(seed)
    model = make_rnnsearch(study_config(score, task))
    stream = batches(task.train, task, batch_size=BATCH_SIZE, seed=seed, epochs=None, sort_pool=32)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps)))
    history = fit(model, teacher_forced_loss, stream, steps=steps, optimizer=opt, scheduler=sched, clip=CLIP,
                  progress=progress, desc=f"RNNsearch ({score})")
    return model, history


def settings() -> list[tuple[str, str, str]]:
    """The study's (decoder, mode, score) triples: RNNsearch (global attention) with each of the six scores, then
    Luong's decoder with the general score and each of global, local-m and local-p.
    """
    return [("rnnsearch", "global", s) for s in SCORE_NAMES] + [("luong", m, "general") for m in MODES]


def run_one(decoder: str, mode: str, score: str, seed: int, *, steps: int = STEPS, task: NumberTask | None = None,
            n_test: int | None = None) -> dict[str, Any]:
    """Train one (decoder, mode, score, seed) and score it on the test split (its first ``n_test`` examples if
    given). ``decoder="rnnsearch"`` takes global attention only.

    Returns a JSON-able record: exact match overall / on long sources / by bucket, token accuracy, alignment
    accuracy, parameters, ms per training step, final loss and a coarse loss curve.
    """
    if decoder not in DECODERS:
        raise ValueError(f"decoder must be one of {DECODERS}, got {decoder!r}")
    if decoder == "rnnsearch" and mode != "global":
        raise ValueError(f"the rnnsearch decoder attends globally; got mode={mode!r}")
    task = task or number_task()
    start = time.perf_counter()
    if decoder == "rnnsearch":
        model, history = train_rnnsearch_study(score=score, seed=seed, steps=steps, task=task)
    else:
        model, history = train_luong(mode=mode, score=score, seed=seed, steps=steps, task=task)
    train_s = time.perf_counter() - start
    examples = list(task.test if n_test is None else task.test[:n_test])
    result = evaluate(translator(model, task), examples, return_hypotheses=True)
    long_idx = [i for i, e in enumerate(examples) if len(e.src) >= LONG]
    hyps = result["hypotheses"]
    long_em = (metrics.exact_match([hyps[i] for i in long_idx], [list(examples[i].tgt) for i in long_idx])
               if long_idx else 0.0)
    smooth = history.smoothed(25)
    return {"decoder": decoder, "mode": mode, "score": score, "seed": seed, "steps": len(history.steps),
            "parameters": sum(p.numel() for p in model.parameters()),
            "ms_per_step": round(1000 * train_s / len(history.steps), 1),
            "final_loss": round(smooth[-1], 4),
            "loss_curve": [round(x, 4) for x in smooth[::10]],
            "exact_match": round(result["overall"]["exact_match"], 4),
            "token_accuracy": round(result["overall"]["token_accuracy"], 4),
            "exact_match_long": round(long_em, 4), "n_long": len(long_idx), "n_test": len(examples),
            "alignment_accuracy": round(alignment_accuracy(model, task, examples), 4),
            "by_bucket": {k: round(v["exact_match"], 4) for k, v in result["by_bucket"].items()}}


def _run(args: tuple) -> dict[str, Any]:
    decoder, mode, score, seed, steps, n_test = args
    e2t.set_seed(seed)  # one torch thread per worker
    return run_one(decoder, mode, score, seed, steps=steps, n_test=n_test)


def checkpoint_job(*, quick: bool = False, directory=None, seeds: Sequence[int] = SEEDS, steps: int = STEPS,
                   workers: int = 1, n_test: int | None = N_TEST) -> dict[str, Any]:
    """Run every setting of ``settings()`` with every seed and write the card ``ch4_score_study.json``.

    The card is rewritten after every finished run (``"complete": false`` until the last), so a stopped study
    keeps what it measured. ``workers > 1`` trains in that many processes at once. ``quick=True`` (tests) runs 3 steps of one seed,
    scores 40 test examples and must write to ``directory``. Each run is scored on the first ``n_test``
    test numbers (all 2,000 with ``None``). Returns the card.
    """
    if quick and directory is None:
        raise ValueError("quick=True must write to a directory of its own")
    if quick:
        seeds, steps, n_test = tuple(seeds)[:1], 3, 40
    # seed-major order: every setting of the first seed before any of the next (a stopped run still has a table)
    jobs = [(dec, mode, score, seed, steps, n_test) for seed in seeds for dec, mode, score in settings()]
    start = time.perf_counter()
    runs: list[dict[str, Any]] = []

    def write(complete: bool) -> dict[str, Any]:
        done = [d_m_s for d_m_s in settings() if any(_is(r, *d_m_s) for r in runs)]
        card = {"name": CARD, "command": "python -m e2t.jobs score_study" + (" (quick)" if quick else "")
                + ("" if workers == 1 else f"  # checkpoint_job(workers={workers})"),
                "seed": sorted({r["seed"] for r in runs}), "steps": steps,
                "wall_time_s": round(time.perf_counter() - start, 1), "complete": complete,
                "note": (f"one torch thread per run, {workers} run(s) at a time on a 2-core CPU; what else ran is "
                         "in ran_beside: compare ms_per_step within the card, not with other machines"),
                "selection_rule": "none: every setting trains the same fixed steps; all seeds are reported",
                "train": {"batch_size": BATCH_SIZE, "lr": LR, "clip": CLIP, "schedule": "cosine decay to lr/20",
                          "optimizer": "Adam",
                          "decoders": {"rnnsearch": f"e2t.rnnsearch.RNNsearch with {RNNSEARCH_SIZES}",
                                       "luong": "e2t.luong.LuongTranslator (d_embed 64, d_hidden 128)"}},
                "long": LONG, "runs": runs,
                "metrics": {f"{d}/{m}/{s}": round(statistics.fmean(r["exact_match"] for r in runs
                                                                   if _is(r, d, m, s)), 4)
                            for d, m, s in done}}
        save_card(CARD, card, directory=directory)
        return read_card(CARD, directory=directory)

    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn")) as pool:
            for run in pool.map(_run, jobs):  # in job order; the card is rewritten after every finished run
                runs.append(run)
                write(False)
    else:
        for job in jobs:
            runs.append(_run(job))
            write(False)
    return write(True)


def _is(run: dict[str, Any], decoder: str, mode: str, score: str) -> bool:
    return run.get("decoder") == decoder and run["mode"] == mode and run["score"] == score


def load_study(*, directory=None) -> dict[str, Any]:
    """Read the study's card."""
    return read_card(CARD, directory=directory)


def _mean_std(values: list[float]) -> tuple[float, float]:
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def results_table(card: dict[str, Any], *, part: str = "scores"):
    """A pandas table, one row per setting of one part of the study: exact match (mean ± std over seeds) overall
    and on long sources, parameters and ms per training step (mean). ``part="scores"``: RNNsearch with the six
    scores; ``part="reach"``: Luong's decoder with global, local-m and local-p attention.
    """
    if part not in ("scores", "reach"):
        raise ValueError(f"part must be 'scores' or 'reach', got {part!r}")
    decoder = "rnnsearch" if part == "scores" else "luong"
    rows = {}
    for dec, mode, score in settings():
        if dec != decoder:
            continue
        runs = [r for r in card["runs"] if _is(r, dec, mode, score)]
        if not runs:
            continue
        em, em_sd = _mean_std([r["exact_match"] for r in runs])
        lg, lg_sd = _mean_std([r["exact_match_long"] for r in runs])
        rows[score if part == "scores" else mode] = {
            "exact match": f"{em:.3f} ± {em_sd:.3f}", f"exact match, {card['long']}+ words": f"{lg:.3f} ± {lg_sd:.3f}",
            "parameters": runs[0]["parameters"], "ms / step": round(statistics.fmean(r["ms_per_step"] for r in runs)),
            "seeds": len(runs)}
    if not rows:
        raise ValueError(f"no runs of part {part!r} in the card")
    return pd.DataFrame.from_dict(rows, orient="index")


def mean_exact_match(card: dict[str, Any], *, decoder: str, mode: str, score: str, long: bool = False) -> float:
    """Mean exact match over seeds of one setting (``long=True``: on long sources only). Every argument names the
    setting: global attention with the general score is in both parts, so the decoder is never guessed.
    """
    if decoder not in DECODERS:
        raise ValueError(f"decoder must be one of {DECODERS}, got {decoder!r}")
    key = "exact_match_long" if long else "exact_match"
    values = [r[key] for r in card["runs"] if _is(r, decoder, mode, score)]
    if not values:
        raise ValueError(f"no runs for decoder {decoder!r}, mode {mode!r} and score {score!r}")
    return statistics.fmean(values)

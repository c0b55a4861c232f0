"""The recipe of chapter 2's experiments: how every seq2seq checkpoint was trained (``python -m e2t.jobs seq2seq``).

The experiments (reversed source, source fed twice, the three cells, the bottleneck by source length) are
``run_setting`` calls; ``checkpoint_job`` runs them all, choosing each cell's learning rate on validation.

Introduced in: chapter 2.
"""

from __future__ import annotations

import dataclasses
import math
import sys
import time
from dataclasses import dataclass
from typing import Any

import torch

import e2t
from e2t.data.text import Example, NumberTask, batches, number_task
from e2t.seq2seq import Seq2SeqConfig, make_seq2seq
from e2t.train import fit
from e2t.train.checkpoints import save_card, save_checkpoint
from e2t.train.evaluation import evaluate, mean_std
from e2t.train.losses import teacher_forced_loss
from e2t.train.translate import translator

__all__ = ["TrainSettings", "train_seq2seq", "SETTINGS", "run_setting", "LR_GRID", "SWEPT", "COMMAND",
           "checkpoint_job"]


@dataclass(frozen=True)
class TrainSettings:
    """How a seq2seq model is trained: Adam, ``steps`` batches of ``batch_size``, a cosine-decayed learning rate."""

    steps: int = 1200
    batch_size: int = 64
    lr: float = 3e-3
    clip: float = 1.0


def train_seq2seq(config: Seq2SeqConfig, task: NumberTask, *, seed: int = 0,
                  settings: TrainSettings = TrainSettings(), progress: bool = True, max_seconds: float | None = None):
    """Train a fresh model with ``e2t.train.fit`` (seeded: the same seed gives the same model on one machine).

    Returns ``(model, history)``.
    """
    e2t.set_seed(seed)
    model = make_seq2seq(config)
    stream = batches(task.train, task, batch_size=settings.batch_size, seed=seed, epochs=None, sort_pool=32,
                     reverse_source=config.reverse_source, repeat_source=config.repeat_source)
    opt = torch.optim.Adam(model.parameters(), lr=settings.lr)
    sched = torch.optim.lr_scheduler.LambdaLR(  # cosine decay from lr to lr / 20
        opt, lambda step: 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(step, settings.steps) / settings.steps)))
    history = fit(model, teacher_forced_loss, stream, steps=settings.steps, optimizer=opt, scheduler=sched,
                            clip=settings.clip, progress=progress, max_seconds=max_seconds,
                            desc=f"seq2seq {config.cell}")
    return model, history


#: The chapter's experiment settings (all GRU except the cell comparison), as overrides of ``Seq2SeqConfig``.
SETTINGS: dict[str, dict[str, Any]] = {
    "gru": {},
    "gru_reversed": {"reverse_source": True},
    "gru_twice": {"repeat_source": True},
    "lstm": {"cell": "lstm"},
    "rnn": {"cell": "rnn"},
}


def run_setting(name: str, *, seed: int, task: NumberTask | None = None, settings: TrainSettings = TrainSettings(),
                model_kwargs: dict[str, Any] | None = None, progress: bool = False,
                eval_examples: list[Example] | None = None, valid_examples: list[Example] | None = None):
    """Train setting ``name`` of ``SETTINGS`` with ``seed`` and evaluate it (greedy) on the validation split and on
    the test split (or on ``valid_examples`` / ``eval_examples``).

    Returns ``(model, record)`` where ``record`` holds the seed, learning rate, steps, wall time, final loss and the
    ``e2t.train.evaluation.evaluate`` results ``valid`` and ``test``.
    """
    if name not in SETTINGS:
        raise ValueError(f"name must be one of {sorted(SETTINGS)}, got {name!r}")
    task = task or number_task()
    config = Seq2SeqConfig.for_task(task, **{**(model_kwargs or {}), **SETTINGS[name]})
    model, history = train_seq2seq(config, task, seed=seed, settings=settings, progress=progress)
    start = time.perf_counter()
    valid = evaluate(translator(model, task), valid_examples or task.valid)
    result = evaluate(translator(model, task), eval_examples or task.test)
    record = {"setting": name, "seed": seed, "lr": settings.lr, "steps": len(history.steps),
              "wall_time_s": round(history.wall_time_s, 1), "eval_time_s": round(time.perf_counter() - start, 1),
              "final_loss": round(sum(history.losses[-50:]) / len(history.losses[-50:]), 4),
              "curve": history.curve(), "valid": valid, "test": result}
    return model, record


#: The learning rates tried for each cell (seed 0, ``TrainSettings().steps`` steps); the one with the best
#: validation exact match (ties: token accuracy) trains that cell's settings. The vanilla RNN gets the same chance
#: as the gated cells. The grid runs from 3e-4 to 3e-2 (Adam's usual 1e-3 lies inside it).
LR_GRID: tuple[float, ...] = (3e-4, 1e-3, 3e-3, 1e-2, 3e-2)

#: The settings whose learning rate each cell's sweep decides (named after the setting the sweep trains).
SWEPT: dict[str, str] = {"rnn": "rnn", "gru": "gru", "gru_reversed": "gru", "gru_twice": "gru", "lstm": "lstm"}

COMMAND = "python -m e2t.jobs seq2seq"


def _valid_key(record: dict[str, Any]) -> tuple[float, float]:
    overall = record["valid"]["overall"]
    return overall["exact_match"], overall["token_accuracy"]


def _strip(result: dict[str, Any]) -> dict[str, Any]:
    """An ``evaluate`` result for a card: no hypotheses, numbers rounded to 4 places."""
    def r(d):
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in d.items()}
    return {"overall": r(result["overall"]), "by_bucket": {k: r(v) for k, v in result["by_bucket"].items()}}


def checkpoint_job(*, quick: bool = False, directory=None, seeds: tuple[int, ...] = (0, 1, 2),
                   names: tuple[str, ...] | None = None, baseline: bool = True,
                   lr_grid: tuple[float, ...] = LR_GRID) -> dict[str, Any]:
    """Train the chapter's experiments and save them (``python -m e2t.jobs seq2seq``).

    1. A learning-rate sweep per cell (``LR_GRID``, seed 0): each cell's learning rate is the one with the best
       **validation** exact match; the sweep is the card ``seq2seq_lr_sweep`` (no weights).
    2. For each setting of ``SETTINGS``: seeds 0, 1, 2 at its cell's learning rate (``SWEPT``); the seed-0 model is
       saved as ``seq2seq_<setting>`` and its card lists every seed's validation and test results (``runs``) and
       the test mean (``metrics``).
    3. The bottleneck baseline ``seq2seq_gru_baseline``: the GRU at its learning rate, trained four times as long,
       evaluated on test by source-length bucket and at every source length, greedy and with beam search.

    Nothing is chosen on test: the only choice, the learning rate, is made on validation. Returns the baseline's
    card (``names`` and ``baseline=False`` run a part of the job).
    """
    if quick and directory is None:
        raise ValueError("quick=True must write to a directory (not over the shipped checkpoints)")
    task = number_task()
    base = TrainSettings(steps=5, batch_size=8) if quick else TrainSettings()
    model_kwargs = {"d_hidden": 16, "d_embed": 8} if quick else {}
    seeds = tuple(seeds)[:1] if quick else tuple(seeds)
    lr_grid = tuple(lr_grid)[:2] if quick else tuple(lr_grid)
    test = list(task.test[:100] if quick else task.test)
    valid = list(task.valid[:100] if quick else task.valid)
    command = COMMAND + (" (quick)" if quick else "")
    names = tuple(SETTINGS) if names is None else tuple(names)
    cells = sorted({SWEPT[n] for n in names} | ({"gru"} if baseline else set()))

    # 1. the learning-rate sweep, on validation
    chosen, sweep, kept = {}, {}, {}
    for cell in cells:
        trials = []
        for lr in lr_grid:
            settings = dataclasses.replace(base, lr=lr)
            model, record = run_setting(cell, seed=seeds[0], task=task, settings=settings, model_kwargs=model_kwargs,
                                        eval_examples=test, valid_examples=valid)
            trials.append((record, model))
            print(f"  sweep {cell} lr {lr:g}: valid EM {record['valid']['overall']['exact_match']:.3f}",
                  file=sys.stderr)
        best_record, best_model = max(trials, key=lambda t: _valid_key(t[0]))
        chosen[cell] = best_record["lr"]
        kept[cell] = (best_model, best_record)  # the seed-0 run of the chosen rate is reused below
        sweep[cell] = [{"lr": r["lr"], "valid": _strip(r["valid"])["overall"], "final_loss": r["final_loss"],
                        "wall_time_s": r["wall_time_s"]} for r, _ in trials]
    save_card("seq2seq_lr_sweep", {
        "name": "seq2seq_lr_sweep", "command": command, "seed": seeds[0], "steps": base.steps,
        "wall_time_s": round(sum(t["wall_time_s"] for c in sweep.values() for t in c), 1),
        "metrics": {"chosen_lr": chosen}, "trials": sweep, "lr_grid": list(lr_grid),
        "selection_rule": "per cell, the learning rate with the highest validation exact match "
                          "(ties: validation token accuracy); seed 0; test never consulted"},
        directory=directory)

    # 2. the settings, three seeds each, at their cell's chosen rate
    card: dict[str, Any] = {}
    for name in names:
        settings = dataclasses.replace(base, lr=chosen[SWEPT[name]])
        records, first = [], None
        for seed in seeds:
            if name == SWEPT[name] and seed == seeds[0]:
                model, record = kept[name]
            else:
                model, record = run_setting(name, seed=seed, task=task, settings=settings,
                                            model_kwargs=model_kwargs, eval_examples=test, valid_examples=valid)
            records.append({**record, "valid": _strip(record["valid"]), "test": _strip(record["test"])})
            first = first or model
            print(f"  {name} seed {seed}: test EM {record['test']['overall']['exact_match']:.3f} "
                  f"in {record['wall_time_s']:.0f} s", file=sys.stderr)
        metrics = {}
        for key in ("exact_match", "token_accuracy", "bleu"):
            m, sd = mean_std([r["test"]["overall"][key] for r in records])
            metrics[key] = round(m, 4)
            metrics[key + "_std"] = round(sd, 4)
        card = {"name": f"seq2seq_{name}", "command": command, "seed": seeds[0], "steps": settings.steps,
                "wall_time_s": records[0]["wall_time_s"], "metrics": metrics,
                "config": dataclasses.asdict(first.config), "train": dataclasses.asdict(settings),
                "runs": records,
                "selection_rule": f"learning rate {settings.lr:g} from the {SWEPT[name]} sweep (seq2seq_lr_sweep, "
                                  "validation); the weights are seed 0's, the metrics the mean over the seeds"}
        save_checkpoint(first, f"seq2seq_{name}", card, directory=directory)

    if not baseline:
        return card
    # the bottleneck baseline: one GRU trained longer on all lengths
    long = dataclasses.replace(base, steps=3 * base.steps if quick else 4 * base.steps, lr=chosen["gru"])
    config = Seq2SeqConfig.for_task(task, **model_kwargs)
    model, history = train_seq2seq(config, task, seed=0, settings=long, progress=False)
    greedy = evaluate(translator(model, task), test, return_hypotheses=True)
    beam = evaluate(translator(model, task, beam_size=4), test)
    by_length = {}
    for n in sorted({len(e.src) for e in test}):
        idx = [i for i, e in enumerate(test) if len(e.src) == n]
        hits = sum(greedy["hypotheses"][i] == list(test[i].tgt) for i in idx)
        by_length[str(n)] = {"n": len(idx), "exact_match": round(hits / len(idx), 4)}
    del greedy["hypotheses"]
    short = evaluate(translator(model, task), test, max_source_len=10)
    valid_result = evaluate(translator(model, task), valid)
    card = {"name": "seq2seq_gru_baseline", "command": command, "seed": 0,
            "steps": len(history.steps), "wall_time_s": round(history.wall_time_s, 1),
            "metrics": {"exact_match": round(greedy["overall"]["exact_match"], 4),
                        "token_accuracy": round(greedy["overall"]["token_accuracy"], 4),
                        "bleu": round(greedy["overall"]["bleu"], 4),
                        "exact_match_upto10": round(short["overall"]["exact_match"], 4),
                        "exact_match_by_bucket": {k: round(v["exact_match"], 4)
                                                  for k, v in greedy["by_bucket"].items()},
                        "beam4_exact_match": round(beam["overall"]["exact_match"], 4),
                        "beam4_exact_match_by_bucket": {k: round(v["exact_match"], 4)
                                                        for k, v in beam["by_bucket"].items()}},
            "test_greedy": greedy, "test_beam4": beam, "exact_match_by_length": by_length,
            "config": dataclasses.asdict(config), "train": dataclasses.asdict(long),
            "final_loss": round(sum(history.losses[-50:]) / len(history.losses[-50:]), 4),
            "curve": history.curve(), "valid": _strip(valid_result),
            "selection_rule": f"learning rate {long.lr:g} from the gru sweep (seq2seq_lr_sweep, validation); "
                              "steps fixed in advance at four times the settings' steps; seed 0"}
    save_checkpoint(model, "seq2seq_gru_baseline", card, directory=directory)
    return card

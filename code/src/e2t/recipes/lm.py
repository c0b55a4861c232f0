"""The recipe of chapter 6's tiny GPT and BERT (``python -m e2t.jobs lm``), shipped as ``lm_gpt`` and ``lm_bert``.

Introduced in: chapter 6.
"""

from __future__ import annotations

import time
from dataclasses import asdict

import torch

import e2t
from e2t.data.counting import HELD_OUT, lm_batches
from e2t.lm import BERT_CONFIG, GPT_CONFIG, evaluate_bert, evaluate_gpt, lm_loss, make_lm
from e2t.train import fit
from e2t.train.checkpoints import save_checkpoint

__all__ = ["TRAINING", "train_lm", "checkpoint_job"]

#: Training settings of the shipped models.
TRAINING = {"gpt": {"steps": 1500, "lr": 3e-3, "batch_size": 64}, "bert": {"steps": 2500, "lr": 3e-3, "batch_size": 64}}


def train_lm(kind: str, *, steps: int | None = None, seed: int = 0, max_seconds: float | None = None,
             progress: bool = True):
    """Train the GPT (``kind="gpt"``) or BERT (``kind="bert"``) model from scratch; return ``(model, history)``.

    Adam with a linear warmup over the first 5 % of the steps and a linear decay to zero.
    """
    if kind not in TRAINING:
        raise ValueError(f"kind must be 'gpt' or 'bert', got {kind!r}")
    hp = TRAINING[kind]
    steps = hp["steps"] if steps is None else steps
    e2t.set_seed(seed)
    model = make_lm(GPT_CONFIG if kind == "gpt" else BERT_CONFIG)
    opt = torch.optim.Adam(model.parameters(), lr=hp["lr"], betas=(0.9, 0.98))
    warmup = max(1, steps // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / max(1, steps - warmup))))
    history = fit(model, lm_loss, lm_batches(batch_size=hp["batch_size"], seed=seed, masked=kind == "bert"),
                  steps=steps, optimizer=opt, scheduler=sched, max_seconds=max_seconds, progress=progress,
                  desc=kind)
    return model, history


def checkpoint_job(*, quick: bool = False, directory=None) -> dict:
    """Train and save ``lm_gpt`` and ``lm_bert`` (``python -m e2t.jobs lm``); return the GPT card with both metrics."""
    if quick and directory is None:
        raise ValueError("quick runs must write to a directory (they must not overwrite the shipped checkpoints)")
    cards = {}
    for kind in ("gpt", "bert"):
        start = time.perf_counter()
        model, history = train_lm(kind, steps=5 if quick else None, progress=False)
        wall = time.perf_counter() - start
        limit = 5 if quick else None
        metric = evaluate_gpt(model, limit=limit) if kind == "gpt" else evaluate_bert(model, limit=limit)
        card = {"name": f"lm_{kind}", "command": "python -m e2t.jobs lm" + (" (quick)" if quick else ""),
                "seed": 0, "steps": len(history.steps),
                "wall_time_s": round(wall, 1), "config": asdict(model.config), "training": TRAINING[kind],
                "data": f"counting runs of 5 numbers in 1..999 holding none of the {len(HELD_OUT)} held-out numbers "
                        "(e2t.data.counting.HELD_OUT); every evaluation asks for a held-out number",
                "selection_rule": "none: the last step, steps fixed in advance",
                "curve": history.curve(),
                "metrics": {"final_loss": round(history.losses[-1], 4),
                            ("next_number_exact_match" if kind == "gpt" else "masked_number_exact_match"):
                                round(metric, 4)}}
        save_checkpoint(model, f"lm_{kind}", card, directory=directory)
        cards[kind] = card
    return {**cards["gpt"], "metrics": {**cards["gpt"]["metrics"], **cards["bert"]["metrics"]}}

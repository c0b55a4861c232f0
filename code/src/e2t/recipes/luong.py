"""The recipe of chapter 4's global vs local attention: Luong's translator trained with each (``python -m e2t.jobs
luong``), shipped as ``ch4_luong_global``, ``ch4_luong_local_m`` and ``ch4_luong_local_p``.

Introduced in: chapter 4.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict
from typing import Any

import torch

import e2t
from e2t.data.text import NumberTask, batches, number_task
from e2t.luong import MODES, LuongConfig, LuongTranslator, make_luong
from e2t.train import fit
from e2t.train.checkpoints import save_checkpoint
from e2t.train.evaluation import evaluate
from e2t.train.losses import teacher_forced_loss
from e2t.train.translate import translator

__all__ = ["COMMAND", "train_luong", "checkpoint_job", "checkpoint_name"]

COMMAND = "python -m e2t.jobs luong"


def checkpoint_name(mode: str) -> str:
    """The shipped checkpoint of attention ``mode``: ``ch4_luong_global``, ``ch4_luong_local_m``, ..."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    return f"ch4_luong_{mode.replace('-', '_')}"


def train_luong(*, mode: str = "global", score: str = "general", D: int = 2, seed: int = 0, steps: int = 1500,
                batch_size: int = 64, lr: float = 3e-3, task: NumberTask | None = None, progress: bool = False,
                max_seconds: float | None = None):
    """Train a ``LuongTranslator`` on the book's number task (seeded); return ``(model, history)``."""
    task = task or number_task()
    e2t.set_seed(seed)
    model = make_luong(LuongConfig(len(task.src_vocab), len(task.tgt_vocab), mode=mode, score=score, D=D,
                                   pad_id=task.src_vocab.pad))
    stream = batches(task.train, task, batch_size=batch_size, seed=seed, epochs=None, sort_pool=32)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps)))
    history = fit(model, teacher_forced_loss, stream, steps=steps, optimizer=opt, scheduler=sched, clip=1.0,
                  progress=progress, max_seconds=max_seconds, desc=f"{mode} ({score})")
    return model, history


def _evaluate(model: LuongTranslator, task: NumberTask, n: int | None = None, split: str = "test") -> dict[str, Any]:
    data = getattr(task, split)
    examples = list(data if n is None else data[:n])
    return evaluate(translator(model, task), examples)


def checkpoint_job(*, quick: bool = False, directory=None, steps: int = 600) -> dict:
    """Train global, local-m and local-p (general score, D = 2, seed 0) and save ``ch4_luong_<mode>`` each.

    Returns the card of the last one; every card records its metrics on the test split (overall and by
    source-length bucket).
    """
    if quick and directory is None:
        raise ValueError("quick=True must write to a directory of its own")
    steps = 5 if quick else steps
    task = number_task()
    card = {}
    for mode in MODES:
        start = time.perf_counter()
        model, history = train_luong(mode=mode, steps=steps, seed=0, task=task)
        wall = time.perf_counter() - start
        result = _evaluate(model, task, n=50 if quick else None)
        valid = _evaluate(model, task, n=50 if quick else None, split="valid")
        name = checkpoint_name(mode)
        card = {"name": name, "command": COMMAND + (" (quick)" if quick else ""),
                "seed": 0, "steps": len(history.steps), "wall_time_s": round(wall, 1),
                "metrics": {"exact_match": result["overall"]["exact_match"],
                            "token_accuracy": result["overall"]["token_accuracy"],
                            "by_bucket": {k: v["exact_match"] for k, v in result["by_bucket"].items()},
                            "final_loss": history.losses[-1]},
                "valid": {"exact_match": valid["overall"]["exact_match"],
                          "by_bucket": {k: v["exact_match"] for k, v in valid["by_bucket"].items()}},
                "curve": history.curve(),
                "selection_rule": "none: one seed, the last step, steps fixed in advance (the same for the "
                                  "three modes)",
                "config": asdict(model.config), "ms_per_step": round(1000 * history.seconds_per_step, 1)}
        save_checkpoint(model, name, card, directory=directory)
    return card

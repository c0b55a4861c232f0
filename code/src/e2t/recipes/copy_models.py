"""The recipe of chapter 7's copy models: the attention model and the Transformer trained on the copy task with
chapter 5's trainer (``python -m e2t.jobs copy_models``), shipped as ``attention_copy`` and ``transformer_copy``.

Introduced in: chapter 7.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import e2t
from e2t.copy_models import (
    EVAL_LENGTHS,
    TRAIN_LENGTHS,
    AttentionCopyConfig,
    TransformerCopyConfig,
    make_attention_copy,
    make_transformer_copy,
)
from e2t.recipes.copy_task import evaluate_copy, train_copy
from e2t.train.checkpoints import save_checkpoint

__all__ = ["MODELS", "SELECTION_RULE", "checkpoint_job"]

#: How the shipped weights are chosen (written into each card).
SELECTION_RULE = ("none: one seed, the last weights; training stops 3,000 sequences after the cost first dips below "
                  "0.01 wrong bits per sequence (at most 120,000 sequences), a rule fixed before the run")

#: name -> (build, config class, learning rate)
MODELS = {"attention_copy": (make_attention_copy, AttentionCopyConfig, 3e-3),
          "transformer_copy": (make_transformer_copy, TransformerCopyConfig, 1e-3)}


def checkpoint_job(*, quick: bool = False, directory: str | Path | None = None,
                   names: tuple[str, ...] = tuple(MODELS)) -> dict[str, Any]:
    """Train the attention model and the Transformer on the copy task (lengths 1-20, chapter 5's curriculum), until
    3,000 sequences after the cost first dips below 0.01 wrong bits per sequence; evaluate them at 10, 20, 40 and
    80, and save each with its card.
    """
    if quick and directory is None:
        raise ValueError("quick runs must write to a directory of their own")
    cards = {}
    for name in names:
        make, config_cls, lr = MODELS[name]
        e2t.set_seed(0)
        model = make(config_cls())
        start = time.perf_counter()
        tracker = train_copy(model, seed=0, batch_size=32, lr=lr, max_sequences=64 if quick else 120_000,
                             after_first_below=0 if quick else 3_000, curriculum=True,
                             min_length=TRAIN_LENGTHS[0], max_length=TRAIN_LENGTHS[1])
        wall = time.perf_counter() - start
        lengths = (4, 8) if quick else EVAL_LENGTHS
        results = evaluate_copy(model, lengths=lengths, sequences=20 if quick else 200)
        card = {"name": name, "command": f"python -m e2t.jobs copy_models  # {name}" + (" (quick)" if quick else ""),
                "seed": 0, "selection_rule": SELECTION_RULE,
                "steps": tracker.sequences // 32, "sequences": tracker.sequences, "wall_time_s": round(wall, 1),
                "first_below_at_sequences": tracker.first_below_at,
                "converged_at_sequences": tracker.converged_at,
                "converged_time_s": None if tracker.converged_time_s is None else round(tracker.converged_time_s, 1),
                "train_lengths": list(TRAIN_LENGTHS), "config": asdict(model.config),
                "metrics": {f"bit_error_rate_L{L}": round(r["bit_error_rate"], 5) for L, r in results.items()},
                "curve": tracker.curve}
        save_checkpoint(model, name, card, directory=directory)
        cards[name] = card
    return {"name": "copy_models", "metrics": {n: c["metrics"] for n, c in cards.items()}}

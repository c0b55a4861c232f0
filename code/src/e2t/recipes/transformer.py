"""The recipe of chapter 6's Transformer on the book's task, English -> German number words (``python -m e2t.jobs
transformer``), shipped as ``transformer_numbers``.

Introduced in: chapter 6.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict

import torch

import e2t
from e2t.data.text import batches, number_task
from e2t.train import fit
from e2t.train.checkpoints import save_checkpoint
from e2t.train.evaluation import evaluate
from e2t.train.losses import teacher_forced_loss
from e2t.train.translate import Translate, translator
from e2t.transformer_model import Transformer, TransformerConfig, make_transformer

__all__ = ["TASK_CONFIG", "TASK_TRAINING", "CHECKPOINT", "task_config", "warmup_decay", "decode_limit",
           "task_translator", "train_transformer", "checkpoint_job"]


#: The configuration trained on the number task (vocabulary sizes are filled in from the task).
TASK_CONFIG = dict(d_model=64, num_heads=4, num_encoder_layers=2, num_decoder_layers=2, d_ff=128, dropout=0.0,
                   max_len=64)
#: Training settings of the shipped checkpoint ``transformer_numbers``.
TASK_TRAINING = dict(steps=2000, batch_size=64, lr=3e-3, warmup=100, label_smoothing=0.1, seed=0)
CHECKPOINT = "transformer_numbers"


def task_config(task, **overrides) -> TransformerConfig:
    """The ``TransformerConfig`` for a ``NumberTask``: ``TASK_CONFIG`` with the task's vocabularies and pad id."""
    return TransformerConfig(src_vocab_size=len(task.src_vocab), tgt_vocab_size=len(task.tgt_vocab),
                             pad_id=task.tgt_vocab.pad, **{**TASK_CONFIG, **overrides})


def warmup_decay(step: int, *, warmup: int, total: int) -> float:
    r"""Learning-rate factor: linear warmup over ``warmup`` steps, then cosine decay to 0 at ``total``.

    The paper uses $d_{model}^{-0.5}\min(step^{-0.5}, step \cdot warmup^{-1.5})$ (warmup, then inverse square
    root); a cosine decay ends a short run at a small rate, which helps exact match.
    """
    if step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return 0.5 * (1.0 + math.cos(math.pi * progress))


def decode_limit(config: TransformerConfig) -> Callable[[int], int]:
    """How many tokens the translator may write for a batch whose sources are ``S`` long: ``2 S + 10``, but never
    past the model's positions (``config.max_len``).
    """
    return lambda S: min(config.max_len, 2 * S + 10)


def task_translator(model: Transformer, task, *, beam_size: int = 1) -> Translate:
    """``e2t.train.translate.translator`` with the settings the Transformer's cards were scored with: batches of
    250, at most ``decode_limit`` tokens.
    """
    return translator(model, task, beam_size=beam_size, batch_size=250, max_len=decode_limit(model.config))


def train_transformer(task, config: TransformerConfig | None = None, *, steps: int = TASK_TRAINING["steps"],
                      batch_size: int = TASK_TRAINING["batch_size"], lr: float = TASK_TRAINING["lr"],
                      warmup: int = TASK_TRAINING["warmup"], label_smoothing: float = TASK_TRAINING["label_smoothing"],
                      seed: int = TASK_TRAINING["seed"], max_seconds: float | None = None, eval_every: int | None = None,
                      progress: bool = True, valid_examples=None, keep_best: bool = False):
    """Train a Transformer on ``task`` (Adam with betas (0.9, 0.98), ``warmup_decay`` schedule); return
    ``(model, history)``. With ``eval_every`` the greedy exact match on ``valid_examples`` (default: the first 300
    of the validation split) is logged in ``history.evals``; with ``keep_best`` the returned model holds the
    weights of the evaluation with the highest validation exact match (ties: the later step), and
    ``history.best_step`` says which.
    """
    e2t.set_seed(seed)
    model = make_transformer(config or task_config(task))
    opt = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.98), eps=1e-9)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: warmup_decay(s, warmup=warmup, total=steps))
    valid = list(task.valid[:300]) if valid_examples is None else list(valid_examples)
    best: dict = {"score": -1.0, "state": None, "index": None, "evals": 0}

    def eval_fn(m):
        score = evaluate(task_translator(m, task), valid)["overall"]["exact_match"]
        if keep_best and score >= best["score"]:
            best.update(score=score, state={k: v.detach().clone() for k, v in m.state_dict().items()},
                        index=best["evals"])
        best["evals"] += 1
        return {"valid_exact_match": score}

    def loss_fn(m, b):
        return teacher_forced_loss(m, b, label_smoothing=label_smoothing)

    history = fit(model, loss_fn,
                  batches(task.train, task, batch_size=batch_size, seed=seed, epochs=None), steps=steps,
                  optimizer=opt, scheduler=sched, max_seconds=max_seconds,
                  eval_fn=eval_fn if eval_every else None, eval_every=eval_every, progress=progress,
                  desc="transformer")
    history.best_step = None
    if keep_best and best["state"] is not None:
        model.load_state_dict(best["state"])
        history.best_step = history.evals[best["index"]]["step"]
    return model, history


def checkpoint_job(*, quick: bool = False, directory=None, progress: bool = False, config_overrides=None,
                   training_overrides=None) -> dict:
    """Train the Transformer on the number task and save ``transformer_numbers`` with its card.

    ``python -m e2t.jobs transformer``. ``config_overrides`` and ``training_overrides`` change ``TASK_CONFIG`` and
    ``TASK_TRAINING`` (for experiments; the shipped checkpoint uses the defaults). The card holds greedy and beam exact match on the test set, overall and
    by source-length bucket, and on the test numbers of up to 10 source words.
    """
    if quick and directory is None:
        raise ValueError("quick runs must write to a directory (they must not overwrite the shipped checkpoints)")
    task = number_task()
    training = dict(TASK_TRAINING, **(training_overrides or {}))
    if quick:
        training["steps"] = 5
    start = time.perf_counter()
    valid = list(task.valid[:20]) if quick else list(task.valid)
    model, history = train_transformer(task, task_config(task, **(config_overrides or {})), **training,
                                       eval_every=2 if quick else 250, progress=progress, valid_examples=valid,
                                       keep_best=True)
    wall = time.perf_counter() - start
    test = list(task.test[:20]) if quick else list(task.test)
    metrics = {"final_loss": round(history.losses[-1], 4)}
    for prefix, beam in (("", 1), ("beam4_", 4)):
        result = evaluate(task_translator(model, task, beam_size=beam), test, return_hypotheses=True)
        short = evaluate(task_translator(model, task, beam_size=beam), test, max_source_len=10)
        for key in ("exact_match", "token_accuracy", "bleu"):
            metrics[prefix + key] = round(result["overall"][key], 4)
        metrics[prefix + "exact_match_upto10"] = round(short["overall"]["exact_match"], 4)
        metrics[prefix + "exact_match_by_bucket"] = {k: round(v["exact_match"], 4)
                                                     for k, v in result["by_bucket"].items()}
        by_length = {}
        for n in sorted({len(e.src) for e in test}):
            idx = [i for i, e in enumerate(test) if len(e.src) == n]
            hits = sum(result["hypotheses"][i] == list(test[i].tgt) for i in idx)
            by_length[str(n)] = {"n": len(idx), "exact_match": round(hits / len(idx), 4)}
        metrics[prefix + "exact_match_by_length"] = by_length
    curve = history.curve()
    lr_factors = [round(warmup_decay(i, warmup=training["warmup"], total=training["steps"]), 4)
                  for i in range(0, training["steps"], max(1, training["steps"] // 100))]
    card = {"name": CHECKPOINT, "command": "python -m e2t.jobs transformer" + (" (quick)" if quick else ""),
            "seed": training["seed"], "steps": history.best_step, "trained_steps": len(history.steps),
            "wall_time_s": round(wall, 1), "training": training, "config": asdict(model.config),
            "metrics": metrics, "valid_curve": history.evals, "curve": curve, "lr_factor_every_1pct": lr_factors,
            "selection_rule": "the evaluation (every 250 steps, the whole validation split) with the highest "
                              "validation exact match, ties to the later step; test never consulted. The "
                              "hyperparameters (TASK_CONFIG, TASK_TRAINING) were fixed before this run",
            "data": "e2t.data.text.number_task() (seed 0): train 20000, valid 1000, test 2000"}
    save_checkpoint(model, CHECKPOINT, card, directory=directory)
    return card



"""One training loop for the whole book: ``fit`` returns a ``History``.

Introduced in: chapter 1.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import torch
from tqdm.auto import tqdm

__all__ = ["History", "fit"]


@dataclass
class History:
    """What a run of ``fit`` did: the loss at every step, evaluations, and the wall time."""

    steps: list[int] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    evals: list[dict[str, Any]] = field(default_factory=list)
    wall_time_s: float = 0.0
    stopped_early: bool = False

    @property
    def seconds_per_step(self) -> float:
        return self.wall_time_s / max(len(self.steps), 1)

    def smoothed(self, window: int = 50) -> list[float]:
        """Running mean of the loss over the last ``window`` steps."""
        out, total = [], 0.0
        for i, x in enumerate(self.losses):
            total += x
            if i >= window:
                total -= self.losses[i - window]
            out.append(total / min(i + 1, window))
        return out

    def curve(self, points: int = 40) -> list[list[float]]:
        """``[step, mean loss since the previous point]`` at about ``points`` evenly spaced steps (for a card)."""
        every = max(1, len(self.losses) // points)
        return [[self.steps[i + every - 1], round(sum(self.losses[i:i + every]) / every, 4)]
                for i in range(0, len(self.losses) - every + 1, every)]

    def to_dict(self) -> dict[str, Any]:
        return {"steps": len(self.steps), "final_loss": self.losses[-1] if self.losses else math.nan,
                "wall_time_s": round(self.wall_time_s, 2), "evals": self.evals}


def fit(model: torch.nn.Module, loss_fn: Callable[[torch.nn.Module, Any], torch.Tensor], batches: Iterable[Any], *,
        steps: int, lr: float = 1e-3, optimizer: torch.optim.Optimizer | None = None,
        scheduler: Any | None = None, clip: float | None = 1.0, max_seconds: float | None = None,
        eval_fn: Callable[[torch.nn.Module], dict[str, Any]] | None = None, eval_every: int | None = None,
        stop_fn: Callable[[History], bool] | None = None, progress: bool = True,
        desc: str = "training") -> History:
    """Train ``model`` for ``steps`` steps (or until ``max_seconds`` or ``stop_fn``) and return a ``History``.

    ``loss_fn(model, batch)`` returns a scalar loss. ``batches`` is any iterable; it is iterated again when it runs
    out. Adam with learning rate ``lr`` is used unless ``optimizer`` is given; gradients are clipped to norm
    ``clip``. ``eval_fn(model)`` runs every ``eval_every`` steps and at the end (in eval mode, without gradients).
    Seeding is the caller's job (``e2t.set_seed``); the loop itself draws no random numbers. Runs on the device the
    model is on (the CPU by default).
    """
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    if optimizer is None:
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history = History()
    bar = None
    if progress:
        bar = tqdm(total=steps, desc=desc, leave=False)

    def run_eval(step: int) -> None:
        model.eval()
        with torch.no_grad():
            result = dict(eval_fn(model))
        model.train()
        result["step"] = step
        history.evals.append(result)

    start = time.perf_counter()
    stream = iter(batches)
    model.train()
    for step in range(1, steps + 1):
        try:
            batch = next(stream)
        except StopIteration:
            stream = iter(batches)
            batch = next(stream)
        loss = loss_fn(model, batch)
        if not torch.isfinite(loss):
            raise FloatingPointError(f"loss became {loss.item()} at step {step}")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        history.steps.append(step)
        history.losses.append(float(loss.detach()))
        if bar is not None:
            bar.update(1)
            if step % 20 == 0:
                bar.set_postfix(loss=f"{history.losses[-1]:.4f}")
        if eval_fn is not None and eval_every and step % eval_every == 0:
            run_eval(step)
        history.wall_time_s = time.perf_counter() - start
        if stop_fn is not None and stop_fn(history):
            history.stopped_early = True
            break
        if max_seconds is not None and history.wall_time_s >= max_seconds:
            history.stopped_early = True
            break
    if eval_fn is not None and (not history.evals or history.evals[-1]["step"] != history.steps[-1]):
        run_eval(history.steps[-1])
    history.wall_time_s = time.perf_counter() - start
    if bar is not None:
        bar.close()
    model.eval()
    return history


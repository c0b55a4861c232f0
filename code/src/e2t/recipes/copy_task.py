"""Training on the copy task (chapters 5 and 7): the trainer, the cost tracker that says when a model has
converged, an optional curriculum, the optimisers, and the evaluation at longer lengths.

Introduced in: chapter 5.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from e2t.data.copy_task import CopyBatch, copy_batch, copy_batches
from e2t.ntm_model import LN2, answer_logits, bit_errors, bits_per_sequence
from e2t.train import fit

__all__ = ["CostTracker", "curriculum_batches", "OPTIMIZERS", "make_optimizer", "train_copy", "evaluate_copy"]


@dataclass
class CostTracker:
    """Follows the per-sequence cost during training and finds when it first stays below ``threshold``.

    ``window`` sequences (500) are averaged; the cost is the number of wrong bits per sequence.
    ``first_below_at`` is the count of sequences seen when the windowed mean first went below the threshold.
    ``converged_at`` is where the cost first *stays* below: the start of the first run of windows, all below the
    threshold, that lasts ``stay`` more sequences (with ``stay=0`` the two are the same). ``worst_after`` keeps the
    largest windowed mean seen from ``first_below_at`` on, so the slips back above the threshold are on record.
    """

    threshold: float = 0.01
    window: int = 500
    batch_size: int = 32
    sequences: int = 0
    stay: int = 0
    recent: list[float] = field(default_factory=list)           # per-batch mean errors over the window
    curve: list[tuple[int, float, float]] = field(default_factory=list)  # (sequences, bits, errors) per block
    _block: list[tuple[float, float]] = field(default_factory=list)
    windowed_mean: float | None = None                           # the latest windowed mean (None until full)
    first_below_at: int | None = None
    first_below_time_s: float | None = None
    first_below_cpu_s: float | None = None
    converged_at: int | None = None
    converged_time_s: float | None = None
    converged_cpu_s: float | None = None
    _run_start: tuple[int, float, float] | None = None          # (sequences, wall s, cpu s) of the current run below
    start_cpu: float = field(default_factory=time.process_time)
    worst_after: float = 0.0
    start: float = field(default_factory=time.perf_counter)
    full_range: bool = True                                      # False while a curriculum uses shorter lengths
    stages: list[tuple[int, int]] = field(default_factory=list)  # (sequences, longest length) at each growth
    lr_changes: list[tuple[int, float]] = field(default_factory=list)  # (sequences, new learning rate)

    def flush(self) -> None:
        """Close the learning curve with the sequences of a last, partial block."""
        if self._block:
            bits = sum(b for b, _ in self._block) / len(self._block)
            errs = sum(e for _, e in self._block) / len(self._block)
            self.curve.append((self.sequences, round(bits, 5), round(errs, 5)))
            self._block.clear()

    def update(self, loss_bits: float, errors: float, B: int) -> None:
        self.sequences += B
        batches = max(1, math.ceil(self.window / B))
        self.recent.append(errors)
        if len(self.recent) > batches:
            self.recent.pop(0)
        self._block.append((loss_bits, errors))
        if self.sequences % self.window < B:  # a point of the learning curve every `window` sequences
            bits = sum(b for b, _ in self._block) / len(self._block)
            errs = sum(e for _, e in self._block) / len(self._block)
            self.curve.append((self.sequences, round(bits, 5), round(errs, 5)))
            self._block.clear()
        if len(self.recent) == batches and self.full_range:
            mean = sum(self.recent) / batches
            self.windowed_mean = mean
            if mean < self.threshold:
                now = (self.sequences, time.perf_counter() - self.start, time.process_time() - self.start_cpu)
                if self.first_below_at is None:
                    self.first_below_at, self.first_below_time_s, self.first_below_cpu_s = now
                if self._run_start is None:
                    self._run_start = now
                if self.converged_at is None and self.sequences - self._run_start[0] >= self.stay:
                    self.converged_at, self.converged_time_s, self.converged_cpu_s = self._run_start
            elif self.converged_at is None:
                self._run_start = None  # back above the threshold: the run below starts again
            if self.first_below_at is not None:
                self.worst_after = max(self.worst_after, mean)


def curriculum_batches(tracker: CostTracker, *, batch_size: int, seed: int, min_length: int = 1,
                       max_length: int = 20, start: int = 4, grow: int = 4, below: float = 0.5,
                       width: int = 8) -> Iterator[CopyBatch]:
    """Copy batches whose longest length starts at ``start`` and grows by ``grow`` (up to ``max_length``) each
    time the mean cost of the last 8 batches falls below ``below`` wrong bits per sequence. The tracker's
    ``full_range`` is set once ``max_length`` is reached: only then does its convergence clock look at the cost.
    """
    gen = torch.Generator().manual_seed(seed)
    top = max(min_length, min(start, max_length))
    tracker.full_range = top >= max_length
    while True:
        if not tracker.full_range and len(tracker.recent) >= 8 and sum(tracker.recent[-8:]) / 8 < below:
            top = min(top + grow, max_length)
            tracker.recent.clear()
            tracker.full_range = top >= max_length
            tracker.stages.append((tracker.sequences, top))
        length = int(torch.randint(min_length, top + 1, (1,), generator=gen))
        yield copy_batch(batch_size=batch_size, length=length, width=width, generator=gen)


OPTIMIZERS = ("adam", "rmsprop")


def make_optimizer(model: nn.Module, name: str, lr: float) -> torch.optim.Optimizer:
    """``"adam"`` (torch defaults) or ``"rmsprop"`` with momentum 0.9 and smoothing 0.95, the optimiser Graves et al.
    (2014) and pytorch-ntm train the NTM with.
    """
    if name == "adam":
        return torch.optim.Adam(model.parameters(), lr=lr)
    if name == "rmsprop":
        return torch.optim.RMSprop(model.parameters(), lr=lr, momentum=0.9, alpha=0.95)
    raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {name!r}")


def train_copy(model: nn.Module, *, seed: int, batch_size: int = 32, lr: float = 1e-3, clip: float = 10.0,
               optimizer: str = "adam", lr_drops: Iterable[tuple[float, float]] = (), max_sequences: int = 100_000,
               after_convergence: int = 0, after_first_below: int | None = None, max_seconds: float | None = None,
               min_length: int = 1,
               max_length: int = 20, curriculum: bool = False, progress: bool = False) -> CostTracker:
    """Train ``model`` on the copy task (``optimizer`` from ``make_optimizer``: Adam or RMSprop) until
    ``max_sequences`` or until the cost (wrong bits per sequence, mean over 500 sequences) has stayed below 0.01
    for ``after_convergence`` sequences in a row; the tracker's ``converged_at`` is where that run began. With
    ``after_first_below`` set, training stops instead that many sequences after the cost first dips below 0.01,
    whether or not it stays there (chapter 7's copy models are trained so).
    ``lr_drops`` lowers the learning rate as that cost falls: each ``(cost, lr)`` pair sets the rate to ``lr``
    from the first step at which the cost is below ``cost``; once set, a rate stays. Uses ``e2t.train.fit``;
    returns the tracker.

    With ``curriculum=True`` the lengths start at 1..4 and grow to ``max_length`` as the cost falls
    (``curriculum_batches``); the convergence clock only counts windows on the full range of lengths, while
    the sequences and seconds it reports count everything from the start.
    """
    drops = sorted(((float(c), float(r)) for c, r in lr_drops), reverse=True)  # highest cost threshold first
    for cost, rate in drops:
        if not (cost > 0 and rate > 0):
            raise ValueError(f"lr_drops must hold (cost > 0, lr > 0) pairs, got {lr_drops!r}")
    opt = make_optimizer(model, optimizer, lr)
    tracker = CostTracker(batch_size=batch_size, stay=after_convergence)

    def loss_fn(m: nn.Module, batch: CopyBatch) -> torch.Tensor:
        while drops and tracker.windowed_mean is not None and tracker.windowed_mean < drops[0][0]:
            for group in opt.param_groups:
                group["lr"] = drops[0][1]
            tracker.lr_changes.append((tracker.sequences, drops.pop(0)[1]))
        logits = answer_logits(m, batch)  # (B, L, W)
        B = logits.shape[0]
        loss = F.binary_cross_entropy_with_logits(logits, batch.targets, reduction="sum") / (LN2 * B)
        tracker.update(float(loss.detach()), float(bit_errors(logits.detach(), batch.targets).mean()), B)
        return loss

    def stop_fn(_history) -> bool:
        if after_first_below is not None:
            first = tracker.first_below_at
            return first is not None and tracker.sequences >= first + after_first_below
        return tracker.converged_at is not None

    if curriculum:
        stream = curriculum_batches(tracker, batch_size=batch_size, seed=seed, min_length=min_length,
                                    max_length=max_length)
    else:
        stream = copy_batches(batch_size=batch_size, min_length=min_length, max_length=max_length, seed=seed)
    steps = math.ceil(max_sequences / batch_size)
    tracker.start, tracker.start_cpu = time.perf_counter(), time.process_time()
    fit(model, loss_fn, stream, steps=steps, optimizer=opt, clip=clip, max_seconds=max_seconds, progress=progress,
        stop_fn=stop_fn, desc="copy task")
    tracker.flush()
    return tracker


@torch.no_grad()
def evaluate_copy(model: nn.Module, *, lengths: Iterable[int] = (10, 20, 30, 40, 50, 60, 80, 120),
                  sequences: int = 100, batch_size: int = 50, seed: int = 1234) -> dict[int, dict[str, float]]:
    """Bit error rate (wrong bits / all bits) and bits per sequence at each length, on fresh seeded sequences."""
    model.eval()
    gen = torch.Generator().manual_seed(seed)
    out = {}
    for L in lengths:
        wrong, bits, total = 0.0, 0.0, 0
        for start in range(0, sequences, batch_size):
            B = min(batch_size, sequences - start)
            batch = copy_batch(batch_size=B, length=L, generator=gen)
            logits = answer_logits(model, batch)  # (B, L, W)
            wrong += float(bit_errors(logits, batch.targets).sum())
            bits += bits_per_sequence(logits, batch.targets) * B
            total += batch.targets.numel()
        out[int(L)] = {"bit_error_rate": wrong / total, "bits_per_sequence": bits / sequences}
    return out



r"""A whole Neural Turing Machine (controller + one read head + one write head) and the copy task it learns.

The controller (an LSTM cell, or a feed-forward layer) sees the input and the last read vector; from its output the
two heads emit their addressing parameters :math:`(k, \beta, g, s, \gamma)`, the write head also an erase vector
:math:`e` and an add vector :math:`a`. The memory functions are those of ``e2t.ntm``. An LSTM without memory is the
baseline (Graves et al. 2014, §4).

Choices that make batched training on a CPU fast and stable (after Graves et al. 2014, Collier & Beel 2018 and
pytorch-ntm): an LSTM controller, which knows from its own state whether the input is still coming or the answer
is due; the memory starts as a small constant (every row alike, so content addressing starts uniform); both heads
start focused on row 0 (a one-hot previous weighting); the initial read vector is learned; Xavier weights and zero
biases (LSTM forget-gate bias 1); gradient norm clipped at 10; RMSprop with momentum (the paper's optimiser) at
1e-3 on batches of 16 sequences of one length, and 1e-4 once the cost has first fallen below 1 wrong bit per
sequence (``lr_drops``). At 3e-4 throughout, seeds sat for 10,000 to over 60,000 sequences on a plateau near 30
wrong bits before the heads found the algorithm; at 1e-3 they leave it within about 4,000. Dropping to 1e-5 near
convergence left the last rare errors in place for longer; 1e-4 goes on removing them. A feed-forward
controller with Adam learned faster when it learned, but in most seeds it fell back to chance after a while: its
read head took to moving during the input too, read only blank rows, and never recovered.

``checkpoint_job`` trains three seeds, records sequences seen and wall time until the cost first stays below
0.01 bits per sequence, generalisation to longer sequences, and the LSTM baseline; it ships one NTM and the LSTM.

Introduced in: chapter 5.
"""

from __future__ import annotations

import math
import os
import platform
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from . import ntm
from .checkpoints import CHECKPOINT_DIR, save_checkpoint
from .data.copy_task import CopyBatch, copy_batch, copy_batches

__all__ = ["NTMConfig", "NTM", "make_ntm", "LSTMConfig", "LSTMBaseline", "make_lstm", "copy_loss",
           "bits_per_sequence", "bit_errors", "CostTracker", "curriculum_batches", "OPTIMIZERS", "make_optimizer",
           "train_copy", "evaluate_copy", "checkpoint_job"]

LN2 = math.log(2.0)


# -- the NTM ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NTMConfig:
    """Hyper-parameters of the NTM: sizes as in Graves et al. (2014) for the copy task (memory 128 x 20).

    ``controller="lstm"`` uses an LSTM cell (what ``checkpoint_job`` trains), ``"feedforward"`` one ReLU layer.

    Introduced in: chapter 5.
    """

    input_width: int = 9            # 8 bits + the delimiter flag
    output_width: int = 8
    controller: str = "lstm"        # "lstm" or "feedforward"
    controller_size: int = 100
    memory_rows: int = 128          # N
    memory_width: int = 20          # M
    shift_size: int = 3             # K: moves of -1, 0, +1 rows
    memory_init: float = 1e-6       # every memory cell starts at this constant

    def __post_init__(self) -> None:
        if self.controller not in ("lstm", "feedforward"):
            raise ValueError(f"controller must be 'lstm' or 'feedforward', got {self.controller!r}")
        if self.shift_size % 2 == 0:
            raise ValueError(f"shift_size must be odd, got {self.shift_size}")
        for name in ("input_width", "output_width", "controller_size", "memory_rows", "memory_width"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")


@dataclass
class NTMTrace:
    """What the heads did at every step: weightings (B, T, N), add and read vectors (B, T, M), final memory.

    Introduced in: chapter 5.
    """

    read_weights: torch.Tensor
    write_weights: torch.Tensor
    adds: torch.Tensor
    reads: torch.Tensor
    memory: torch.Tensor


class NTM(nn.Module):
    """Neural Turing Machine with one read head and one write head. Build it with ``make_ntm``.

    Per step t: controller h_t from [x_t, r_{t-1}]; the write head addresses M_{t-1} and writes M_t (erase, then
    add); the read head addresses M_t and reads r_t; the output is sigmoid(W [h_t, r_t]) (logits are returned).
    Writing before reading lets the machine read back at once what it has just written.

    Shapes: forward(inputs (B, T, input_width)) -> logits (B, T, output_width).

    Introduced in: chapter 5.
    """

    def __init__(self, config: NTMConfig):
        super().__init__()
        c = config
        self.config = c
        N, M, K, H = c.memory_rows, c.memory_width, c.shift_size, c.controller_size
        if c.controller == "lstm":
            self.controller = nn.LSTMCell(c.input_width + M, H)
        else:
            self.controller = nn.Linear(c.input_width + M, H)
        self.read_head = nn.Linear(H, M + 1 + 1 + K + 1)            # k, beta, g, s, gamma
        self.write_head = nn.Linear(H, M + 1 + 1 + K + 1 + M + M)   # ... and erase e, add a
        self.output = nn.Linear(H + M, c.output_width)
        self.read0 = nn.Parameter(torch.zeros(1, M))                 # the learned initial read vector
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Xavier-uniform weights, zero biases, LSTM forget-gate bias 1."""
        for module in (self.read_head, self.write_head, self.output):
            nn.init.xavier_uniform_(module.weight)
            nn.init.zeros_(module.bias)
        if isinstance(self.controller, nn.LSTMCell):
            H = self.config.controller_size
            for name, p in self.controller.named_parameters():
                if "weight" in name:
                    nn.init.xavier_uniform_(p)
                else:
                    nn.init.zeros_(p)
                    if name == "bias_ih":
                        p.data[H:2 * H] = 1.0  # forget gate
        else:
            nn.init.xavier_uniform_(self.controller.weight)
            nn.init.zeros_(self.controller.bias)
        nn.init.normal_(self.read0, std=0.1)

    def _head_params(self, out: torch.Tensor) -> dict[str, torch.Tensor]:
        """Split a head's raw output into its addressing parameters, each squashed into its range."""
        M, K = self.config.memory_width, self.config.shift_size
        key, beta, g, s, gamma = torch.split(out[:, :M + 3 + K], [M, 1, 1, K, 1], dim=-1)
        params = {"key": key,                              # (B, M)
                  "beta": F.softplus(beta),                # (B, 1), >= 0
                  "g": torch.sigmoid(g),                   # (B, 1), in [0, 1]
                  "s": torch.softmax(s, dim=-1),           # (B, K), sums to 1
                  "gamma": 1 + F.softplus(gamma)}          # (B, 1), >= 1
        if out.shape[-1] > M + 3 + K:
            erase, add = torch.split(out[:, M + 3 + K:], [M, M], dim=-1)
            params["erase"] = torch.sigmoid(erase)         # (B, M), in [0, 1]
            params["add"] = torch.tanh(add)                # (B, M)
        return params

    def initial_state(self, B: int, *, device=None, dtype=torch.float32):
        c = self.config
        memory = torch.full((B, c.memory_rows, c.memory_width), c.memory_init, device=device, dtype=dtype)
        w0 = torch.zeros(B, c.memory_rows, device=device, dtype=dtype)  # (B, N)
        w0[:, 0] = 1.0
        read = self.read0.expand(B, -1)  # (B, M)
        hidden = None
        if c.controller == "lstm":
            zeros = torch.zeros(B, c.controller_size, device=device, dtype=dtype)
            hidden = (zeros, zeros)
        return memory, w0, w0.clone(), read, hidden

    def step(self, x: torch.Tensor, read: torch.Tensor, hidden, memory: torch.Tensor, w_read: torch.Tensor,
             w_write: torch.Tensor):
        """One time step. Shapes: x (B, I), read (B, M), memory (B, N, M), w_read, w_write (B, N).

        Returns the output logits (B, O), the new read vector, controller state, memory, weightings, and the
        write head's add vector (B, M).
        """
        x = torch.cat([x, read], dim=-1)  # (B, I + M)
        if hidden is not None:
            hidden = self.controller(x, hidden)
            h = hidden[0]  # (B, H)
        else:
            h = torch.relu(self.controller(x))  # (B, H)
        p = self._head_params(self.write_head(h))
        w_write = ntm.address(memory, p["key"], p["beta"], p["g"], p["s"], p["gamma"], w_write)  # (B, N)
        memory = ntm.write(memory, w_write, p["erase"], p["add"])  # (B, N, M)
        q = self._head_params(self.read_head(h))
        w_read = ntm.address(memory, q["key"], q["beta"], q["g"], q["s"], q["gamma"], w_read)  # (B, N)
        read = ntm.read(memory, w_read)  # (B, M)
        logits = self.output(torch.cat([h, read], dim=-1))  # (B, O)
        return logits, read, hidden, memory, w_read, w_write, p["add"]

    def forward(self, inputs: torch.Tensor, *, return_trace: bool = False):
        if not isinstance(inputs, torch.Tensor) or inputs.dim() != 3 or inputs.shape[-1] != self.config.input_width:
            raise ValueError(f"inputs must have shape (B, T, {self.config.input_width}), got "
                             f"{getattr(inputs, 'shape', type(inputs).__name__)}")
        B, T, _ = inputs.shape
        memory, w_read, w_write, read, hidden = self.initial_state(B, device=inputs.device, dtype=inputs.dtype)
        outputs, reads_w, writes_w, adds, reads = [], [], [], [], []
        for t in range(T):
            out, read, hidden, memory, w_read, w_write, add = self.step(inputs[:, t], read, hidden, memory, w_read,
                                                                       w_write)
            outputs.append(out)
            if return_trace:
                reads_w.append(w_read)
                writes_w.append(w_write)
                adds.append(add)
                reads.append(read)
        logits = torch.stack(outputs, dim=1)  # (B, T, O)
        if not return_trace:
            return logits
        trace = NTMTrace(read_weights=torch.stack(reads_w, 1), write_weights=torch.stack(writes_w, 1),
                         adds=torch.stack(adds, 1), reads=torch.stack(reads, 1),
                         memory=memory)  # (B, T, N), (B, T, N), (B, T, M), (B, T, M), (B, N, M)
        return logits, trace


def make_ntm(config: NTMConfig | None = None) -> NTM:
    """Build an NTM from its config (defaults: LSTM controller of 100 units, memory 128 x 20).

    Introduced in: chapter 5.
    """
    return NTM(config or NTMConfig())


# -- the LSTM baseline ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LSTMConfig:
    """The baseline: a stacked LSTM without external memory.

    Introduced in: chapter 5.
    """

    input_width: int = 9
    output_width: int = 8
    hidden_size: int = 256
    num_layers: int = 1


class LSTMBaseline(nn.Module):
    """An LSTM reading the same inputs and emitting logits for the same outputs. Build it with ``make_lstm``.

    Shapes: forward(inputs (B, T, input_width)) -> logits (B, T, output_width).

    Introduced in: chapter 5.
    """

    def __init__(self, config: LSTMConfig):
        super().__init__()
        self.config = config
        self.lstm = nn.LSTM(config.input_width, config.hidden_size, num_layers=config.num_layers, batch_first=True)
        self.output = nn.Linear(config.hidden_size, config.output_width)
        for name, p in self.lstm.named_parameters():
            if name.startswith("bias_ih"):
                with torch.no_grad():
                    p[config.hidden_size:2 * config.hidden_size] = 1.0  # forget gate

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        if not isinstance(inputs, torch.Tensor) or inputs.dim() != 3 or inputs.shape[-1] != self.config.input_width:
            raise ValueError(f"inputs must have shape (B, T, {self.config.input_width}), got "
                             f"{getattr(inputs, 'shape', type(inputs).__name__)}")
        h, _ = self.lstm(inputs)  # (B, T, hidden)
        return self.output(h)  # (B, T, O)


def make_lstm(config: LSTMConfig | None = None) -> LSTMBaseline:
    """Build the LSTM baseline.

    Introduced in: chapter 5.
    """
    return LSTMBaseline(config or LSTMConfig())


# -- loss and cost ----------------------------------------------------------------------------------------------
def _output_logits(model: nn.Module, batch: CopyBatch) -> torch.Tensor:
    L = batch.length
    return model(batch.inputs)[:, L + 1:]  # (B, L, W): the answer phase


def copy_loss(model: nn.Module, batch: CopyBatch) -> torch.Tensor:
    """Binary cross-entropy of the answer phase, in bits per sequence (summed over the L x W bits, batch mean).

    Introduced in: chapter 5.
    """
    logits = _output_logits(model, batch)  # (B, L, W)
    bce = F.binary_cross_entropy_with_logits(logits, batch.targets, reduction="sum")
    return bce / (LN2 * batch.targets.shape[0])


def bits_per_sequence(logits: torch.Tensor, targets: torch.Tensor) -> float:
    """Cross-entropy in bits per sequence (the cost Graves et al. plot in Fig. 3).

    Shapes: logits, targets (B, L, W).

    Introduced in: chapter 5.
    """
    bce = F.binary_cross_entropy_with_logits(logits, targets, reduction="sum")
    return float(bce) / (LN2 * targets.shape[0])


def bit_errors(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Wrong bits per sequence after thresholding the outputs at 1/2 (pytorch-ntm's "cost").

    Shapes: logits, targets (B, L, W); returns (B,) counts as floats.

    Introduced in: chapter 5.
    """
    return ((logits > 0).float() != targets).float().sum(dim=(1, 2))  # (B,)


# -- training ---------------------------------------------------------------------------------------------------
@dataclass
class CostTracker:
    """Follows the per-sequence cost during training and finds when it first stays below ``threshold``.

    ``window`` sequences (500) are averaged; the cost is the number of wrong bits per sequence.
    ``first_below_at`` is the count of sequences seen when the windowed mean first went below the threshold.
    ``converged_at`` is where the cost first *stays* below: the start of the first run of windows, all below the
    threshold, that lasts ``stay`` more sequences (with ``stay=0`` the two are the same). ``worst_after`` keeps the
    largest windowed mean seen from ``first_below_at`` on, so the slips back above the threshold are on record.

    Introduced in: chapter 5.
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

    Introduced in: chapter 5.
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

    Introduced in: chapter 5.
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

    Introduced in: chapter 5.
    """
    from .train import fit

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
        logits = _output_logits(m, batch)  # (B, L, W)
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
    """Bit error rate (wrong bits / all bits) and bits per sequence at each length, on fresh seeded sequences.

    Introduced in: chapter 5.
    """
    model.eval()
    gen = torch.Generator().manual_seed(seed)
    out = {}
    for L in lengths:
        wrong, bits, total = 0.0, 0.0, 0
        for start in range(0, sequences, batch_size):
            B = min(batch_size, sequences - start)
            batch = copy_batch(batch_size=B, length=L, generator=gen)
            logits = _output_logits(model, batch)  # (B, L, W)
            wrong += float(bit_errors(logits, batch.targets).sum())
            bits += bits_per_sequence(logits, batch.targets) * B
            total += batch.targets.numel()
        out[int(L)] = {"bit_error_rate": wrong / total, "bits_per_sequence": bits / sequences}
    return out


# -- the checkpoint job -----------------------------------------------------------------------------------------
#: What ``checkpoint_job`` trains: the NTM's config and the training recipe.
JOB_CONFIG = NTMConfig(controller="lstm")
JOB_TRAINING = {"batch_size": 16, "optimizer": "rmsprop", "lr": 1e-3, "lr_drops": ((1.0, 1e-4),), "clip": 10.0,
                "curriculum": False}
LSTM_JOB_CONFIG = LSTMConfig()


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _generalisation(result: dict[int, dict[str, float]]) -> dict[str, dict[str, float]]:
    return {str(L): {k: round(v, 6) for k, v in r.items()} for L, r in result.items()}


def _train_ntm_seed(seed: int, quick: bool, max_seconds: float | None) -> dict[str, Any]:
    """Train one NTM seed (in its own process when the job runs seeds in parallel); return its run and weights."""
    import e2t

    e2t.set_seed(seed)
    model = make_ntm(JOB_CONFIG)
    max_sequences = 64 if quick else 60_000
    after = 0 if quick else 10_000
    tracker = train_copy(model, seed=seed, max_sequences=max_sequences, after_convergence=after,
                         max_seconds=max_seconds, **JOB_TRAINING)
    wall, cpu = time.perf_counter() - tracker.start, time.process_time() - tracker.start_cpu
    lengths = (10, 20) if quick else (10, 20, 30, 40, 50, 60, 80, 120)
    n_eval = 8 if quick else 200
    val = evaluate_copy(model, lengths=(40, 80), sequences=n_eval, seed=999)
    test = evaluate_copy(model, lengths=lengths, sequences=n_eval, seed=1234)
    conv, first = tracker.converged_at, tracker.first_below_at
    run = {"seed": seed, "converged_at_sequences": conv,
           "converged_wall_time_s": None if conv is None else round(tracker.converged_time_s, 1),
           "converged_cpu_time_s": None if conv is None else round(tracker.converged_cpu_s, 1),
           "ms_per_sequence_to_convergence": None if conv is None else round(1000 * tracker.converged_time_s / conv, 2),
           "stayed_converged": conv is not None,
           "sequences_after_convergence": None if conv is None else tracker.sequences - conv,
           "first_below_at_sequences": first,
           "first_below_wall_time_s": None if first is None else round(tracker.first_below_time_s, 1),
           "worst_windowed_cost_after_first_below": None if first is None else round(tracker.worst_after, 4),
           "lr_changes": tracker.lr_changes,
           "sequences_seen": tracker.sequences, "wall_time_s": round(wall, 1), "cpu_time_s": round(cpu, 1),
           "curriculum_stages": tracker.stages, "validation_bit_error_rate_40": val[40]["bit_error_rate"],
           "validation_bit_error_rate_80": val[80]["bit_error_rate"],
           "generalisation": _generalisation(test), "curve": tracker.curve}
    _log(f"ntm seed {seed}: first below 0.01 at {first} sequences; stays below from {conv} sequences, "
         f"{run['converged_wall_time_s']} s wall, {run['converged_cpu_time_s']} s cpu; worst window after the first "
         f"{tracker.worst_after:.4f}; "
         + ", ".join(f"{L}: {r['bit_error_rate']:.5f}" for L, r in test.items()))
    return {"run": run, "state": {k: v.detach().clone() for k, v in model.state_dict().items()}}


def _train_lstm(quick: bool, max_seconds: float | None) -> dict[str, Any]:
    """Train the LSTM baseline on the same task and recipe (data seed 100); return its card parts and weights."""
    import e2t

    e2t.set_seed(0)
    model = make_lstm(LSTM_JOB_CONFIG)
    tracker = train_copy(model, seed=100, max_sequences=64 if quick else 150_000, after_convergence=10**9,
                         max_seconds=max_seconds, batch_size=JOB_TRAINING["batch_size"], lr=1e-3,
                         clip=JOB_TRAINING["clip"], optimizer="adam")
    wall = time.perf_counter() - tracker.start
    lengths = (10, 20) if quick else (10, 20, 30, 40, 50, 60, 80, 120)
    test = evaluate_copy(model, lengths=lengths, sequences=8 if quick else 200, seed=1234)
    _log(f"lstm: {tracker.sequences} sequences, {wall:.0f} s; "
         + ", ".join(f"{L}: {r['bit_error_rate']:.5f}" for L, r in test.items()))
    return {"sequences_seen": tracker.sequences, "wall_time_s": round(wall, 1),
            "cpu_time_s": round(time.process_time() - tracker.start_cpu, 1), "converged_at_sequences":
            tracker.converged_at, "generalisation": _generalisation(test), "curve": tracker.curve,
            "state": {k: v.detach().clone() for k, v in model.state_dict().items()}}


def checkpoint_job(*, quick: bool = False, directory: str | Path | None = None,
                   max_seconds: float | None = None, workers: int = 2) -> dict[str, Any]:
    """Train the NTM on the copy task for seeds 0, 1, 2 and the LSTM baseline; ship ``ntm_copy`` and ``lstm_copy``.

    The four trainings run in ``workers`` parallel processes (one torch thread each; 2 on a 2-core machine, so each
    run has a core of its own). Each NTM seed trains until its cost (wrong bits per sequence, mean over 500
    sequences) has stayed below 0.01 for 10,000 sequences in a row, or at most 60,000 sequences; its card records
    where that run below 0.01 began (``converged_at_sequences``, and the wall time to there), where the cost first
    dipped below 0.01, and the worst window in between. ``max_seconds`` caps each training. The LSTM trains on
    150,000 sequences (or until ``max_seconds``). The shipped NTM is the seed with the lowest bit error rate at
    length 40 on validation sequences (seed 999), ties broken at length 80; the reported generalisation uses
    other sequences (seed 1234).
    Returns the NTM card.

    Introduced in: chapter 5.
    """
    if quick and directory is None:
        raise ValueError("quick=True must write to a directory (the tests pass a temporary one)")
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    torch.set_num_threads(1)  # as in every run, so the card's "machine" line tells the truth
    seeds = (0,) if quick else (0, 1, 2)
    command = ("python -m e2t.jobs ntm_model" if max_seconds is None and workers == 2 else
               "python -c 'from e2t.ntm_model import checkpoint_job; "
               f"checkpoint_job(max_seconds={max_seconds}, workers={workers})'")
    command += " (quick)" if quick else ""
    total_start = time.perf_counter()
    if quick:
        results = [_train_ntm_seed(seed, quick, max_seconds) for seed in seeds]
        lstm_result = _train_lstm(quick, max_seconds)
    else:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn")) as pool:
            futures = [pool.submit(_train_ntm_seed, seed, quick, max_seconds) for seed in seeds]
            lstm_future = pool.submit(_train_lstm, quick, max_seconds)
            results = [f.result() for f in futures]
            lstm_result = lstm_future.result()
    directory = Path(directory) if directory is not None else CHECKPOINT_DIR
    batch_size = JOB_TRAINING["batch_size"]
    machine = (f"{platform.machine()}, {os.cpu_count()} CPU cores, {1 if quick else workers} run(s) at a time, "
               "1 torch thread per run")

    lstm = make_lstm(LSTM_JOB_CONFIG)
    lstm.load_state_dict(lstm_result.pop("state"))
    lstm_card = {"name": "lstm_copy", "command": command, "seed": 0, "data_seed": 100,
                 "steps": math.ceil(lstm_result["sequences_seen"] / batch_size), "batch_size": batch_size,
                 "config": asdict(LSTM_JOB_CONFIG), "optimizer": "Adam lr 1e-3, gradient norm clipped at 10",
                 "metrics": {f"bit_error_rate_{L}": r["bit_error_rate"] for L, r in
                             lstm_result["generalisation"].items()},
                 "machine": machine,
                 "note": f"trained after or beside the three NTM seeds, {workers} runs at a time, one torch thread each",
                 **lstm_result}
    save_checkpoint(lstm, "lstm_copy", lstm_card, directory=directory)

    runs = [r["run"] for r in results]
    best = min(range(len(runs)), key=lambda i: (runs[i]["validation_bit_error_rate_40"],
                                                runs[i]["validation_bit_error_rate_80"]))
    shipped = make_ntm(JOB_CONFIG)
    shipped.load_state_dict(results[best]["state"])
    run = runs[best]
    ntm_card = {"name": "ntm_copy", "command": command, "seed": run["seed"],
                "steps": math.ceil(run["sequences_seen"] / batch_size), "sequences_seen": run["sequences_seen"],
                "batch_size": batch_size, "wall_time_s": run["wall_time_s"], "config": asdict(JOB_CONFIG),
                "training": {**JOB_TRAINING, "optimizer_settings": "RMSprop, momentum 0.9, smoothing 0.95 "
                             "(make_optimizer); gradient norm clipped", "max_seconds_per_run": max_seconds},
                "cost": "wrong bits per sequence (outputs thresholded at 1/2), mean over a window of 500 sequences "
                        "on lengths 1-20, one window ending at every batch; converged (stays below) = the start "
                        "of the first run of windows all below 0.01 that lasts 10,000 sequences; first below = the "
                        "first window below 0.01",
                "task": "copy, 8-bit vectors, lengths 1-20, one length per batch",
                "shipped_rule": "lowest bit error rate at length 40 on validation sequences (seed 999), ties broken "
                                "by the rate at length 80 on the same validation seed",
                "machine": machine,
                "timing_note": (f"the three seeds and the LSTM ran as {workers} parallel processes at a time, one torch "
                                "thread each; wall times are per run from its own start; cpu times are the process's "
                                "own CPU seconds (close to the wall time when the run had a core to itself)"),
                "total_job_wall_time_s": round(time.perf_counter() - total_start, 1),
                "metrics": {**{f"bit_error_rate_{L}": v["bit_error_rate"] for L, v in run["generalisation"].items()},
                            "converged_at_sequences": run["converged_at_sequences"],
                            "converged_wall_time_s": run["converged_wall_time_s"]},
                "runs": runs}
    save_checkpoint(shipped, "ntm_copy", ntm_card, directory=directory)
    return ntm_card

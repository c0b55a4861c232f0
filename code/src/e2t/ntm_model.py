r"""A whole Neural Turing Machine (controller + one read head + one write head) and its LSTM baseline.

The controller (an LSTM cell, or a feed-forward layer) sees the input and the last read vector; from its output the
two heads emit their addressing parameters :math:`(k, \beta, g, s, \gamma)`, the write head also an erase vector
:math:`e` and an add vector :math:`a`. The memory functions are those of ``e2t.ntm``. An LSTM without memory is the
baseline (Graves et al. 2014, §4). The copy task's loss and costs are here too; how the shipped NTM was trained
(and why) is in ``e2t.recipes.ntm_model``.

Initialisation, after Graves et al. (2014), Collier & Beel (2018) and pytorch-ntm: the memory starts as a small
constant (every row alike, so content addressing starts uniform); both heads start focused on row 0 (a one-hot
previous weighting); the initial read vector is learned; Xavier weights and zero biases (LSTM forget-gate bias 1).

Introduced in: chapter 5.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from . import ntm
from .data.copy_task import CopyBatch

__all__ = ["NTMConfig", "NTMState", "NTMTrace", "NTM", "make_ntm", "LSTMConfig", "LSTMBaseline", "make_lstm",
           "answer_logits", "copy_loss", "bits_per_sequence", "bit_errors"]

LN2 = math.log(2.0)


# -- the NTM ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NTMConfig:
    """Hyper-parameters of the NTM: sizes as in Graves et al. (2014) for the copy task (memory 128 x 20).

    ``controller="lstm"`` uses an LSTM cell (what ``checkpoint_job`` trains), ``"feedforward"`` one ReLU layer.
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


class NTMState(NamedTuple):
    """What the NTM carries from one step to the next.

    Shapes: memory (B, N, M); w_read, w_write (B, N); read (B, M); hidden: the LSTM controller's (h, c), each
    (B, H), or None for a feed-forward controller.
    """

    memory: torch.Tensor
    w_read: torch.Tensor
    w_write: torch.Tensor
    read: torch.Tensor
    hidden: tuple[torch.Tensor, torch.Tensor] | None


@dataclass
class NTMTrace:
    """What the heads did at every step: weightings (B, T, N), add and read vectors (B, T, M), final memory."""

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

    def start(self, batch_size: int, *, device=None, dtype=torch.float32) -> NTMState:
        """The state before the first input: constant memory, both heads on row 0, the learned read vector."""
        c = self.config
        memory = torch.full((batch_size, c.memory_rows, c.memory_width), c.memory_init, device=device, dtype=dtype)
        w0 = torch.zeros(batch_size, c.memory_rows, device=device, dtype=dtype)  # (B, N)
        w0[:, 0] = 1.0
        read = self.read0.expand(batch_size, -1)  # (B, M)
        hidden = None
        if c.controller == "lstm":
            zeros = torch.zeros(batch_size, c.controller_size, device=device, dtype=dtype)
            hidden = (zeros, zeros)
        return NTMState(memory=memory, w_read=w0, w_write=w0.clone(), read=read, hidden=hidden)

    def step(self, *, x: torch.Tensor, state: NTMState) -> tuple[torch.Tensor, NTMState, torch.Tensor]:
        """One time step (keyword-only): the controller reads ``x`` and the last read vector, the write head
        writes, the read head reads. Returns the output logits (B, O), the new state and the write head's add
        vector (B, M).

        Shapes: x (B, I); state as in ``NTMState``.
        """
        x = torch.cat([x, state.read], dim=-1)  # (B, I + M)
        hidden = state.hidden
        if hidden is not None:
            hidden = self.controller(x, hidden)
            h = hidden[0]  # (B, H)
        else:
            h = torch.relu(self.controller(x))  # (B, H)
        p = self._head_params(self.write_head(h))
        w_write = ntm.address(state.memory, key=p["key"], beta=p["beta"], g=p["g"], s=p["s"], gamma=p["gamma"],
                              w_prev=state.w_write)  # (B, N)
        memory = ntm.write(state.memory, w_write, p["erase"], p["add"])  # (B, N, M)
        q = self._head_params(self.read_head(h))
        w_read = ntm.address(memory, key=q["key"], beta=q["beta"], g=q["g"], s=q["s"], gamma=q["gamma"],
                             w_prev=state.w_read)  # (B, N)
        read = ntm.read(memory, w_read)  # (B, M)
        logits = self.output(torch.cat([h, read], dim=-1))  # (B, O)
        return logits, NTMState(memory=memory, w_read=w_read, w_write=w_write, read=read, hidden=hidden), p["add"]

    def forward(self, inputs: torch.Tensor, *, return_trace: bool = False):
        if not isinstance(inputs, torch.Tensor) or inputs.dim() != 3 or inputs.shape[-1] != self.config.input_width:
            raise ValueError(f"inputs must have shape (B, T, {self.config.input_width}), got "
                             f"{getattr(inputs, 'shape', type(inputs).__name__)}")
        B, T, _ = inputs.shape
        state = self.start(B, device=inputs.device, dtype=inputs.dtype)
        outputs, reads_w, writes_w, adds, reads = [], [], [], [], []
        for t in range(T):
            out, state, add = self.step(x=inputs[:, t], state=state)
            outputs.append(out)
            if return_trace:
                reads_w.append(state.w_read)
                writes_w.append(state.w_write)
                adds.append(add)
                reads.append(state.read)
        logits = torch.stack(outputs, dim=1)  # (B, T, O)
        if not return_trace:
            return logits
        trace = NTMTrace(read_weights=torch.stack(reads_w, 1), write_weights=torch.stack(writes_w, 1),
                         adds=torch.stack(adds, 1), reads=torch.stack(reads, 1),
                         memory=state.memory)  # (B, T, N), (B, T, N), (B, T, M), (B, T, M), (B, N, M)
        return logits, trace


def make_ntm(config: NTMConfig | dict | None = None) -> NTM:
    """Build an NTM from its config or the config's dict, as a card stores it (defaults: LSTM controller of 100
    units, memory 128 x 20).
    """
    return NTM(NTMConfig(**config) if isinstance(config, dict) else config or NTMConfig())


# -- the LSTM baseline ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LSTMConfig:
    """The baseline: a stacked LSTM without external memory."""

    input_width: int = 9
    output_width: int = 8
    hidden_size: int = 256
    num_layers: int = 1


class LSTMBaseline(nn.Module):
    """An LSTM reading the same inputs and emitting logits for the same outputs. Build it with ``make_lstm``.

    Shapes: forward(inputs (B, T, input_width)) -> logits (B, T, output_width).
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


def make_lstm(config: LSTMConfig | dict | None = None) -> LSTMBaseline:
    """Build the LSTM baseline (from its config or the config's dict, as a card stores it)."""
    return LSTMBaseline(LSTMConfig(**config) if isinstance(config, dict) else config or LSTMConfig())


# -- loss and cost ----------------------------------------------------------------------------------------------
def answer_logits(model: nn.Module, batch: CopyBatch) -> torch.Tensor:
    """The model's logits during the answer phase of a copy batch. Shapes: -> (B, L, W)."""
    L = batch.length
    return model(batch.inputs)[:, L + 1:]  # (B, L, W): the answer phase


def copy_loss(model: nn.Module, batch: CopyBatch) -> torch.Tensor:
    """Binary cross-entropy of the answer phase, in bits per sequence (summed over the L x W bits, batch mean)."""
    logits = answer_logits(model, batch)  # (B, L, W)
    bce = F.binary_cross_entropy_with_logits(logits, batch.targets, reduction="sum")
    return bce / (LN2 * batch.targets.shape[0])


def bits_per_sequence(logits: torch.Tensor, targets: torch.Tensor) -> float:
    """Cross-entropy in bits per sequence (the cost Graves et al. plot in Fig. 3).

    Shapes: logits, targets (B, L, W).
    """
    bce = F.binary_cross_entropy_with_logits(logits, targets, reduction="sum")
    return float(bce) / (LN2 * targets.shape[0])


def bit_errors(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Wrong bits per sequence after thresholding the outputs at 1/2 (pytorch-ntm's "cost").

    Shapes: logits, targets (B, L, W); returns (B,) counts as floats.
    """
    return ((logits > 0).float() != targets).float().sum(dim=(1, 2))  # (B,)

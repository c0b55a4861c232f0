r"""The copy task for the attention model and the Transformer, so chapter 7 can set them beside the NTM and the LSTM.

Both models keep the interface of chapter 5's copy models: ``model(inputs)`` with inputs (B, 2L + 1, W + 1)
(the L bit vectors, the delimiter step, L blank steps) returns logits (B, 2L + 1, W), of which the last L steps are
the answer. So ``e2t.recipes.copy_task.train_copy`` trains them and ``evaluate_copy`` measures them, exactly as
the NTM.

- ``AttentionCopy``: a bidirectional GRU encoder over the L vectors and a GRU decoder that, at each of the L answer
  steps, attends over the encoder states with the additive score of Bahdanau et al. (chapter 3) and feeds its own
  previous output back in. Nothing in it depends on absolute positions.
- ``TransformerCopy``: a Transformer encoder over the L vectors (with sinusoidal positions) and a decoder whose
  queries are the answer positions themselves (sinusoidal encodings), attending to each other and to the encoder.
  Absolute positions beyond those seen in training are new to it.

Introduced in: chapter 7.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .attention import masked_softmax
from .checks import check_tensor
from .scores import AdditiveScore
from .transformer import Decoder, Encoder, sinusoidal_positions

TRAIN_LENGTHS = (1, 20)
EVAL_LENGTHS = (10, 20, 40, 80)


def _split(inputs: torch.Tensor, width: int) -> tuple[torch.Tensor, int]:
    """The L input vectors of a copy sequence. inputs (B, 2L+1, W+1) -> (B, L, W+1), L."""
    check_tensor("inputs", inputs, ndim=3, dtype_kind="float")
    B, steps, C = inputs.shape
    if C != width + 1 or steps % 2 == 0:
        raise ValueError(f"inputs must have shape (B, 2L+1, {width + 1}), got {tuple(inputs.shape)}")
    L = (steps - 1) // 2
    return inputs[:, :L], L  # (B, L, W+1)


def _place_answer(answer: torch.Tensor, steps: int) -> torch.Tensor:
    """Put the L answer logits into the last L of ``steps`` positions. (B, L, W) -> (B, steps, W)."""
    B, L, W = answer.shape
    out = answer.new_zeros(B, steps - L, W)  # (B, L+1, W): nothing is asked before the answer phase
    return torch.cat([out, answer], dim=1)  # (B, 2L+1, W)


@dataclass(frozen=True)
class AttentionCopyConfig:
    """Sizes of ``AttentionCopy``. """

    width: int = 8
    hidden: int = 64
    d_attn: int = 64


class AttentionCopy(nn.Module):
    r"""A GRU encoder-decoder with additive attention for the copy task.

    Encoder: $h_i = [\overrightarrow{h}_i; \overleftarrow{h}_i]$. Decoder step $t$: $\alpha_{t,i} =
    \mathrm{softmax}_i(v_a^\top \tanh(W_a [s_{t-1}; h_i]))$, $c_t = \sum_i \alpha_{t,i} h_i$,
    $s_t = \mathrm{GRU}([y_{t-1}; c_t], s_{t-1})$, $y_t = \sigma(W_y [s_t; c_t])$; $y_0 = 0$.

    Shapes: inputs (B, 2L+1, W+1) -> logits (B, 2L+1, W); ``attention`` (B, L, L) after ``forward(..., True)``.
    """

    def __init__(self, config: AttentionCopyConfig):
        super().__init__()
        c = self.config = config
        self.encoder = nn.GRU(c.width + 1, c.hidden, batch_first=True, bidirectional=True)
        self.init = nn.Linear(2 * c.hidden, c.hidden)
        self.score = AdditiveScore(d_query=c.hidden, d_key=2 * c.hidden, d_attn=c.d_attn)
        self.cell = nn.GRUCell(c.width + 2 * c.hidden, c.hidden)
        self.out = nn.Linear(3 * c.hidden, c.width)

    def forward(self, inputs: torch.Tensor, return_attention: bool = False):
        x, L = _split(inputs, self.config.width)  # (B, L, W+1)
        h, _ = self.encoder(x)  # (B, L, 2Hd)
        keys = self.score.project_keys(h)  # (B, L, A)
        s = torch.tanh(self.init(h.mean(dim=1)))  # (B, Hd)
        y = h.new_zeros(h.shape[0], self.config.width)  # (B, W)
        logits, weights = [], []
        for _ in range(L):
            alpha = masked_softmax(self.score(s[:, None], h, keys_projected=keys))  # (B, 1, L)
            c = (alpha @ h)[:, 0]  # (B, 2Hd)
            s = self.cell(torch.cat([y, c], dim=-1), s)  # (B, Hd)
            logit = self.out(torch.cat([s, c], dim=-1))  # (B, W)
            y = torch.sigmoid(logit)
            logits.append(logit)
            weights.append(alpha[:, 0])
        out = _place_answer(torch.stack(logits, dim=1), inputs.shape[1])  # (B, 2L+1, W)
        return (out, torch.stack(weights, dim=1)) if return_attention else out  # (B, L, L)


@dataclass(frozen=True)
class TransformerCopyConfig:
    """Sizes of ``TransformerCopy``. """

    width: int = 8
    d_model: int = 64
    num_heads: int = 4
    num_layers: int = 2
    d_ff: int = 128
    max_len: int = 256


class TransformerCopy(nn.Module):
    r"""A Transformer for the copy task: encoder over the L vectors, decoder queries = answer positions.

    Encoder input $x_i W_{in} + PE_i$; decoder input $PE_t$ for $t = 0..L-1$; output $\sigma(z_t W_{out})$.
    The decoder's self-attention is not causal: it predicts all L answers at once (nothing is fed back).

    Shapes: inputs (B, 2L+1, W+1) -> logits (B, 2L+1, W).
    """

    def __init__(self, config: TransformerCopyConfig):
        super().__init__()
        c = self.config = config
        self.embed = nn.Linear(c.width + 1, c.d_model)
        self.register_buffer("positions", sinusoidal_positions(c.max_len, c.d_model), persistent=False)
        kw = dict(num_layers=c.num_layers, d_model=c.d_model, num_heads=c.num_heads, d_ff=c.d_ff, dropout=0.0)
        self.encoder = Encoder(**kw)
        self.decoder = Decoder(**kw)
        self.out = nn.Linear(c.d_model, c.width)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        x, L = _split(inputs, self.config.width)  # (B, L, W+1)
        if L > self.config.max_len:
            raise ValueError(f"inputs hold L={L} vectors but max_len is {self.config.max_len}")
        pos = self.positions[:L]  # (L, D)
        memory = self.encoder(self.embed(x) + pos)  # (B, L, D)
        queries = pos.expand(x.shape[0], L, -1)  # (B, L, D)
        answer = self.out(self.decoder(queries, memory))  # (B, L, W)
        return _place_answer(answer, inputs.shape[1])  # (B, 2L+1, W)


def make_attention_copy(config: AttentionCopyConfig | dict | None = None) -> AttentionCopy:
    """Build ``AttentionCopy`` (from its config or the config's dict, as a card stores it)."""
    return AttentionCopy(AttentionCopyConfig(**config) if isinstance(config, dict) else config or AttentionCopyConfig())


def make_transformer_copy(config: TransformerCopyConfig | dict | None = None) -> TransformerCopy:
    """Build ``TransformerCopy`` (from its config or the config's dict, as a card stores it)."""
    return TransformerCopy(TransformerCopyConfig(**config) if isinstance(config, dict)
                           else config or TransformerCopyConfig())

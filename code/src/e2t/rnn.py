r"""A GRU encoder that returns every state and the final one, and a GRU decoder that writes tokens from a state.

The encoder reads tokens $x_1 \dots x_S$ into hidden states $h_i = \mathrm{GRU}(h_{i-1}, \mathrm{emb}(x_i))$; its last
state $h_S$ is the fixed-length vector a plain encoder-decoder hands over, and the whole sequence of states is what
attention (chapter 3) reads. The decoder runs $s_t = \mathrm{GRU}(s_{t-1}, [\mathrm{emb}(y_{t-1}); c])$ and predicts
$p(y_t \mid y_{<t}, c) = \mathrm{softmax}(W_o s_t + b_o)$, with an optional context vector $c$ fed at every step
(Cho et al. 2014).

The GRU cell (Cho et al. 2014), as ``torch.nn.GRU`` computes it:

$$r_t = \sigma(W_r x_t + U_r h_{t-1}),\quad z_t = \sigma(W_z x_t + U_z h_{t-1}),$$
$$\tilde h_t = \tanh(W x_t + r_t \odot (U h_{t-1})),\quad h_t = (1 - z_t) \odot \tilde h_t + z_t \odot h_{t-1}.$$

Introduced in: chapter 1.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from .checks import check_tensor, check_tokens


class EncoderOutput(NamedTuple):
    """What ``GRUEncoder`` returns.

    ``states`` (B, S, D): the top layer's state at every position (zeros at padding), ``final`` (B, D): the top
    layer's state after the last real token, ``hidden`` (B, L, D): the last state of every layer, batch first like
    every state in the book. ``D = d_hidden`` (``2 * d_hidden`` when bidirectional, the two directions
    concatenated).
    """

    states: torch.Tensor
    final: torch.Tensor
    hidden: torch.Tensor


class GRUEncoder(nn.Module):
    """Embedding + (stacked, optionally bidirectional) GRU over a padded batch of token ids.

    ``forward(src, lengths=None)`` returns an ``EncoderOutput``. With ``lengths`` the padded tail is skipped (packed
    sequences), so ``final`` is the state after each sequence's own last token.

    Shapes: src (B, S) long; lengths (B,) long or None; states (B, S, D), final (B, D), hidden (B, L, D).
    """

    def __init__(self, *, vocab_size: int, d_embed: int, d_hidden: int, num_layers: int = 1,
                 bidirectional: bool = False, dropout: float = 0.0, pad_id: int = 0):
        super().__init__()
        self.vocab_size, self.d_hidden, self.num_layers = vocab_size, d_hidden, num_layers
        self.bidirectional = bidirectional
        self.embed = nn.Embedding(vocab_size, d_embed, padding_idx=pad_id)
        self.gru = nn.GRU(d_embed, d_hidden, num_layers=num_layers, batch_first=True,
                          bidirectional=bidirectional, dropout=dropout if num_layers > 1 else 0.0)

    @property
    def d_out(self) -> int:
        """Width D of the states: ``d_hidden``, doubled when bidirectional."""
        return self.d_hidden * (2 if self.bidirectional else 1)

    def forward(self, src: torch.Tensor, lengths: torch.Tensor | None = None) -> EncoderOutput:
        check_tokens("src", src, self.vocab_size)
        B, S = src.shape
        x = self.embed(src)  # (B, S, E)
        if lengths is not None:
            check_tensor("lengths", lengths, ndim=1)
            if lengths.shape[0] != B:
                raise ValueError(f"lengths has {lengths.shape[0]} entries but src has batch size {B}")
            if int(lengths.min()) < 1 or int(lengths.max()) > S:
                raise ValueError(f"lengths must lie in [1, {S}] (src has shape {tuple(src.shape)}), "
                                 f"got [{int(lengths.min())}, {int(lengths.max())}]")
            packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
            out, h = self.gru(packed)  # h: (L * dirs, B, Dh)
            states, _ = pad_packed_sequence(out, batch_first=True, total_length=S)  # (B, S, D)
        else:
            states, h = self.gru(x)  # (B, S, D), (L * dirs, B, Dh)
        dirs = 2 if self.bidirectional else 1
        h = h.view(self.num_layers, dirs, B, self.d_hidden)  # (L, dirs, B, Dh)
        hidden = torch.cat([h[:, d] for d in range(dirs)], dim=-1)  # (L, B, D)
        return EncoderOutput(states=states, final=hidden[-1], hidden=hidden.transpose(0, 1))  # hidden (B, L, D)


class GRUDecoder(nn.Module):
    """Embedding + GRU + linear read-out; writes the next-token logits given the previous tokens and a state.

    ``forward(tokens, hidden, context=None)`` runs teacher-forced over a whole target (``tokens`` = the target shifted
    right, starting with ``<bos>``) and returns ``(logits, hidden)``. With ``d_context > 0`` the vector ``context``
    is concatenated to the embedding at every step. ``step(prev_tokens, state)`` advances one token for
    ``e2t.train.decoding``; its state is ``{"hidden": (B, L, H), "context": (B, Dc)}`` (no context when
    ``d_context == 0``).

    Shapes: tokens (B, T) long; hidden (B, L, H); context (B, Dc) or None; logits (B, T, V), hidden (B, L, H).
    """

    def __init__(self, *, vocab_size: int, d_embed: int, d_hidden: int, num_layers: int = 1, d_context: int = 0,
                 dropout: float = 0.0, pad_id: int = 0):
        super().__init__()
        self.vocab_size, self.d_hidden, self.num_layers, self.d_context = vocab_size, d_hidden, num_layers, d_context
        self.embed = nn.Embedding(vocab_size, d_embed, padding_idx=pad_id)
        self.gru = nn.GRU(d_embed + d_context, d_hidden, num_layers=num_layers, batch_first=True,
                          dropout=dropout if num_layers > 1 else 0.0)
        self.out = nn.Linear(d_hidden, vocab_size)

    def forward(self, tokens: torch.Tensor, hidden: torch.Tensor,
                context: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        check_tokens("tokens", tokens, self.vocab_size)
        B, T = tokens.shape
        check_tensor("hidden", hidden, ndim=3, dtype_kind="float")
        if tuple(hidden.shape) != (B, self.num_layers, self.d_hidden):
            raise ValueError(f"hidden must have shape (B, L, H) = {(B, self.num_layers, self.d_hidden)}, "
                             f"got {tuple(hidden.shape)}")
        x = self.embed(tokens)  # (B, T, E)
        if self.d_context:
            if context is None:
                raise ValueError(f"this decoder was built with d_context={self.d_context}; pass context (B, Dc)")
            check_tensor("context", context, ndim=2, dtype_kind="float")
            if tuple(context.shape) != (B, self.d_context):
                raise ValueError(f"context must have shape {(B, self.d_context)}, got {tuple(context.shape)}")
            x = torch.cat([x, context.unsqueeze(1).expand(B, T, self.d_context)], dim=-1)  # (B, T, E + Dc)
        elif context is not None:
            raise ValueError("context was given but this decoder was built with d_context=0")
        out, hidden = self.gru(x, hidden.transpose(0, 1).contiguous())  # (B, T, H), (L, B, H) as nn.GRU keeps it
        return self.out(out), hidden.transpose(0, 1)  # (B, T, V), (B, L, H)

    def step(self, prev_tokens: torch.Tensor, state: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict]:
        """One token: (prev_tokens (B,), state) -> (logits (B, V), state), the interface of ``e2t.train.decoding``."""
        logits, hidden = self(prev_tokens.unsqueeze(1), state["hidden"], state.get("context"))  # (B, 1, V)
        return logits.squeeze(1), {**state, "hidden": hidden}  # (B, V)


__all__ = ["EncoderOutput", "GRUEncoder", "GRUDecoder"]

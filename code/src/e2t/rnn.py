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

from .checks import check_tensor


class EncoderOutput(NamedTuple):
    """What ``GRUEncoder`` returns.

    ``states`` (B, S, D): the top layer's state at every position (zeros at padding), ``final`` (B, D): the top
    layer's state after the last real token, ``hidden`` (L, B, D): the last state of every layer (the layout
    ``torch.nn.GRU`` takes as its initial state). ``D = d_hidden`` (``2 * d_hidden`` when bidirectional, the two
    directions concatenated).

    Introduced in: chapter 1.
    """

    states: torch.Tensor
    final: torch.Tensor
    hidden: torch.Tensor


def _check_tokens(name: str, tokens: torch.Tensor, vocab_size: int) -> None:
    check_tensor(name, tokens, ndim=2)
    if tokens.dtype != torch.long:
        raise TypeError(f"{name} must hold token ids (torch.long), got dtype {tokens.dtype}")
    if tokens.numel() and (int(tokens.min()) < 0 or int(tokens.max()) >= vocab_size):
        raise ValueError(f"{name} holds ids in [{int(tokens.min())}, {int(tokens.max())}] "
                         f"but the vocabulary has {vocab_size} entries")


class GRUEncoder(nn.Module):
    """Embedding + (stacked, optionally bidirectional) GRU over a padded batch of token ids.

    ``forward(src, lengths=None)`` returns an ``EncoderOutput``. With ``lengths`` the padded tail is skipped (packed
    sequences), so ``final`` is the state after each sequence's own last token.

    Shapes: src (B, S) long; lengths (B,) long or None; states (B, S, D), final (B, D), hidden (L, B, D).

    Introduced in: chapter 1.
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
        _check_tokens("src", src, self.vocab_size)
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
        return EncoderOutput(states=states, final=hidden[-1], hidden=hidden)


class GRUDecoder(nn.Module):
    """Embedding + GRU + linear read-out; writes the next-token logits given the previous tokens and a state.

    ``forward(tokens, hidden, context=None)`` runs teacher-forced over a whole target (``tokens`` = the target shifted
    right, starting with ``<bos>``) and returns ``(logits, hidden)``. With ``d_context > 0`` the vector ``context``
    is concatenated to the embedding at every step.

    Shapes: tokens (B, T) long; hidden (L, B, H); context (B, Dc) or None; logits (B, T, V), hidden (L, B, H).

    Introduced in: chapter 1.
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
        _check_tokens("tokens", tokens, self.vocab_size)
        B, T = tokens.shape
        check_tensor("hidden", hidden, ndim=3, dtype_kind="float")
        if tuple(hidden.shape) != (self.num_layers, B, self.d_hidden):
            raise ValueError(f"hidden must have shape (L, B, H) = {(self.num_layers, B, self.d_hidden)}, "
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
        out, hidden = self.gru(x, hidden.contiguous())  # (B, T, H), (L, B, H)
        return self.out(out), hidden  # (B, T, V), (L, B, H)


@torch.no_grad()
def greedy_decode(decoder: GRUDecoder, hidden: torch.Tensor, *, bos_id: int, eos_id: int, max_len: int,
                  pad_id: int = 0, context: torch.Tensor | None = None) -> torch.Tensor:
    r"""Write tokens one at a time, each the most probable: $y_t = \arg\max_y p(y \mid y_{<t}, c)$.

    Stops when every sequence has written ``eos_id`` or after ``max_len`` tokens; positions after a sequence's
    ``eos_id`` hold ``pad_id``. The returned ids do not include the leading ``bos_id``.

    Shapes: hidden (L, B, H); context (B, Dc) or None; returns (B, T') long with T' <= max_len.

    Introduced in: chapter 1.
    """
    if max_len < 1:
        raise ValueError(f"max_len must be >= 1, got {max_len}")
    B = hidden.shape[1]
    token = torch.full((B, 1), bos_id, dtype=torch.long, device=hidden.device)  # (B, 1)
    done = torch.zeros(B, dtype=torch.bool, device=hidden.device)
    out = []
    for _ in range(max_len):
        logits, hidden = decoder(token, hidden, context)  # (B, 1, V)
        token = logits.argmax(-1)  # (B, 1)
        out.append(torch.where(done.unsqueeze(1), torch.full_like(token, pad_id), token))
        done = done | (token.squeeze(1) == eos_id)
        if bool(done.all()):
            break
    return torch.cat(out, dim=1)  # (B, T')


__all__ = ["EncoderOutput", "GRUEncoder", "GRUDecoder", "greedy_decode"]

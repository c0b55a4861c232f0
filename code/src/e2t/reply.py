r"""The source's RNN encoder-decoder: read an e-mail into one vector, write the reply from it.

The encoder (``e2t.rnn.GRUEncoder``) reads the e-mail $x_1 \dots x_S$; its final state $h_S$ is the only thing the
decoder sees. It becomes the decoder's first state through a bridge $s_0 = \tanh(W_b h_S + b_b)$ and is also fed at
every step as the context $c = h_S$ (Cho et al. 2014). Training maximises $\sum_t \log p(y_t \mid y_{<t}, c)$ with
teacher forcing.

Introduced in: chapter 1.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from .data.replies import ReplyPair
from .data.text import Batch
from .data.vocab import Vocab
from .rnn import GRUDecoder, GRUEncoder
from .train.decoding import greedy_decode


@dataclass(frozen=True)
class ReplyConfig:
    """Sizes of the e-mail reply model (one vocabulary for e-mails and replies)."""

    vocab_size: int
    d_embed: int = 32
    d_hidden: int = 64
    max_reply_len: int = 12
    pad_id: int = 0


class ReplyModel(nn.Module):
    """GRU encoder -> one vector -> GRU decoder, with the interface of every sequence model of the book.

    ``start(src, src_lengths)`` encodes the e-mail into its fixed-length vector $h_S$ and returns the decoder's first
    state; ``step(prev_tokens, state)`` writes one token; ``forward(src, src_lengths, tgt_in)`` runs the decoder
    over a whole reply under teacher forcing.

    Shapes: src (B, S) long, src_lengths (B,), tgt_in (B, T) long -> logits (B, T, V); encode -> (B, H);
    state ``{"hidden": (B, 1, H), "context": (B, H)}``.
    """

    def __init__(self, config: ReplyConfig):
        super().__init__()
        self.config = config
        c = config
        self.encoder = GRUEncoder(vocab_size=c.vocab_size, d_embed=c.d_embed, d_hidden=c.d_hidden, pad_id=c.pad_id)
        self.bridge = nn.Linear(c.d_hidden, c.d_hidden)
        self.decoder = GRUDecoder(vocab_size=c.vocab_size, d_embed=c.d_embed, d_hidden=c.d_hidden,
                                  d_context=c.d_hidden, pad_id=c.pad_id)

    def encode(self, src: torch.Tensor, src_lengths: torch.Tensor | None = None) -> torch.Tensor:
        """The e-mail's fixed-length vector $h_S$ (the encoder's final state)."""
        return self.encoder(src, src_lengths).final  # (B, H)

    def start(self, src: torch.Tensor, src_lengths: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """The decoder's first state $s_0 = \\tanh(W_b h_S + b_b)$, with $h_S$ as the context of every step."""
        vector = self.encode(src, src_lengths)  # (B, H)
        return {"hidden": torch.tanh(self.bridge(vector)).unsqueeze(1), "context": vector}  # (B, 1, H), (B, H)

    def step(self, prev_tokens: torch.Tensor, state: dict[str, torch.Tensor]):
        """One token: (prev_tokens (B,), state) -> (logits (B, V), state)."""
        return self.decoder.step(prev_tokens, state)

    def forward(self, src: torch.Tensor, src_lengths: torch.Tensor | None, tgt_in: torch.Tensor) -> torch.Tensor:
        state = self.start(src, src_lengths)
        logits, _ = self.decoder(tgt_in, state["hidden"], state["context"])  # (B, T, V)
        return logits


def make_reply_model(config: ReplyConfig | dict) -> ReplyModel:
    """Build a ``ReplyModel`` from its config (or the config's dict, as a card stores it)."""
    return ReplyModel(ReplyConfig(**config) if isinstance(config, dict) else config)


def reply_batch(pairs: Sequence[ReplyPair], vocab: Vocab) -> Batch:
    """Pad a list of pairs into a ``Batch``: tgt_in = <bos> + reply, tgt_out = reply + <eos>.

    Shapes: src (B, S), src_lengths (B,), tgt_in and tgt_out (B, T).
    """
    src, lengths = vocab.pad_batch([p.email for p in pairs])  # (B, S)
    tgt, tgt_lengths = vocab.pad_batch([p.reply for p in pairs], bos=True, eos=True)  # (B, T + 1)
    return Batch(src=src, src_lengths=lengths, tgt_in=tgt[:, :-1], tgt_out=tgt[:, 1:], tgt_lengths=tgt_lengths - 1,
                 examples=tuple(pairs))


def reply_batches(pairs: Sequence[ReplyPair], vocab: Vocab, *, batch_size: int = 64,
                  seed: int = 0) -> Iterator[Batch]:
    """Endless random mini-batches of ``pairs`` (its own generator, so the order repeats with ``seed``)."""
    g = torch.Generator().manual_seed(seed)
    while True:
        idx = torch.randint(len(pairs), (batch_size,), generator=g).tolist()
        yield reply_batch([pairs[i] for i in idx], vocab)


@torch.no_grad()
def predict_replies(model: ReplyModel, pairs: Sequence[ReplyPair], vocab: Vocab) -> list[list[str]]:
    """Greedy replies to the e-mails of ``pairs``."""
    model.eval()
    batch = reply_batch(pairs, vocab)
    ids = greedy_decode(model.step, model.start(batch.src, batch.src_lengths), batch_size=len(pairs),
                        bos=vocab.bos, eos=vocab.eos, max_len=model.config.max_reply_len)
    return [vocab.decode(row) for row in ids]


__all__ = ["ReplyConfig", "ReplyModel", "make_reply_model", "reply_batch", "reply_batches", "predict_replies"]

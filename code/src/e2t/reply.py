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
import torch.nn.functional as F
from torch import nn

from .data.replies import ReplyPair, Vocab
from .rnn import GRUDecoder, GRUEncoder, greedy_decode


@dataclass(frozen=True)
class ReplyConfig:
    """Sizes of the e-mail reply model (one vocabulary for e-mails and replies).

    Introduced in: chapter 1.
    """

    vocab_size: int
    d_embed: int = 32
    d_hidden: int = 64
    max_reply_len: int = 12


class ReplyModel(nn.Module):
    """GRU encoder -> one vector -> GRU decoder.

    ``forward(src, src_lengths, tgt_in)`` returns next-token logits; ``encode`` returns the fixed-length vector.

    Shapes: src (B, S) long, src_lengths (B,), tgt_in (B, T) long -> logits (B, T, V); encode -> (B, H).

    Introduced in: chapter 1.
    """

    def __init__(self, config: ReplyConfig):
        super().__init__()
        self.config = config
        c = config
        self.encoder = GRUEncoder(vocab_size=c.vocab_size, d_embed=c.d_embed, d_hidden=c.d_hidden)
        self.bridge = nn.Linear(c.d_hidden, c.d_hidden)
        self.decoder = GRUDecoder(vocab_size=c.vocab_size, d_embed=c.d_embed, d_hidden=c.d_hidden,
                                  d_context=c.d_hidden)

    def encode(self, src: torch.Tensor, src_lengths: torch.Tensor | None = None) -> torch.Tensor:
        """The e-mail's fixed-length vector $h_S$ (the encoder's final state)."""
        return self.encoder(src, src_lengths).final  # (B, H)

    def start(self, vector: torch.Tensor) -> torch.Tensor:
        """The decoder's first state $s_0 = \\tanh(W_b h_S + b_b)$, shaped for the GRU."""
        return torch.tanh(self.bridge(vector)).unsqueeze(0)  # (1, B, H)

    def forward(self, src: torch.Tensor, src_lengths: torch.Tensor | None, tgt_in: torch.Tensor) -> torch.Tensor:
        vector = self.encode(src, src_lengths)  # (B, H)
        logits, _ = self.decoder(tgt_in, self.start(vector), vector)  # (B, T, V)
        return logits


def make_reply_model(config: ReplyConfig) -> ReplyModel:
    """Build a ``ReplyModel`` from its config.

    Introduced in: chapter 1.
    """
    return ReplyModel(config)


def reply_batch(pairs: Sequence[ReplyPair], vocab: Vocab) -> tuple[torch.Tensor, ...]:
    """Pad a list of pairs: (src, src_lengths, tgt_in, tgt_out), tgt_in = <bos> + reply, tgt_out = reply + <eos>.

    Shapes: src (B, S), src_lengths (B,), tgt_in and tgt_out (B, T).

    Introduced in: chapter 1.
    """
    src, lengths = vocab.pad_batch([p.email for p in pairs])  # (B, S)
    tgt, _ = vocab.pad_batch([p.reply for p in pairs], bos=True, eos=True)  # (B, T + 1)
    return src, lengths, tgt[:, :-1], tgt[:, 1:]  # tgt_in, tgt_out: (B, T)


def reply_batches(pairs: Sequence[ReplyPair], vocab: Vocab, *, batch_size: int = 64,
                  seed: int = 0) -> Iterator[tuple[torch.Tensor, ...]]:
    """Endless random mini-batches of ``pairs`` (its own generator, so the order repeats with ``seed``).

    Introduced in: chapter 1.
    """
    g = torch.Generator().manual_seed(seed)
    while True:
        idx = torch.randint(len(pairs), (batch_size,), generator=g).tolist()
        yield reply_batch([pairs[i] for i in idx], vocab)


def reply_loss(model: ReplyModel, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
    r"""Teacher-forced cross-entropy $-\frac{1}{N}\sum_t \log p(y_t \mid y_{<t}, c)$, padding ignored.

    Introduced in: chapter 1.
    """
    src, lengths, tgt_in, tgt_out = batch
    logits = model(src, lengths, tgt_in)  # (B, T, V)
    return F.cross_entropy(logits.flatten(0, 1), tgt_out.flatten(), ignore_index=Vocab.PAD)


@torch.no_grad()
def predict_replies(model: ReplyModel, pairs: Sequence[ReplyPair], vocab: Vocab) -> list[list[str]]:
    """Greedy replies to the e-mails of ``pairs``.

    Introduced in: chapter 1.
    """
    model.eval()
    src, lengths, _, _ = reply_batch(pairs, vocab)
    vector = model.encode(src, lengths)  # (B, H)
    ids = greedy_decode(model.decoder, model.start(vector), bos_id=vocab.BOS, eos_id=vocab.EOS,
                        max_len=model.config.max_reply_len, pad_id=vocab.PAD, context=vector)  # (B, T')
    return [vocab.decode(row) for row in ids.tolist()]


__all__ = ["ReplyConfig", "ReplyModel", "make_reply_model", "reply_batch", "reply_batches", "reply_loss",
           "predict_replies"]

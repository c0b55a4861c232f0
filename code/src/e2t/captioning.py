r"""A mixed encoder-decoder: a CNN encoder reads an image, a GRU decoder writes its caption word by word.

The source's point: encoder and decoder types mix freely. Here the encoder is ``e2t.cnn.ConvEncoder`` with
``pool="flatten"`` (so the vector still knows *where* things are), the decoder is ``e2t.rnn.GRUDecoder``. The image
vector $v = \mathrm{CNN}(I)$ starts the decoder, $s_0 = \tanh(W_b v + b_b)$, and is fed at every step as the
context $c = v$. Training maximises $\sum_t \log p(w_t \mid w_{<t}, v)$ with teacher forcing
(``e2t.train.losses.teacher_forced_loss``); captions are written greedily. The captioner has the interface of every
sequence model of the book; its source is an image, so it has no source lengths.

Introduced in: chapter 1.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from .cnn import ConvEncoder, ConvEncoderConfig
from .data.text import Batch
from .data.vocab import Vocab
from .rnn import GRUDecoder
from .train.decoding import greedy_decode


@dataclass(frozen=True)
class CaptionerConfig:
    """Sizes of the captioner: the CNN encoder's config and the GRU decoder's widths."""

    vocab_size: int
    encoder: ConvEncoderConfig = field(default_factory=lambda: ConvEncoderConfig(pool="flatten", d_out=96))
    d_embed: int = 24
    d_hidden: int = 96
    max_caption_len: int = 12
    pad_id: int = 0


class Captioner(nn.Module):
    """CNN encoder (image -> vector) + GRU decoder (vector -> words).

    ``start(images)`` encodes the image and returns the decoder's first state, ``step(prev_tokens, state)`` writes
    one word, ``forward(images, None, tgt_in)`` runs the decoder over a whole caption (teacher forcing; the
    ``None`` stands for the source lengths an image does not have).

    Shapes: images (B, C, H, W), tgt_in (B, T) long -> logits (B, T, V); encode -> (B, d_out);
    state ``{"hidden": (B, 1, H), "context": (B, d_out)}``.
    """

    def __init__(self, config: CaptionerConfig):
        super().__init__()
        self.config = config
        self.encoder = ConvEncoder(config.encoder)
        self.bridge = nn.Linear(config.encoder.d_out, config.d_hidden)
        self.decoder = GRUDecoder(vocab_size=config.vocab_size, d_embed=config.d_embed, d_hidden=config.d_hidden,
                                  d_context=config.encoder.d_out, pad_id=config.pad_id)

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """The image's fixed-length vector $v$."""
        return self.encoder(images)  # (B, d_out)

    def start(self, images: torch.Tensor, src_lengths: None = None) -> dict[str, torch.Tensor]:
        """The decoder's first state $s_0 = \\tanh(W_b v + b_b)$, with $v$ as the context of every step."""
        if src_lengths is not None:
            raise ValueError("an image has no source lengths: pass src_lengths=None")
        vector = self.encode(images)  # (B, d_out)
        return {"hidden": torch.tanh(self.bridge(vector)).unsqueeze(1), "context": vector}  # (B, 1, H), (B, d_out)

    def step(self, prev_tokens: torch.Tensor, state: dict[str, torch.Tensor]):
        """One word: (prev_tokens (B,), state) -> (logits (B, V), state)."""
        return self.decoder.step(prev_tokens, state)

    def forward(self, images: torch.Tensor, src_lengths: None, tgt_in: torch.Tensor) -> torch.Tensor:
        state = self.start(images, src_lengths)
        logits, _ = self.decoder(tgt_in, state["hidden"], state["context"])  # (B, T, V)
        return logits


def make_captioner(config: CaptionerConfig | dict) -> Captioner:
    """Build a ``Captioner`` from its config (or the config's dict, as a card stores it)."""
    if isinstance(config, dict):
        config = CaptionerConfig(**{**config, "encoder": ConvEncoderConfig(**config["encoder"])})
    return Captioner(config)


def caption_batches(images: torch.Tensor, captions: Sequence[Sequence[str]], vocab: Vocab, *, batch_size: int = 64,
                    seed: int = 0) -> Iterator[Batch]:
    """Endless random mini-batches: ``Batch`` es whose source is the images (no lengths), tgt_in = <bos> + caption,
    tgt_out = caption + <eos>.

    Shapes: src (B, C, H, W), tgt_in and tgt_out (B, T) long.
    """
    if len(images) != len(captions):
        raise ValueError(f"images has {len(images)} items but captions has {len(captions)}")
    tgt_all, lengths = vocab.pad_batch(captions, bos=True, eos=True)  # (N, T + 1)
    g = torch.Generator().manual_seed(seed)
    while True:
        idx = torch.randint(len(images), (batch_size,), generator=g)
        tgt = tgt_all[idx]  # (B, T + 1)
        yield Batch(src=images[idx], src_lengths=None, tgt_in=tgt[:, :-1], tgt_out=tgt[:, 1:],
                    tgt_lengths=lengths[idx] - 1, examples=())


@torch.no_grad()
def greedy_captions(model: Captioner, images: torch.Tensor, vocab: Vocab, *,
                    batch_size: int = 256) -> list[list[str]]:
    """Greedy captions of ``images``: each word the most probable given the image and the words so far."""
    model.eval()
    out: list[list[str]] = []
    for i in range(0, len(images), batch_size):
        chunk = images[i:i + batch_size]
        out += [vocab.decode(row) for row in greedy_decode(model.step, model.start(chunk), batch_size=len(chunk),
                                                           bos=vocab.bos, eos=vocab.eos,
                                                           max_len=model.config.max_caption_len)]
    return out


__all__ = ["CaptionerConfig", "Captioner", "make_captioner", "caption_batches", "greedy_captions"]

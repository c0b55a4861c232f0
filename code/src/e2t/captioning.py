r"""A mixed encoder-decoder: a CNN encoder reads an image, a GRU decoder writes its caption word by word.

The source's point: encoder and decoder types mix freely. Here the encoder is ``e2t.cnn.ConvEncoder`` with
``pool="flatten"`` (so the vector still knows *where* things are), the decoder is ``e2t.rnn.GRUDecoder``. The image
vector $v = \mathrm{CNN}(I)$ starts the decoder, $s_0 = \tanh(W_b v + b_b)$, and is fed at every step as the
context $c = v$. Training maximises $\sum_t \log p(w_t \mid w_{<t}, v)$ with teacher forcing; captions are written
greedily.

Introduced in: chapter 1.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .cnn import ConvEncoder, ConvEncoderConfig
from .data.images import caption_scenes, caption_vocab
from .data.replies import Vocab
from .rnn import GRUDecoder, greedy_decode


@dataclass(frozen=True)
class CaptionerConfig:
    """Sizes of the captioner: the CNN encoder's config and the GRU decoder's widths.

    Introduced in: chapter 1.
    """

    vocab_size: int
    encoder: ConvEncoderConfig = field(default_factory=lambda: ConvEncoderConfig(pool="flatten", d_out=96))
    d_embed: int = 24
    d_hidden: int = 96
    max_caption_len: int = 12


class Captioner(nn.Module):
    """CNN encoder (image -> vector) + GRU decoder (vector -> words).

    Shapes: images (B, C, H, W), tgt_in (B, T) long -> logits (B, T, V); encode -> (B, d_out).

    Introduced in: chapter 1.
    """

    def __init__(self, config: CaptionerConfig):
        super().__init__()
        self.config = config
        self.encoder = ConvEncoder(config.encoder)
        self.bridge = nn.Linear(config.encoder.d_out, config.d_hidden)
        self.decoder = GRUDecoder(vocab_size=config.vocab_size, d_embed=config.d_embed, d_hidden=config.d_hidden,
                                  d_context=config.encoder.d_out)

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """The image's fixed-length vector $v$."""
        return self.encoder(images)  # (B, d_out)

    def start(self, vector: torch.Tensor) -> torch.Tensor:
        """The decoder's first state $s_0 = \\tanh(W_b v + b_b)$, shaped for the GRU."""
        return torch.tanh(self.bridge(vector)).unsqueeze(0)  # (1, B, H)

    def forward(self, images: torch.Tensor, tgt_in: torch.Tensor) -> torch.Tensor:
        vector = self.encode(images)  # (B, d_out)
        logits, _ = self.decoder(tgt_in, self.start(vector), vector)  # (B, T, V)
        return logits


def make_captioner(config: CaptionerConfig) -> Captioner:
    """Build a ``Captioner`` from its config.

    Introduced in: chapter 1.
    """
    return Captioner(config)


def caption_batches(images: torch.Tensor, captions: Sequence[Sequence[str]], vocab: Vocab, *, batch_size: int = 64,
                    seed: int = 0) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """Endless random mini-batches (images, tgt_in, tgt_out) with tgt_in = <bos> + caption, tgt_out = caption + <eos>.

    Shapes: images (B, C, H, W), tgt_in and tgt_out (B, T) long.

    Introduced in: chapter 1.
    """
    if len(images) != len(captions):
        raise ValueError(f"images has {len(images)} items but captions has {len(captions)}")
    tgt_all, _ = vocab.pad_batch(captions, bos=True, eos=True)  # (N, T + 1)
    g = torch.Generator().manual_seed(seed)
    while True:
        idx = torch.randint(len(images), (batch_size,), generator=g)
        tgt = tgt_all[idx]  # (B, T + 1)
        yield images[idx], tgt[:, :-1], tgt[:, 1:]


def caption_loss(model: Captioner, batch: tuple[torch.Tensor, torch.Tensor, torch.Tensor]) -> torch.Tensor:
    r"""Teacher-forced cross-entropy $-\frac{1}{N}\sum_t \log p(w_t \mid w_{<t}, v)$, padding ignored.

    Introduced in: chapter 1.
    """
    images, tgt_in, tgt_out = batch
    logits = model(images, tgt_in)  # (B, T, V)
    return F.cross_entropy(logits.flatten(0, 1), tgt_out.flatten(), ignore_index=Vocab.PAD)


@torch.no_grad()
def greedy_captions(model: Captioner, images: torch.Tensor, vocab: Vocab, *,
                    batch_size: int = 256) -> list[list[str]]:
    """Greedy captions of ``images``: each word the most probable given the image and the words so far.

    Introduced in: chapter 1.
    """
    model.eval()
    out: list[list[str]] = []
    for i in range(0, len(images), batch_size):
        vector = model.encode(images[i:i + batch_size])  # (B, d_out)
        ids = greedy_decode(model.decoder, model.start(vector), bos_id=vocab.BOS, eos_id=vocab.EOS,
                            max_len=model.config.max_caption_len, pad_id=vocab.PAD, context=vector)  # (B, T')
        out += [vocab.decode(row) for row in ids.tolist()]
    return out


# Everything the shipped checkpoint and the chapter's live run share.
TRAIN_SEED, TEST_SEED, N_TRAIN, N_TEST = 11, 12, 6000, 500


def train_captioner(*, steps: int, seed: int = 0, n_train: int = N_TRAIN, lr: float = 3e-3, batch_size: int = 64,
                    progress: bool = True) -> tuple[Captioner, Any]:
    """Train a captioner on ``caption_scenes(n_train, seed=TRAIN_SEED)``; return (model, History).

    Introduced in: chapter 1.
    """
    from . import set_seed
    from .train import fit

    set_seed(seed)
    vocab = caption_vocab()
    images, captions = caption_scenes(n_train, seed=TRAIN_SEED)
    model = make_captioner(CaptionerConfig(vocab_size=len(vocab)))
    history = fit(model, caption_loss, caption_batches(images, captions, vocab, batch_size=batch_size, seed=seed),
                  steps=steps, lr=lr, progress=progress, desc="captioner")
    return model, history


def checkpoint_job(*, quick: bool = False, directory: str | Path | None = None) -> dict:
    """Train the captioner longer than the chapter can and save ``ch1_captioner`` (``make checkpoints``).

    Introduced in: chapter 1.
    """
    from .checkpoints import save_checkpoint
    from .metrics import corpus_bleu, exact_match

    steps = 5 if quick else 1500
    start = time.perf_counter()
    model, history = train_captioner(steps=steps, n_train=256 if quick else N_TRAIN, progress=False)
    wall = time.perf_counter() - start
    vocab = caption_vocab()
    images, captions = caption_scenes(64 if quick else N_TEST, seed=TEST_SEED)
    hyp = greedy_captions(model, images, vocab)
    card = {"name": "ch1_captioner", "command": "python -m e2t.jobs captioning", "seed": 0, "steps": steps,
            "wall_time_s": round(wall, 1),
            "metrics": {"exact_match": round(exact_match(hyp, captions), 4),
                        "bleu": round(corpus_bleu(hyp, captions), 2),
                        "final_loss": round(history.losses[-1], 5)},
            "data": f"caption_scenes({N_TRAIN}, seed={TRAIN_SEED}); test caption_scenes({N_TEST}, seed={TEST_SEED})",
            "config": asdict(model.config)}
    save_checkpoint(model, "ch1_captioner", card, directory=directory)
    return card


__all__ = ["CaptionerConfig", "Captioner", "make_captioner", "caption_batches", "caption_loss", "greedy_captions",
           "train_captioner", "checkpoint_job"]

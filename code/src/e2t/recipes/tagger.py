"""The recipe of chapter 4's self-attention tagger: trained live on the number task's English sources.

Introduced in: chapter 4.
"""

from __future__ import annotations

import torch

import e2t
from e2t.data.text import NumberTask, number_task
from e2t.self_attention import TaggerConfig, make_tagger, tag_batch, tagger_loss
from e2t.train import fit

__all__ = ["train_tagger"]


def train_tagger(*, steps: int = 400, batch_size: int = 64, lr: float = 3e-3, seed: int = 0,
                 task: NumberTask | None = None, progress: bool = False):
    """Train the tagger on the number task's training sources; return ``(model, history)``."""
    task = task or number_task()
    e2t.set_seed(seed)
    model = make_tagger(TaggerConfig(vocab_size=len(task.src_vocab)))
    train = list(task.train)
    g = torch.Generator().manual_seed(seed)

    def stream():
        while True:
            idx = torch.randint(len(train), (batch_size,), generator=g).tolist()
            yield tag_batch([train[i] for i in idx], task.src_vocab)

    history = fit(model, tagger_loss, stream(), steps=steps, lr=lr, progress=progress, desc="self-attention")
    return model, history

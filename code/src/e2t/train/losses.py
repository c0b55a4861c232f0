r"""The one loss of the book's sequence models: teacher-forced cross-entropy.

With teacher forcing the decoder reads the *true* previous token $y_{t-1}$ at every step (the batch's ``tgt_in``),
so all $T$ steps run in one call and the loss is the mean over the $N$ real target tokens of the batch,

$$\mathcal{L} = -\frac{1}{N} \sum_{n} \sum_{t=1}^{T_n} \log p\big(y^{(n)}_t \mid y^{(n)}_{<t}, x^{(n)}\big),$$

padding ignored. Every translation model (``Seq2Seq``, ``RNNsearch``, ``LuongTranslator``, ``Transformer``)
takes ``(src, src_lengths, tgt_in)`` and returns logits, and its config names its ``pad_id``.

Introduced in: chapter 2.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["teacher_forced_loss"]


def teacher_forced_loss(model: nn.Module, batch, *, label_smoothing: float = 0.0) -> torch.Tensor:
    r"""Mean over real target tokens of $-\log p(y_t \mid y_{<t}, x)$ under teacher forcing, padding ignored;
    ``label_smoothing`` $\epsilon$ mixes the one-hot target with a uniform distribution (Szegedy et al. 2016).

    Shapes: batch.src (B, S), batch.src_lengths (B,), batch.tgt_in and batch.tgt_out (B, T) -> a scalar.
    """
    logits = model(batch.src, batch.src_lengths, batch.tgt_in)  # (B, T, V)
    B, T, V = logits.shape
    return nn.functional.cross_entropy(logits.reshape(B * T, V), batch.tgt_out.reshape(B * T),  # (B*T, V)
                                       ignore_index=model.config.pad_id, label_smoothing=label_smoothing)

"""One translator for every sequence model of the book.

A sequence model has ``start(src, src_lengths) -> state`` and ``step(prev_tokens, state) -> (logits, state)``
(``e2t.train.decoding``). ``translator(model, task)`` turns it into ``translate(examples) -> token lists``, the
function ``e2t.train.evaluation.evaluate`` scores: it batches the examples (feeding the source reversed or twice
when the model's config says so), decodes greedily or with beam search, and maps ids back to words.

Introduced in: chapter 2.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from e2t.data.text import Example, NumberTask, collate
from e2t.train.decoding import decode

__all__ = ["translator", "Translate"]

#: What ``translator`` returns: examples -> one list of target words per example.
Translate = Callable[[Sequence[Example]], list[list[str]]]


def translator(model: nn.Module, task: NumberTask, *, beam_size: int = 1, length_penalty: float = 1.0,
               batch_size: int = 500, max_len: int | Callable[[int], int] = 40) -> Translate:
    """``translate(examples) -> token lists`` for any model with ``start`` and ``step``.

    Greedy decoding with ``beam_size=1``, beam search otherwise (``e2t.train.decoding.decode``). Sources are fed
    the way ``model.config`` says (``reverse_source``, ``repeat_source``; both off when the config has no such
    field). Decoding stops at ``eos`` or after ``max_len`` tokens; ``max_len`` may be a function of the batch's
    padded source length ``S`` (a Transformer cannot go past its positions).
    """
    for name in ("start", "step"):
        if not callable(getattr(model, name, None)):
            raise TypeError(f"model must have start(src, src_lengths) and step(prev_tokens, state); "
                            f"{type(model).__name__} has no {name}")
    config = model.config
    feed = {"reverse_source": bool(getattr(config, "reverse_source", False)),
            "repeat_source": bool(getattr(config, "repeat_source", False))}
    bos, eos = task.tgt_vocab.bos, task.tgt_vocab.eos

    @torch.no_grad()
    def translate(examples: Sequence[Example]) -> list[list[str]]:
        model.eval()
        out = []
        for first in range(0, len(examples), batch_size):
            b = collate(examples[first:first + batch_size], task, **feed)
            limit = max_len(b.src.shape[1]) if callable(max_len) else max_len
            ids = decode(model.step, model.start(b.src, b.src_lengths), batch_size=len(b), bos=bos, eos=eos,
                         max_len=limit, beam_size=beam_size, length_penalty=length_penalty)
            out.extend(task.tgt_vocab.decode(s) for s in ids)
        return out

    return translate

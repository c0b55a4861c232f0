"""Everything that trains, decodes, scores and stores a model, the same way for every model of the book.

- ``loop``: ``fit``, the one training loop, and its ``History``;
- ``losses``: ``teacher_forced_loss``, the one loss of the sequence models;
- ``decoding``: greedy decoding and beam search for any ``step(prev_tokens, state) -> (logits, state)``;
- ``translate``: ``translator(model, task)``, turning any sequence model into a function of examples;
- ``evaluation`` and ``metrics``: exact match, token accuracy, BLEU, by source length;
- ``checkpoints``: safetensors weights with a JSON card, ``load(name, build)``.

Introduced in: chapter 1.
"""

from .loop import History, fit

__all__ = ["History", "fit"]

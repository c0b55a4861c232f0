"""Metrics for generated sequences: exact match, token accuracy and corpus BLEU (sacrebleu).

Sequences are lists of tokens (strings) without special tokens.

Introduced in: chapter 1 (captions) and chapter 2 (translation).
"""

from __future__ import annotations

from collections.abc import Sequence

import sacrebleu


def _check_pair(hypotheses: Sequence, references: Sequence) -> None:
    if len(hypotheses) != len(references):
        raise ValueError(f"hypotheses has {len(hypotheses)} items but references has {len(references)}")


def exact_match(hypotheses: Sequence[Sequence[str]], references: Sequence[Sequence[str]]) -> float:
    """Fraction of hypotheses equal to their reference, token for token."""
    _check_pair(hypotheses, references)
    if not references:
        return 0.0
    return sum(list(h) == list(r) for h, r in zip(hypotheses, references)) / len(references)


def token_accuracy(hypotheses: Sequence[Sequence[str]], references: Sequence[Sequence[str]]) -> float:
    """Fraction of reference positions whose token the hypothesis has at the same position.

    A hypothesis shorter than its reference scores 0 on the missing positions; extra tokens are not counted.

    Introduced in: chapter 2.
    """
    _check_pair(hypotheses, references)
    total = sum(len(r) for r in references)
    if total == 0:
        return 0.0
    hits = sum(sum(a == b for a, b in zip(h, r)) for h, r in zip(hypotheses, references))
    return hits / total


def corpus_bleu(hypotheses: Sequence[Sequence[str]], references: Sequence[Sequence[str]]) -> float:
    """Corpus BLEU (0-100) from sacrebleu, on already tokenized sequences (joined with spaces, no re-tokenizing)."""
    _check_pair(hypotheses, references)
    hyp = [" ".join(h) for h in hypotheses]
    ref = [" ".join(r) for r in references]
    return float(sacrebleu.corpus_bleu(hyp, [ref], tokenize="none", force=True).score)

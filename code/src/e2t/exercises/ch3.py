"""Exercises of chapter 3: the additive score, the attention read over a padded batch, a gold alignment, and
whether alignment is learned.

Introduced in: chapter 3.
"""

from __future__ import annotations

import torch

from ..attention import BahdanauAttention
from ..data.text import make_examples
from ..data.word_alignment import gold_alignment
from ..masks import padding_mask
from ..scores import AdditiveScore
from .answers import as_mapping, as_number
from .core import Case, fail, make_generator, register, run_cases

__all__ = ["reference_additive_score", "additive_cases", "reference_attend", "attend_cases", "ALIGNED_NUMBER"]


def reference_additive_score(q: torch.Tensor, k: torch.Tensor, W_a: torch.Tensor, v_a: torch.Tensor) -> torch.Tensor:
    """``e2t.scores.AdditiveScore`` with the given ``W_a`` (A, Dq + Dk) and ``v_a`` (A,)."""
    A, width = W_a.shape
    score = AdditiveScore(d_query=q.shape[-1], d_key=width - q.shape[-1], d_attn=A).to(q.dtype)
    with torch.no_grad():
        score.W_a.copy_(W_a)
        score.v_a.copy_(v_a)
        return score(q, k)  # (B, T, S)


def additive_cases() -> list[Case]:
    """Hidden cases of exercise 3.1: (q, k, W_a, v_a)."""
    g = make_generator(31)

    def case(B, T, S, Dq, Dk, A, dtype=torch.float64, zero_q=False):
        r = lambda *s: torch.randn(*s, generator=g, dtype=dtype)  # noqa: E731
        q = torch.zeros(B, T, Dq, dtype=dtype) if zero_q else r(B, T, Dq)
        return (q, r(B, S, Dk), r(A, Dq + Dk) * 0.5, r(A))

    order = "W_a [s; h] puts the query first: its first Dq columns act on the query, the last Dk on the key."
    return [
        Case("B = 2, T = 3, S = 4, Dq = 5, Dk = 6, A = 7", case(2, 3, 4, 5, 6, 7), hint=order),
        Case("one decoder step (T = 1), batch 1", case(1, 1, 5, 3, 3, 4)),
        Case("one source word (S = 1)", case(3, 2, 1, 4, 2, 3), hint=order),
        Case("a zero query", case(2, 2, 3, 4, 4, 5, zero_q=True)),
        Case("float32, B = 4, T = 5, S = 6, Dq = 8, Dk = 16, A = 10", case(4, 5, 6, 8, 16, 10, dtype=torch.float32),
             hint=order),
    ]


@register("3.1", title="The additive score", kind="implement", short="additive score")
def _check_additive(fn) -> str:
    return run_cases("3.1", "additive score", fn, reference_additive_score, additive_cases(),
                     arg_names=("q", "k", "W_a", "v_a"), out_names=("the scores",),
                     hint="score[b, t, i] = v_a . tanh(W_a [q[b, t]; k[b, i]]). Split W_a into its query half "
                          "W_a[:, :Dq] and key half W_a[:, Dq:], project both, add them for every (t, i) pair by "
                          "broadcasting (B, T, 1, A) + (B, 1, S, A), then tanh and a product with v_a.")


def reference_attend(scores: torch.Tensor, keys: torch.Tensor, mask: torch.Tensor):
    """``e2t.attention.BahdanauAttention`` with its score replaced by the given scores: ``(context, weights)``."""
    B, T, S = scores.shape
    attention = BahdanauAttention(d_query=1, d_key=keys.shape[-1], score=lambda q, k: scores)
    return attention(torch.zeros(B, T, 1, dtype=keys.dtype), keys, mask)  # (B, T, Dk), (B, T, S)


def attend_cases() -> list[Case]:
    """Hidden cases of exercise 3.2: (scores, keys, mask) with padding masks (B, 1, S)."""
    g = make_generator(32)

    def case(lengths, T, S, D, dtype=torch.float64):
        lengths = torch.tensor(lengths)
        mask = padding_mask(lengths, S)[:, 0]  # (B, 1, S)
        B = len(lengths)
        return (torch.randn(B, T, S, generator=g, dtype=dtype) * 2, torch.randn(B, S, D, generator=g, dtype=dtype),
                mask)

    return [
        Case("no padding: lengths [5, 5]", case([5, 5], 3, 5, 4)),
        Case("padded batch: lengths [5, 2, 3]", case([5, 2, 3], 4, 5, 6),
             hint="Padding positions (mask False) must get weight exactly 0: use masked_softmax(scores, mask)."),
        Case("one decoder step (T = 1), lengths [1, 4]", case([1, 4], 1, 4, 3)),
        Case("an empty sentence (length 0) in the batch", case([3, 0], 2, 3, 2),
             hint="A sentence with no real token gets all-zero weights and a zero context, never NaN "
                  "(masked_softmax does this)."),
        Case("float32, lengths [7, 6, 1, 7]", case([7, 6, 1, 7], 5, 7, 8, dtype=torch.float32)),
    ]


@register("3.2", title="Read the annotations", kind="implement", short="attention read")
def _check_attend(fn) -> str:
    return run_cases("3.2", "attention read", fn, reference_attend, attend_cases(),
                     arg_names=("scores", "keys", "mask"), out_names=("the context", "the weights"),
                     hint="alpha = masked_softmax(scores, mask) over the source positions (the last axis: each "
                          "output step's weights sum to 1), then c_t = sum_i alpha[t, i] h_i, which for a whole "
                          "batch is the matrix product alpha @ keys. Return (context, alpha).")


#: The number of exercise 3.3.
ALIGNED_NUMBER = 342


@register("3.3", title="A gold alignment that crosses", kind="predict", short="gold alignment")
def _check_alignment(answer) -> str:
    example = make_examples([ALIGNED_NUMBER])[0]
    truth = gold_alignment(example)
    if not isinstance(answer, (list, tuple)) or len(answer) != len(example.tgt) or not all(
            a is None or (isinstance(a, int) and not isinstance(a, bool)) for a in answer):
        raise TypeError(f"3.3 asks for one entry per German word ({len(example.tgt)}: {' '.join(example.tgt)}), each "
                        f"an English position 0..{len(example.src) - 1} or None, got {answer!r}")
    for j, (mine, gold) in enumerate(zip(answer, truth)):
        if mine != gold:
            meaning = "nothing (German 'und' has no English word)" if gold is None else \
                f"English word {gold}, {example.src[gold]!r}"
            raise AssertionError(f"3.3 gold alignment: German word {j} ({example.tgt[j]!r}): you predicted {mine}; "
                                 f"gold_alignment says {gold}.\n  why: {example.tgt[j]!r} translates {meaning}; "
                                 "German says the units before the tens, so 'forty two' becomes 'zwei und vierzig' "
                                 "and the alignment crosses.")
    return "3.3 gold alignment: your alignment matches gold_alignment, crossing included"


@register("3.4", title="Is the alignment learned?", kind="experiment", short="learned alignment")
def _check_learned(answer) -> str:
    answer = as_mapping("3.4", answer, ("fresh", "trained"), "the alignment accuracies")
    fresh, trained = (as_number("3.4", answer[k], f"the {k} model's alignment accuracy") for k in ("fresh", "trained"))
    if not (0 <= fresh <= 1 and 0 <= trained <= 1):
        fail("3.4 learned alignment", f"accuracies lie in [0, 1], got {fresh} and {trained}",
             "Use e2t.train.evaluation.alignment_accuracy(model, task, examples).")
    if not (fresh < 0.25 and trained > 0.5 and trained > fresh + 0.3):
        fail("3.4 learned alignment", f"expected a fresh model near chance (below 0.25) and the shipped one far "
             f"above (above 0.5), got fresh {fresh:.3f} and trained {trained:.3f}",
             "Build the fresh model from the same config as the shipped one (RNNsearchConfig(**card['config'])) "
             "and score both on the same test numbers.")
    return "3.4 learned alignment: the fresh model is near chance and the trained one finds most words"

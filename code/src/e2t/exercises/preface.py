"""Exercises of the preface: the masked softmax, and what a causal mask and a padding mask hide together.

Introduced in: the preface.
"""

from __future__ import annotations

import torch

from ..attention import masked_softmax
from ..masks import causal_mask, padding_mask
from .answers import as_table
from .core import Case, make_generator, register, run_cases

__all__ = ["masked_softmax_cases", "PADDED_CAUSAL_LENGTH"]


def masked_softmax_cases() -> list[Case]:
    """Hidden cases of exercise 0.1: random scores and masks, broadcast masks, fully masked rows, big scores."""
    g = make_generator(1)

    def rand(*shape, dtype=torch.float64):
        return torch.randn(*shape, generator=g, dtype=dtype)

    def rand_mask(*shape):
        m = torch.rand(*shape, generator=g) < 0.6
        m[..., 0] = True  # every row keeps one key, so only the cases that say so have empty rows
        return m

    empty_row = rand_mask(2, 3, 4)
    empty_row[1, 2] = False
    causal_4 = causal_mask(4)
    pad = padding_mask(torch.tensor([4, 2]), 4)  # (2, 1, 1, 4)
    nothing = "A row where every key is masked must come out as zeros, not NaN: filling blocked scores with -inf " \
              "makes the softmax compute 0/0. Fill them with a very negative finite number " \
              "(torch.finfo(scores.dtype).min), then multiply the weights by the mask."
    return [
        Case("random scores (2, 3, 5) and a random mask, float64", (rand(2, 3, 5), rand_mask(2, 3, 5))),
        Case("a mask that allows everything: a plain softmax", (rand(1, 4), torch.ones(1, 4, dtype=torch.bool))),
        Case("a padding-style mask (2, 1, 5) broadcast over 3 queries", (rand(2, 3, 5), rand_mask(2, 1, 5)),
             hint="The mask may have size-1 axes that the scores do not: let broadcasting expand it "
                  "(mask.expand_as(scores)) rather than assuming equal shapes."),
        Case("one fully masked row in a batch (row [1, 2])", (rand(2, 3, 4), empty_row), hint=nothing),
        Case("every row fully masked", (rand(1, 2, 3), torch.zeros(1, 2, 3, dtype=torch.bool)), hint=nothing),
        Case("scores of size 1e4 in float32 (overflow check)", (rand(2, 6, dtype=torch.float32) * 1e4,
                                                                rand_mask(2, 6)),
             hint="Subtract the row's maximum before exp (torch.softmax does this for you): exp(1e4) overflows."),
        Case("causal mask (4, 4) with padding (2, 1, 1, 4) on scores (2, 1, 4, 4)",
             (rand(2, 1, 4, 4), causal_4 & pad)),
        Case("one key, allowed", (rand(3, 1), torch.ones(3, 1, dtype=torch.bool))),
        Case("one key, blocked", (rand(3, 1), torch.zeros(3, 1, dtype=torch.bool)), hint=nothing),
        Case("batch of 1, float32, random mask", (rand(1, 5, 7, dtype=torch.float32), rand_mask(1, 5, 7))),
    ]


@register("0.1", title="The masked softmax", kind="implement", short="masked softmax")
def _check_masked_softmax(fn) -> str:
    return run_cases("0.1", "masked softmax", fn, masked_softmax, masked_softmax_cases(),
                     arg_names=("scores", "mask"), out_names=("the weights",),
                     hint="Blocked positions (mask False) get weight exactly 0 and the allowed ones a softmax among "
                          "themselves, over the last axis; compare your cell with e2t.attention.masked_softmax.")


#: The real length of the one sequence in exercise 0.2 (padded to 4 positions).
PADDED_CAUSAL_LENGTH = 3


@register("0.2", title="Causal and padding masks together", kind="predict", short="two masks")
def _check_two_masks(answer) -> str:
    T = 4
    mask = causal_mask(T) & padding_mask(torch.tensor([PADDED_CAUSAL_LENGTH]), T)[0, 0]  # (T, T)
    truth = masked_softmax(torch.zeros(T, T, dtype=torch.float64), mask)  # (T, T)
    mine = as_table("0.2", answer, (T, T), "the 4 x 4 weights (one row per query)")
    for t in range(T):
        if not torch.allclose(mine[t], truth[t], atol=0.01):
            seen = [s for s in range(T) if bool(mask[t, s])]
            raise AssertionError(
                f"0.2 two masks: row {t} (query {t}) differs.\n  you predicted {mine[t].tolist()}\n  masked_softmax "
                f"gives       {[round(v, 4) for v in truth[t].tolist()]}\n  why: query {t} may see keys s <= {t} "
                f"(causal) that are also real tokens (s < {PADDED_CAUSAL_LENGTH}): keys {seen}. Equal scores give "
                f"those keys equal weights, 1/{len(seen)} each, and every other key 0.")
    return "0.2 two masks: your prediction matches masked_softmax"

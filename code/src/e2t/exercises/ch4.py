"""Exercises of chapter 4: the scaled dot and cosine scores, Luong's Gaussian window, which positions a local
window sees, the 1/sqrt(d) scale and the REINFORCE baseline, measured.

Introduced in: chapter 4.
"""

from __future__ import annotations

import torch

from ..luong import gaussian_window, window_mask
from ..scores import cosine_score, scaled_dot_score
from .answers import as_index_list, as_mapping, as_number
from .core import Case, fail, make_generator, register, run_cases

__all__ = ["score_cases", "cosine_cases", "window_cases", "WINDOW"]


def score_cases() -> list[Case]:
    """Hidden cases of exercise 4.1: (q, k) of equal width."""
    g = make_generator(41)

    def case(B, T, S, D, dtype=torch.float64):
        return (torch.randn(B, T, D, generator=g, dtype=dtype), torch.randn(B, S, D, generator=g, dtype=dtype))

    return [
        Case("B = 2, T = 3, S = 4, d = 16", case(2, 3, 4, 16)),
        Case("width d = 1 (scale 1)", case(2, 2, 3, 1),
             hint="With d = 1 the scale is 1: a mismatch here means the dot product itself is wrong."),
        Case("width d = 64", case(1, 2, 5, 64)),
        Case("width d = 4, one query", case(3, 1, 6, 4)),
        Case("float32, d = 256", case(2, 4, 4, 256, dtype=torch.float32)),
    ]


@register("4.1", title="The scaled dot-product score", kind="implement", short="scaled dot score")
def _check_scaled(fn) -> str:
    return run_cases("4.1", "scaled dot score", fn, scaled_dot_score, score_cases(), arg_names=("q", "k"),
                     out_names=("the scores",),
                     hint="score[b, t, i] = q[b, t] . k[b, i] / sqrt(d), d the width of the vectors: "
                          "q @ k.transpose(1, 2) / math.sqrt(d). Dividing by d instead of sqrt(d) shrinks the "
                          "scores too much.")


def cosine_cases() -> list[Case]:
    """Hidden cases of exercise 4.2, including zero vectors."""
    g = make_generator(42)

    def case(B, T, S, D, dtype=torch.float64):
        return (torch.randn(B, T, D, generator=g, dtype=dtype), torch.randn(B, S, D, generator=g, dtype=dtype))

    q, k = case(2, 3, 4, 5)
    q[0, 1] = 0.0
    k[1, 2] = 0.0
    zero = "A zero vector has no direction: its cosine with anything is 0 (the package clamps each norm at " \
           "eps = 1e-8 before dividing), never NaN."
    scaled_q, scaled_k = case(1, 2, 3, 4)
    return [
        Case("random, B = 2, T = 3, S = 4, d = 5", case(2, 3, 4, 5)),
        Case("a zero query and a zero key", (q, k), hint=zero),
        Case("scaled copies: cos(3q, k / 2) = cos(q, k)", (3 * scaled_q, scaled_k / 2)),
        Case("parallel and opposite vectors", (torch.tensor([[[1.0, 2.0]]], dtype=torch.float64),
                                              torch.tensor([[[2.0, 4.0], [-1.0, -2.0], [2.0, -1.0]]],
                                                           dtype=torch.float64))),
        Case("float32, d = 32", case(3, 2, 5, 32, dtype=torch.float32)),
    ]


@register("4.2", title="The cosine score, zero vectors included", kind="implement", short="cosine score")
def _check_cosine(fn) -> str:
    return run_cases("4.2", "cosine score", fn, cosine_score, cosine_cases(), arg_names=("q", "k"),
                     out_names=("the scores",),
                     hint="Normalise every query and every key to unit length (dividing by its norm, clamped at "
                          "1e-8), then take dot products: q_unit @ k_unit.transpose(1, 2).")


def window_cases() -> list[Case]:
    """Hidden cases of exercise 4.3: (p,) with keyword arguments S and D."""
    g = make_generator(43)
    return [
        Case("D = 2, S = 8, fractional centres", (torch.rand(2, 3, generator=g, dtype=torch.float64) * 8,),
             dict(S=8, D=2)),
        Case("D = 4, S = 12", (torch.rand(1, 5, generator=g, dtype=torch.float64) * 12,), dict(S=12, D=4),
             hint="sigma is D / 2, not D: with D = 4 the weight at distance 2 is exp(-2^2 / (2 * 2^2)) = exp(-0.5)."),
        Case("D = 0 at integer centres: a single 1", (torch.tensor([[0.0, 3.0, 5.0]], dtype=torch.float64),),
             dict(S=6, D=0), hint="D = 0 means sigma = 0: return 1 where s == p_t and 0 elsewhere, never NaN "
                                  "(do not divide by sigma^2 = 0)."),
        Case("D = 0 at a fractional centre: all zeros", (torch.tensor([[2.5]], dtype=torch.float64),), dict(S=5, D=0),
             hint="D = 0 and p_t between two positions: no position coincides with p_t, so every weight is 0."),
        Case("a centre beyond the sentence, float32", (torch.tensor([[9.0, -1.0]]),), dict(S=6, D=2)),
    ]


@register("4.3", title="Luong's Gaussian window", kind="implement", short="Gaussian window")
def _check_window(fn) -> str:
    return run_cases("4.3", "Gaussian window", fn, gaussian_window, window_cases(), arg_names=("p",),
                     out_names=("the window",),
                     hint="G[b, t, s] = exp(-(s - p[b, t])^2 / (2 sigma^2)) with sigma = D / 2, for s = 0..S-1; "
                          "broadcast arange(S) of shape (1, 1, S) against p.unsqueeze(-1) of shape (B, T, 1).")


#: Exercise 4.4's window: S source positions, half-width D, and the queries asked about (local-m: p_t = t).
WINDOW = {"S": 6, "D": 1, "queries": (0, 4, 7)}


@register("4.4", title="Which positions does local-m see?", kind="predict", short="local-m window")
def _check_local_m(answer) -> str:
    S, D, queries = WINDOW["S"], WINDOW["D"], WINDOW["queries"]
    answer = as_mapping("4.4", answer, queries, "the visible positions of queries 0, 4 and 7")
    mask = window_mask(torch.tensor([queries], dtype=torch.float64), S=S, D=D)[0]  # (3, S)
    for row, t in enumerate(queries):
        truth = [s for s in range(S) if bool(mask[row, s])]
        mine = as_index_list("4.4", answer[t], f"the positions query {t} sees")
        if mine != truth:
            raise AssertionError(
                f"4.4 local-m window: query {t}: you predicted {mine}; window_mask gives {truth}.\n  why: local-m "
                f"centres the window on p_t = t and keeps the positions s = 0..{S - 1} with |s - t| <= D = {D}"
                + (": nothing is left, so this query's weights are all zero." if not truth else "."))
    return "4.4 local-m window: your windows match window_mask, the empty one included"


@register("4.5", title="Drop the 1/sqrt(d) and watch the gradient", kind="experiment", short="gradient norm")
def _check_scale(answer) -> str:
    answer = as_mapping("4.5", answer, (16, 1024), "the gradient norms at d = 16 and d = 1024")
    norms = {}
    for d in (16, 1024):
        row = as_mapping("4.5", answer[d], ("scaled", "unscaled"), f"the norms at d = {d}")
        norms[d] = {k: as_number("4.5", row[k], f"the {k} norm at d = {d}") for k in ("scaled", "unscaled")}
    if any(v <= 0 for row in norms.values() for v in row.values()):
        fail("4.5 gradient norm", f"gradient norms are positive, got {norms}", "Measure z.grad.norm(dim=-1).mean().")
    s16, s1024, u16, u1024 = norms[16]["scaled"], norms[1024]["scaled"], norms[16]["unscaled"], norms[1024]["unscaled"]
    if not u1024 < 0.3 * u16:
        fail("4.5 gradient norm", f"without the scale the gradient should collapse as d grows: {u16:.3g} at d = 16, "
             f"{u1024:.3g} at d = 1024 (expected below 0.3x)", "Do not divide the scores by sqrt(d) in this run.")
    if not (s1024 < 1.5 * s16 and s16 < 1.5 * s1024 and s1024 > 3 * u1024):
        fail("4.5 gradient norm", f"with the scale the gradient should stay about the same at every width and well "
             f"above the unscaled one: scaled {s16:.3g} (d = 16) and {s1024:.3g} (d = 1024), unscaled "
             f"{u1024:.3g} at d = 1024", "Divide the scores by math.sqrt(d) in the scaled run.")
    return "4.5 gradient norm: unscaled, the gradient collapses with the width; scaled, it stays put"


@register("4.6", title="What a REINFORCE baseline buys", kind="experiment", short="REINFORCE baseline")
def _check_baseline(answer) -> str:
    answer = as_mapping("4.6", answer, ("without", "with"), "the gradient variances without and with a baseline")
    without, with_ = (as_number("4.6", answer[k], f"the variance {k} a baseline") for k in ("without", "with"))
    if not (without > 0 and with_ >= 0):
        fail("4.6 REINFORCE baseline", f"variances are non-negative, got {without} and {with_}",
             "Use the 'variance' entry of e2t.hard_attention.policy_gradient_variance.")
    if not with_ < 0.1 * without:
        fail("4.6 REINFORCE baseline", f"the baseline should cut the variance by more than 10x: {without:.3g} "
             f"without, {with_:.3g} with", "Pass baseline = the batch's mean reward (not 0) in the second run.")
    return "4.6 REINFORCE baseline: the baseline cuts the gradient's variance by more than 10x"

"""Exercises of chapter 6: the causal mask, scaled dot-product attention, splitting heads, sinusoidal positions,
what a padded causal mask hides, and a GPT trained without its causal mask.

Introduced in: chapter 6.
"""

from __future__ import annotations

import torch

from ..attention import scaled_dot_product_attention
from ..masks import causal_mask, padding_mask
from ..transformer import MultiHeadAttention, sinusoidal_positions
from .answers import as_index_list, as_mapping, as_number
from .core import Case, fail, make_generator, register, run_cases

__all__ = ["attention_cases", "reference_split_heads", "split_cases", "PADDED"]


@register("6.1", title="The causal mask", kind="implement", short="causal mask")
def _check_causal(fn) -> str:
    cases = [Case(f"T = {T}", (T,)) for T in (1, 2, 3, 5, 8)]
    return run_cases("6.1", "causal mask", fn, causal_mask, cases, arg_names=("T",), out_names=("the mask",),
                     hint="A (T, T) torch.bool tensor, True = may attend: query t (row) may see keys 0..t (columns), "
                          "itself included. torch.ones(T, T, dtype=torch.bool).tril() is one way; triu would let "
                          "every query see the future, tril(-1) would hide each token from itself.")


def attention_cases() -> list[Case]:
    """Hidden cases of exercise 6.2: (q, k, v, mask)."""
    g = make_generator(62)

    def qkv(B, H, T, S, Dk, Dv, dtype=torch.float64):
        r = lambda *s: torch.randn(*s, generator=g, dtype=dtype)  # noqa: E731
        return r(B, H, T, Dk), r(B, H, S, Dk), r(B, H, S, Dv)

    pad = padding_mask(torch.tensor([4, 2]), 4)  # (2, 1, 1, 4)
    empty = padding_mask(torch.tensor([3, 0]), 3)  # the second sequence has no real token
    nothing = "A query that may see no key gets all-zero weights and a zero output, never NaN: mask with a very " \
              "negative finite number (or use e2t.attention.masked_softmax), not -inf."
    return [
        Case("no mask, B = 2, H = 3, T = 4, S = 5, d_k = 8, d_v = 6", (*qkv(2, 3, 4, 5, 8, 6), None),
             hint="Divide the scores by sqrt(d_k), the width of the queries and keys (not by d_k, not by d_v)."),
        Case("a causal mask (4, 4)", (*qkv(1, 2, 4, 4, 4, 4), causal_mask(4))),
        Case("a padding mask (2, 1, 1, 4)", (*qkv(2, 2, 3, 4, 4, 3), pad),
             hint="The mask broadcasts to the scores (B, H, T, S): padded keys get weight 0."),
        Case("a sequence with no real token (length 0)", (*qkv(2, 1, 3, 3, 2, 2), empty), hint=nothing),
        Case("causal and padding together, float32", (*qkv(2, 2, 4, 4, 16, 8, dtype=torch.float32),
                                                      causal_mask(4) & pad)),
        Case("3-D inputs (no head axis), d_k = 64", (*[x[:, 0] for x in qkv(2, 1, 3, 5, 64, 4)], None)),
    ]


@register("6.2", title="Scaled dot-product attention with a mask", kind="implement", short="attention")
def _check_attention(fn) -> str:
    return run_cases("6.2", "attention", fn, scaled_dot_product_attention, attention_cases(),
                     arg_names=("q", "k", "v", "mask"), out_names=("the output", "the weights"),
                     hint="weights = masked_softmax(q @ k.transpose(-2, -1) / sqrt(d_k), mask) over the keys (the "
                          "last axis), output = weights @ v; return (output, weights).")


def reference_split_heads(x: torch.Tensor, num_heads: int) -> torch.Tensor:
    """``e2t.transformer.MultiHeadAttention.split_heads`` for ``num_heads`` heads."""
    return MultiHeadAttention(d_model=x.shape[-1], num_heads=num_heads).split_heads(x)  # (B, H, L, Dh)


def split_cases() -> list[Case]:
    """Hidden cases of exercise 6.3: (x, num_heads), with entries that tell every position apart."""
    g = make_generator(63)

    def numbered(B, L, D):
        return torch.arange(B * L * D, dtype=torch.float64).view(B, L, D)

    view_trap = "x.view(B, H, L, Dh) reads the memory in the wrong order: it cuts the first positions into heads. " \
                "Split the width instead, view(B, L, H, Dh), then transpose(1, 2) to (B, H, L, Dh)."
    return [
        Case("B = 2, L = 3, D = 8, 2 heads", (numbered(2, 3, 8), 2), hint=view_trap),
        Case("one head: only a new axis", (numbered(1, 4, 6), 1)),
        Case("B = 1, L = 5, D = 12, 3 heads", (numbered(1, 5, 12), 3), hint=view_trap),
        Case("as many heads as the width (Dh = 1)", (numbered(2, 2, 4), 4), hint=view_trap),
        Case("float32 random, B = 3, L = 7, D = 16, 4 heads", (torch.randn(3, 7, 16, generator=g), 4), hint=view_trap),
    ]


@register("6.3", title="Split the width into heads", kind="implement", short="split heads")
def _check_split(fn) -> str:
    return run_cases("6.3", "split heads", fn, reference_split_heads, split_cases(), arg_names=("x", "num_heads"),
                     out_names=("the heads",),
                     hint="Head i gets the columns i*Dh .. (i+1)*Dh - 1 of every position, Dh = D / H; the result "
                          "is (B, H, L, Dh).")


@register("6.4", title="Sinusoidal positional encodings", kind="implement", short="positions")
def _check_positions(fn) -> str:
    cases = [Case("max_len = 1, d_model = 2", (1, 2)),
             Case("max_len = 6, d_model = 4", (6, 4), hint="Even columns 2i hold sin, odd columns 2i + 1 hold cos, of "
                                                           "the same angle pos / 10000^(2i / d_model)."),
             Case("max_len = 50, d_model = 64 (the chapter's figure)", (50, 64),
                  hint="The exponent is 2i / d_model, where 2i is the even column index: column 6 and column 7 both "
                       "use 10000^(6/64)."),
             Case("an odd width, d_model = 7", (10, 7), hint="With an odd width the last column is a sin: there are "
                                                            "ceil(D/2) sin columns and floor(D/2) cos columns."),
             Case("d_model = 1: one sin column", (5, 1)),
             Case("max_len = 200, d_model = 16", (200, 16))]
    return run_cases("6.4", "positions", fn, sinusoidal_positions, cases, arg_names=("max_len", "d_model"),
                     out_names=("the encodings",),
                     hint="PE[pos, 2i] = sin(pos / 10000^(2i / d_model)), PE[pos, 2i + 1] = cos(same angle); a "
                          "(max_len, d_model) tensor.")


#: Exercise 6.5: one sequence of real length 3 in a batch padded to 5 positions, decoder self-attention.
PADDED = {"T": 5, "length": 3, "queries": (1, 3, 4)}


@register("6.5", title="What a padded causal mask hides", kind="predict", short="padded causal mask")
def _check_padded(answer) -> str:
    T, length, queries = PADDED["T"], PADDED["length"], PADDED["queries"]
    answer = as_mapping("6.5", answer, queries, "the keys that queries 1, 3 and 4 may see")
    mask = causal_mask(T) & padding_mask(torch.tensor([length]), T)[0, 0]  # (T, T)
    for t in queries:
        truth = [s for s in range(T) if bool(mask[t, s])]
        mine = as_index_list("6.5", answer[t], f"the keys query {t} may see")
        if mine != truth:
            raise AssertionError(
                f"6.5 padded causal mask: query {t}: you predicted keys {mine}; causal_mask({T}) & "
                f"padding_mask([{length}], {T}) allows {truth}.\n  why: the causal mask allows keys 0..{t}; the "
                f"padding mask allows the real tokens 0..{length - 1}; the combined mask (&) allows only keys both "
                "allow. Queries at padding positions still see the real tokens before them (their outputs are "
                "ignored by the loss).")
    return "6.5 padded causal mask: your keys match causal_mask & padding_mask for every query"


@register("6.6", title="A GPT without its causal mask", kind="experiment", short="no causal mask")
def _check_no_mask(answer) -> str:
    answer = as_mapping("6.6", answer, ("causal", "no_mask"), "the two runs' measurements")
    runs = {}
    for name in ("causal", "no_mask"):
        row = as_mapping("6.6", answer[name], ("train_loss", "honest_accuracy"), f"the {name} run's measurements")
        runs[name] = {k: as_number("6.6", row[k], f"the {name} run's {k}") for k in ("train_loss", "honest_accuracy")}
    if not all(0 <= r["honest_accuracy"] <= 1 and r["train_loss"] > 0 for r in runs.values()):
        fail("6.6 no causal mask", f"expected losses > 0 and accuracies in [0, 1], got {runs}",
             "Report the mean of the last 20 training losses and the share of right next-token guesses.")
    c, n = runs["causal"], runs["no_mask"]
    if not n["train_loss"] < 0.5 * c["train_loss"]:
        fail("6.6 no causal mask", f"without the mask the model can read the token it must predict, so its training "
             f"loss should fall far lower: {n['train_loss']:.3g} vs {c['train_loss']:.3g} (expected below half)",
             "Train both with the same seed and steps; only LMConfig(causal=...) differs.")
    if not n["honest_accuracy"] < c["honest_accuracy"] - 0.05:
        fail("6.6 no causal mask", f"predicting from the prefix alone, the unmasked model should do worse: "
             f"{n['honest_accuracy']:.3g} vs {c['honest_accuracy']:.3g}",
             "For the honest accuracy feed only tokens 0..t and read the prediction at position t.")
    return "6.6 no causal mask: the unmasked model's training loss is far lower, yet it predicts worse from a prefix"

"""Exercises of chapter 7: the copy task's bit errors, a Transformer layer's parameter count, what self-attention
does to a permutation, and where a copy beyond the training lengths goes wrong.

Introduced in: chapter 7.
"""

from __future__ import annotations

import torch

from ..masks import causal_mask
from ..ntm_model import bit_errors
from ..transformer import EncoderLayer, sinusoidal_positions
from .answers import as_bool, as_mapping, as_number
from .core import Case, fail, make_generator, register, run_cases

__all__ = ["bit_error_cases", "reference_layer_params", "layer_cases", "permutation_outcomes"]


def bit_error_cases() -> list[Case]:
    """Hidden cases of exercise 7.1: (logits, targets), both (B, L, W)."""
    g = make_generator(71)

    def case(B, L, W, dtype=torch.float32, scale=3.0):
        return (torch.randn(B, L, W, generator=g, dtype=dtype) * scale,
                torch.randint(0, 2, (B, L, W), generator=g).to(dtype))

    zero_logits = (torch.zeros(1, 2, 4), torch.tensor([[[0., 0., 0., 1.], [1., 0., 0., 0.]]]))
    small = (torch.tensor([[[0.3, -0.2, 0.6, -0.7]]]), torch.tensor([[[1.0, 0.0, 1.0, 0.0]]]))
    threshold = "The threshold 1/2 is on the probability sigmoid(logit), which is above 1/2 exactly when the logit " \
                "is above 0: compare logits > 0, not logits > 0.5."
    return [
        Case("small logits between 0 and 1", small, hint=threshold),
        Case("logits exactly 0 (probability 1/2) count as a 0 bit", zero_logits,
             hint="A logit of 0 is probability exactly 1/2, which is not above 1/2: the package outputs a 0 there "
                  "(logits > 0)."),
        Case("B = 4, L = 5, W = 8", case(4, 5, 8), hint=threshold),
        Case("batch 1, one vector", case(1, 1, 8), hint=threshold),
        Case("float64, B = 3, L = 20, W = 8", case(3, 20, 8, dtype=torch.float64, scale=0.4), hint=threshold),
    ]


@register("7.1", title="Bit errors per sequence", kind="implement", short="bit errors")
def _check_bit_errors(fn) -> str:
    return run_cases("7.1", "bit errors", fn, bit_errors, bit_error_cases(), arg_names=("logits", "targets"),
                     out_names=("the errors per sequence",),
                     hint="Output bit = 1 where the logit is above 0 (logits > 0, not > 0.5); count the bits that "
                          "differ from the targets in each sequence: a float tensor of shape (B,), summed over the L "
                          "and W axes.")


def reference_layer_params(d_model: int, num_heads: int, d_ff: int) -> int:
    """The number of parameters of ``e2t.transformer.EncoderLayer(d_model=, num_heads=, d_ff=)``, counted."""
    layer = EncoderLayer(d_model=d_model, num_heads=num_heads, d_ff=d_ff, dropout=0.0)
    return sum(p.numel() for p in layer.parameters())


def layer_cases() -> list[Case]:
    """Hidden cases of exercise 7.2: (d_model, num_heads, d_ff)."""
    heads = "The number of heads changes nothing: the H projections of width D / H sit side by side in one D x D " \
            "matrix per W_q, W_k, W_v."
    return [Case("d_model = 16, 4 heads, d_ff = 32", (16, 4, 32)),
            Case("d_model = 16, 1 head, d_ff = 32", (16, 1, 32), hint=heads),
            Case("d_model = 64, 4 heads, d_ff = 128 (the copy Transformer's layer)", (64, 4, 128), hint=heads),
            Case("d_model = 12, 3 heads, d_ff = 24", (12, 3, 24), hint=heads),
            Case("d_model = 512, 8 heads, d_ff = 2048 (the paper's base model)", (512, 8, 2048), hint=heads)]


def _compare_int(expected: int, got) -> str | None:
    if isinstance(got, torch.Tensor) and got.numel() == 1:
        got = got.item()
    if got is None:
        return "your function returned None. Does it `return` its result?"
    if isinstance(got, bool) or not isinstance(got, int):
        return f"expected an int, got {got!r}"
    if got != expected:
        return f"you count {got:,} parameters; the layer has {expected:,} (a difference of {got - expected:+,})"
    return None


@register("7.2", title="Count a Transformer layer's parameters", kind="implement", short="layer size")
def _check_layer_params(fn) -> str:
    return run_cases("7.2", "layer size", fn, reference_layer_params, layer_cases(),
                     arg_names=("d_model", "num_heads", "d_ff"), compare=_compare_int,
                     hint="Self-attention: W_q, W_k, W_v and W_o, each D x D plus a bias of D. Feed-forward: "
                          "D x d_ff + d_ff, then d_ff x D + D. Two LayerNorms, each a weight and a bias of D.")


def permutation_outcomes() -> dict[str, bool]:
    """For exercise 7.3: does ``layer(x[:, perm]) == layer(x)[:, perm]`` hold with no mask, with a causal mask, and
    with positional encodings added to the input?"""
    torch.manual_seed(0)  # the layer's initial weights (check() restores the global random state afterwards)
    layer = EncoderLayer(d_model=16, num_heads=4, d_ff=32, dropout=0.0).double().eval()
    g = make_generator(73)
    x = torch.randn(1, 6, 16, generator=g, dtype=torch.float64)  # (1, L, D)
    perm = torch.tensor([3, 0, 5, 1, 4, 2])
    pe = sinusoidal_positions(6, 16).double()  # (L, D)
    with torch.no_grad():
        out = {"no mask": (layer(x[:, perm]), layer(x)[:, perm]),
               "causal mask": (layer(x[:, perm], causal_mask(6)), layer(x, causal_mask(6))[:, perm]),
               "positions": (layer(x[:, perm] + pe), layer(x + pe)[:, perm])}
    return {k: bool(torch.allclose(a, b, atol=1e-10)) for k, (a, b) in out.items()}


_WHY_PERM = {
    "no mask": "self-attention without positions treats its input as a set: every query scores every key by "
               "content only, so permuting the tokens permutes the outputs the same way (equivariance).",
    "causal mask": "the causal mask ties each query to the keys before it IN THE ARRAY: after a permutation a token "
                   "sees other tokens, so its output changes.",
    "positions": "positional encodings are added by position, not carried with the token: after the permutation "
                 "each token gets another code, so the outputs change.",
}


@register("7.3", title="Self-attention and a permutation", kind="predict", short="permutation")
def _check_permutation(answer) -> str:
    keys = tuple(_WHY_PERM)
    answer = as_mapping("7.3", answer, keys, "True or False for 'no mask', 'causal mask' and 'positions'")
    truth = permutation_outcomes()
    for k in keys:
        mine = as_bool("7.3", answer[k], f"the answer for {k!r}")
        if mine != truth[k]:
            raise AssertionError(f"7.3 permutation: {k!r}: you predicted {mine}; running the layer gives "
                                 f"{truth[k]}.\n  why: {_WHY_PERM[k]}")
    return "7.3 permutation: all three predictions match what the layer does"


@register("7.4", title="Where a copy of length 40 goes wrong", kind="experiment", short="copy beyond 20")
def _check_copy(answer) -> str:
    answer = as_mapping("7.4", answer, ("transformer", "ntm"), "the bit error rates by half of the answer")
    rates = {}
    for name in ("transformer", "ntm"):
        row = as_mapping("7.4", answer[name], ("first_20", "last_20"), f"the {name}'s two rates")
        rates[name] = {k: as_number("7.4", row[k], f"the {name}'s {k} rate") for k in ("first_20", "last_20")}
        if not all(0 <= v <= 1 for v in rates[name].values()):
            fail("7.4 copy beyond 20", f"bit error rates lie in [0, 1], got {rates[name]}",
                 "Average the wrong bits over the batch and the 8 bits of each vector, per answer position.")
    t, n = rates["transformer"], rates["ntm"]
    if not (t["first_20"] < 0.15 and t["last_20"] > 0.3):
        fail("7.4 copy beyond 20", f"expected the Transformer to copy the first 20 vectors well (below 0.15) and "
             f"to guess the last 20 (above 0.3), got {t['first_20']:.3g} and {t['last_20']:.3g}",
             "Split the answer of length 40 into positions 0..19 and 20..39 before averaging.")
    if not (n["first_20"] < 0.05 and n["last_20"] < 0.05):
        fail("7.4 copy beyond 20", f"expected the shipped NTM to copy both halves (below 0.05), got "
             f"{n['first_20']:.3g} and {n['last_20']:.3g}", "Load ntm_copy with e2t.ntm_model.make_ntm.")
    return "7.4 copy beyond 20: the Transformer fails exactly on the positions it never saw; the NTM does not"

"""Exercises of chapter 5: the NTM's content addressing, erase-then-add write, sharpening and circular shift, what
gamma = 1 does after a blurred shift, and blur over many steps with and without sharpening.

Introduced in: chapter 5.
"""

from __future__ import annotations

import torch

from ..ntm import content_addressing, sharpen, shift, write
from .answers import as_mapping, as_vector
from .core import Case, fail, make_generator, register, run_cases

__all__ = ["content_cases", "write_cases", "sharpen_cases", "shift_cases", "BLUR", "blur_setting"]


def _weighting(g: torch.Generator, B: int, N: int, dtype=torch.float64) -> torch.Tensor:
    return torch.softmax(torch.randn(B, N, generator=g, dtype=dtype) * 2, dim=-1)


def content_cases() -> list[Case]:
    """Hidden cases of exercise 5.1: (memory, key, beta)."""
    g = make_generator(51)

    def case(B, N, M, beta, dtype=torch.float64):
        r = lambda *s: torch.randn(*s, generator=g, dtype=dtype)  # noqa: E731
        return (r(B, N, M), r(B, M), torch.tensor(beta, dtype=dtype).view(B, 1))

    memory, key, beta = case(2, 5, 4, [1.0, 3.0])
    memory[0, 2] = 0.0
    key[1] = 0.0
    return [
        Case("B = 2, N = 6, M = 4, beta = [1, 5]", case(2, 6, 4, [1.0, 5.0])),
        Case("beta = 0: a uniform weighting", case(1, 5, 3, [0.0]),
             hint="beta = 0 multiplies every similarity by 0: all rows get 1/N."),
        Case("a zero row and a zero key", (memory, key, beta),
             hint="Use the cosine similarity with each norm clamped at 1e-8: a zero vector has cosine 0, never NaN."),
        Case("beta = 50: (almost) one-hot on the best row", case(2, 8, 6, [50.0, 50.0])),
        Case("batch 1, float32, N = 10, M = 20", case(1, 10, 20, [2.0], dtype=torch.float32)),
    ]


@register("5.1", title="Content-based addressing", kind="implement", short="content addressing")
def _check_content(fn) -> str:
    return run_cases("5.1", "content addressing", fn, content_addressing, content_cases(),
                     arg_names=("memory", "key", "beta"), out_names=("the weighting",),
                     hint="w(i) = softmax_i(beta * cos(key, M(i))): the cosine (not the raw dot product) of the key "
                          "with every row, scaled by beta (B, 1), then a softmax over the N rows.")


def write_cases() -> list[Case]:
    """Hidden cases of exercise 5.2: (memory, w, erase, add)."""
    g = make_generator(52)

    def case(B, N, M, w=None, erase=None, add=None, dtype=torch.float64):
        memory = torch.randn(B, N, M, generator=g, dtype=dtype)
        w = _weighting(g, B, N, dtype) if w is None else w
        erase = torch.rand(B, M, generator=g, dtype=dtype) if erase is None else erase
        add = torch.randn(B, M, generator=g, dtype=dtype) if add is None else add
        return (memory, w, erase, add)

    one_hot = torch.zeros(1, 4, dtype=torch.float64)
    one_hot[0, 1] = 1.0
    order = "Erase first, then add: M(i) * (1 - w(i) e) + w(i) a. Adding first would erase part of what you just " \
            "wrote."
    return [
        Case("B = 2, N = 5, M = 3, random w, erase and add", case(2, 5, 3), hint=order),
        Case("a one-hot weighting on row 1", case(1, 4, 3, w=one_hot), hint=order),
        Case("erase = 1, add = 0: wipe what the head looks at", case(2, 4, 3, erase=torch.ones(2, 3,
                                                                                              dtype=torch.float64),
                                                                   add=torch.zeros(2, 3, dtype=torch.float64))),
        Case("erase = 0: only add", case(2, 3, 4, erase=torch.zeros(2, 4, dtype=torch.float64)),
             hint="With erase = 0 nothing is wiped: M(i) + w(i) a. Every row gets w(i) times the add vector."),
        Case("float32, B = 3, N = 8, M = 6", case(3, 8, 6, dtype=torch.float32), hint=order),
    ]


@register("5.2", title="Write: erase, then add", kind="implement", short="write")
def _check_write(fn) -> str:
    return run_cases("5.2", "write", fn, write, write_cases(), arg_names=("memory", "w", "erase", "add"),
                     out_names=("the new memory",),
                     hint="M~(i) = M(i) * (1 - w(i) e), then M(i) = M~(i) + w(i) a, for every row at once: "
                          "w.unsqueeze(-1) is (B, N, 1), e.unsqueeze(1) and a.unsqueeze(1) are (B, 1, M). Return a "
                          "new tensor (do not change the input).")


def sharpen_cases() -> list[Case]:
    """Hidden cases of exercise 5.3: (w, gamma)."""
    g = make_generator(53)

    def gamma(values, dtype=torch.float64):
        return torch.tensor(values, dtype=dtype).view(-1, 1)

    zeros = _weighting(g, 2, 6)
    zeros[:, ::2] = 0.0
    zeros = zeros / zeros.sum(-1, keepdim=True)
    underflow = "w ** 50 underflows to 0 in float32 for weights below about 0.17, and 0 / 0 is NaN. Divide by the " \
                "largest weight first (then the largest term is 1), or compute softmax(gamma * log w)."
    return [
        Case("gamma = 1 changes nothing", (_weighting(g, 2, 5), gamma([1.0, 1.0]))),
        Case("gamma = 2, B = 3, N = 7", (_weighting(g, 3, 7), gamma([2.0, 2.0, 2.0]))),
        Case("different gammas per row", (_weighting(g, 2, 4), gamma([1.5, 3.0]))),
        Case("weights that are exactly 0 stay 0", (zeros, gamma([2.0, 5.0]))),
        Case("gamma = 50 on a peaked weighting: one-hot", (_weighting(g, 2, 8), gamma([50.0, 50.0]))),
        Case("gamma = 50 on a uniform weighting over 10 rows, float32",
             (torch.full((1, 10), 0.1), gamma([50.0], torch.float32)), hint=underflow),
        Case("gamma = 50, float32, N = 20", (_weighting(g, 2, 20, torch.float32), gamma([50.0, 20.0], torch.float32)),
             hint=underflow),
        Case("gamma = 3, batch 1, N = 1", (torch.ones(1, 1, dtype=torch.float64), gamma([3.0]))),
        Case("float32, gamma = 1.5", (_weighting(g, 4, 6, torch.float32), gamma([1.5] * 4, torch.float32))),
        Case("two equal largest weights share the mass at gamma = 50",
             (torch.tensor([[0.4, 0.1, 0.4, 0.1]], dtype=torch.float64), gamma([50.0]))),
        Case("gamma = 10, B = 5, N = 3", (_weighting(g, 5, 3), gamma([10.0] * 5))),
        Case("gamma = 4, float64, N = 128 (a whole NTM memory)", (_weighting(g, 1, 128), gamma([4.0]))),
    ]


@register("5.3", title="Sharpening", kind="implement", short="sharpen")
def _check_sharpen(fn) -> str:
    return run_cases("5.3", "sharpen", fn, sharpen, sharpen_cases(), arg_names=("w", "gamma"),
                     out_names=("the sharpened weighting",),
                     hint="w(i) = w~(i)^gamma / sum_j w~(j)^gamma, with gamma of shape (B, 1): raise, then "
                          "renormalise each row so it sums to 1.")


def shift_cases() -> list[Case]:
    """Hidden cases of exercise 5.4: (w, s), K = 5 mostly."""
    g = make_generator(54)

    def one_hot(N, row, dtype=torch.float64):
        w = torch.zeros(1, N, dtype=dtype)
        w[0, row] = 1.0
        return w

    def move(K, d, dtype=torch.float64):
        s = torch.zeros(1, K, dtype=dtype)
        s[0, d + K // 2] = 1.0
        return s

    direction = "s[:, k] is the weight of a move by d = k - K//2 rows, and d > 0 moves the focus to HIGHER rows: " \
                "with K = 5, s = [0, 0, 0, 1, 0] moves a focus on row 2 to row 3."
    wrap = "The shift is circular: a move past row N - 1 wraps around to row 0 (and below row 0 to row N - 1). " \
           "Zero padding loses weight at the ends."
    return [
        Case("K = 5, a move by +1 of a focus on row 2 (N = 8)", (one_hot(8, 2), move(5, 1)), hint=direction),
        Case("K = 5, a move by -2 of a focus on row 5 (N = 8)", (one_hot(8, 5), move(5, -2)), hint=direction),
        Case("K = 5, a move by +2 from the last row wraps to row 1", (one_hot(6, 5), move(5, 2)), hint=wrap),
        Case("K = 5, a move by -1 from row 0 wraps to the last row", (one_hot(6, 0), move(5, -1)), hint=wrap),
        Case("K = 5, a soft shift of a random weighting (B = 3, N = 7)",
             (_weighting(g, 3, 7), torch.softmax(torch.randn(3, 5, generator=g, dtype=torch.float64), -1)),
             hint=wrap),
        Case("K = 3, the chapter's kernel size", (_weighting(g, 2, 5),
                                                  torch.softmax(torch.randn(2, 3, generator=g, dtype=torch.float64), -1))),
        Case("K = 1: only the identity", (_weighting(g, 2, 4), torch.ones(2, 1, dtype=torch.float64))),
        Case("K = 5 on a memory of N = 3 rows", (_weighting(g, 1, 3), torch.softmax(torch.randn(
            1, 5, generator=g, dtype=torch.float64), -1)), hint=wrap),
        Case("float32, K = 5, N = 16", (_weighting(g, 2, 16, torch.float32),
                                        torch.softmax(torch.randn(2, 5, generator=g), -1)), hint=wrap),
    ]


@register("5.4", title="Circular shift with K = 5", kind="implement", short="shift")
def _check_shift(fn) -> str:
    return run_cases("5.4", "shift", fn, shift, shift_cases(), arg_names=("w", "s"),
                     out_names=("the shifted weighting",),
                     hint="w~(i) = sum_j w(j) s(i - j mod N): for every move d = k - K//2 add s[:, k] times w rolled "
                          "by d rows, torch.roll(w, d, dims=-1).")


#: Exercise 5.5: a one-hot focus on row 2 of 6 rows, shifted by s = (moves -1, 0, +1), then sharpened.
BLUR = {"N": 6, "row": 2, "s": (0.0, 0.2, 0.8), "gammas": (1, 2)}


@register("5.5", title="What gamma = 1 does after a blurred shift", kind="predict", short="shift then sharpen")
def _check_blur(answer) -> str:
    N, row, gammas = BLUR["N"], BLUR["row"], BLUR["gammas"]
    answer = as_mapping("5.5", answer, gammas, "the weightings after sharpening with gamma = 1 and gamma = 2")
    w = torch.zeros(1, N, dtype=torch.float64)
    w[0, row] = 1.0
    blurred = shift(w, torch.tensor([BLUR["s"]], dtype=torch.float64))  # (1, N)
    for gam in gammas:
        truth = sharpen(blurred, torch.tensor([[float(gam)]], dtype=torch.float64))[0]  # (N,)
        mine = as_vector("5.5", answer[gam], N, f"the weighting for gamma = {gam}")
        if not torch.allclose(mine, truth, atol=0.01):
            why = ("gamma = 1 raises every weight to the power 1 and renormalises a weighting that already sums "
                   "to 1: nothing changes, the blur stays." if gam == 1 else
                   "gamma = 2 squares the weights (0.2^2 = 0.04, 0.8^2 = 0.64) and renormalises by their sum, 0.68.")
            raise AssertionError(f"5.5 shift then sharpen: gamma = {gam}: you predicted {mine.tolist()}\n  the package "
                                 f"gives {[round(v, 4) for v in truth.tolist()]}\n  why: the shift moves the focus "
                                 f"from row {row} to row {row + 1} with weight 0.8 and leaves 0.2 on row {row}; {why}")
    return "5.5 shift then sharpen: both predictions match the package"


def blur_setting() -> dict:
    """Exercise 5.6's setting: N rows, the start row, the shift weights (moves -1, 0, +1) and the steps."""
    return {"N": 16, "start": 0, "s": (0.1, 0.1, 0.8), "steps": 10}


@register("5.6", title="Ten blurred shifts, with and without sharpening", kind="experiment", short="blur")
def _check_blur_steps(answer) -> str:
    setting = blur_setting()
    N, target = setting["N"], (setting["start"] + setting["steps"]) % setting["N"]
    answer = as_mapping("5.6", answer, (1, 3), "the final weightings with gamma = 1 and gamma = 3")
    w1, w3 = (as_vector("5.6", answer[k], N, f"the final weighting with gamma = {k}") for k in (1, 3))
    for gam, w in ((1, w1), (3, w3)):
        if not (bool((w >= -1e-9).all()) and abs(float(w.sum()) - 1) < 1e-4):
            fail("5.6 blur", f"the weighting for gamma = {gam} is not a distribution (sum {float(w.sum()):.4g})",
                 "Apply shift and then sharpen at each of the 10 steps, starting from a one-hot on row 0.")
    if not float(w1.max()) < 0.5:
        fail("5.6 blur", f"without sharpening the focus should spread (largest weight below 0.5), got "
             f"{float(w1.max()):.3g}", "Use gamma = 1 at every step in the first run.")
    if not (float(w3.max()) > 0.9 and int(w3.argmax()) == target):
        fail("5.6 blur", f"with gamma = 3 the focus should stay sharp (largest weight above 0.9) and move one row per "
             f"step, to row {target}; got largest weight {float(w3.max()):.3g} on row {int(w3.argmax())}",
             "Sharpen after every shift, not only at the end.")
    return f"5.6 blur: gamma = 1 lets the focus spread; gamma = 3 keeps it sharp and it reaches row {target}"

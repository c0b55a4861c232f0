"""Exercises of chapter 2: a GRU cell, one step of beam search, greedy vs beam on a trap, the reversed source.

Introduced in: chapter 2.
"""

from __future__ import annotations

import torch
from torch import nn

from ..train.decoding import beam_search, greedy_decode
from .answers import as_mapping, as_number, as_words
from .core import Case, compare_tensors, fail, make_generator, register, run_cases

__all__ = ["reference_gru_cell", "gru_cases", "reference_beam_step", "beam_step_cases", "TRAP_WORDS", "TRAP_TABLE",
           "trap_step"]


def reference_gru_cell(x, h, W_ih, W_hh, b_ih, b_hh) -> torch.Tensor:
    """``torch.nn.GRUCell`` (the cell of the book's ``nn.GRU`` layers) with the given weights."""
    cell = nn.GRUCell(W_ih.shape[1], W_hh.shape[1]).to(x.dtype)
    with torch.no_grad():
        for p, w in zip((cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh), (W_ih, W_hh, b_ih, b_hh)):
            p.copy_(w)
        return cell(x, h)  # (B, H)


def gru_cases() -> list[Case]:
    """Hidden cases of exercise 2.1: (x, h, W_ih, W_hh, b_ih, b_hh) with E inputs and H hidden units."""
    g = make_generator(21)

    def case(B, E, H, dtype=torch.float64, scale=1.0, zero_h=False, zero_bias=False):
        r = lambda *s: torch.randn(*s, generator=g, dtype=dtype) * scale  # noqa: E731
        h = torch.zeros(B, H, dtype=dtype) if zero_h else r(B, H).tanh()
        b = (lambda *s: torch.zeros(*s, dtype=dtype)) if zero_bias else r
        return (r(B, E), h, r(3 * H, E), r(3 * H, H), b(3 * H), b(3 * H))

    bias = "The reset gate multiplies the whole hidden part of the candidate, bias included: " \
           "n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), not r * (W_hn h) + b_hn."
    return [
        Case("no biases, batch 3, E = 4, H = 5", case(3, 4, 5, zero_bias=True)),
        Case("with biases, batch 3, E = 4, H = 5", case(3, 4, 5), hint=bias),
        Case("batch 1, E = H = 3", case(1, 3, 3), hint=bias),
        Case("a zero state h = 0", case(2, 4, 6, zero_h=True), hint=bias),
        Case("large weights (saturated gates), float32", case(4, 6, 3, dtype=torch.float32, scale=4.0), hint=bias),
        Case("float32, batch 8, E = 7, H = 2", case(8, 7, 2, dtype=torch.float32), hint=bias),
    ]


@register("2.1", title="A GRU cell from its equations", kind="implement", short="GRU cell")
def _check_gru(fn) -> str:
    return run_cases("2.1", "GRU cell", fn, reference_gru_cell, gru_cases(),
                     arg_names=("x", "h", "W_ih", "W_hh", "b_ih", "b_hh"), out_names=("the new state h'",),
                     hint="PyTorch's GRU: the rows of W_ih, W_hh (and the biases) are stacked [r; z; n]; "
                          "r = sigmoid(W_ir x + b_ir + W_hr h + b_hr), z likewise, n = tanh(W_in x + b_in + "
                          "r * (W_hn h + b_hn)), h' = (1 - z) * n + z * h (z = 1 keeps the old state).")


def reference_beam_step(scores: torch.Tensor, log_probs: torch.Tensor):
    """The survivor selection of ``e2t.train.decoding.beam_search``: the K best of the K * V extensions.

    Shapes: scores (B, K), log_probs (B, K, V) -> new scores (B, K) best first, beam (B, K), token (B, K).
    """
    B, K, V = log_probs.shape
    candidates = (scores.unsqueeze(-1) + log_probs).reshape(B, K * V)  # (B, K*V)
    best, flat = candidates.topk(K, dim=-1)  # (B, K)
    return best, torch.div(flat, V, rounding_mode="floor"), flat % V


def beam_step_cases() -> list[Case]:
    """Hidden cases of exercise 2.2."""
    g = make_generator(22)

    def case(B, K, V):
        scores = torch.randn(B, K, generator=g, dtype=torch.float64).cumsum(-1) * -1  # distinct, best first
        return (scores, torch.log_softmax(torch.randn(B, K, V, generator=g, dtype=torch.float64) * 2, -1))

    first = torch.tensor([[0.0, float("-inf"), float("-inf")]], dtype=torch.float64)
    return [
        Case("batch 2, beam 3, vocabulary 5", case(2, 3, 5)),
        Case("the first step: one live beam, the others at -inf",
             (first, torch.log_softmax(torch.randn(1, 3, 6, generator=g, dtype=torch.float64), -1)),
             hint="At the first step only beam 0 is alive; all K survivors may extend the same beam."),
        Case("one beam (greedy)", case(3, 1, 4)),
        Case("beam 4, vocabulary 4: the best may all come from one beam", (
            torch.tensor([[0.0, -5.0, -6.0, -7.0]], dtype=torch.float64),
            torch.log_softmax(torch.randn(1, 4, 4, generator=g, dtype=torch.float64), -1)),
            hint="Rank all K * V candidates together (flatten to (B, K * V), then topk): the best beam may supply "
                 "several survivors and a weak beam none."),
        Case("batch 1, beam 2, vocabulary 9", case(1, 2, 9)),
    ]


def _compare_beam(expected, got) -> str | None:
    if got is None:
        return "your function returned None. Does it `return` its result?"
    if not isinstance(got, (tuple, list)) or len(got) != 3:
        return "expected a tuple (new_scores, beam, token)"
    for e, x, name in zip(expected, got, ("new_scores", "beam", "token")):
        problem = compare_tensors(e, x, name=name)
        if problem:
            return problem
    return None


_TOY_V, _TOY_K, _TOY_STEPS = 6, 3, 5


def _toy_decoder():
    """A decoder whose next-token distribution depends on the previous token and a running hidden number."""
    g = make_generator(220)
    table = torch.log_softmax(torch.randn(_TOY_V, _TOY_V, generator=g, dtype=torch.float64) * 2, -1)
    table[:, 2] = float("-inf")  # eos never wins here, so no hypothesis finishes early
    table = torch.log_softmax(table, -1)
    drift = torch.randn(_TOY_V, generator=g, dtype=torch.float64)

    def step(prev, state):
        return table[prev] + 0.3 * state.unsqueeze(-1) * drift, state + 1.0  # (B, V), (B,)
    return step


def _search_with(fn) -> list[int]:
    """A beam search of ``_TOY_STEPS`` steps on the toy decoder with the reader's step; the best tokens."""
    step = _toy_decoder()
    K = _TOY_K
    scores = torch.full((1, K), float("-inf"), dtype=torch.float64)
    scores[0, 0] = 0.0
    prev, state = torch.full((K,), 1), torch.zeros(K, dtype=torch.float64)
    tokens = torch.zeros(1, K, 0, dtype=torch.long)
    for _ in range(_TOY_STEPS):
        log_probs, state = step(prev, state)
        scores, beam, tok = fn(scores, torch.log_softmax(log_probs, -1).view(1, K, _TOY_V))
        tokens = torch.cat([tokens.gather(1, beam.unsqueeze(-1).expand_as(tokens)), tok.unsqueeze(-1)], -1)
        prev, state = tok.view(K), state.index_select(0, beam.view(K))
    return tokens[0, int(scores[0].argmax())].tolist()


@register("2.2", title="One step of beam search", kind="implement", short="beam step")
def _check_beam_step(fn) -> str:
    hint = "Add each beam's score to its log-probabilities (broadcast (B, K, 1) + (B, K, V)), flatten to " \
           "(B, K * V), take topk(K); the beam is flat // V and the token flat % V. Return them best first."
    line = run_cases("2.2", "beam step", fn, reference_beam_step, beam_step_cases(),
                     arg_names=("scores", "log_probs"), hint=hint, compare=_compare_beam)
    package = beam_search(_toy_decoder(), torch.zeros(1, dtype=torch.float64), batch_size=1, bos=1, eos=2,
                          max_len=_TOY_STEPS, beam_size=_TOY_K, length_penalty=0.0)[0]
    mine = _search_with(fn)
    if mine != package:
        fail("2.2 beam step: the whole-search case failed", f"a {_TOY_STEPS}-step search with your step returns "
             f"{mine}; e2t.train.decoding.beam_search returns {package}", hint)
    n = len(beam_step_cases()) + 1
    return f"2.2 beam step: all {n} cases pass (the last one is a whole search, equal to beam_search's)"


#: Exercise 2.3's vocabulary (ids 0..4) and next-word table: row = previous word, column = next word.
TRAP_WORDS = ("<pad>", "<bos>", "<eos>", "A", "B")
TRAP_TABLE = (
    (0.0, 0.0, 1.0, 0.0, 0.0),    # <pad> (never used)
    (0.0, 0.0, 0.05, 0.55, 0.40),  # <bos>
    (0.0, 0.0, 1.0, 0.0, 0.0),    # <eos>
    (0.0, 0.0, 0.30, 0.40, 0.30),  # A
    (0.0, 0.0, 0.90, 0.05, 0.05),  # B
)


def trap_step():
    """The decoder of exercise 2.3: ``step(prev, state) -> (log-probabilities of TRAP_TABLE[prev], state)``."""
    logp = torch.log(torch.tensor(TRAP_TABLE, dtype=torch.float64).clamp_min(1e-300))

    def step(prev, state):
        return logp[prev], state
    return step


@register("2.3", title="Greedy and beam search on a trap", kind="predict", short="greedy vs beam")
def _check_trap(answer) -> str:
    answer = as_mapping("2.3", answer, ("greedy", "beam"), "the two outputs")
    kw = dict(batch_size=1, bos=1, eos=2, max_len=4)
    outputs = {"greedy": greedy_decode(trap_step(), None, **kw)[0],
               "beam": beam_search(trap_step(), None, beam_size=2, length_penalty=0.0, **kw)[0]}
    why = {"greedy": "greedy takes A (0.55 > 0.40) and then A again at every step (0.40 beats eos's 0.30), so it "
                     "never stops and runs into max_len = 4.",
           "beam": "beam search keeps B as its second hypothesis; B then ends with probability 0.90, so [B] scores "
                   "0.40 * 0.90 = 0.36, more than any continuation of A (at most 0.55 * 0.40 = 0.22)."}
    for key in ("greedy", "beam"):
        mine, truth = as_words("2.3", answer[key], f"the {key} output"), [TRAP_WORDS[t] for t in outputs[key]]
        if mine != truth:
            raise AssertionError(f"2.3 greedy vs beam: {key}: you predicted {mine}; the package's "
                                 f"{'greedy_decode' if key == 'greedy' else 'beam_search'} returns {truth} "
                                 f"(without <bos> and <eos>).\n  why: {why[key]}")
    return "2.3 greedy vs beam: both predictions match the package's decoders"


@register("2.4", title="Train with the source reversed", kind="experiment", short="reversed source")
def _check_reversed(answer) -> str:
    answer = as_mapping("2.4", answer, ("in_order", "reversed"), "the mean training losses")
    in_order, rev = (as_number("2.4", answer[k], f"the {k} loss") for k in ("in_order", "reversed"))
    if not (0 < rev < 10 and 0 < in_order < 10):
        fail("2.4 reversed source", f"these do not look like cross-entropy losses: {in_order}, {rev}",
             "Report the mean of history.losses over the last 50 steps of each run.")
    if not rev < 0.97 * in_order:
        fail("2.4 reversed source", f"the reversed run's loss ({rev:.4g}) is not clearly below the in-order run's "
             f"({in_order:.4g}); expected at least 3% lower.",
             "Train both with the same seed, sizes and steps (250 steps of d_hidden 64), changing only "
             "reverse_source=True in the config, and average the last 50 losses of each.")
    return "2.4 reversed source: the reversed run ends with a lower training loss than the in-order run"

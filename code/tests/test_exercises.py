"""Tests of e2t.exercises: the registry, every checker against the package's own answer and against wrong ones, the
predict and experiment checks, and the self-check questions' HTML."""

from __future__ import annotations

import ast
import math
import re
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

import e2t.exercises as ex
from e2t.attention import masked_softmax, scaled_dot_product_attention
from e2t.exercises import ch1, ch2, ch3, ch6, ch7
from e2t.exercises.core import get
from e2t.exercises.quiz import _QUESTIONS
from e2t.hog import image_gradients
from e2t.luong import gaussian_window
from e2t.masks import causal_mask
from e2t.ntm import content_addressing, sharpen, shift, write
from e2t.ntm_model import bit_errors
from e2t.scores import cosine_score, scaled_dot_score
from e2t.transformer import sinusoidal_positions
from e2t.turing import increment_machine

# ------------------------------------------------------------------------------------------------ the registry

ROWS = ex.list()


def test_every_chapter_has_its_exercises_of_every_kind():
    by_chapter = {}
    for row in ROWS:
        by_chapter.setdefault(row.chapter, []).append(row)
    assert sorted(by_chapter) == list(range(8))
    assert len(by_chapter[0]) == 2
    for chapter in range(1, 8):
        rows = by_chapter[chapter]
        assert 4 <= len(rows) <= 6, chapter
        assert {r.kind for r in rows} == {"implement", "predict", "experiment"}, chapter
        assert [r.id for r in rows] == [f"{chapter}.{n}" for n in range(1, len(rows) + 1)]
    assert all(r.title and r.kind in ex.KINDS for r in ROWS)
    assert ex.list(chapter=5) == [r for r in ROWS if r.chapter == 5]


def test_nothing_in_the_package_imports_the_exercises():
    package = Path(ex.__file__).resolve().parents[1]
    importers = []
    for path in package.rglob("*.py"):
        if "exercises" in path.relative_to(package).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [f"{node.module}"] if isinstance(node, ast.ImportFrom) and node.module else []
            if any("exercises" in n.split(".") for n in names):
                importers.append(str(path.relative_to(package)))
    assert not importers


def test_unknown_ids_and_answers_of_the_wrong_type_raise_clear_errors():
    with pytest.raises(KeyError, match="there is no exercise '9.9'"):
        ex.check("9.9", lambda x: x)
    with pytest.raises(TypeError, match="strings such as '5.3'"):
        ex.check(5.3, lambda x: x)
    with pytest.raises(TypeError, match="asks for a function"):
        ex.check("5.3", torch.ones(2))
    with pytest.raises(TypeError, match="nested list of numbers"):
        ex.check("0.2", "half")
    with pytest.raises(TypeError, match="missing"):
        ex.check("2.4", {"in_order": 1.0})



def test_an_unanswered_stub_says_what_to_fill_in_and_passes_nothing(capsys):
    ex.check("6.5", {1: [0, 1], 3: ..., 4: [...]})
    ex.check("0.2", [[..., ..., ..., ...]] * 4)

    def my_sharpen(w, gamma):
        """A docstring, and nothing else yet."""
        ...

    ex.check("5.3", my_sharpen)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and all("not answered yet" in line for line in lines)
    assert "prediction" in lines[0] + lines[1] and "body of your function" in lines[2]
    assert not any("pass" in line.lower() for line in lines)


def test_a_function_that_does_something_is_checked_not_taken_for_a_stub():
    def wrong(w, gamma):
        return w  # forgets gamma
    with pytest.raises(AssertionError):
        ex.check("5.3", wrong)
    with pytest.raises(AssertionError):
        ex.check("5.3", lambda w, gamma: w * 0)  # a one-line body is checked too


# ------------------------------------------------------------------------------------------------ implement

def _unpool(z, indices, size):
    B, C, h, w = z.shape
    out = z.new_zeros(B, C, size[0] * size[1])
    return out.scatter_(2, indices.flatten(2), z.flatten(2)).view(B, C, *size)


def _gru(x, h, W_ih, W_hh, b_ih, b_hh, *, swap_z=False, bias_outside=False):
    gi, gh = x @ W_ih.T + b_ih, h @ W_hh.T + b_hh
    (ir, iz, in_), (hr, hz, hn) = gi.chunk(3, -1), gh.chunk(3, -1)
    r, z = torch.sigmoid(ir + hr), torch.sigmoid(iz + hz)
    if bias_outside:  # r * (W_hn h) + b_hn instead of r * (W_hn h + b_hn)
        b_hn = b_hh.chunk(3, -1)[2]
        n = torch.tanh(in_ + r * (hn - b_hn) + b_hn)
    else:
        n = torch.tanh(in_ + r * hn)
    return z * n + (1 - z) * h if swap_z else (1 - z) * n + z * h


def _sharpen(w, gamma):
    p = (w / w.max(-1, keepdim=True).values) ** gamma
    return p / p.sum(-1, keepdim=True)


def _shift(w, s):
    K = s.shape[1]
    return sum(s[:, k:k + 1] * torch.roll(w, k - K // 2, dims=-1) for k in range(K))


def _positions(max_len, d_model, *, half_exponent=False, swap=False):
    pos = torch.arange(max_len, dtype=torch.float64)[:, None]
    two_i = torch.arange(0, d_model, 2, dtype=torch.float64)
    angle = pos / 10000 ** ((two_i / 2 if half_exponent else two_i) / d_model)  # half_exponent: i / d, not 2i / d
    first, second = (angle.cos(), angle.sin()) if swap else (angle.sin(), angle.cos())
    pe = torch.zeros(max_len, d_model, dtype=torch.float64)
    pe[:, 0::2], pe[:, 1::2] = first, second[:, :d_model // 2]
    return pe


def _zero_padded_shift(w, s):
    K, N = s.shape[1], w.shape[1]
    out = torch.zeros_like(w)
    for k in range(K):
        d = k - K // 2  # weight moves from row j to row j + d, and falls off at the ends
        if d >= 0:
            out[:, d:] += s[:, k:k + 1] * w[:, :N - d]
        else:
            out[:, :N + d] += s[:, k:k + 1] * w[:, -d:]
    return out


def _layer_params(d, h, f):
    return 4 * (d * d + d) + (d * f + f) + (f * d + d) + 4 * d


# A reader's correct solution written from the formulas (not the package's own code), per implement exercise.
RIGHT = {
    "0.1": lambda s, m: torch.softmax(s.masked_fill(~m, torch.finfo(s.dtype).min), -1) * m,
    "1.1": lambda x: (F.pad(x, (1, 1, 0, 0), mode="replicate")[..., 2:] - F.pad(x, (1, 1, 0, 0), mode="replicate")[..., :-2],
                      F.pad(x, (0, 0, 1, 1), mode="replicate")[..., 2:, :] - F.pad(x, (0, 0, 1, 1), mode="replicate")[..., :-2, :]),
    "1.2": _unpool,
    "2.1": _gru,
    "2.2": ch2.reference_beam_step,
    "3.1": lambda q, k, W, v: torch.tanh((q @ W[:, :q.shape[-1]].T)[:, :, None] + (k @ W[:, q.shape[-1]:].T)[:, None]) @ v,
    "3.2": lambda s, k, m: (masked_softmax(s, m) @ k, masked_softmax(s, m)),
    "4.1": lambda q, k: q @ k.transpose(1, 2) / math.sqrt(q.shape[-1]),
    "4.2": lambda q, k: (q / q.norm(dim=-1, keepdim=True).clamp_min(1e-8)) @ (k / k.norm(dim=-1, keepdim=True).clamp_min(1e-8)).transpose(1, 2),
    "4.3": gaussian_window,
    "5.1": lambda M, k, b: torch.softmax(b * F.cosine_similarity(M, k[:, None], dim=-1, eps=1e-8), -1),
    "5.2": lambda M, w, e, a: M * (1 - w[..., None] * e[:, None]) + w[..., None] * a[:, None],
    "5.3": _sharpen,
    "5.4": _shift,
    "6.1": lambda T: torch.ones(T, T, dtype=torch.bool).tril(),
    "6.2": lambda q, k, v, m: (masked_softmax(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), m) @ v,
                               masked_softmax(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), m)),
    "6.3": lambda x, h: x.view(x.shape[0], x.shape[1], h, -1).transpose(1, 2),
    "6.4": _positions,
    "7.1": lambda logits, t: ((logits > 0).float() != t).float().sum((1, 2)),
    "7.2": _layer_params,
}

# The package's own functions (or the reference the checker wraps around them).
PACKAGE = {
    "0.1": masked_softmax, "1.1": image_gradients, "1.2": ch1.reference_unpool, "2.1": ch2.reference_gru_cell,
    "2.2": ch2.reference_beam_step, "3.1": ch3.reference_additive_score, "3.2": ch3.reference_attend,
    "4.1": scaled_dot_score, "4.2": cosine_score, "4.3": gaussian_window, "5.1": content_addressing, "5.2": write,
    "5.3": sharpen, "5.4": shift, "6.1": causal_mask, "6.2": scaled_dot_product_attention,
    "6.3": ch6.reference_split_heads, "6.4": sinusoidal_positions, "7.1": bit_errors, "7.2": ch7.reference_layer_params,
}


def _naive_sharpen(w, gamma):
    p = w ** gamma
    return p / p.sum(-1, keepdim=True)


def _topk_per_beam(scores, log_probs):
    B, K, V = log_probs.shape
    best, tok = (scores[..., None] + log_probs).max(-1)  # one token per beam: never two survivors from one beam
    order = best.argsort(-1, descending=True)
    return best.gather(1, order), order, tok.gather(1, order)


# Deliberately wrong implementations: (exercise, name, function, a word the failure message must contain).
WRONG = [
    ("0.1", "mask ignored", lambda s, m: torch.softmax(s, -1), "differ"),
    ("0.1", "-inf fill", lambda s, m: torch.softmax(s.masked_fill(~m, float("-inf")), -1), "NaN"),
    ("0.1", "softmax over the queries", lambda s, m: masked_softmax(s, m, dim=-2) if s.dim() > 2 else masked_softmax(s, m), "differ"),
    ("1.1", "zero padding", lambda x: (F.pad(x, (1, 1))[..., 2:] - F.pad(x, (1, 1))[..., :-2],
                                       F.pad(x, (0, 0, 1, 1))[..., 2:, :] - F.pad(x, (0, 0, 1, 1))[..., :-2, :]), "replicate"),
    ("1.1", "x and y swapped", lambda x: tuple(reversed(image_gradients(x))), "swap"),
    ("1.2", "nearest-neighbour upsampling", lambda z, i, size: F.interpolate(z, size=size, mode="nearest"), "differ"),
    ("1.2", "minimum off the maxima", lambda z, i, size: _unpool(z, i, size) + (_unpool(z, i, size) == 0) * z.min(), "zeros"),
    ("2.1", "z swapped", lambda *a: _gru(*a, swap_z=True), "z = 1 keeps the old state"),
    ("2.1", "bias outside the reset gate", lambda *a: _gru(*a, bias_outside=True), "bias included"),
    ("2.2", "top token per beam", _topk_per_beam, "topk"),
    ("2.2", "previous scores forgotten", lambda s, lp: ch2.reference_beam_step(torch.zeros_like(s), lp), "new_scores"),
    ("3.1", "[h; s] order", lambda q, k, W, v: torch.tanh((q @ W[:, -q.shape[-1]:].T)[:, :, None] + (k @ W[:, :k.shape[-1]].T)[:, None]) @ v, "query first"),
    ("3.1", "no tanh", lambda q, k, W, v: ((q @ W[:, :q.shape[-1]].T)[:, :, None] + (k @ W[:, q.shape[-1]:].T)[:, None]) @ v, "tanh"),
    ("3.2", "no mask", lambda s, k, m: (torch.softmax(s, -1) @ k, torch.softmax(s, -1)), "mask"),
    ("3.2", "softmax over the output steps", lambda s, k, m: (masked_softmax(s, m, dim=1) @ k, masked_softmax(s, m, dim=1)), "last axis"),
    ("4.1", "divided by d", lambda q, k: q @ k.transpose(1, 2) / q.shape[-1], "sqrt"),
    ("4.1", "no scale", lambda q, k: q @ k.transpose(1, 2), "sqrt"),
    ("4.2", "no clamp", lambda q, k: (q / q.norm(dim=-1, keepdim=True)) @ (k / k.norm(dim=-1, keepdim=True)).transpose(1, 2), "NaN"),
    ("4.3", "sigma = D", lambda p, *, S, D: torch.exp(-(torch.arange(S, dtype=p.dtype) - p[..., None]) ** 2 / (2 * D ** 2)), "sigma"),
    ("4.3", "sigma^2 = 0 divided", lambda p, *, S, D: torch.exp(-(torch.arange(S, dtype=p.dtype) - p[..., None]) ** 2 / (2 * (D / 2) ** 2)), "D = 0"),
    ("5.1", "dot product, not cosine", lambda M, k, b: torch.softmax(b * (M @ k[..., None])[..., 0], -1), "cosine"),
    ("5.1", "beta forgotten", lambda M, k, b: torch.softmax(F.cosine_similarity(M, k[:, None], dim=-1), -1), "beta"),
    ("5.2", "add, then erase", lambda M, w, e, a: (M + w[..., None] * a[:, None]) * (1 - w[..., None] * e[:, None]), "Erase first"),
    ("5.3", "no renormalisation", lambda w, g: w ** g, "renormalise"),
    ("5.3", "naive power in float32", _naive_sharpen, "underflow"),
    ("5.4", "direction flipped", lambda w, s: _shift(w, s.flip(-1)), "HIGHER"),
    ("5.4", "zero padding, not circular", _zero_padded_shift, "circular"),
    ("6.1", "the future allowed", lambda T: torch.ones(T, T, dtype=torch.bool).triu(), "tril"),
    ("6.1", "the token hidden from itself", lambda T: torch.ones(T, T, dtype=torch.bool).tril(-1), "itself"),
    ("6.1", "an int mask", lambda T: torch.ones(T, T).tril(), "dtype"),
    ("6.2", "divided by d_k", lambda q, k, v, m: RIGHT["6.2"](q * q.shape[-1] ** -0.5, k, v, m), "sqrt(d_k)"),
    ("6.2", "-inf fill", lambda q, k, v, m: (lambda w: (w @ v, w))(torch.softmax(
        (q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])).masked_fill(~m, float("-inf")) if m is not None
        else q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), -1)), "NaN"),
    ("6.3", "view without transpose", lambda x, h: x.view(x.shape[0], h, x.shape[1], -1), "view"),
    ("6.4", "exponent i/d", lambda L, D: _positions(L, D, half_exponent=True), "2i / d_model"),
    ("6.4", "sin and cos swapped", lambda L, D: _positions(L, D, swap=True), "sin"),
    ("7.1", "threshold 0.5 on the logits", lambda lg, t: ((lg > 0.5).float() != t).float().sum((1, 2)), "logits > 0"),
    ("7.1", "logit 0 counted as 1", lambda lg, t: ((lg >= 0).float() != t).float().sum((1, 2)), "1/2"),
    ("7.1", "one total for the batch", lambda lg, t: ((lg > 0).float() != t).float().sum(), "shape"),
    ("7.2", "LayerNorms forgotten", lambda d, h, f: _layer_params(d, h, f) - 4 * d, "LayerNorm"),
    ("7.2", "parameters per head", lambda d, h, f: _layer_params(d, h, f) + (h - 1) * 4 * (d * d + d), "heads"),
]


@pytest.mark.parametrize("exercise_id", sorted(PACKAGE))
def test_the_package_passes_its_own_check(exercise_id, capsys):
    ex.check(exercise_id, PACKAGE[exercise_id])
    line = capsys.readouterr().out.strip()
    assert re.fullmatch(rf"{re.escape(exercise_id)} .+: all \d+ cases pass.*", line), line


@pytest.mark.parametrize("exercise_id", sorted(RIGHT))
def test_a_solution_written_from_the_formulas_passes(exercise_id, capsys):
    ex.check(exercise_id, RIGHT[exercise_id])
    assert "cases pass" in capsys.readouterr().out


def test_every_implement_exercise_is_covered():
    implement = {r.id for r in ROWS if r.kind == "implement"}
    assert implement == set(PACKAGE) == set(RIGHT) == {w[0] for w in WRONG}


@pytest.mark.parametrize("exercise_id, name, fn, word", WRONG, ids=[f"{w[0]}-{w[1]}" for w in WRONG])
def test_a_wrong_implementation_fails_with_the_case_and_a_hint(exercise_id, name, fn, word):
    with pytest.raises(AssertionError) as info:
        ex.check(exercise_id, fn)
    message = str(info.value)
    assert re.search(rf"^{re.escape(exercise_id)} .+: case \d+ of \d+ failed \(.+\)", message) or \
        "whole-search case failed" in message, message
    assert "\n  hint: " in message, message
    assert word.lower() in message.lower(), f"{name}: {word!r} not in {message!r}"


def test_a_function_that_forgets_to_return_fails_clearly():
    def forgets(w, gamma):
        """Sharpen the weighting."""
        sharpened = w ** gamma
        sharpened / sharpened.sum(-1, keepdim=True)
    with pytest.raises(AssertionError, match="returned None. Does it `return`"):
        ex.check("5.3", forgets)


def test_a_check_leaves_the_global_random_state_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    for exercise_id in ("3.1", "6.3", "7.2", "2.1"):
        ex.check(exercise_id, PACKAGE[exercise_id])
    ex.check("7.3", {"no mask": True, "causal mask": False, "positions": False})
    assert torch.equal(torch.rand(3), expected)


# ------------------------------------------------------------------------------------------------ predict

PREDICTIONS = {  # exercise: (right answer, a wrong one, a word of the explanation)
    "0.2": ([[1, 0, 0, 0], [.5, .5, 0, 0], [1 / 3, 1 / 3, 1 / 3, 0], [1 / 3, 1 / 3, 1 / 3, 0]],
            [[1, 0, 0, 0], [.5, .5, 0, 0], [1 / 3, 1 / 3, 1 / 3, 0], [.25, .25, .25, .25]], "real tokens"),
    "1.3": ({"a": [0], "b": [0], "c": [4, 5], "d": []}, {"a": [0], "b": [4], "c": [4, 5], "d": []}, "unsigned"),
    "2.3": ({"greedy": ["A", "A", "A", "A"], "beam": ["B"]}, {"greedy": ["A", "B"], "beam": ["B"]}, "max_len"),
    "3.3": ([0, 1, 4, None, 3], [0, 1, 3, None, 4], "crosses"),
    "4.4": ({0: [0, 1], 4: [3, 4, 5], 7: []}, {0: [0, 1], 4: [3, 4, 5], 7: [5]}, "all zero"),
    "5.5": ({1: [0, 0, .2, .8, 0, 0], 2: [0, 0, .04 / .68, .64 / .68, 0, 0]},
            {1: [0, 0, 0, 1, 0, 0], 2: [0, 0, .04 / .68, .64 / .68, 0, 0]}, "nothing changes"),
    "6.5": ({1: [0, 1], 3: [0, 1, 2], 4: [0, 1, 2]}, {1: [0, 1], 3: [0, 1, 2, 3], 4: [0, 1, 2]}, "padding mask"),
    "7.3": ({"no mask": True, "causal mask": False, "positions": False},
            {"no mask": True, "causal mask": True, "positions": False}, "causal mask ties"),
}


def test_every_predict_exercise_is_covered():
    assert {r.id for r in ROWS if r.kind == "predict"} == set(PREDICTIONS)


@pytest.mark.parametrize("exercise_id", sorted(PREDICTIONS))
def test_a_right_prediction_passes_and_a_wrong_one_is_explained(exercise_id, capsys):
    right, wrong, word = PREDICTIONS[exercise_id]
    ex.check(exercise_id, right)
    assert capsys.readouterr().out.startswith(exercise_id + " ")
    with pytest.raises(AssertionError) as info:
        ex.check(exercise_id, wrong)
    assert "why:" in str(info.value) and word in str(info.value), str(info.value)


# ------------------------------------------------------------------------------------------------ experiment

EXPERIMENTS = {  # exercise: (measurements with the stated property, measurements without it)
    "1.4": ({1: 0.023, 8: 0.011}, {1: 0.012, 8: 0.011}),
    "2.4": ({"in_order": 1.52, "reversed": 1.31}, {"in_order": 1.52, "reversed": 1.50}),
    "3.4": ({"fresh": 0.09, "trained": 0.81}, {"fresh": 0.09, "trained": 0.2}),
    "4.5": ({16: {"scaled": 0.30, "unscaled": 0.29}, 1024: {"scaled": 0.31, "unscaled": 0.05}},
            {16: {"scaled": 0.30, "unscaled": 0.29}, 1024: {"scaled": 0.31, "unscaled": 0.28}}),
    "4.6": ({"without": 0.0139, "with": 2.3e-5}, {"without": 0.0139, "with": 0.01}),
    "5.6": ({1: torch.softmax(torch.randn(16, generator=torch.Generator().manual_seed(0)), -1),
             3: torch.nn.functional.one_hot(torch.tensor(10), 16).double()},
            {1: torch.nn.functional.one_hot(torch.tensor(7), 16).double(),
             3: torch.nn.functional.one_hot(torch.tensor(10), 16).double()}),
    "6.6": ({"causal": {"train_loss": 0.29, "honest_accuracy": 0.91}, "no_mask": {"train_loss": 0.03, "honest_accuracy": 0.72}},
            {"causal": {"train_loss": 0.29, "honest_accuracy": 0.91}, "no_mask": {"train_loss": 0.03, "honest_accuracy": 0.9}}),
    "7.4": ({"transformer": {"first_20": 0.03, "last_20": 0.46}, "ntm": {"first_20": 0.0, "last_20": 0.0}},
            {"transformer": {"first_20": 0.03, "last_20": 0.46}, "ntm": {"first_20": 0.0, "last_20": 0.4}}),
}


def test_every_experiment_is_covered():
    assert {r.id for r in ROWS if r.kind == "experiment"} == set(EXPERIMENTS)


@pytest.mark.parametrize("exercise_id", sorted(EXPERIMENTS))
def test_an_experiment_check_accepts_the_property_and_rejects_its_absence(exercise_id, capsys):
    good, bad = EXPERIMENTS[exercise_id]
    ex.check(exercise_id, good)
    line = capsys.readouterr().out.strip()
    assert line.startswith(exercise_id + " ") and not re.search(r"\d\.\d{3}", line), line  # no measured numbers
    with pytest.raises(AssertionError, match="hint:"):
        ex.check(exercise_id, bad)


# ------------------------------------------------------------------------------------------------ self-check

def test_every_chapter_has_two_or_three_questions():
    counts = {}
    for q in ex.questions():
        counts[q.chapter] = counts.get(q.chapter, 0) + 1
    assert sorted(counts) == list(range(8)) and all(2 <= n <= 3 for n in counts.values()), counts


@pytest.mark.parametrize("question_id", sorted(_QUESTIONS))
def test_a_question_renders_the_same_html_every_time_without_ids(question_id):
    first, again = ex.self_check(question_id)._repr_html_(), ex.self_check(question_id)._repr_html_()
    assert first == again
    assert ' id="' not in first and "<script>" in first and "<details>" in first
    assert 'role="status"' in first and 'aria-live="polite"' in first
    q = _QUESTIONS[question_id]
    if q.choices:
        assert first.count('type="radio"') == len(q.choices) and first.count('data-correct="1"') == 1
    else:
        assert f'data-answer="{q.answer!r}"' in first and "<form" in first
    assert repr(ex.self_check(question_id)).startswith(f"Self-check {question_id}: ")


def test_a_numeric_answer_is_right_where_the_package_says():
    tape = increment_machine().run("1011")[-1]
    assert int(tape.text(0, 3), 2) == _QUESTIONS["5c"].answer
    assert sum(range(1, 31)) == _QUESTIONS["6c"].answer
    assert math.prod((9, 2 * 2, 3 * 3)) == _QUESTIONS["1c"].answer


def test_unknown_questions_raise():
    with pytest.raises(KeyError, match="no self-check question"):
        ex.self_check("9z")

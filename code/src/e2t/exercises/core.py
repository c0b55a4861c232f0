"""The machinery behind ``e2t.exercises``: the registry, ``check``, and the case runner of *implement* exercises.

An exercise has an id (``"5.3"``: chapter 5, third exercise; the preface is chapter 0), a title and a kind:

- ``implement``: the reader writes a function the package also has. ``check`` runs it on hidden cases (random
  shapes from a fixed seed, and edge cases) next to the package's own function and compares the results;
- ``predict``: the reader commits to a prediction (a value, a list, a mask, a choice) before running anything;
  ``check`` compares it with what the package computes and explains the difference;
- ``experiment``: the reader changes a chapter's run and measures; ``check`` verifies that the measured numbers
  have the property the solution states.

A passing check prints one line; a failing one raises ``AssertionError`` that names the first failing case (its
inputs' shapes and values) and gives a hint. Every check is deterministic and takes well under a second.

Introduced in: the preface.
"""

from __future__ import annotations

import dis

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import torch

__all__ = ["KINDS", "Case", "Exercise", "ExerciseInfo", "register", "get", "list_exercises", "check", "describe",
           "run_cases", "compare_tensors", "make_generator", "fail"]

#: The three kinds of exercise.
KINDS = ("implement", "predict", "experiment")

_REGISTRY: dict[str, Exercise] = {}


class ExerciseInfo(NamedTuple):
    """One row of ``e2t.exercises.list()``: ``chapter`` is 0 for the preface."""

    chapter: int
    id: str
    title: str
    kind: str


@dataclass(frozen=True)
class Case:
    """One hidden case of an *implement* exercise: ``fn(*args, **kwargs)`` is compared with the package's function.

    ``name`` says what the case tests (shown when it fails); ``hint`` replaces the exercise's hint for this case.
    """

    name: str
    args: tuple
    kwargs: dict = field(default_factory=dict)
    hint: str | None = None


@dataclass(frozen=True)
class Exercise:
    """A registered exercise. ``run(answer)`` checks an answer and returns the pass line, or raises."""

    id: str
    chapter: int
    title: str
    kind: str
    run: Callable[[Any], str]
    short: str = ""  # a short name for the pass line, e.g. "sharpen"

    def info(self) -> ExerciseInfo:
        return ExerciseInfo(self.chapter, self.id, self.title, self.kind)


def _id_key(exercise_id: str) -> tuple[int, int]:
    chapter, number = exercise_id.split(".")
    return int(chapter), int(number)


def register(exercise_id: str, *, title: str, kind: str, short: str = "") -> Callable:
    """Decorator: register ``run(answer) -> pass line`` as exercise ``exercise_id`` ("<chapter>.<n>")."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    try:
        chapter, _ = _id_key(exercise_id)
    except ValueError:
        raise ValueError(f"exercise ids look like '5.3' (chapter.number), got {exercise_id!r}") from None

    def wrap(run: Callable[[Any], str]) -> Callable[[Any], str]:
        if exercise_id in _REGISTRY:
            raise ValueError(f"exercise {exercise_id} is registered twice")
        _REGISTRY[exercise_id] = Exercise(exercise_id, chapter, title, kind, run, short or title.lower())
        return run

    return wrap


def get(exercise_id: str) -> Exercise:
    """The registered exercise ``exercise_id``; a clear error for an unknown id or one that is not a string."""
    if not isinstance(exercise_id, str):
        raise TypeError(f"exercise ids are strings such as '5.3', got {exercise_id!r} "
                        f"({type(exercise_id).__name__})")
    if exercise_id not in _REGISTRY:
        known = ", ".join(sorted(_REGISTRY, key=_id_key))
        raise KeyError(f"there is no exercise {exercise_id!r}; the exercises are {known} "
                       "(e2t.exercises.list() shows their titles)")
    return _REGISTRY[exercise_id]


def list_exercises(chapter: int | None = None) -> list[ExerciseInfo]:
    """Every exercise as ``(chapter, id, title, kind)``, in book order; only one chapter's with ``chapter=``."""
    rows = [e.info() for e in sorted(_REGISTRY.values(), key=lambda e: _id_key(e.id))]
    return [r for r in rows if chapter is None or r.chapter == chapter]


def check(exercise_id: str, answer: Any) -> None:
    """Check ``answer`` to exercise ``exercise_id``: print one pass line, or raise ``AssertionError`` saying why.

    For an *implement* exercise ``answer`` is your function; for a *predict* exercise your prediction; for an
    *experiment* your measurements (the exercise says in what form). The stub as the chapter gives it (a function
    whose body is only ``...``, or an answer that still holds a ``...``) is not checked: one line says what to fill
    in, so that running a whole chapter passes over the exercises it leaves to the reader.
    """
    exercise = get(exercise_id)
    if exercise.kind != "implement" and _has_ellipsis(answer):
        print(f"Exercise {exercise_id} ({exercise.title}): not answered yet. Replace every ... in your answer with "
              f"your {'prediction' if exercise.kind == 'predict' else 'measurement'}, then run this cell again.")
        return
    if exercise.kind == "implement" and _is_empty_function(answer):
        print(f"Exercise {exercise_id} ({exercise.title}): not answered yet. Write the body of your function in "
              "place of ..., then run this cell again.")
        return
    if exercise.kind == "implement" and not callable(answer):
        raise TypeError(f"exercise {exercise_id} ({exercise.title}) asks for a function: pass the function itself, "
                        f"e.g. check({exercise_id!r}, my_fn), not {type(answer).__name__} (do not call it)")
    # Building the package's modules for a reference draws from the global random state: restore it afterwards,
    # so that running a check never changes what the rest of a notebook computes.
    with torch.random.fork_rng(devices=[]):
        line = exercise.run(answer)
    print(line)


def _is_empty_function(fn: Any) -> bool:
    """Whether ``fn`` is a Python function that does nothing but return None (a body of ``...`` or ``pass``)."""
    try:
        ops = [(i.opname, i.argval) for i in dis.get_instructions(fn) if i.opname not in ("RESUME", "NOP", "CACHE")]
    except TypeError:  # not Python code (a builtin, a class): not a stub
        return False
    return ops in ([("LOAD_CONST", None), ("RETURN_VALUE", None)], [("RETURN_CONST", None)])


def _has_ellipsis(x: Any) -> bool:
    if x is Ellipsis:
        return True
    if isinstance(x, dict):
        return any(_has_ellipsis(v) for v in x.values())
    if isinstance(x, (list, tuple)):
        return any(_has_ellipsis(v) for v in x)
    return False


def fail(exercise: str, what: str, hint: str, recall: str | None = None) -> None:
    """Raise the ``AssertionError`` of a failed check: what went wrong, a hint, and the rule to recall."""
    raise AssertionError(f"{exercise}: {what}\n  hint: {hint}" + (f"\n  recall: {recall}" if recall else ""))


# ---------------------------------------------------------------------------------------------- describing values

def make_generator(seed: int) -> torch.Generator:
    """A private generator: hidden cases never touch (or depend on) the global random state."""
    return torch.Generator().manual_seed(seed)


def _numbers(x: torch.Tensor, limit: int = 6) -> str:
    flat = x.detach().flatten()
    if x.dtype == torch.bool:
        shown = [int(v) for v in flat[:limit].tolist()]
    elif x.is_floating_point():
        shown = [float(f"{v:.4g}") for v in flat[:limit].tolist()]
    else:
        shown = flat[:limit].tolist()
    return str(shown)[:-1] + (", ...]" if flat.numel() > limit else "]")


def describe(x: Any) -> str:
    """A short, deterministic summary of a value: shape, dtype and a few entries of a tensor."""
    if isinstance(x, torch.Tensor):
        head = f"{tuple(x.shape)} {str(x.dtype).replace('torch.', '')}"
        if x.numel() == 0:
            return head + " (empty)"
        if x.is_floating_point() and x.numel() > 1:
            finite = x[torch.isfinite(x)]
            rng = f" in [{float(finite.min()):.4g}, {float(finite.max()):.4g}]" if finite.numel() else ""
            return f"{head}{rng} = {_numbers(x)}"
        return f"{head} = {_numbers(x)}"
    if isinstance(x, (list, tuple)) and len(x) > 8:
        return f"{type(x).__name__} of {len(x)}: {str(list(x[:8]))[:-1]}, ...]"
    return repr(x)


def _inputs(case: Case, names: Sequence[str]) -> str:
    parts = [f"{n} {describe(a)}" for n, a in zip(names, case.args)]
    parts += [f"{k}={describe(v)}" for k, v in case.kwargs.items()]
    return "; ".join(parts)


# ---------------------------------------------------------------------------------------------- comparing results

def _tolerance(dtype: torch.dtype) -> tuple[float, float]:
    return (1e-7, 1e-9) if dtype == torch.float64 else (1e-4, 1e-5)


def compare_tensors(expected: torch.Tensor, got: Any, *, name: str = "the result",
                    exact_dtype: bool = False) -> str | None:
    """``None`` when ``got`` matches ``expected`` (same shape, values within float tolerance), else what differs."""
    if not isinstance(got, torch.Tensor):
        if got is None:
            return "your function returned None. Does it `return` its result?"
        return f"{name}: expected a torch.Tensor of shape {tuple(expected.shape)}, got {type(got).__name__}"
    if tuple(got.shape) != tuple(expected.shape):
        return f"{name}: got shape {tuple(got.shape)}, expected {tuple(expected.shape)}"
    if expected.dtype == torch.bool or exact_dtype:
        if got.dtype != expected.dtype:
            return f"{name}: got dtype {got.dtype}, expected {expected.dtype}"
    if expected.dtype == torch.bool or not expected.is_floating_point():
        wrong = (got != expected)
        if bool(wrong.any()):
            first = tuple(int(i) for i in wrong.nonzero()[0])
            return (f"{name}: {int(wrong.sum())} of {wrong.numel()} entries differ; the first at index {first}: "
                    f"got {got[first].item()}, expected {expected[first].item()}")
        return None
    if not got.is_floating_point():
        return f"{name}: got dtype {got.dtype}, expected a floating-point tensor ({expected.dtype})"
    g, e = got.detach().to(torch.float64), expected.detach().to(torch.float64)
    nan_got, nan_exp = torch.isnan(g), torch.isnan(e)
    if bool((nan_got & ~nan_exp).any()):
        return f"{name}: NaN at {int((nan_got & ~nan_exp).sum())} entries where a number is expected"
    if bool((torch.isinf(g) & ~torch.isinf(e)).any()):
        return f"{name}: inf where a finite number is expected"
    rtol, atol = _tolerance(expected.dtype)
    close = (g - e).abs() <= atol + rtol * e.abs()
    close |= nan_got & nan_exp
    if not bool(close.all()):
        bad = (~close).nonzero()[0]
        first = tuple(int(i) for i in bad)
        worst = float(((g - e).abs())[~close].max())
        return (f"{name}: {int((~close).sum())} of {close.numel()} entries differ (largest difference "
                f"{worst:.3g}); the first at index {first}: got {float(g[first]):.6g}, expected {float(e[first]):.6g}")
    return None


def _clone(x: Any) -> Any:
    if isinstance(x, torch.Tensor):
        return x.clone()
    if isinstance(x, tuple):
        return tuple(_clone(v) for v in x)
    if isinstance(x, list):
        return [_clone(v) for v in x]
    return x


def _compare_outputs(expected: Any, got: Any, names: Sequence[str], exact_dtype: bool) -> str | None:
    if got is None:
        return "your function returned None. Does it `return` its result?"
    if isinstance(expected, tuple):
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            return (f"expected a tuple of {len(expected)} results ({', '.join(names)}), got "
                    f"{type(got).__name__}" + (f" of {len(got)}" if isinstance(got, (tuple, list)) else ""))
        for e, g, n in zip(expected, got, names):
            problem = compare_tensors(e, g, name=n, exact_dtype=exact_dtype)
            if problem:
                return problem
        return None
    return compare_tensors(expected, got, name=names[0] if names else "the result", exact_dtype=exact_dtype)


def run_cases(exercise_id: str, short: str, fn: Callable, reference: Callable, cases: Sequence[Case], *,
              arg_names: Sequence[str], hint: str, out_names: Sequence[str] = ("the result",),
              exact_dtype: bool = False, compare: Callable[[Any, Any], str | None] | None = None) -> str:
    """Run ``fn`` and ``reference`` on every case (on copies of the inputs) and compare; return the pass line.

    ``compare(expected, got)`` may replace the default comparison (tensors, or tuples of tensors). A case whose
    reference raises ``ValueError`` or ``TypeError`` expects ``fn`` to raise one of them too.
    """
    for number, case in enumerate(cases, start=1):
        where = f"{exercise_id} {short}: case {number} of {len(cases)} failed ({case.name})"
        tip, recall = (case.hint, hint) if case.hint else (hint, None)
        try:
            expected = reference(*_clone(case.args), **_clone(case.kwargs))
        except (ValueError, TypeError) as error:
            try:
                fn(*_clone(case.args), **_clone(case.kwargs))
            except (ValueError, TypeError):
                continue
            except Exception as other:  # noqa: BLE001 - any other error is reported as the failure
                fail(where, f"expected a ValueError or TypeError ({error}), got {type(other).__name__}: {other}",
                     tip, recall)
            fail(where, f"the package raises for these inputs ({type(error).__name__}: {error}) but yours "
                 f"returned a result\n  inputs: {_inputs(case, arg_names)}", tip, recall)
        try:
            got = fn(*_clone(case.args), **_clone(case.kwargs))
        except Exception as error:  # noqa: BLE001 - the reader's error becomes the report
            fail(where, f"your function raised {type(error).__name__}: {error}\n  inputs: "
                 f"{_inputs(case, arg_names)}", tip, recall)
        problem = (compare or (lambda e, g: _compare_outputs(e, g, out_names, exact_dtype)))(expected, got)
        if problem:
            fail(where, f"{problem}\n  inputs: {_inputs(case, arg_names)}", tip, recall)
    return f"{exercise_id} {short}: all {len(cases)} cases pass"

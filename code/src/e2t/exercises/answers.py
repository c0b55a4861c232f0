"""Reading a reader's answer to a *predict* or *experiment* exercise: clear errors for answers of the wrong form.

A wrong *form* (a string where a table of numbers is asked, a missing key) raises ``TypeError`` naming the form the
exercise asks for; a wrong *value* is for the exercise's check to report, as an ``AssertionError``.

Introduced in: the preface.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import torch

__all__ = ["as_table", "as_index_list", "as_number", "as_mapping", "as_vector", "as_bool", "as_words"]


def as_table(exercise: str, x: Any, shape: tuple[int, ...], what: str) -> torch.Tensor:
    """A nested list (or tensor) of numbers of ``shape`` as a float64 tensor."""
    try:
        t = torch.as_tensor(x, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError):
        raise TypeError(f"{exercise} asks for {what}: a nested list of numbers of shape {shape}, got "
                        f"{type(x).__name__}") from None
    if tuple(t.shape) != tuple(shape):
        raise TypeError(f"{exercise} asks for {what} of shape {shape}, got shape {tuple(t.shape)}")
    return t


def as_index_list(exercise: str, x: Any, what: str) -> list[int]:
    """A list / tuple / set / range of integer positions, sorted."""
    if isinstance(x, (str, bytes)) or not isinstance(x, (Sequence, set, frozenset, range, torch.Tensor)):
        raise TypeError(f"{exercise} asks for {what} as a list of integers (e.g. [0, 1]), got {x!r}")
    values = x.tolist() if isinstance(x, torch.Tensor) else list(x)
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise TypeError(f"{exercise} asks for {what} as a list of integers (e.g. [0, 1]), got {x!r}")
    return sorted(values)


def as_number(exercise: str, x: Any, what: str) -> float:
    """A finite real number."""
    if isinstance(x, torch.Tensor) and x.numel() == 1:
        x = x.item()
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
        raise TypeError(f"{exercise} asks for {what} as a finite number, got {x!r}")
    return float(x)


def as_mapping(exercise: str, x: Any, keys: Sequence[Any], what: str) -> Mapping:
    """A dict holding at least ``keys``."""
    if not isinstance(x, Mapping):
        raise TypeError(f"{exercise} asks for {what}: a dict with the keys {list(keys)}, got {type(x).__name__}")
    missing = [k for k in keys if k not in x]
    if missing:
        raise TypeError(f"{exercise} asks for {what}: a dict with the keys {list(keys)}; missing {missing}")
    return x


def as_vector(exercise: str, x: Any, length: int, what: str) -> torch.Tensor:
    """A weighting (list or tensor, optionally with a batch axis of 1) as a float64 vector of ``length``."""
    try:
        t = torch.as_tensor(x.detach() if isinstance(x, torch.Tensor) else x, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError):
        raise TypeError(f"{exercise} asks for {what}: {length} numbers, got {type(x).__name__}") from None
    t = t.reshape(-1) if t.dim() == 2 and t.shape[0] == 1 else t
    if tuple(t.shape) != (length,):
        raise TypeError(f"{exercise} asks for {what}: {length} numbers, got shape {tuple(t.shape)}")
    return t


def as_bool(exercise: str, x: Any, what: str) -> bool:
    """True or False (a 0-d bool tensor is accepted)."""
    if isinstance(x, torch.Tensor) and x.numel() == 1 and x.dtype == torch.bool:
        x = bool(x)
    if not isinstance(x, bool):
        raise TypeError(f"{exercise} asks for {what} as True or False, got {x!r}")
    return x


def as_words(exercise: str, x: Any, what: str) -> list[str]:
    """A list of tokens (a string of words separated by spaces is accepted too)."""
    if isinstance(x, str):
        return x.split()
    if not isinstance(x, Sequence) or not all(isinstance(w, str) for w in x):
        raise TypeError(f"{exercise} asks for {what} as a list of words, e.g. ['A', 'B'], got {x!r}")
    return list(x)

"""Exercises with automatic checks, and self-check questions, for every chapter of the book.

- ``list()``: every exercise as ``(chapter, id, title, kind)`` (the preface is chapter 0); ``list(chapter=5)``;
- ``check("5.3", my_fn)``: runs hidden cases against the package and prints one pass line, or raises
  ``AssertionError`` naming the first failing case and a hint. For *predict* exercises pass your prediction, for
  *experiment* exercises your measurements;
- ``self_check("6a")``: a multiple-choice or numeric question that answers a click, in Jupyter and on the site;
  ``questions()`` lists them.

Nothing in the package imports this subpackage; it imports the models, ``data`` and ``train``.

Introduced in: the preface.
"""

from __future__ import annotations

from . import ch1, ch2, ch3, ch4, ch5, ch6, ch7, preface, question_bank  # noqa: F401 - they register
from .core import KINDS, ExerciseInfo, check, get, list_exercises
from .quiz import questions, self_check

__all__ = ["KINDS", "ExerciseInfo", "list", "check", "get", "self_check", "questions"]

#: ``e2t.exercises.list()``: every exercise, in book order.
list = list_exercises  # noqa: A001 - the name the book uses

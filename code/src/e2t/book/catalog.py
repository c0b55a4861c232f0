"""A map from the source document's sections to the code of ``e2t`` that implements them, read from the package.

Every module's docstring ends with "Introduced in: chapter N" (or "the preface"); a public object of the module
belongs to that chapter unless its own docstring names another. ``catalog()`` collects them, so the map in chapter 7
cannot fall out of date with the code.

Introduced in: chapter 7.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from dataclasses import dataclass

import e2t

#: The source document's sections (its own headings), per chapter of the book.
SEED_SECTIONS: dict[int, tuple[str, ...]] = {
    0: ("(front matter)",),
    1: ("Encoder-Decoder", "横向分析 (horizontal view)", "纵向分析 (vertical view: CNN, RNN, mixed)"),
    2: ("Sequence-to-Sequence", "Example", "Attention: the remedies (reversing, feeding twice, LSTM/GRU)"),
    3: ("Attention", "Attention In Bahdanau et al., 2015", "Attention or Memory"),
    4: ("Attention Family", "Attention分类 (categories)", "Self-Attention", "Soft vs Hard Attention",
        "Global vs. Local Attention"),
    5: ("NMT (the Neural Turing Machine)", "读写操作 (reading and writing)", "Attention机制 (addressing)"),
    6: ("Transformer", "Key, Value and Query", "Multi-Head Self-Attention", "Encoder", "Decoder",
        "整个Transformer结构 (the whole architecture)"),
    7: ("(synthesis)",),
}

_INTRODUCED = re.compile(r"Introduced in:\s*(the preface|chapters?\s+(\d+))", re.IGNORECASE)


@dataclass(frozen=True)
class Entry:
    """One public object of the package and the chapter that introduces it."""

    chapter: int
    module: str
    name: str
    kind: str


def _chapter_of(doc: str | None) -> int | None:
    match = _INTRODUCED.search(doc or "")
    if not match:
        return None
    return 0 if match.group(2) is None else int(match.group(2))


def _public_objects():
    """(module name, object name, object, module docstring) for every public function and class of ``e2t``."""
    for info in pkgutil.walk_packages(e2t.__path__, prefix="e2t."):
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if name.startswith("_") or not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue
            if getattr(obj, "__module__", None) == module.__name__:
                yield info.name, name, obj, module.__doc__


def _chapter(obj, module_doc: str | None) -> int | None:
    """The chapter an object's own docstring names, else its module's."""
    own = _chapter_of(inspect.getdoc(obj)) if obj.__doc__ else None
    return own if own is not None else _chapter_of(module_doc)


def catalog() -> list[Entry]:
    """Every public function and class defined in ``e2t`` whose docstring names its chapter."""
    entries = []
    for module, name, obj, module_doc in _public_objects():
        chapter = _chapter(obj, module_doc)
        if chapter is not None:
            entries.append(Entry(chapter, module.removeprefix("e2t."), name,
                                 "class" if inspect.isclass(obj) else "function"))
    return sorted(entries, key=lambda e: (e.chapter, e.module, e.name))


def undocumented() -> list[str]:
    """Public functions and classes of ``e2t`` whose chapter is named neither by their docstring nor by their
    module's (should be empty)."""
    return sorted(f"{module}.{name}" for module, name, obj, module_doc in _public_objects()
                  if _chapter(obj, module_doc) is None)


def section_map() -> list[dict[str, str]]:
    """Rows "chapter | source sections | modules and objects" for the book's closing map.
    """
    rows = []
    entries = catalog()
    for chapter, sections in SEED_SECTIONS.items():
        mine = [e for e in entries if e.chapter == chapter]
        modules: dict[str, list[str]] = {}
        for e in mine:
            modules.setdefault(e.module, []).append(e.name)
        code = "; ".join(f"`{m}`: " + ", ".join(f"`{n}`" for n in names) for m, names in modules.items())
        rows.append({"chapter": "preface" if chapter == 0 else str(chapter), "sections": " · ".join(sections),
                     "code": code or "–"})
    return rows

"""Measured numbers in the prose come from execution: no Markdown cell types a decimal or a percentage.

A number the text states is either glued from the cell that computes it (``e2t.book.glue`` and the role
``{glue:text}`name:.2f```) or not typed at all. What the check leaves alone: math (settings and definitions are
written as math, ``$0.01$``), glue roles, inline code and code blocks, section numbers in headings, sentences that
cite a paper (``{cite}``: numbers quoted from the literature) and the short ``ALLOWED`` list below.
"""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted((ROOT / "chapters").glob("*.ipynb")) + sorted((ROOT / "chapters").glob("*.md"))

#: A decimal (0.93, 12.5), a percentage (93 %, 93%, 12.5 per cent).
NUMBER = re.compile(r"(?<![\w.\\])\d+\.\d+(?![\w.])|(?<![\w.])\d+(?:\.\d+)?\s?(?:%|per ?cent\b)")

#: (page, exact phrase): typed numbers that are not measurements. Keep it short; prefer math for constants.
ALLOWED: set[tuple[str, str]] = set()

_STRIP = [
    re.compile(r"^(```|~~~)[^\n]*\n.*?^\1\s*$", re.S | re.M),    # fenced blocks (code, directives' bodies too)
    re.compile(r"\$\$.*?\$\$", re.S),                              # display math
    re.compile(r"(?<!\\)\$[^$\n]+?(?<!\\)\$"),                    # inline math
    re.compile(r"\{(?:glue|math)[:\w-]*\}`[^`]*`"),                # glue and math roles
    re.compile(r"``[^`]+``|`[^`\n]+`"),                            # inline code
    re.compile(r"\]\([^)]*\)"),                                    # link targets
    re.compile(r"<[^>\n]+>"),                                      # HTML tags
]
_HEADING_NUMBER = re.compile(r"^(#+\s+)\d+(?:\.\d+)*\.?\s", re.M)


def markdown_cells(path: Path) -> list[str]:
    if path.suffix == ".md":
        return [path.read_text(encoding="utf-8")]
    nb = json.loads(path.read_text(encoding="utf-8"))
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"]


def typed_numbers(text: str) -> list[tuple[str, str]]:
    """``(number, sentence)`` for every decimal or percentage typed in ``text`` outside what the check allows."""
    text = _HEADING_NUMBER.sub(r"\1", text)
    for pattern in _STRIP:
        text = pattern.sub(" ", text)
    found = []
    for sentence in re.split(r"(?<=[.!?:;])\s+|\n\s*\n|\n\s*[-*|]\s", text):
        if "{cite" in sentence:
            continue  # a number quoted from a paper, with its citation
        for m in NUMBER.finditer(sentence):
            found.append((m.group().strip(), " ".join(sentence.split())))
    return found


def test_the_check_catches_a_typed_accuracy_and_spares_what_it_should():
    planted = "The model reaches 0.93 exact match on long inputs, and 97 % of short ones."
    assert [n for n, _ in typed_numbers(planted)] == ["0.93", "97 %"]
    spared = ("## 5.3 Reading\n\nThe threshold is $0.01$; the model gets {glue:text}`em:.2f` right (printed above),"
              " as in `x = 0.5`. Graves et al. report 0.5 bits {cite}`graves2014`.\n\n```python\ny = 1.5\n```\n")
    assert typed_numbers(spared) == []


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_no_measured_number_is_typed_into_the_prose(path):
    found = [(n, s) for cell in markdown_cells(path) for n, s in typed_numbers(cell)
             if not any(page == path.name and phrase in s for page, phrase in ALLOWED)]
    assert not found, f"{path.name}: typed numbers (glue them or write constants as math):\n" + "\n".join(
        f"  {n!r} in: {s[:140]}" for n, s in found)

"""The Chinese edition cannot drift silently from the English one.

- every catalogue in locales/zh_CN is complete: no untranslated and no fuzzy message (a paragraph changed in English
  comes back from `make i18n` as fuzzy or untranslated, and this test fails until it is translated again);
- every translation keeps its message's markup (citations, glued numbers, inline math and code, link targets; a
  cross-reference may get a translated title but keeps its target), checked by tools/i18n.py's `markup`, which is
  itself tested below on planted mistakes;
- every text a self-check question shows (`e2t.exercises.quiz.messages()`) has a translation in self_checks.po, so
  the Chinese build can render every question in Chinese;
- there is a catalogue for every page of the book.

That the catalogues hold the English text *as it is now* needs the gettext builder: `make i18n-check` (part of
`make test`) extracts the messages and fails on any without a translation.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOCALE = ROOT / "locales" / "zh_CN" / "LC_MESSAGES"

spec = importlib.util.spec_from_file_location("book_i18n", ROOT / "tools" / "i18n.py")
i18n = importlib.util.module_from_spec(spec)
spec.loader.exec_module(i18n)

CATALOGUES = sorted(LOCALE.rglob("*.po"))
CJK = re.compile(r"[\u3400-\u9fff]")


def _words(text: str) -> str:
    """The text without roles, math and code: what a reader reads as words (a formula-only cell is not English)."""
    return i18n.CODE.sub(" ", i18n.MATH.sub(" ", i18n.ROLE.sub(" ", text)))


def _toc_pages() -> list[str]:
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    return sorted(set(re.findall(r"(?:file|root):\s*(\S+)", toc)))


def test_every_page_has_a_catalogue():
    assert LOCALE.is_dir(), "locales/zh_CN is missing: run `make i18n`"
    have = {p.relative_to(LOCALE).with_suffix("").as_posix() for p in CATALOGUES}
    for page in _toc_pages():
        stem = page.rsplit(".", 1)[0] if page.endswith((".md", ".ipynb")) else page
        assert stem in have, f"no catalogue for {page}: run `make i18n` and translate it"
    assert "self_checks" in have


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: p.relative_to(LOCALE).as_posix())
def test_catalogue_is_complete(po):
    counts = i18n.counts(po)
    assert counts["untranslated"] == 0 and counts["fuzzy"] == 0, (
        f"{po.relative_to(ROOT)}: {counts['untranslated']} untranslated and {counts['fuzzy']} fuzzy messages "
        f"({counts['translated']} translated); run `make i18n` and translate them")
    assert counts["translated"] > 0


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: p.relative_to(LOCALE).as_posix())
def test_translations_keep_markup_and_are_chinese(po):
    assert i18n.markup_problems(po) == []
    messages = [m for m in i18n._read(po) if m.id and m.string]
    prose = [m for m in messages if len(re.findall(r"[A-Za-z]{3,}", _words(str(m.id)))) >= 6]
    english = [str(m.id)[:60] for m in prose if not CJK.search(str(m.string))]
    # a long English sentence copied as its own "translation" is English text on a Chinese page
    assert english == [], f"{po.name}: translations without any Chinese: {english[:5]}"


def test_every_self_check_text_is_translated():
    from e2t.exercises.quiz import messages

    po = LOCALE / "self_checks.po"
    have = {m.id: m for m in i18n._read(po) if m.id}
    missing = [t[:60] for t in messages() if t not in have or not have[t].string or have[t].fuzzy]
    assert missing == [], f"self-check texts without a translation (run `make i18n`): {missing[:5]}"


@pytest.mark.parametrize(("english", "chinese", "ok"), [
    ("the {term}`context vector` of {cite}`bahdanau2015`", "{cite}`bahdanau2015` 的{term}`上下文向量 <context vector>`",
     True),
    ("the {term}`context vector`", "上下文向量", False),  # a cross-reference lost
    ("about {glue:text}`em:.2f` of them", "约 {glue:text}`em:.3f`", False),  # a glued number changed
    ("weights $\\alpha_{t,i}$ sum to 1", "权重 $\\alpha_{t,j}$ 之和为 1", False),  # the math changed
    ("call `self_check(\"6a\")`", "调用 `自测(\"6a\")`", False),  # inline code translated
    ("see [the paper](https://arxiv.org/abs/1409.0473)", "见[论文](https://arxiv.org/abs/1409.0473)", True),
    ("see [the paper](https://arxiv.org/abs/1409.0473)", "见[论文](https://arxiv.org)", False),
    ("{numref}`fig-02-length` shows it", "{numref}`图 %s <fig-02-length>` 显示了这一点", True),
])
def test_markup_check_catches_planted_mistakes(english, chinese, ok):
    assert (i18n.markup(english) == i18n.markup(chinese)) is ok

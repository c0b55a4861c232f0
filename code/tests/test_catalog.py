"""The map from the source's sections to the package (chapter 7) is complete and names real code."""

import dataclasses
import importlib

from e2t.book import catalog as cat
from e2t.book.catalog import (SOURCE_SECTIONS, Section, catalog, implementation_modules, map_problems,
                              section_map_markdown, section_rows, undocumented)

#: The source document's title and headings, in its order (level, wording), as read from
#: ``seed/000_81f588e557eb6d06.txt`` beside the repository.
SOURCE_HEADINGS = [
    (1, "从EncoderDecoder到Transformer"), (2, "Encoder-Decoder"), (3, "横向分析"), (3, "纵向分析"),
    (2, "Sequence-to-Sequence"), (3, "Example"), (2, "Attention"), (3, "Attention In Bahdanau et al., 2015"),
    (3, "Attention or Memory"), (3, "Attention Family"), (4, "Attention分类"), (4, "Self-Attention"),
    (4, "Soft vs Hard Attention"), (4, "Global vs. Local Attention"), (2, "NMT"), (4, "读写操作"), (4, "Attention机制"),
    (5, "Content-based addressing"), (5, "Interpolation"), (5, "Location-based addressing"), (2, "Transformer"),
    (4, "Key, Value and Query"), (4, "Multi-Head Self-Attention"), (4, "Encoder"), (4, "Decoder"),
    (4, "整个Transformer结构"), (2, "Referrence"),
]


def test_every_public_object_names_its_chapter():
    assert undocumented() == []


def test_the_catalog_knows_the_stable_api():
    entries = {(e.module, e.name): e.chapter for e in catalog()}
    assert entries[("masks", "causal_mask")] == 6
    assert entries[("ntm", "address")] == 5
    assert entries[("transformer", "MultiHeadAttention")] == 6


def test_the_map_has_every_heading_of_the_source_in_order():
    assert [(s.level, s.heading) for s in SOURCE_SECTIONS] == SOURCE_HEADINGS
    chinese = [s for s in SOURCE_SECTIONS if any("\u4e00" <= ch <= "\u9fff" for ch in s.heading)]
    assert chinese and all(s.gloss for s in chinese)  # every Chinese heading has an English gloss


def test_the_map_names_real_code_for_every_section_and_every_module():
    assert map_problems() == []
    without_code = [s.heading for s in SOURCE_SECTIONS if not s.code]
    assert without_code == ["Referrence"]
    mapped = {f"e2t.{m}" for s in SOURCE_SECTIONS for m, _ in s.code}
    assert set(implementation_modules()) <= mapped
    for must in ("e2t.ntm", "e2t.transformer", "e2t.rnnsearch", "e2t.luong", "e2t.copy_models", "e2t.recipes.lm"):
        assert must in implementation_modules()
    assert not any(m.startswith(("e2t.book", "e2t.exercises")) for m in implementation_modules())


def test_the_check_catches_what_would_make_the_map_drift():
    ntm = next(s for s in SOURCE_SECTIONS if s.heading == "Interpolation")
    renamed = dataclasses.replace(ntm, code=(("ntm", ("interpolate", "no_such_function")),))
    assert any("no_such_function" in p for p in map_problems([*SOURCE_SECTIONS, renamed]))
    wrong_module = dataclasses.replace(ntm, code=(("no_such_module", ("f",)),))
    assert any("no module e2t.no_such_module" in p for p in map_problems([*SOURCE_SECTIONS, wrong_module]))
    private = dataclasses.replace(ntm, code=(("ntm", ("_check_memory",)),))
    assert any("_check_memory" in p for p in map_problems([*SOURCE_SECTIONS, private]))
    imported = dataclasses.replace(ntm, code=(("ntm_model", ("interpolate",)),))  # not defined in ntm_model
    assert any("'interpolate'" in p for p in map_problems([*SOURCE_SECTIONS, imported]))
    wrong_chapter = dataclasses.replace(ntm, chapters=(2,))
    assert any("introduced in its chapters [2]" in p for p in map_problems([*SOURCE_SECTIONS, wrong_chapter]))
    silent = Section(2, "Nothing", "", (1,), ())
    assert any("names no code" in p for p in map_problems([*SOURCE_SECTIONS, silent]))
    without_ntm = [s for s in SOURCE_SECTIONS if not any(m == "ntm" for m, _ in s.code)]
    assert "module e2t.ntm appears under no section" in map_problems(without_ntm)


def test_every_mapped_object_is_importable_from_its_module():
    for s in SOURCE_SECTIONS:
        for module, names in s.code:
            mod = importlib.import_module(f"e2t.{module}")
            assert all(hasattr(mod, n) for n in names), (s.heading, module)


def test_rows_and_markdown_table():
    rows = section_rows()
    assert len(rows) == len(SOURCE_SECTIONS)
    assert rows[0]["chapters"] == "preface" and rows[-1]["chapters"] == "references"
    by_heading = {r["heading"]: r for r in rows}
    assert "e2t.ntm: shift, sharpen" in by_heading["Location-based addressing"]["code"]
    assert by_heading["Attention"]["chapters"] == "2, 3"
    table = section_map_markdown().splitlines()
    assert table[0] == "| source section | chapter | code in `e2t` |" and len(table) == len(SOURCE_SECTIONS) + 2
    assert all(line.count(" | ") == 2 for line in table[2:])  # no stray column separator inside a cell
    assert "**NMT (read: NTM, the Neural Turing Machine)**" in table[2 + [s.heading for s in SOURCE_SECTIONS].index("NMT")]
    assert cat._heading_label(Section(5, "x", "", (5,), (("ntm", ("read",)),))) == "\u2003\u2003\u2003x"

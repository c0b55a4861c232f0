"""The map from the source's sections to the package (chapter 7) is complete."""

from e2t.book.catalog import SEED_SECTIONS, catalog, section_map, undocumented


def test_every_public_object_names_its_chapter():
    assert undocumented() == []


def test_every_chapter_has_code_and_the_stable_api_is_mapped():
    entries = {(e.module, e.name): e.chapter for e in catalog()}
    assert entries[("masks", "causal_mask")] == 6
    assert entries[("ntm", "address")] == 5
    assert entries[("transformer", "MultiHeadAttention")] == 6
    rows = section_map()
    assert [r["chapter"] for r in rows] == ["preface"] + [str(c) for c in SEED_SECTIONS if c]
    assert all(r["code"] != "–" for r in rows)

"""The chapters as files: in the toc, committed executed, the same Colab cell first, seeded second."""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def _code_cells(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [c for c in nb["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]


def _toc_files():
    return re.findall(r"(?:root|file):\s*(\S+)", (ROOT / "_toc.yml").read_text(encoding="utf-8"))


def _repository_url():
    match = re.search(r"^repository:\s*\n\s+url:\s*(\S+)", (ROOT / "_config.yml").read_text(encoding="utf-8"), re.M)
    assert match, "_config.yml has no repository.url"
    return match.group(1)


def test_there_are_chapters():
    assert any(p.name == "preface.ipynb" for p in CHAPTERS)


def test_every_chapter_is_in_the_toc_and_every_toc_entry_exists():
    toc = _toc_files()
    for path in CHAPTERS:
        assert f"chapters/{path.stem}" in toc, f"{path.name} is not in _toc.yml"
    for entry in toc:
        assert list(ROOT.glob(entry + ".*")), f"_toc.yml names {entry}, which does not exist"


def test_first_cell_is_the_same_colab_install_everywhere():
    firsts = {p.name: _code_cells(p)[0] for p in CHAPTERS}
    sources = {"".join(c["source"]) for c in firsts.values()}
    assert len(sources) == 1, f"first cells differ: {sorted(firsts)}"
    source = sources.pop()
    assert _repository_url() in source, "the Colab cell must clone the repository named in _config.yml"
    assert "google.colab" in source and "pip" in source
    for name, cell in firsts.items():
        tags = cell.get("metadata", {}).get("tags", [])
        assert {"colab-install", "remove-cell"} <= set(tags), f"{name}: first cell tags {tags}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_second_cell_seeds(path):
    assert "e2t.set_seed(0)" in "".join(_code_cells(path)[1]["source"])


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_committed_executed_without_errors_or_svg(path):
    for i, cell in enumerate(_code_cells(path)):
        tags = cell.get("metadata", {}).get("tags", [])
        assert cell["execution_count"] is not None, f"{path.name}: code cell {i} was never executed"
        if "exercise-stub" in tags:  # the reader's cell, run as given: check() says what is left to fill in
            text = "".join("".join(o.get("text", "")) for o in cell.get("outputs", []))  # text: a str or lines
            assert "not answered yet" in text, f"{path.name}: stub cell {i} does not print its 'not answered yet'"
        for out in cell.get("outputs", []):
            assert out["output_type"] != "error" or "raises-exception" in tags, f"{path.name}: cell {i} errored"
            data = out.get("data", {})
            assert "image/svg+xml" not in data, f"{path.name}: cell {i} has an SVG output (nbval compares it)"
            if WIDGET_VIEW in data:
                assert "nbval-ignore-output" in tags, f"{path.name}: widget in cell {i} without nbval-ignore-output"

"""`make bench` measures each chapter's peak memory: the measurement sees an allocation, and the report states the
Binder budget (1.5 GB per chapter) met or missed."""

import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench import __main__ as bench_main  # noqa: E402
from bench import chapters  # noqa: E402


def _notebook(folder: Path, name: str, source: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / name
    nbformat.write(nb, path)
    return path


def test_peak_memory_of_a_cold_run_sees_what_the_notebook_allocates(tmp_path):
    small = chapters.execute_cold(_notebook(tmp_path, "small.ipynb", "x = 1"))
    big = chapters.execute_cold(_notebook(tmp_path, "big.ipynb", "x = b'e2t' * (100 * 2**20)  # 300 MiB, written"))
    # The kernel's own peak: a bare kernel is small (not the memory of the process that started it), and the
    # allocation shows up in full, in both measures.
    assert 20 < small["peak_rss_mib"] < 250 and small["seconds"] > 0, small
    assert big["peak_rss_mib"] - small["peak_rss_mib"] > 250, (small, big)
    assert big["samples"] > 0 and small["samples"] > 0
    assert 20 < small["tree_peak_rss_mib"] < 250 and big["tree_peak_rss_mib"] > 300, (small, big)


def test_the_memory_budget_is_1_5_gb_and_the_report_says_met_or_missed():
    assert round(chapters.MEMORY_BUDGET_MIB * 2**20) == 1_500_000_000
    rows = [{"chapter": "01_x", "median_s": 10.0, "budget_s": 180.0, "peak_rss_mib": 900.0, "tree_peak_rss_mib": 950.0},
            {"chapter": "02_y", "median_s": 10.0, "budget_s": 180.0, "peak_rss_mib": 1500.0,
             "tree_peak_rss_mib": 1400.0},
            {"chapter": "03_z", "median_s": 10.0, "budget_s": 180.0}]  # measured before memory was
    results = {"machine": bench_main.machine(), "quick": False,
               "chapters": {"chapters": rows, "total_s": 30.0, "book_budget_s": 480.0,
                            "source": {"commit": "abc1234", "modified": ["chapters/02_y.ipynb"]}}}
    md = bench_main.to_markdown(results)
    assert "| 01_x | 10 | 180 | met, 170 s to spare | 900 | 950 | met, 481 MiB to spare |" in md
    assert "| 02_y |" in md and "**missed by 69 MiB**" in md
    assert "| 03_z | 10 | 180 | met, 170 s to spare | – | – | – |" in md
    assert "commit abc1234, with uncommitted edits to `chapters/02_y.ipynb`" in md


def test_merge_keeps_the_parts_it_did_not_measure():
    old = {"machine": {"date": "then"}, "quick": False, "load": {"widgets": {"before": [1.0]}}, "widgets": [1],
           "chapters": {"old": True}}
    new = {"machine": {"date": "now"}, "quick": False, "load": {"chapters": {"before": [2.0]}},
           "chapters": {"new": True}}
    merged = bench_main.merge(old, new)
    assert merged["widgets"] == [1] and merged["chapters"] == {"new": True}
    assert merged["machine"]["date"] == "then" and set(merged["load"]) == {"widgets", "chapters"}

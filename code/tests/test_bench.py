"""Each benchmark runs once at a tiny size, so `make bench` cannot rot (timings are not asserted)."""

import json
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench import __main__ as bench_main  # noqa: E402
from bench import attention, chapters, make_test, models, widgets  # noqa: E402

#: Every widget of the book (DESIGN.md's chapter map), as the package builds it.
BOOK_WIDGETS = {"e2t.viz.temperature.temperature_explorer", "e2t.viz.alignment.alignment_explorer",
                "e2t.viz.scaling.scaling_explorer", "e2t.viz.local_window.local_window_explorer",
                "e2t.viz.ntm_read_write.read_write_explorer", "e2t.viz.ntm_addressing.addressing_explorer",
                "e2t.viz.masking.masking_explorer"}


def test_attention_benchmark_runs_and_reports_ratios():
    rows = attention.run(lengths=(8,), B=2, D=16, H=2, min_run_time=0.01, memory=True)
    assert [r["kind"] for r in rows] == ["mha", "sdpa"]
    assert all(r["e2t_ms"] > 0 and r["torch_ms"] > 0 and r["ratio"] > 0 for r in rows)
    assert all("e2t_peak_mib" in r for r in rows)


def test_widget_benchmark_finds_every_widget_of_the_book():
    found = widgets.discover()
    assert BOOK_WIDGETS <= set(found)
    rows = widgets.run(repeats=1)
    assert {r["widget"] for r in rows} >= BOOK_WIDGETS
    controls = {(r["widget"], r["control"]) for r in rows}
    assert ("e2t.viz.ntm_addressing.addressing_explorer", "gamma") in controls
    assert ("e2t.viz.masking.masking_explorer", "padded") in controls
    assert all(r["median_ms"] > 0 for r in rows)


def test_ntm_copy_reads_every_seed_and_a_seed_that_did_not_converge(tmp_path):
    result = models.ntm_copy()
    assert result["runs"] and all({"seed", "converged", "converged_at_sequences"} <= set(r) for r in result["runs"])
    assert all(r["converged"] == (r["converged_at_sequences"] is not None) for r in result["runs"])
    card = json.loads((ROOT / "data" / "checkpoints" / "ntm_copy.json").read_text())
    card["runs"] = [{"seed": 7, "converged_at_sequences": None, "converged_wall_time_s": None, "sequences_seen": 10}]
    (tmp_path / "ntm_copy.json").write_text(json.dumps(card))
    (row,) = models.ntm_copy(directory=tmp_path)["runs"]
    assert row["seed"] == 7 and not row["converged"] and row["converged_wall_time_s"] is None


def test_kv_cache_benchmark_times_both_ways():
    (row,) = models.kv_cache(batch_size=2, lengths=(3,), repeats=1)
    assert row["cache_ms"] > 0 and row["no_cache_ms"] > 0 and row["speedup"] > 0


def test_chapters_are_discovered_including_the_synthesis():
    stems = [p.stem for p in chapters.chapters()]
    assert stems[0].startswith("0") and "preface" in stems
    assert all(f"0{n}" in " ".join(stems) for n in range(1, 8))  # chapters 1 to 7, whatever their titles


def test_make_test_runs_in_a_fresh_clone():
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs git and a git checkout of the book (a fresh clone is made from it)")
    result = make_test.run(target="help")
    assert result["exit_code"] == 0 and result["commit"] and "make bench" in "\n".join(result["tail"])
    assert "MAKEFLAGS" not in make_test.fresh_env()


def test_markdown_states_every_budget_met_or_missed_by_how_much():
    results = {"machine": bench_main.machine(), "quick": False,
               "load": {"widgets": {"before": [1.0, 1.0, 1.0], "after": [2.0, 1.0, 1.0]}},
               "widgets": [{"widget": "a", "control": "x", "median_ms": 40.0, "meets_budget": True},
                           {"widget": "b", "control": "y", "median_ms": 130.0, "meets_budget": False}],
               "chapters": {"chapters": [{"chapter": "01_x", "median_s": 200.0, "budget_s": 180.0,
                                          "meets_budget": False}], "total_s": 200.0, "book_budget_s": 480.0,
                            "book_meets_budget": True},
               "ntm_copy": {"card": "ntm_copy", "shipped_seed": 0, "criterion": "c", "timing_note": "t",
                            "runs": [{"seed": 1, "converged": False, "converged_at_sequences": None,
                                      "converged_wall_time_s": None, "converged_cpu_time_s": None,
                                      "sequences_seen": 5, "wall_time_s": 3.0}]},
               "kv_cache": [{"batch": 2, "tokens": 3, "repeats": 1, "cache_ms": 1.0, "no_cache_ms": 2.0,
                             "speedup": 2.0}]}
    md = bench_main.to_markdown(results)
    assert "met, 60 ms to spare" in md and "**missed by 30 ms** (1.30×)" in md
    assert "**missed by 20 s**" in md and "met, 280 s to spare" in md
    assert "| 1 | **no** | – |" in md and "2.00×" in md and "before: 1.0, 1.0, 1.0" in md


def test_bench_main_writes_both_files(tmp_path):
    bench_main.main(["--quick", "--only", "attention", "ntm_copy", "--out", str(tmp_path)])
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["quick"] and data["attention"] and data["ntm_copy"]["runs"]
    assert "# Benchmarks" in (tmp_path / "results.md").read_text()


def test_chapters_benchmark_executes_one_chapter_cold():
    result = chapters.run(only=["preface"])
    (row,) = result["chapters"]
    assert row["chapter"] == "preface" and row["median_s"] > 0 and row["budget_s"] == chapters.DEFAULT_BUDGET_S
    assert result["total_s"] == row["median_s"]

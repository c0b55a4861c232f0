"""Each benchmark runs once at a tiny size, so `make bench` cannot rot (timings are not asserted)."""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench import __main__ as bench_main  # noqa: E402
from bench import attention, widgets  # noqa: E402


def test_attention_benchmark_runs_and_reports_ratios():
    rows = attention.run(lengths=(8,), B=2, D=16, H=2, min_run_time=0.01, memory=True)
    assert [r["kind"] for r in rows] == ["mha", "sdpa"]
    assert all(r["e2t_ms"] > 0 and r["torch_ms"] > 0 and r["ratio"] > 0 for r in rows)
    assert all("e2t_peak_mib" in r for r in rows)


def test_widget_benchmark_finds_the_preface_widget():
    found = widgets.discover()
    assert "e2t.temperature.temperature_explorer" in found
    rows = widgets.run(repeats=1)
    assert any(r["widget"] == "e2t.temperature.temperature_explorer" for r in rows)


def test_bench_main_writes_both_files(tmp_path):
    bench_main.main(["--quick", "--only", "attention", "--out", str(tmp_path)])
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["quick"] and data["attention"]
    assert "# Benchmarks" in (tmp_path / "results.md").read_text()

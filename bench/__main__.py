"""`make bench`: run the benchmarks and write bench/results.md and bench/results.json.

    python -m bench                      # everything (about half an hour on 2 cores)
    python -m bench --only attention widgets
    python -m bench --quick              # tiny sizes: checks that every benchmark still runs
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
from pathlib import Path

import torch

import e2t

from . import attention, chapters, make_test, widgets

HERE = Path(__file__).resolve().parent
ALL = ("attention", "widgets", "chapters", "make_test")


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
            "python": platform.python_version(), "platform": platform.platform(),
            "date": dt.datetime.now().isoformat(timespec="seconds")}


def run(names, *, quick: bool) -> dict:
    e2t.set_seed(0, threads=1)
    results = {"machine": machine(), "quick": quick}
    if "attention" in names:
        results["attention"] = attention.run(lengths=(16, 32) if quick else (16, 32, 64, 128, 256, 512),
                                             B=2 if quick else 32, D=32 if quick else 256, H=4 if quick else 8,
                                             min_run_time=0.01 if quick else 0.5, memory=not quick)
    if "widgets" in names:
        results["widgets"] = widgets.run(repeats=2 if quick else 20)
    if "chapters" in names:
        results["chapters"] = chapters.run(only=["preface"] if quick else None)
    if "make_test" in names:
        results["make_test"] = make_test.run(target="unit" if quick else "test")
    return results


def _yes(flag: bool) -> str:
    return "yes" if flag else "**no**"


def to_markdown(results: dict) -> str:
    m = results["machine"]
    lines = ["# Benchmarks", "", f"Machine: {m['cpu']}, {m['cores']} cores, torch {m['torch']} "
             f"({m['torch_threads']} thread), Python {m['python']}, {m['date']}." + (" **Quick run.**" if
                                                                                      results["quick"] else ""), ""]
    if "attention" in results:
        lines += ["## Attention, forward + backward (median)", "",
                  f"Goal: e2t within {attention.GOAL_RATIO}× of torch.", "",
                  "| op | B | L | D | H | e2t ms | torch ms | ratio | within goal | e2t peak MiB | torch peak MiB |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in results["attention"]:
            lines.append(f"| {r['kind']} | {r['B']} | {r['L']} | {r['D']} | {r['H']} | {r['e2t_ms']:.2f} | "
                         f"{r['torch_ms']:.2f} | {r['ratio']:.2f} | {_yes(r['ratio'] <= attention.GOAL_RATIO)} | "
                         f"{r.get('e2t_peak_mib', float('nan')):.1f} | {r.get('torch_peak_mib', float('nan')):.1f} |")
        lines.append("")
    if "widgets" in results:
        lines += ["## Widget update latency (recompute + redraw, median of moves)", "",
                  f"Budget: {widgets.BUDGET_S * 1e3:.0f} ms.", "", "| widget | control | median ms | within budget |",
                  "|---|---|---|---|"]
        lines += [f"| `{r['widget']}` | {r['control']} | {r['median_ms']:.1f} | {_yes(r['meets_budget'])} |"
                  for r in results["widgets"]]
        lines.append("")
    if "chapters" in results:
        c = results["chapters"]
        lines += ["## Cold execution of the chapters", "", "| chapter | seconds | budget | within budget |",
                  "|---|---|---|---|"]
        lines += [f"| {r['chapter']} | {r['median_s']:.0f} | {r['budget_s']:.0f} | {_yes(r['meets_budget'])} |"
                  for r in c["chapters"]]
        lines += [f"| **all** | {c['total_s']:.0f} | {c['book_budget_s']:.0f} | {_yes(c['book_meets_budget'])} |", ""]
    if "make_test" in results:
        t = results["make_test"]
        lines += ["## `make test` on a fresh clone", "",
                  f"`make {t['target']}`: {t['seconds']:.0f} s (exit code {t['exit_code']}); budget "
                  f"{t['budget_s']:.0f} s; within budget: {_yes(t['meets_budget'])}.", ""]
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="The book's benchmarks")
    parser.add_argument("--only", nargs="*", choices=ALL, default=list(ALL))
    parser.add_argument("--quick", action="store_true", help="tiny sizes, to check that the benchmarks run")
    parser.add_argument("--out", type=Path, default=HERE, help="folder for results.md and results.json")
    args = parser.parse_args(argv)
    results = run(args.only, quick=args.quick)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    (args.out / "results.md").write_text(to_markdown(results) + "\n", encoding="utf-8")
    print(to_markdown(results))


if __name__ == "__main__":
    main()

"""`make bench`: run the benchmarks and write bench/results.md and bench/results.json.

    python -m bench                      # everything (about half an hour on 2 cores)
    python -m bench --only attention widgets
    python -m bench --quick              # tiny sizes: checks that every benchmark still runs
    python -m bench --only chapters --merge --note "a training job ran on the other core"
                                         # re-measure one part, keep the others in results.json/md

Each part says what its figures summarise (a median over how many runs, or one run); each part records the commit
and the time it was measured, the load average before and after it, the other processes that were busy then, and
every budget (DESIGN.md's, and the chapters' memory for Binder) with its margin (met, or missed and by how much).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import time
from pathlib import Path

import torch

import e2t

from . import attention, chapters, make_test, models, twins, widgets

HERE = Path(__file__).resolve().parent
DEFAULT_CHAPTER_BUDGET = (f"{chapters.DEFAULT_BUDGET_S / 60:.0f} minutes"
                          + "".join(f" ({k}: {v / 60:.0f})" for k, v in chapters.BUDGET_S.items()))
ALL = ("attention", "widgets", "twins", "ntm_copy", "kv_cache", "chapters", "make_test")


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
            "date": dt.datetime.now().isoformat(timespec="seconds"), "load_average": _load()}


def busy_processes(interval: float = 1.0, threshold: float = 20.0) -> dict[str, float]:
    """Other processes using at least ``threshold`` % of a core over ``interval`` s: what else ran beside a part."""
    try:
        import psutil
    except ImportError:
        return {}
    own = {os.getpid(), *(c.pid for c in psutil.Process().children(recursive=True))}
    procs = [p for p in psutil.process_iter(["pid", "cmdline", "name"]) if p.info["pid"] not in own]
    for p in procs:
        try:
            p.cpu_percent(None)
        except psutil.Error:
            pass
    time.sleep(interval)
    busy = {}
    for p in procs:
        try:
            pct = p.cpu_percent(None)
        except psutil.Error:
            continue
        if pct >= threshold:
            words = [Path(w).name if i == 0 else w for i, w in enumerate(p.info["cmdline"] or [p.info["name"]])]
            busy[" ".join(words[:4])[:80]] = pct
    return busy


def _others(*samples: dict) -> list[str]:
    """The busy processes of several samples, each once, at the highest share of a core seen."""
    merged: dict[str, float] = {}
    for sample in samples:
        for command, pct in sample.items():
            merged[command] = max(pct, merged.get(command, 0.0))
    return [f"{command} ({pct:.0f} %)" for command, pct in sorted(merged.items())]


def _commit() -> str:
    """The commit the bench ran at, with "+edits" when the working tree had uncommitted changes."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=HERE.parent, capture_output=True, text=True).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except OSError:
        return "unknown"
    return (commit or "unknown") + ("+edits" if dirty else "")


def _load() -> list[float]:
    """1, 5 and 15-minute load averages: other processes' share of the 2 cores inflates every timing."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return []


def run(names, *, quick: bool, note: str = "") -> dict:
    e2t.set_seed(0, threads=1)
    results = {"machine": machine(), "quick": quick, "load": {}}
    parts = {
        "attention": lambda: attention.run(lengths=(16, 32) if quick else (16, 32, 64, 128, 256, 512),
                                           B=2 if quick else 32, D=32 if quick else 256, H=4 if quick else 8,
                                           min_run_time=0.01 if quick else 0.5, memory=not quick),
        "widgets": lambda: widgets.run(repeats=2 if quick else 20),
        "twins": lambda: twins.run(settings=3 if quick else 50),
        "ntm_copy": lambda: models.ntm_copy(),
        "kv_cache": lambda: models.kv_cache(batch_size=4, lengths=(4,), repeats=1) if quick else models.kv_cache(),
        "chapters": lambda: chapters.run(only=["preface"] if quick else None),
        "make_test": lambda: make_test.run(target="help" if quick else "test"),
    }
    for name in ALL:
        if name in names:
            before, others = _load(), busy_processes()
            start = dt.datetime.now().isoformat(timespec="seconds")
            results[name] = parts[name]()
            others_after = busy_processes()
            results["load"][name] = {"before": before, "after": _load(), "date": start, "commit": _commit(),
                                     "others": _others(others, others_after), "note": note}
    return results


def merge(old: dict, new: dict) -> dict:
    """``old`` with the parts of ``new`` replacing its own (machine and date of the first run stay; each part
    measured later carries its own date in ``load``)."""
    merged = {**old, **{k: v for k, v in new.items() if k not in ("machine", "load", "quick")}}
    merged["load"] = {**old.get("load", {}), **new.get("load", {})}
    merged["quick"] = old.get("quick", False) or new["quick"]
    return merged


def _margin(value: float, budget: float, unit: str, fmt: str = ".0f") -> str:
    """"met, 62 ms to spare" or "**missed by 30 ms** (1.3×)"."""
    if value <= budget:
        return f"met, {budget - value:{fmt}} {unit} to spare"
    return f"**missed by {value - budget:{fmt}} {unit}** ({value / budget:.2f}×)"


def _yes(flag: bool) -> str:
    return "yes" if flag else "**no**"


def source_line(source: dict | None) -> list[str]:
    if not source or not source.get("commit"):
        return []
    edits = source.get("modified") or []
    return [f"Executed at commit {source['commit']}"
            + (f", with uncommitted edits to {', '.join(f'`{e}`' for e in edits)}." if edits else ", clean."), ""]


#: Why the book's scaled dot-product attention trails torch's at long lengths, in time and in memory.
SDPA_NOTE = ("Why `e2t.attention.scaled_dot_product_attention` (sdpa) trails `torch.nn.functional."
             "scaled_dot_product_attention` as the length L grows: the book's version computes the whole "
             "(B, H, L, L) score matrix, applies the mask and the softmax to it as separate passes, and keeps the "
             "weights, because the book plots them (it returns `(out, weights)`); every pass reads and writes that "
             "largest tensor, and the backward pass keeps it too. torch's fused CPU kernel never forms the full "
             "matrix: it works through blocks of keys with an online softmax (flash-attention style), so it reads "
             "the scores once and keeps O(B·H·L) statistics instead of O(B·H·L²) weights. At short lengths the "
             "matrix is small and the two are close (the book's argument checks then cost a visible share of a "
             "few-millisecond call); as L grows the score matrix dominates, and the gaps in time and in peak memory "
             "(the table's last columns) grow with L². Multi-head attention (mha) stays closer to torch because "
             "`torch.nn.MultiheadAttention`, asked for its weights as the bench asks, forms the matrix too.")


def to_markdown(results: dict) -> str:
    m = results["machine"]
    load = results.get("load", {})

    def load_line(part: str) -> list[str]:
        if part not in load or not load[part]["before"]:
            return []
        info = load[part]
        line = (f"Load average (1, 5, 15 min) before: {', '.join(map(str, info['before']))}; after: "
                f"{', '.join(map(str, info['after']))}.")
        if info.get("date"):
            line = (f"Measured {info['date']}" + (f" at commit {info['commit']}" if info.get("commit") else "")
                    + ". " + line)
        if "others" in info:
            line += (" Other busy processes (≥ 20 % of a core, sampled before and after): "
                     + ("; ".join(f"`{o}`" for o in info["others"]) or "none") + ".")
        if info.get("note"):
            line += f" {info['note'].rstrip('.')}."
        return [line, ""]

    lines = ["# Benchmarks", "", f"Machine: {m['cpu']}, {m['cores']} cores, torch {m['torch']} "
             f"({m['torch_threads']} thread), Python {m['python']}, {m['platform']}, {m['date']}."
             + (" **Quick run (tiny sizes; the numbers mean nothing).**" if results["quick"] else ""), "",
             "What each figure summarises is said with its part: attention, a median over `torch.utils.benchmark`'s "
             "repeated blocks; widgets, a median over 20 moves of each control; twins, a median over every move; the "
             "key/value cache, a median over the given repeats; the chapters, one cold run each (not a median); "
             "`make test`, one run. Timings on a shared machine are inflated by the other processes' load (the load "
             "average is given with each part; 2 means both cores busy).", ""]
    if "attention" in results:
        lines += ["## Attention, forward + backward (median, `torch.utils.benchmark`)", "",
                  f"Goal: e2t within {attention.GOAL_RATIO}× of torch. Each time is the median of the blocks "
                  "`torch.utils.benchmark.Timer.blocked_autorange` ran (at least half a second of them).",
                  "", *load_line("attention"),
                  "| op | B | L | D | H | e2t ms | torch ms | ratio | goal | e2t peak MiB | torch peak MiB |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in results["attention"]:
            lines.append(f"| {r['kind']} | {r['B']} | {r['L']} | {r['D']} | {r['H']} | {r['e2t_ms']:.2f} | "
                         f"{r['torch_ms']:.2f} | {r['ratio']:.2f} | "
                         f"{_margin(r['ratio'], attention.GOAL_RATIO, '×', '.2f')} | "
                         f"{r.get('e2t_peak_mib', float('nan')):.1f} | {r.get('torch_peak_mib', float('nan')):.1f} |")
        lines += ["", SDPA_NOTE, ""]
    if "widgets" in results:
        lines += ["## Widget update latency in Jupyter (recompute + redraw + PNG, median of 20 moves)", "",
                  f"Budget: {widgets.BUDGET_S * 1e3:.0f} ms per move. `Explorer.time_update`: the control steps "
                  "through its values, the others at their defaults; each move recomputes the figure's data and "
                  "redraws it (a `Painter` redraws the changing artists over the figure's fixed part, drawn once).",
                  "", *load_line("widgets"), "| widget | control | median ms | budget | explorer built in s |",
                  "|---|---|---|---|---|"]
        lines += [f"| `{r['widget']}` | {r['control']} | {r['median_ms']:.1f} | "
                  f"{_margin(r['median_ms'], widgets.BUDGET_S * 1e3, 'ms')} | {r.get('build_s', float('nan')):.1f} |"
                  for r in results["widgets"]]
        lines.append("")
    if "twins" in results:
        lines += ["## Browser twins: parity with e2t and redraw time (standalone page, headless Chromium)", "",
                  f"Goal: a redraw within one animation frame, {twins.GOAL_MS:.0f} ms, from the input event "
                  "(`performance.now()`, style and layout included); parity: the page's numbers within 1e-6 of "
                  "e2t's at every setting. Every control moved to random settings (and every preset pressed); "
                  "\"to next frame\" also waits for the browser's next frame.", "", *load_line("twins"),
                  "| widget | settings + presets | moves | max abs diff | redraw median ms | p90 ms | goal | "
                  "to next frame ms |", "|---|---|---|---|---|---|---|---|"]
        lines += [f"| `{r['widget']}` | {r['settings']} + {r['presets']} | {r['moves']} | {r['max_abs_diff']:.1e} | "
                  f"{r['redraw_ms_median']:.1f} | {r['redraw_ms_p90']:.1f} | "
                  f"{_margin(r['redraw_ms_median'], twins.GOAL_MS, 'ms', '.1f')} | {r['frame_ms_median']:.1f} |"
                  for r in results["twins"]]
        lines.append("")
    if "ntm_copy" in results:
        n = results["ntm_copy"]
        lines += ["## NTM copy task: convergence per seed (from the card)", "",
                  f"Card `{n['card']}` (shipped: seed {n['shipped_seed']}), made on {n.get('created') or 'an unrecorded date'} "
                  f"by `{n.get('command') or 'an unrecorded command'}` ({n.get('machine') or 'machine not recorded'}): "
                  "this part reads the card, it times nothing itself. "
                  f"{n['criterion']}. {n['timing_note']}. "
                  "No budget in DESIGN.md.", "",
                  "| seed | converged | first below 0.01 (sequences) | sequences to converge | wall s to converge | "
                  "CPU s to converge | sequences seen | wall s in all |", "|---|---|---|---|---|---|---|---|"]

        def cell(v, fmt=""):
            return "–" if v is None else format(v, fmt)

        lines += [f"| {r['seed']} | {_yes(r['converged'])} | {cell(r.get('first_below_at_sequences'), ',')} | "
                  f"{cell(r['converged_at_sequences'], ',')} | "
                  f"{cell(r['converged_wall_time_s'], '.0f')} | {cell(r['converged_cpu_time_s'], '.0f')} | "
                  f"{cell(r['sequences_seen'], ',')} | {cell(r['wall_time_s'], '.0f')} |" for r in n["runs"]]
        lines.append("")
    if "kv_cache" in results:
        lines += ["## Transformer incremental decoding: key/value cache against full recomputation", "",
                  "Greedy decoding of held-out numbers with the shipped `transformer_numbers` model, exactly the "
                  "given number of output tokens; `Transformer.step` (cache) against `step_without_cache`; medians "
                  "(`time.perf_counter`). No budget in DESIGN.md.", "", *load_line("kv_cache"),
                  "| batch | tokens | repeats | with cache ms | without ms | speed-up |", "|---|---|---|---|---|---|"]
        lines += [f"| {r['batch']} | {r['tokens']} | {r['repeats']} | {r['cache_ms']:.1f} | {r['no_cache_ms']:.1f} | "
                  f"{r['speedup']:.2f}× |" for r in results["kv_cache"]]
        lines.append("")
    if "chapters" in results:
        c = results["chapters"]
        mem_budget = c.get("memory_budget_mib", chapters.MEMORY_BUDGET_MIB)

        def memory(r) -> str:
            if "peak_rss_mib" not in r:
                return "– | – | –"
            tree = r.get("tree_peak_rss_mib")
            worst = max(r["peak_rss_mib"], tree or 0.0)
            return (f"{r['peak_rss_mib']:.0f} | {'–' if tree is None else f'{tree:.0f}'} | "
                    f"{_margin(worst, mem_budget, 'MiB')}")

        lines += ["## Cold execution of the chapters (fresh kernel each, one run each)", "",
                  f"Time budget: {DEFAULT_CHAPTER_BUDGET} per chapter (DESIGN.md). Memory budget: under 1.5 GB "
                  f"({mem_budget:.0f} MiB) resident at the peak, so every chapter runs in a 2 GB Binder session; "
                  "the larger of two measures counts: the kernel's own high-water mark (`VmHWM`, read at the end "
                  "of the chapter; exact) and the kernel with its child processes, sampled every "
                  f"{chapters.SAMPLE_INTERVAL_S * 1e3:.0f} ms.",
                  "", *load_line("chapters"), *source_line(c.get("source")),
                  "| chapter | seconds | budget s | time budget | kernel peak MiB | with children MiB (sampled) "
                  "| memory budget |",
                  "|---|---|---|---|---|---|---|"]
        lines += [f"| {r['chapter']} | {r['median_s']:.0f} | {r['budget_s']:.0f} | "
                  f"{_margin(r['median_s'], r['budget_s'], 's')} | {memory(r)} |" for r in c["chapters"]]
        lines += [f"| **all** | {c['total_s']:.0f} | {c['book_budget_s']:.0f} | "
                  f"{_margin(c['total_s'], c['book_budget_s'], 's')} | | | |", ""]
    if "make_test" in results:
        t = results["make_test"]
        status = _margin(t["seconds"], t["budget_s"], "s") if t["exit_code"] == 0 else "**failed**"
        lines += ["## `make test` on a fresh clone (installs included; one run)", "", *load_line("make_test"),
                  f"`make {t['target']}`: {t['seconds']:.0f} s, exit code {t['exit_code']}; budget "
                  f"{t['budget_s']:.0f} s: {status}.", ""]
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="The book's benchmarks")
    parser.add_argument("--only", nargs="*", choices=ALL, default=list(ALL))
    parser.add_argument("--quick", action="store_true", help="tiny sizes, to check that the benchmarks run")
    parser.add_argument("--out", type=Path, default=HERE, help="folder for results.md and results.json")
    parser.add_argument("--merge", action="store_true",
                        help="keep the parts of the existing results.json that this run does not measure")
    parser.add_argument("--note", default="", help="what else ran on the machine meanwhile, written with each part")
    args = parser.parse_args(argv)
    results = run(args.only, quick=args.quick, note=args.note)
    previous = args.out / "results.json"
    if args.merge and previous.is_file():
        results = merge(json.loads(previous.read_text(encoding="utf-8")), results)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    (args.out / "results.md").write_text(to_markdown(results) + "\n", encoding="utf-8")
    print(to_markdown(results))


if __name__ == "__main__":
    main()

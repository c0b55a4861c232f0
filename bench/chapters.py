"""Cold execution of every chapter: a fresh kernel per chapter, outputs discarded; its time and its peak memory.

Budgets: time (DESIGN.md) each chapter at most 3 minutes (chapter 4: 4), the whole book 8 minutes, on 2 CPU cores;
memory (README, Binder): each chapter under 1.5 GB resident at its peak, so that it runs in a 2 GB Binder session
beside the Jupyter server.

Two measures of the peak, the larger one counts for the budget:
- the kernel's own high-water mark of resident memory, ``VmHWM`` in /proc/self/status, printed by one cell appended
  to the scratch copy after the chapter's last cell. Exact, but for the kernel process alone. (Not
  ``getrusage(RUSAGE_SELF).ru_maxrss``: Linux carries the high-water mark of the process that started the kernel
  across its exec, so that reads the bench's own memory for a chapter that uses less.)
- the resident memory of the kernel and all its child processes together, sampled every 50 ms from outside (psutil):
  it sees a child's memory too, but can miss a peak shorter than the interval.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat
import psutil
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
BUDGET_S = {"04_attention_family": 240.0}
DEFAULT_BUDGET_S = 180.0
BOOK_BUDGET_S = 480.0
#: 1.5 GB read strictly (1.5e9 bytes = 1430.5 MiB): a 2 GB Binder session, less the Jupyter server and some room.
MEMORY_BUDGET_MIB = 1.5e9 / 2**20

SAMPLE_INTERVAL_S = 0.05

_MARK = "E2T_BENCH_PEAK_RSS"
PEAK_CELL = (
    "import re as _re\n"
    "print('{mark}', int(_re.search(r'VmHWM:\\s*(\\d+) kB', open('/proc/self/status').read()).group(1)) * 1024)"
).replace("{mark}", _MARK)


def chapters() -> list[Path]:
    return sorted((ROOT / "chapters").glob("*.ipynb"))


def _kernel_peak_mib(nb) -> float:
    """The kernel's VmHWM in MiB, from the output of the appended cell."""
    for out in nb.cells[-1].get("outputs", []):
        for line in out.get("text", "").splitlines():
            if line.startswith(_MARK):
                return int(line.split()[1]) / 2**20
    raise RuntimeError("the peak-memory cell printed nothing")


class _TreeSampler(threading.Thread):
    """Samples the resident memory of the client's kernel and its children until stopped; keeps the largest sum."""

    def __init__(self, client: NotebookClient):
        super().__init__(daemon=True)
        self.client, self.peak_bytes, self.samples = client, 0, 0
        self._stop_event = threading.Event()

    def _kernel(self):
        provisioner = getattr(getattr(self.client, "km", None), "provisioner", None)
        pid = getattr(provisioner, "pid", None)
        return psutil.Process(pid) if pid else None

    def run(self) -> None:
        kernel = None
        while not self._stop_event.is_set():
            try:
                kernel = kernel or self._kernel()
                if kernel is not None:
                    total = 0
                    for proc in [kernel, *kernel.children(recursive=True)]:
                        try:
                            total += proc.memory_info().rss
                        except psutil.Error:
                            pass
                    self.peak_bytes, self.samples = max(self.peak_bytes, total), self.samples + 1
            except psutil.Error:
                pass
            self._stop_event.wait(SAMPLE_INTERVAL_S)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def execute_cold(path: Path, *, timeout: int = 1800) -> dict:
    """Execute ``path`` top to bottom in a fresh kernel, from a scratch copy of its folder.

    Returns the seconds it took, the kernel's peak resident memory (MiB, VmHWM) and the sampled peak of the kernel
    and its children together (MiB).
    """
    with tempfile.TemporaryDirectory(prefix="e2t-bench-") as tmp:
        copy = Path(tmp) / "chapters"
        shutil.copytree(path.parent, copy)
        nb = nbformat.read(copy / path.name, as_version=4)
        nb.cells.append(nbformat.v4.new_code_cell(PEAK_CELL))
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(copy)}})
        sampler = _TreeSampler(client)
        sampler.start()
        start = time.perf_counter()
        try:
            client.execute()
        finally:
            sampler.stop()
        seconds = time.perf_counter() - start
    return {"seconds": seconds, "peak_rss_mib": _kernel_peak_mib(nb), "tree_peak_rss_mib": sampler.peak_bytes / 2**20,
            "samples": sampler.samples}


def source_state() -> dict:
    """The commit the chapters were executed at, and the chapters that differed from it (uncommitted edits)."""
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout
        except (OSError, subprocess.CalledProcessError):
            return ""
    modified = git("status", "--porcelain", "--", "chapters", "code/src", "data")
    return {"commit": git("rev-parse", "--short", "HEAD").strip(),
            "modified": sorted(line[3:] for line in modified.splitlines() if line.strip())}


def run(*, repeats: int = 1, only: list[str] | None = None) -> dict:
    rows = []
    for path in chapters():
        if only and path.stem not in only:
            continue
        print(f"bench: executing {path.name} cold", file=sys.stderr, flush=True)
        runs = [execute_cold(path) for _ in range(repeats)]
        times = [r["seconds"] for r in runs]
        budget = BUDGET_S.get(path.stem, DEFAULT_BUDGET_S)
        median = statistics.median(times)
        peak = max(r["peak_rss_mib"] for r in runs)
        tree = max(r["tree_peak_rss_mib"] for r in runs)
        rows.append({"chapter": path.stem, "median_s": median, "runs": times, "budget_s": budget,
                     "meets_budget": median <= budget, "peak_rss_mib": peak, "tree_peak_rss_mib": tree,
                     "memory_budget_mib": MEMORY_BUDGET_MIB,
                     "meets_memory_budget": max(peak, tree) < MEMORY_BUDGET_MIB})
    total = sum(r["median_s"] for r in rows)
    return {"chapters": rows, "total_s": total, "book_budget_s": BOOK_BUDGET_S,
            "book_meets_budget": total <= BOOK_BUDGET_S, "memory_budget_mib": MEMORY_BUDGET_MIB,
            "all_meet_memory_budget": all(r["meets_memory_budget"] for r in rows), "source": source_state()}

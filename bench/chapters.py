"""Cold execution time of every chapter: a fresh kernel per chapter, outputs discarded.

Budget (DESIGN.md): each chapter at most 3 minutes (chapter 4: 4), the whole book 8 minutes, on 2 CPU cores.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
BUDGET_S = {"04_attention_family": 240.0}
DEFAULT_BUDGET_S = 180.0
BOOK_BUDGET_S = 480.0


def chapters() -> list[Path]:
    return sorted((ROOT / "chapters").glob("*.ipynb"))


def execute_cold(path: Path, *, timeout: int = 1800) -> float:
    """Seconds to execute ``path`` top to bottom in a fresh kernel, from a scratch copy of chapters/."""
    with tempfile.TemporaryDirectory(prefix="e2t-bench-") as tmp:
        copy = Path(tmp) / "chapters"
        shutil.copytree(path.parent, copy)
        nb = nbformat.read(copy / path.name, as_version=4)
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(copy)}})
        start = time.perf_counter()
        client.execute()
        return time.perf_counter() - start


def run(*, repeats: int = 1, only: list[str] | None = None) -> dict:
    rows = []
    for path in chapters():
        if only and path.stem not in only:
            continue
        times = [execute_cold(path) for _ in range(repeats)]
        budget = BUDGET_S.get(path.stem, DEFAULT_BUDGET_S)
        median = statistics.median(times)
        rows.append({"chapter": path.stem, "median_s": median, "runs": times, "budget_s": budget,
                     "meets_budget": median <= budget})
    total = sum(r["median_s"] for r in rows)
    return {"chapters": rows, "total_s": total, "book_budget_s": BOOK_BUDGET_S,
            "book_meets_budget": total <= BOOK_BUDGET_S}

"""Wall time of `make test` on a fresh clone of the repository (installs included). Budget: 20 minutes."""

from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUDGET_S = 1200.0


def run(*, target: str = "test") -> dict:
    with tempfile.TemporaryDirectory(prefix="e2t-fresh-") as tmp:
        clone = Path(tmp) / "book"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        start = time.perf_counter()
        result = subprocess.run(["make", target], cwd=clone, capture_output=True, text=True)
        seconds = time.perf_counter() - start
    return {"target": target, "seconds": seconds, "exit_code": result.returncode,
            "tail": result.stdout.splitlines()[-3:], "budget_s": BUDGET_S,
            "meets_budget": result.returncode == 0 and seconds <= BUDGET_S}

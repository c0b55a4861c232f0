"""Wall time of `make test` on a fresh clone of the repository (installs included). Budget: 20 minutes.

The clone is of the committed tree (``git clone`` of this repository), in a scratch folder, with the environment
scrubbed of the calling ``make``'s flags and of any active virtualenv, so the clone's ``make`` creates and uses
its own ``.venv`` as on a new machine.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUDGET_S = 1200.0
_SCRUB = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "VIRTUAL_ENV", "NB", "JOBS", "PYTHONPATH")


def fresh_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _SCRUB}
    venv_bin = str(ROOT / ".venv" / "bin")
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != venv_bin)
    return env


def run(*, target: str = "test") -> dict:
    with tempfile.TemporaryDirectory(prefix="e2t-fresh-") as tmp:
        clone = Path(tmp) / "book"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=clone, capture_output=True,
                                text=True).stdout.strip()
        start = time.perf_counter()
        result = subprocess.run(["make", target], cwd=clone, capture_output=True, text=True, env=fresh_env())
        seconds = time.perf_counter() - start
    return {"target": target, "commit": commit, "seconds": seconds, "exit_code": result.returncode,
            "tail": result.stdout.splitlines()[-3:], "stderr_tail": result.stderr.splitlines()[-5:],
            "budget_s": BUDGET_S, "meets_budget": result.returncode == 0 and seconds <= BUDGET_S}

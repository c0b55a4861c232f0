"""The browser twins (e2t.viz.browser): parity with e2t and the time from an input event to the redraw.

Builds the standalone page of every twin (tools/twin_page.py) and runs the browser check of tools/twin_check.py on
it in headless Chromium: random settings per twin (every control moved each time) and every preset, the page's
numbers against ``e2t``'s, and the redraw time the page measured for every move (``performance.now()`` from the
input event to the end of the redraw, style and layout included; and to the next animation frame). Needs Chromium
and chromedriver (`make browser`).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import twin_check  # noqa: E402
import twin_page  # noqa: E402

#: The goal per move: one animation frame at 60 Hz.
GOAL_MS = twin_check.FRAME_BUDGET_MS


def run(*, settings: int = twin_check.SETTINGS_PER_TWIN, seed: int = 0) -> list[dict]:
    """One row per twin: settings and moves checked, the largest difference from e2t, redraw-time medians."""
    with tempfile.TemporaryDirectory(prefix="e2t-twins-") as directory:
        twin_page.build_page(Path(directory))
        rows = twin_page.check_page(Path(directory), n=settings, seed=seed, screenshots=False)
    for r in rows:
        r["meets_goal"] = r["redraw_ms_median"] <= GOAL_MS
    return rows

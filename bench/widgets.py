"""Update latency of every widget of the book in Jupyter: recompute + redraw one frame, median of 20 moves.

Widgets are found in the package: every public function of an ``e2t`` module whose name ends in ``_explorer`` and
that takes no required argument returns an ``e2t.viz.widgets.Explorer``. This is the live path (``e2t`` computes,
matplotlib draws a PNG); a ``BrowserExplorer`` moves a constrained control the way its panel does (the partner
control gives way). The time to build each explorer (what it precomputes: a model's outputs, the figure's fixed part
per layout) is reported too; it is paid once, when the chapter's cell runs. The site's twins, which compute in the
browser, are timed in the browser by ``bench/twins.py``.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import time

import matplotlib

matplotlib.use("Agg")

import e2t  # noqa: E402
from e2t.viz.widgets import Explorer  # noqa: E402

BUDGET_S = 0.100


def discover() -> dict[str, callable]:
    found = {}
    for info in pkgutil.walk_packages(e2t.__path__, prefix="e2t."):
        module = importlib.import_module(info.name)
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if not name.endswith("_explorer") or name.startswith("_") or fn.__module__ != module.__name__:
                continue
            required = [p for p in inspect.signature(fn).parameters.values()
                        if p.default is inspect.Parameter.empty and p.kind in (p.POSITIONAL_ONLY,
                                                                            p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
            if not required:
                found[f"{info.name}.{name}"] = fn
    return found


def run(*, repeats: int = 20) -> list[dict]:
    rows = []
    for name, factory in sorted(discover().items()):
        start = time.perf_counter()
        explorer = factory()
        build_s = time.perf_counter() - start
        if not isinstance(explorer, Explorer):
            continue
        for control in explorer.controls:
            median = explorer.time_update(control.name, repeats)
            rows.append({"widget": name, "control": control.name, "median_ms": median * 1e3, "repeats": repeats,
                         "build_s": build_s, "meets_budget": median <= BUDGET_S})
    return rows

"""``make checkpoints``: retrain every checkpoint the book ships.

Each recipe of ``e2t.recipes`` that ships a checkpoint defines ``checkpoint_job(*, quick=False, directory=None) ->
dict``: it trains, saves with ``e2t.train.checkpoints.save_checkpoint`` and returns the card. ``quick=True`` runs a
few steps only (the tests use it so the jobs cannot rot) and must write to ``directory``. A job's name is its
recipe's module name.

Usage: ``python -m e2t.jobs`` (all), ``python -m e2t.jobs ntm_model transformer`` (some), ``python -m e2t.jobs
--list``; ``--beside TEXT`` writes into every card what else ran on the machine meanwhile.

Introduced in: the preface.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import time
from collections.abc import Callable

import e2t.recipes
from e2t.train.checkpoints import BESIDE_ENV


def discover() -> dict[str, Callable[..., dict]]:
    """Map recipe name (the module name relative to ``e2t.recipes``) -> its ``checkpoint_job``."""
    jobs = {}
    for info in pkgutil.iter_modules(e2t.recipes.__path__, prefix="e2t.recipes."):
        module = importlib.import_module(info.name)
        job = getattr(module, "checkpoint_job", None)
        if callable(job):
            jobs[info.name.removeprefix("e2t.recipes.")] = job
    return jobs


def main(argv: list[str] | None = None) -> None:
    """The command line of ``make checkpoints``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="modules to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the jobs and exit")
    parser.add_argument("--beside", default=None,
                        help="what else runs on the machine meanwhile (written into every card the jobs save)")
    args = parser.parse_args(argv)
    if args.beside is not None:
        os.environ[BESIDE_ENV] = args.beside
    jobs = discover()
    if args.list:
        print("\n".join(sorted(jobs)))
        return
    unknown = set(args.names) - set(jobs)
    if unknown:
        raise SystemExit(f"unknown jobs {sorted(unknown)}; known: {sorted(jobs)}")
    for name in args.names or sorted(jobs):
        start = time.perf_counter()
        card = jobs[name]()
        print(f"{name}: {time.perf_counter() - start:.0f} s, metrics {json.dumps(card.get('metrics', {}))}")


if __name__ == "__main__":
    main()

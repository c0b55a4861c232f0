"""``make checkpoints``: retrain every checkpoint the book ships.

A module of ``e2t`` that ships a checkpoint defines ``checkpoint_job(*, quick=False, directory=None) -> dict``:
it trains, saves with ``e2t.checkpoints.save_checkpoint`` and returns the card. ``quick=True`` runs a few steps
only (the tests use it so the jobs cannot rot) and must write to ``directory``.

Usage: ``python -m e2t.jobs`` (all), ``python -m e2t.jobs ntm transformer`` (some), ``python -m e2t.jobs --list``.

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

import e2t


def discover() -> dict[str, Callable[..., dict]]:
    """Map module name (relative to ``e2t``) -> its ``checkpoint_job``.

    Introduced in: the preface.
    """
    jobs = {}
    for info in pkgutil.walk_packages(e2t.__path__, prefix="e2t."):
        if info.name == __name__:
            continue
        module = importlib.import_module(info.name)
        job = getattr(module, "checkpoint_job", None)
        if callable(job):
            jobs[info.name.removeprefix("e2t.")] = job
    return jobs


def main(argv: list[str] | None = None) -> None:
    """The command line of ``make checkpoints``.

    Introduced in: the preface.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="modules to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the jobs and exit")
    parser.add_argument("--beside", default=None,
                        help="what else runs on the machine meanwhile (written into every card the jobs save)")
    args = parser.parse_args(argv)
    if args.beside is not None:
        from e2t.checkpoints import BESIDE_ENV

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

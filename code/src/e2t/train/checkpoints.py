"""Trained weights shipped with the book: ``safetensors`` files, each with a JSON card beside it.

A checkpoint ``data/checkpoints/NAME.safetensors`` has a card ``data/checkpoints/NAME.json`` that records how it was
made (command, seed, steps, wall time, final metrics, config). Nothing is ever loaded with pickle.

Introduced in: the preface.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_model, save_model

#: Folder holding the shipped checkpoints: ``<repo>/data/checkpoints`` (this file is ``<repo>/code/src/e2t/train/``).
CHECKPOINT_DIR = Path(__file__).resolve().parents[4] / "data" / "checkpoints"

REQUIRED_CARD_KEYS = ("name", "command", "seed", "steps", "wall_time_s", "metrics")


def checkpoint_paths(name: str, directory: str | Path | None = None) -> tuple[Path, Path]:
    """Return the weight file and card paths of checkpoint ``name``."""
    if not name or "/" in name or name.endswith((".json", ".safetensors")):
        raise ValueError(f"name must be a bare checkpoint name like 'ntm_copy', got {name!r}")
    folder = Path(directory) if directory is not None else CHECKPOINT_DIR
    return folder / f"{name}.safetensors", folder / f"{name}.json"


def save_checkpoint(model: torch.nn.Module, name: str, card: dict[str, Any], *,
                    directory: str | Path | None = None) -> Path:
    """Save ``model``'s weights as safetensors and ``card`` as JSON; return the weight file's path.

    The card must hold at least ``name, command, seed, steps, wall_time_s, metrics``; the machine, its CPU
    capability, the torch version, the date, what else ran (``python -m e2t.jobs --beside``) and the load average
    at saving are added.
    """
    missing = [k for k in REQUIRED_CARD_KEYS if k not in card]
    if missing:
        raise ValueError(f"card is missing {missing}; it needs {list(REQUIRED_CARD_KEYS)}")
    weights, card_path = checkpoint_paths(name, directory)
    weights.parent.mkdir(parents=True, exist_ok=True)
    model = model.to("cpu")
    save_model(model, str(weights))
    full = dict(card)
    full["parameters"] = sum(p.numel() for p in model.parameters())
    _write_card(full, card_path)
    return weights


#: The environment variable ``python -m e2t.jobs --beside`` sets: what else ran on the machine during a job.
BESIDE_ENV = "E2T_BESIDE"


def _write_card(card: dict[str, Any], card_path: Path) -> None:
    full = dict(card)
    full.setdefault("torch", torch.__version__.split("+")[0])
    full.setdefault("machine", f"{platform.machine()}, {os.cpu_count()} CPU cores, "
                               f"{torch.get_num_threads()} torch threads")
    full.setdefault("cpu_capability", torch.backends.cpu.get_cpu_capability())
    full.setdefault("created", _dt.date.today().isoformat())
    full.setdefault("ran_beside", os.environ.get(BESIDE_ENV, "not recorded"))
    if hasattr(os, "getloadavg"):
        full.setdefault("load_average_at_save", [round(x, 2) for x in os.getloadavg()])
    card_path.parent.mkdir(parents=True, exist_ok=True)
    card_path.write_text(json.dumps(full, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def save_card(name: str, card: dict[str, Any], *, directory: str | Path | None = None) -> Path:
    """Save a card without weights (a study's results, a sweep); return its path. Same keys as ``save_checkpoint``.

    Introduced in: chapter 2.
    """
    missing = [k for k in REQUIRED_CARD_KEYS if k not in card]
    if missing:
        raise ValueError(f"card is missing {missing}; it needs {list(REQUIRED_CARD_KEYS)}")
    _, card_path = checkpoint_paths(name, directory)
    _write_card(card, card_path)
    return card_path


def read_card(name: str, *, directory: str | Path | None = None) -> dict[str, Any]:
    """Read the JSON card of checkpoint ``name``."""
    _, card_path = checkpoint_paths(name, directory)
    if not card_path.is_file():
        raise FileNotFoundError(f"no card {card_path}; run `make checkpoints` to make it")
    return json.loads(card_path.read_text(encoding="utf-8"))


def load_checkpoint(model: torch.nn.Module, name: str, *, directory: str | Path | None = None) -> dict[str, Any]:
    """Load the weights of checkpoint ``name`` into ``model`` (strictly) and return its card."""
    weights, _ = checkpoint_paths(name, directory)
    if not weights.is_file():
        raise FileNotFoundError(f"no checkpoint {weights}; run `make checkpoints` to make it")
    missing, unexpected = load_model(model, str(weights), strict=True, device="cpu")
    if missing or unexpected:  # load_model(strict=True) raises first; kept as a guard
        raise RuntimeError(f"checkpoint {name}: missing {missing}, unexpected {unexpected}")
    return read_card(name, directory=directory)


def load(name: str, build: Callable[[dict[str, Any]], torch.nn.Module], *,
         directory: str | Path | None = None) -> tuple[torch.nn.Module, dict[str, Any]]:
    """Rebuild checkpoint ``name`` from its card and load its weights: ``(model in eval mode, card)``.

    ``build`` makes an untrained model from the card's ``config`` dict: every ``make_*`` function of the book
    accepts one (``load("rnnsearch", make_rnnsearch)``, ``load("transformer_numbers", make_transformer)``).
    """
    card = read_card(name, directory=directory)
    if "config" not in card:
        raise ValueError(f"checkpoint {name}: its card has no 'config' to rebuild the model from")
    model = build(card["config"])
    load_checkpoint(model, name, directory=directory)
    return model.eval(), card

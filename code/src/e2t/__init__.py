"""e2t: the shared code of the book *From Encoder-Decoder to Transformer*.

Every chapter imports what it runs from here, so the text and the code cannot drift. The top-level modules define
the models and operations a reader studies (``e2t.masks``, ``e2t.attention``, ``e2t.ntm``, ``e2t.transformer``,
...); ``e2t.data`` generates the data, ``e2t.train`` trains, decodes, scores and stores models, ``e2t.recipes``
holds how each shipped model was trained, ``e2t.viz`` the plots and widgets and ``e2t.book`` what only the book
needs. Submodules are imported on first use, so ``import e2t`` stays fast.

Introduced in: the preface.
"""

from __future__ import annotations

import importlib
import os
import random
from pathlib import Path

import numpy as np
import torch

__version__ = "0.1.0"
__all__ = ["set_seed", "__version__"]

_PACKAGE_DIR = Path(__file__).resolve().parent


def set_seed(seed: int, *, threads: int | None = 1) -> None:
    """Seed Python, NumPy and PyTorch, and fix PyTorch's intra-op thread count.

    A fixed thread count keeps float sums in the same order from run to run, so seeded trainings repeat exactly
    on one machine. ``threads=None`` leaves the thread count alone.
    """
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if threads is not None:
        if threads < 1:
            raise ValueError(f"threads must be >= 1, got {threads}")
        torch.set_num_threads(threads)
    os.environ.setdefault("PYTHONHASHSEED", str(seed))


def __getattr__(name: str):
    """Import a submodule on first access, so ``e2t.masks`` works after a bare ``import e2t``."""
    if (_PACKAGE_DIR / f"{name}.py").is_file() or (_PACKAGE_DIR / name / "__init__.py").is_file():
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'e2t' has no attribute {name!r}")

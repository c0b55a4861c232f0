"""The recipe of chapter 4's soft vs hard attention: one patch-search model per mode, trained alike.

Introduced in: chapter 4.
"""

from __future__ import annotations

import torch

from e2t.data.patches import PatchSearch, patch_search, to_patches
from e2t.hard_attention import (
    MODES,
    MovingAverageBaseline,
    PatchAttentionModel,
    PatchModelConfig,
    accuracy,
    make_patch_model,
    patch_loss,
)
from e2t.train import History, fit

__all__ = ["train_patch_model"]


def train_patch_model(mode: str, *, steps: int = 1500, batch_size: int = 64, lr: float = 3e-3, seed: int = 0,
                      use_baseline: bool = True, train: PatchSearch | None = None,
                      valid: PatchSearch | None = None, eval_every: int = 100, progress: bool = False,
                      config: PatchModelConfig | None = None) -> tuple[PatchAttentionModel, History]:
    """Train one model on ``patch_search`` images with ``e2t.train.fit``; return it and its ``History``.

    ``History.evals`` holds the validation accuracy (and where the model looked) every ``eval_every`` steps.
    Same seed, same data, same initial embedding and head for every mode.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    train = train if train is not None else patch_search(8192, seed=seed + 1)
    valid = valid if valid is not None else patch_search(1024, seed=10_000 + seed)
    patches = to_patches(train.images, train.patch)  # (n, N, P*P)
    base = config or PatchModelConfig(patch_dim=patches.shape[-1])
    torch.manual_seed(seed)
    model = make_patch_model(PatchModelConfig(**{**base.__dict__, "mode": mode}))
    baseline = MovingAverageBaseline() if use_baseline else None
    g = torch.Generator().manual_seed(seed)

    def stream():
        while True:
            idx = torch.randint(len(train), (batch_size,), generator=g)
            yield patches[idx], train.labels[idx]

    def loss_fn(m, batch):
        return patch_loss(m, batch[0], batch[1], baseline=baseline)

    history = fit(model, loss_fn, stream(), steps=steps, lr=lr, eval_fn=lambda m: accuracy(m, valid),
                  eval_every=eval_every, progress=progress, desc=f"{mode} attention")
    return model, history

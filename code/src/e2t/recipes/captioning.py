"""The captioner's recipe (chapter 1): data, training, and the shipped checkpoint ``ch1_captioner``.

Introduced in: chapter 1.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path

import e2t
from e2t.captioning import Captioner, CaptionerConfig, caption_batches, greedy_captions, make_captioner
from e2t.data.images import caption_scenes, caption_vocab
from e2t.train import History, fit
from e2t.train.checkpoints import save_checkpoint
from e2t.train.losses import teacher_forced_loss
from e2t.train.metrics import corpus_bleu, exact_match

__all__ = ["TRAIN_SEED", "TEST_SEED", "N_TRAIN", "N_TEST", "train_captioner", "checkpoint_job"]

#: Everything the shipped checkpoint and the chapter's live run share: data seeds and sizes.
TRAIN_SEED, TEST_SEED, N_TRAIN, N_TEST = 11, 12, 6000, 500


def train_captioner(*, steps: int, seed: int = 0, n_train: int = N_TRAIN, lr: float = 3e-3, batch_size: int = 64,
                    progress: bool = True) -> tuple[Captioner, History]:
    """Train a captioner on ``caption_scenes(n_train, seed=TRAIN_SEED)``; return (model, History)."""
    e2t.set_seed(seed)
    vocab = caption_vocab()
    images, captions = caption_scenes(n_train, seed=TRAIN_SEED)
    model = make_captioner(CaptionerConfig(vocab_size=len(vocab)))
    history = fit(model, teacher_forced_loss,
                  caption_batches(images, captions, vocab, batch_size=batch_size, seed=seed),
                  steps=steps, lr=lr, progress=progress, desc="captioner")
    return model, history


def checkpoint_job(*, quick: bool = False, directory: str | Path | None = None) -> dict:
    """Train the captioner longer than the chapter can and save ``ch1_captioner`` (``python -m e2t.jobs
    captioning``)."""
    if quick and directory is None:
        raise ValueError("quick=True must write to a directory (not over the shipped checkpoints)")
    steps = 5 if quick else 1500
    start = time.perf_counter()
    model, history = train_captioner(steps=steps, n_train=256 if quick else N_TRAIN, progress=False)
    wall = time.perf_counter() - start
    vocab = caption_vocab()
    images, captions = caption_scenes(64 if quick else N_TEST, seed=TEST_SEED)
    hyp = greedy_captions(model, images, vocab)
    card = {"name": "ch1_captioner", "command": "python -m e2t.jobs captioning" + (" (quick)" if quick else ""),
            "seed": 0, "steps": steps, "wall_time_s": round(wall, 1),
            "metrics": {"exact_match": round(exact_match(hyp, captions), 4),
                        "bleu": round(corpus_bleu(hyp, captions), 2),
                        "final_loss": round(history.losses[-1], 5)},
            "curve": history.curve(), "selection_rule": "none: the last step, steps fixed in advance",
            "data": f"caption_scenes({N_TRAIN}, seed={TRAIN_SEED}); test caption_scenes({N_TEST}, seed={TEST_SEED})",
            "config": asdict(model.config)}
    save_checkpoint(model, "ch1_captioner", card, directory=directory)
    return card

"""Two model figures of the book: the NTM copy task's convergence (read from its card) and the Transformer's
incremental-decoding speed-up (measured).

- ``ntm_copy()``: for each seed trained by ``e2t.recipes.ntm_model.checkpoint_job``, where its cost first dipped below
  0.01, and the sequences and the wall time it took to converge (to stay below), read from the ``ntm_copy``
  card's ``runs`` at run time (``None``: that seed did not converge within its budget). DESIGN.md sets no budget
  for it.
- ``kv_cache()``: greedy decoding of a batch of held-out numbers with the shipped ``transformer_numbers`` model,
  ``Transformer.step`` (keys and values of the decoded prefix cached) against ``Transformer.step_without_cache``
  (the decoder re-run over the whole prefix at every step), as chapter 6 measures it; medians of ``repeats`` runs
  with ``time.perf_counter``, for several output lengths. DESIGN.md sets no budget for it either.
"""

from __future__ import annotations

import statistics
import time

import torch
from e2t.data.text import collate, number_task
from e2t.train import checkpoints
from e2t.transformer_model import make_transformer


def ntm_copy(*, name: str = "ntm_copy", directory=None) -> dict:
    card = checkpoints.read_card(name, directory=directory)
    rows = []
    for run in card.get("runs") or []:
        rows.append({
            "seed": run.get("seed"),
            "converged": run.get("converged_at_sequences") is not None,
            "first_below_at_sequences": run.get("first_below_at_sequences"),
            "converged_at_sequences": run.get("converged_at_sequences"),
            "converged_wall_time_s": run.get("converged_wall_time_s"),
            "converged_cpu_time_s": run.get("converged_cpu_time_s"),
            "sequences_seen": run.get("sequences_seen"),
            "wall_time_s": run.get("wall_time_s"),
            "stayed_converged": run.get("stayed_converged"),
        })
    return {"card": name, "shipped_seed": card.get("seed"), "criterion": card.get("cost", ""),
            "timing_note": card.get("timing_note", ""), "created": card.get("created"),
            "command": card.get("command"), "machine": card.get("machine"), "runs": rows}


def _decode_time(model, batch, bos: int, *, cache: bool, steps: int) -> float:
    step = model.step if cache else model.step_without_cache
    start = time.perf_counter()
    with torch.no_grad():
        state = model.start(batch.src, batch.src_lengths, cache=cache)
        prev = torch.full((batch.src.shape[0],), bos)  # (B,)
        for _ in range(steps):  # exactly `steps` output tokens: no early stop at eos
            logits, state = step(prev, state)
            prev = logits.argmax(-1)
    return time.perf_counter() - start


def kv_cache(*, batch_size: int = 32, lengths=(10, 30, 60), repeats: int = 7) -> list[dict]:
    task = number_task()
    model, _ = checkpoints.load("transformer_numbers", make_transformer)
    longest = max(lengths)
    if longest > model.config.max_len:
        raise ValueError(f"lengths go up to {longest} but the model has max_len={model.config.max_len}")
    batch = collate(list(task.test[:batch_size]), task)
    bos = task.tgt_vocab.bos
    rows = []
    for steps in lengths:
        _decode_time(model, batch, bos, cache=True, steps=steps)  # warm-up
        with_cache = [_decode_time(model, batch, bos, cache=True, steps=steps) for _ in range(repeats)]
        without = [_decode_time(model, batch, bos, cache=False, steps=steps) for _ in range(repeats)]
        cached_s, full_s = statistics.median(with_cache), statistics.median(without)
        rows.append({"batch": batch_size, "tokens": steps, "repeats": repeats, "cache_ms": 1e3 * cached_s,
                     "no_cache_ms": 1e3 * full_s, "speedup": full_s / cached_s})
    return rows

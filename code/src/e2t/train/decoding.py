"""Turning a trained decoder into output sequences: greedy decoding and batched beam search.

Both work with any decoder through one function, ``step(prev_tokens, state) -> (logits, new_state)``, the
``step`` of every sequence model of the book (whose ``start(src, src_lengths)`` gives the first state):

- ``prev_tokens`` (B,) long: the token each row emitted last (``bos`` at the first step);
- ``state``: whatever the decoder carries from step to step -- ``None``, a tensor, or a nested tuple / list / dict
  of tensors whose **dim 0 is the batch** (an RNN's hidden state, an encoder's outputs for attention, a
  Transformer's key/value cache). Non-tensor leaves (ints, strings, ``None``) are passed along unchanged.
- ``logits`` (B, V): unnormalised scores of the next token; decoding turns them into log-probabilities with
  ``log_softmax``.

Beam search keeps ``beam_size`` rows per sentence, so it expands the state along dim 0 (``expand_state``) and
reorders it after each step (``reorder_state``); a decoder needs to know nothing about beams. Outputs are lists of
token ids without ``bos`` and ``eos``.

Introduced in: chapter 2.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

__all__ = ["map_state", "expand_state", "reorder_state", "greedy_decode", "beam_search", "decode", "Step"]

#: The decoder interface: ``(prev_tokens (B,), state) -> (logits (B, V), new_state)``.
Step = Callable[[torch.Tensor, Any], tuple[torch.Tensor, Any]]


def map_state(state: Any, fn: Callable[[torch.Tensor], torch.Tensor]) -> Any:
    """Apply ``fn`` to every tensor in a nested tuple / list / dict ``state``; other leaves are kept as they are."""
    if isinstance(state, torch.Tensor):
        return fn(state)
    if isinstance(state, dict):
        return type(state)((k, map_state(v, fn)) for k, v in state.items())
    if isinstance(state, tuple) and hasattr(state, "_fields"):  # a namedtuple
        return type(state)(*(map_state(v, fn) for v in state))
    if isinstance(state, (tuple, list)):
        return type(state)(map_state(v, fn) for v in state)
    return state


def _check_rows(state: Any, rows: int, what: str) -> None:
    def check(t: torch.Tensor) -> torch.Tensor:
        if t.dim() == 0 or t.shape[0] != rows:
            raise ValueError(f"every state tensor needs dim 0 = the batch ({rows} rows {what}), "
                             f"got a tensor of shape {tuple(t.shape)}")
        return t

    map_state(state, check)


def expand_state(state: Any, k: int) -> Any:
    """Repeat every row of ``state`` ``k`` times along dim 0: row ``b`` becomes rows ``b*k .. b*k+k-1``.

    Shapes: each tensor (B, ...) -> (B*k, ...).
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    return map_state(state, lambda t: t.repeat_interleave(k, dim=0))  # (B*k, ...)


def reorder_state(state: Any, index: torch.Tensor) -> Any:
    """Select rows ``index`` of every tensor of ``state`` along dim 0 (beam search's reshuffle of hypotheses).

    Shapes: each tensor (R, ...) and index (R',) long -> (R', ...).
    """
    return map_state(state, lambda t: t.index_select(0, index.to(t.device)))  # (R', ...)


def _check_args(batch_size: int, max_len: int, bos: int, eos: int) -> None:
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    if not isinstance(max_len, int) or max_len < 1:
        raise ValueError(f"max_len must be a positive int, got {max_len!r}")
    if bos == eos:
        raise ValueError(f"bos and eos must differ, got {bos} for both")


def _call(step: Step, prev: torch.Tensor, state: Any) -> tuple[torch.Tensor, Any]:
    """One step of the decoder; returns log-probabilities (B, V) and the new state."""
    logits, state = step(prev, state)
    if logits.dim() != 2 or logits.shape[0] != prev.shape[0]:
        raise ValueError(f"step must return logits of shape (B, V) = ({prev.shape[0]}, V), "
                         f"got {tuple(logits.shape)}")
    return torch.log_softmax(logits, dim=-1), state  # (B, V)


def _device(state: Any, device) -> torch.device:
    if device is not None:
        return torch.device(device)
    found = []
    map_state(state, lambda t: found.append(t.device) or t)
    return found[0] if found else torch.device("cpu")


@torch.no_grad()
def greedy_decode(step: Step, state: Any, *, batch_size: int, bos: int, eos: int, max_len: int,
                  device=None, return_scores: bool = False):
    """Emit the most probable next token at every step, $y_t = \\arg\\max_y \\log p(y \\mid y_{<t}, c)$.

    A row stops at its first ``eos`` or after ``max_len`` tokens (the loop ends when every row has stopped).
    Returns the token ids per row, without ``bos``/``eos``; with ``return_scores=True`` also the log-probability
    of each output (summed over its tokens, including the ``eos`` when one was emitted).

    Shapes: prev_tokens (B,), logits (B, V).
    """
    _check_args(batch_size, max_len, bos, eos)
    _check_rows(state, batch_size, "in the batch")
    device = _device(state, device)
    prev = torch.full((batch_size,), bos, dtype=torch.long, device=device)  # (B,)
    done = torch.zeros(batch_size, dtype=torch.bool, device=device)  # (B,)
    scores = torch.zeros(batch_size, dtype=torch.float64, device=device)  # (B,)
    out: list[list[int]] = [[] for _ in range(batch_size)]
    for _ in range(max_len):
        log_probs, state = _call(step, prev, state)
        best, tok = log_probs.max(dim=-1)  # (B,), (B,)
        scores += torch.where(done, torch.zeros_like(scores), best.double())
        for b in (~done & (tok != eos)).nonzero().flatten().tolist():
            out[b].append(int(tok[b]))
        done |= tok == eos
        prev = tok
        if bool(done.all()):
            break
    return (out, scores.tolist()) if return_scores else out


@torch.no_grad()
def beam_search(step: Step, state: Any, *, batch_size: int, bos: int, eos: int, max_len: int, beam_size: int = 4,
                length_penalty: float = 1.0, device=None, return_scores: bool = False):
    """Batched beam search: keep the ``beam_size`` most probable prefixes of every sentence at once.

    All ``B * K`` hypotheses (``K = beam_size``) run through ``step`` together as one batch. At each step every
    live hypothesis is extended by every token and the ``K`` best of the ``K * V`` candidates by summed
    log-probability $\\log p(y_{1..t}) = \\sum_{i \\le t} \\log p(y_i \\mid y_{<i}, c)$ survive.

    End-of-sequence rule: a hypothesis that emits ``eos`` is finished; it keeps its score and its slot (it can
    only be pushed out by ``K`` better live ones) and is never extended. The search stops when all hypotheses are
    finished or after ``max_len`` tokens; unfinished hypotheses then count as they are.

    Length normalisation: the winner among the ``K`` final hypotheses maximises
    $\\log p(y) / |y|^{\\alpha}$ with $\\alpha$ = ``length_penalty`` and $|y|$ counting the ``eos``; $\\alpha = 0$
    ranks by probability alone, which favours short outputs. ``beam_size=1`` is greedy decoding.

    Returns the best token ids per sentence without ``bos``/``eos``; with ``return_scores=True`` also their
    log-probabilities (unnormalised, summed over tokens including ``eos``).

    Shapes: state tensors (B, ...) are expanded to (B*K, ...); prev_tokens (B*K,), logits (B*K, V).
    """
    _check_args(batch_size, max_len, bos, eos)
    if not isinstance(beam_size, int) or beam_size < 1:
        raise ValueError(f"beam_size must be a positive int, got {beam_size!r}")
    if length_penalty < 0:
        raise ValueError(f"length_penalty must be >= 0, got {length_penalty}")
    _check_rows(state, batch_size, "in the batch")
    B, K = batch_size, beam_size
    device = _device(state, device)
    state = expand_state(state, K)  # (B*K, ...)
    prev = torch.full((B * K,), bos, dtype=torch.long, device=device)  # (B*K,)
    scores = torch.full((B, K), float("-inf"), dtype=torch.float64, device=device)  # (B, K)
    scores[:, 0] = 0.0  # all beams start as the same empty prefix: keep one copy alive
    finished = torch.zeros(B, K, dtype=torch.bool, device=device)  # (B, K)
    lengths = torch.zeros(B, K, dtype=torch.long, device=device)  # (B, K) tokens so far, incl. eos
    tokens = torch.zeros(B, K, 0, dtype=torch.long, device=device)  # (B, K, t)
    for _ in range(max_len):
        log_probs, state = _call(step, prev, state)  # (B*K, V)
        V = log_probs.shape[-1]
        log_probs = log_probs.double().view(B, K, V)  # (B, K, V)
        # a finished hypothesis has exactly one continuation, "eos" again, at no cost
        frozen = torch.full_like(log_probs, float("-inf"))  # (B, K, V)
        frozen[..., eos] = 0.0
        log_probs = torch.where(finished.unsqueeze(-1), frozen, log_probs)  # (B, K, V)
        candidates = (scores.unsqueeze(-1) + log_probs).view(B, K * V)  # (B, K*V)
        scores, flat = candidates.topk(K, dim=-1)  # (B, K), (B, K)
        beam = torch.div(flat, V, rounding_mode="floor")  # (B, K) which hypothesis each survivor extends
        tok = flat % V  # (B, K)
        was_finished = finished.gather(1, beam)  # (B, K)
        lengths = lengths.gather(1, beam) + (~was_finished).long()  # (B, K)
        finished = was_finished | (tok == eos)  # (B, K)
        tokens = torch.cat([tokens.gather(1, beam.unsqueeze(-1).expand_as(tokens)),
                            torch.where(was_finished, torch.full_like(tok, eos), tok).unsqueeze(-1)],
                           dim=-1)  # (B, K, t+1)
        rows = (beam + torch.arange(B, device=device).unsqueeze(1) * K).view(B * K)  # (B*K,)
        state = reorder_state(state, rows)  # (B*K, ...)
        prev = tok.view(B * K)  # (B*K,)
        if bool(finished.all()):
            break
    norm = scores / lengths.clamp(min=1).double().pow(length_penalty)  # (B, K)
    norm = torch.where(torch.isfinite(scores), norm, torch.full_like(norm, float("-inf")))  # (B, K)
    best = norm.argmax(dim=-1)  # (B,)
    out = []
    for b in range(B):
        seq = tokens[b, best[b]].tolist()
        out.append(seq[:seq.index(eos)] if eos in seq else seq)
    if return_scores:
        return out, scores.gather(1, best.unsqueeze(1)).squeeze(1).tolist()
    return out


def decode(step: Step, state: Any, *, batch_size: int, bos: int, eos: int, max_len: int, beam_size: int = 1,
           length_penalty: float = 1.0) -> list[list[int]]:
    """Greedy decoding when ``beam_size == 1``, batched beam search otherwise; token ids without bos/eos."""
    kw = dict(batch_size=batch_size, bos=bos, eos=eos, max_len=max_len)
    if beam_size == 1:
        return greedy_decode(step, state, **kw)
    return beam_search(step, state, beam_size=beam_size, length_penalty=length_penalty, **kw)

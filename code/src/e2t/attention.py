"""Attention as a weighted average: masked softmax and scaled dot-product attention.

Introduced in: chapter 3 (masked softmax) and chapter 6 (scaled dot-product attention).
"""

from __future__ import annotations

import math

import torch

from .checks import check_broadcast, check_tensor


def masked_softmax(scores: torch.Tensor, mask: torch.Tensor | None = None, dim: int = -1) -> torch.Tensor:
    """Softmax of ``scores`` over ``dim`` where only positions with ``mask == True`` take part.

    Masked positions get weight 0. A row with no allowed position (all ``False``) gets all-zero weights, never NaN,
    and its gradient is zero. This is the one place the book applies masks.

    Shapes: scores (..., S); mask bool, broadcastable to scores.shape; returns scores.shape.

    Introduced in: chapter 3.
    """
    check_tensor("scores", scores, dtype_kind="float")
    if mask is None:
        return torch.softmax(scores, dim=dim)
    check_tensor("mask", mask, dtype_kind="bool")
    check_broadcast("mask", mask.shape, "scores", scores.shape)
    mask = mask.expand_as(scores)
    # Fill blocked scores with the lowest finite value, not -inf: a fully blocked row then stays finite.
    lowest = torch.finfo(scores.dtype).min
    filled = scores.masked_fill(~mask, lowest)
    weights = torch.softmax(filled, dim=dim)
    return weights * mask  # zero where blocked, so a fully blocked row is all zeros


def scaled_dot_product_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                                 mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V (Vaswani et al. 2017, eq. 1).

    ``d_k`` is the width of the queries and keys. ``mask`` is bool, ``True`` = may attend; a query with no allowed
    key gets zero weights and a zero output.

    Shapes: q (..., T, Dk), k (..., S, Dk), v (..., S, Dv), mask broadcastable to (..., T, S);
    returns out (..., T, Dv) and weights (..., T, S).

    Introduced in: chapter 6.
    """
    for name, x in (("q", q), ("k", k), ("v", v)):
        check_tensor(name, x, dtype_kind="float")
        if x.dim() < 2:
            raise ValueError(f"{name} must have at least 2 dimensions (..., length, width), got shape {tuple(x.shape)}")
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"q has width {q.shape[-1]} but k has width {k.shape[-1]}: shapes {tuple(q.shape)} and "
                         f"{tuple(k.shape)}")
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"k has {k.shape[-2]} positions but v has {v.shape[-2]}: shapes {tuple(k.shape)} and "
                         f"{tuple(v.shape)}")
    d_k = q.shape[-1]
    scores = q @ k.transpose(-2, -1) / math.sqrt(d_k)  # (..., T, S)
    weights = masked_softmax(scores, mask, dim=-1)  # (..., T, S)
    return weights @ v, weights  # (..., T, Dv), (..., T, S)

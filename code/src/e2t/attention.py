"""Attention as a weighted average: masked softmax and scaled dot-product attention.

Introduced in: chapter 3 (masked softmax) and chapter 6 (scaled dot-product attention).
"""

from __future__ import annotations

import math

import torch

from .checks import check_broadcast, check_tensor
from .scores import AdditiveScore


def masked_softmax(scores: torch.Tensor, mask: torch.Tensor | None = None, dim: int = -1) -> torch.Tensor:
    """Softmax of ``scores`` over ``dim`` where only positions with ``mask == True`` take part.

    Masked positions get weight 0. A row with no allowed position (all ``False``) gets all-zero weights, never NaN,
    and its gradient is zero. This is the one place the book applies masks.

    Shapes: scores (..., S); mask bool, broadcastable to scores.shape; returns scores.shape.
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


class BahdanauAttention(torch.nn.Module):
    r"""The attention read of Bahdanau et al. (2015): score every encoder state, normalise, average.

    $$e_{t,i} = \mathrm{score}(s_{t-1}, h_i), \qquad
      \alpha_{t,i} = \frac{\exp(e_{t,i})}{\sum_{i'} \exp(e_{t,i'})}, \qquad
      c_t = \sum_i \alpha_{t,i} h_i .$$

    The score is the paper's additive one, $v_a^\top \tanh(W_a [s_{t-1}; h_i])$
    (``e2t.scores.AdditiveScore``), unless another score of ``e2t.scores`` is passed as ``score`` (any callable
    ``score(q (B, T, Dq), k (B, S, Dk)) -> (B, T, S)``; chapter 4 swaps them). The softmax is
    ``masked_softmax``: padding positions (``mask == False``) get weight exactly 0, and the weights of every
    query sum to 1 over the real tokens.

    Shapes: query (B, T, Dq) or (B, Dq) (one decoder step), keys (B, S, Dk), mask bool broadcastable to
    (B, T, S) (e.g. (B, 1, S) for padding) -> context (B, T, Dk) and weights (B, T, S) (without the T axis for a
    2-D query).
    """

    def __init__(self, *, d_query: int, d_key: int, d_attn: int | None = None, score=None):
        super().__init__()
        if score is None:
            if d_attn is None:
                raise ValueError("d_attn is needed for the default additive score")
            score = AdditiveScore(d_query=d_query, d_key=d_key, d_attn=d_attn)
        if not callable(score):
            raise TypeError(f"score must be callable as score(q, k), got {type(score).__name__}")
        self.d_query, self.d_key = d_query, d_key
        self.score = score  # registered as a submodule when it is one (its parameters then train with the model)

    def prepare(self, keys: torch.Tensor) -> torch.Tensor | None:
        """What the score can compute once per sentence (the additive score's $W_a^{(h)} h_i$), else ``None``.

        Pass it to every step as ``forward(..., prepared=...)``: same result, less work per step.
        """
        project = getattr(self.score, "project_keys", None)
        return project(keys) if project is not None else None

    def forward(self, query: torch.Tensor, keys: torch.Tensor, mask: torch.Tensor | None = None, *,
                prepared: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        check_tensor("query", query, ndim=(2, 3), dtype_kind="float")
        check_tensor("keys", keys, ndim=3, dtype_kind="float")
        one_step = query.dim() == 2
        q = query.unsqueeze(1) if one_step else query  # (B, T, Dq)
        if q.shape[0] != keys.shape[0] or q.shape[-1] != self.d_query or keys.shape[-1] != self.d_key:
            raise ValueError(f"query {tuple(query.shape)} and keys {tuple(keys.shape)} do not fit this attention "
                             f"(batch must agree, d_query={self.d_query}, d_key={self.d_key})")
        if prepared is None:
            scores = self.score(q, keys)  # (B, T, S)
        else:
            scores = self.score(q, keys, keys_projected=prepared)  # (B, T, S)
        weights = masked_softmax(scores, mask, dim=-1)  # (B, T, S)
        context = weights @ keys  # (B, T, Dk)
        if one_step:
            return context.squeeze(1), weights.squeeze(1)  # (B, Dk), (B, S)
        return context, weights

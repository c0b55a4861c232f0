"""Alignment score functions: how well a query (a decoder state) matches each key (an encoder state).

The seed's table of the attention family, one object per row. Each takes queries ``q`` (B, T, Dq) and keys
``k`` (B, S, Dk) and returns the RAW scores (B, T, S), ``score[b, t, i] = score(s_t, h_i)``; the attention
weights are ``e2t.attention.masked_softmax(scores, mask)`` of them, so masking happens in one place.

| name | score(s_t, h_i) | paper |
|---|---|---|
| ``cosine_score`` | cos(s_t, h_i) | Graves et al. 2014 (content-based addressing) |
| ``AdditiveScore`` | v_a^T tanh(W_a [s_t; h_i]) | Bahdanau et al. 2015 |
| ``LocationScore`` | (W_a s_t)_i, so alpha_t = softmax(W_a s_t) | Luong et al. 2015 |
| ``GeneralScore`` | s_t^T W_a h_i | Luong et al. 2015 |
| ``dot_score`` | s_t^T h_i | Luong et al. 2015 |
| ``scaled_dot_score`` | s_t^T h_i / sqrt(d) | Vaswani et al. 2017 |

Functions have no parameters; the modules learn theirs. All six are called the same way, ``score(q, k)``, so a
model can take any of them as an argument (``e2t.rnnsearch`` does; chapter 4 trains it with each).
``make_score(name, ...)`` builds one by name.

Introduced in: chapter 3 (additive) and chapter 4 (the whole family).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from .checks import check_tensor

__all__ = ["cosine_score", "AdditiveScore", "LocationScore", "GeneralScore", "dot_score", "scaled_dot_score",
           "SCORE_NAMES", "make_score"]

Score = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _check_qk(q: torch.Tensor, k: torch.Tensor, *, same_width: bool = False) -> None:
    check_tensor("q", q, ndim=3, dtype_kind="float")
    check_tensor("k", k, ndim=3, dtype_kind="float")
    if q.shape[0] != k.shape[0]:
        raise ValueError(f"q has batch {q.shape[0]} but k has batch {k.shape[0]}: shapes {tuple(q.shape)} and "
                         f"{tuple(k.shape)}")
    if same_width and q.shape[-1] != k.shape[-1]:
        raise ValueError(f"q has width {q.shape[-1]} but k has width {k.shape[-1]} (this score needs equal widths): "
                         f"shapes {tuple(q.shape)} and {tuple(k.shape)}")


def _check_width(name: str, x: torch.Tensor, width: int, arg: str) -> None:
    if x.shape[-1] != width:
        raise ValueError(f"{name} has width {x.shape[-1]} but the score was built with {arg}={width}: "
                         f"shape {tuple(x.shape)}")


def _positive_int(name: str, value) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return value


def _uniform_(p: torch.Tensor, fan_in: int) -> None:
    bound = 1.0 / math.sqrt(fan_in)  # the default init of nn.Linear's bias, also usable for weights
    nn.init.uniform_(p, -bound, bound)


# ---------------------------------------------------------------------------------------------- parameter-free

def dot_score(q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    r"""Dot-product score (Luong et al. 2015): $\mathrm{score}(s_t, h_i) = s_t^\top h_i$.

    Queries and keys must have the same width.

    Shapes: q (B, T, D), k (B, S, D) -> (B, T, S).

    Introduced in: chapter 4.
    """
    _check_qk(q, k, same_width=True)
    return q @ k.transpose(1, 2)  # (B, T, S)


def scaled_dot_score(q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    r"""Scaled dot-product score (Vaswani et al. 2017): $\mathrm{score}(s_t, h_i) = s_t^\top h_i / \sqrt{d}$.

    ``d`` is the width of the keys (= of the queries). The scale keeps the scores' variance near 1 when the
    entries of ``q`` and ``k`` have unit variance, so the softmax does not saturate for wide vectors.

    Shapes: q (B, T, D), k (B, S, D) -> (B, T, S).

    Introduced in: chapter 4.
    """
    _check_qk(q, k, same_width=True)
    return q @ k.transpose(1, 2) / math.sqrt(k.shape[-1])  # (B, T, S)


def cosine_score(q: torch.Tensor, k: torch.Tensor, *, eps: float = 1e-8) -> torch.Tensor:
    r"""Content-based score (Graves et al. 2014): $\mathrm{score}(s_t, h_i) = \cos(s_t, h_i) =
    \frac{s_t^\top h_i}{\lVert s_t\rVert\,\lVert h_i\rVert}$, in $[-1, 1]$.

    A zero vector has cosine 0 with everything (each norm is clamped at ``eps``), never NaN.

    Shapes: q (B, T, D), k (B, S, D) -> (B, T, S).

    Introduced in: chapter 4.
    """
    _check_qk(q, k, same_width=True)
    q_unit = q / q.norm(dim=-1, keepdim=True).clamp_min(eps)  # (B, T, D)
    k_unit = k / k.norm(dim=-1, keepdim=True).clamp_min(eps)  # (B, S, D)
    return q_unit @ k_unit.transpose(1, 2)  # (B, T, S)


# ---------------------------------------------------------------------------------------------- learned

class AdditiveScore(nn.Module):
    r"""Additive ("concat") score of Bahdanau et al. (2015): $\mathrm{score}(s_t, h_i) =
    v_a^\top \tanh(W_a [s_t; h_i])$.

    ``W_a`` is (d_attn, d_query + d_key) and ``v_a`` is (d_attn,), no biases, as in the paper's appendix. Since
    $W_a [s; h] = W_a^{(s)} s + W_a^{(h)} h$ (the paper writes $W_a s_{i-1} + U_a h_j$), the two halves of ``W_a``
    are applied to queries and keys separately and added for every (t, i) pair: no (T x S) concatenation is
    built.

    Shapes: q (B, T, Dq), k (B, S, Dk) -> (B, T, S).
    """

    def __init__(self, *, d_query: int, d_key: int, d_attn: int):
        super().__init__()
        self.d_query = _positive_int("d_query", d_query)
        self.d_key = _positive_int("d_key", d_key)
        self.d_attn = _positive_int("d_attn", d_attn)
        self.W_a = nn.Parameter(torch.empty(d_attn, d_query + d_key))
        self.v_a = nn.Parameter(torch.empty(d_attn))
        _uniform_(self.W_a, d_query + d_key)
        _uniform_(self.v_a, d_attn)

    def project_keys(self, k: torch.Tensor) -> torch.Tensor:
        """The keys' half of $W_a [s; h]$, i.e. $W_a^{(h)} h_i$ for every key: it does not depend on the query,
        so a decoder computes it once per sentence and passes it to every step as ``keys_projected``.

        Shapes: k (B, S, Dk) -> (B, S, A).
        """
        check_tensor("k", k, ndim=3, dtype_kind="float")
        _check_width("k", k, self.d_key, "d_key")
        return k @ self.W_a[:, self.d_query:].T  # (B, S, A)

    def forward(self, q: torch.Tensor, k: torch.Tensor, *, keys_projected: torch.Tensor | None = None
                ) -> torch.Tensor:
        _check_qk(q, k)
        _check_width("q", q, self.d_query, "d_query")
        _check_width("k", k, self.d_key, "d_key")
        if keys_projected is None:
            keys_projected = self.project_keys(k)  # (B, S, A)
        elif keys_projected.shape != (*k.shape[:2], self.d_attn):
            raise ValueError(f"keys_projected must have shape {(*k.shape[:2], self.d_attn)}, "
                             f"got {tuple(keys_projected.shape)}")
        q_part = q @ self.W_a[:, :self.d_query].T  # (B, T, A)
        hidden = torch.tanh(q_part.unsqueeze(2) + keys_projected.unsqueeze(1))  # (B, T, S, A)
        return hidden @ self.v_a  # (B, T, S)

    def extra_repr(self) -> str:
        return f"d_query={self.d_query}, d_key={self.d_key}, d_attn={self.d_attn}"


class GeneralScore(nn.Module):
    r"""General (bilinear) score of Luong et al. (2015): $\mathrm{score}(s_t, h_i) = s_t^\top W_a h_i$.

    ``W_a`` is (d_query, d_key), so queries and keys may differ in width.

    Shapes: q (B, T, Dq), k (B, S, Dk) -> (B, T, S).

    Introduced in: chapter 4.
    """

    def __init__(self, *, d_query: int, d_key: int):
        super().__init__()
        self.d_query = _positive_int("d_query", d_query)
        self.d_key = _positive_int("d_key", d_key)
        self.W_a = nn.Parameter(torch.empty(d_query, d_key))
        _uniform_(self.W_a, d_key)

    def forward(self, q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
        _check_qk(q, k)
        _check_width("q", q, self.d_query, "d_query")
        _check_width("k", k, self.d_key, "d_key")
        return (q @ self.W_a) @ k.transpose(1, 2)  # (B, T, Dk) @ (B, Dk, S) -> (B, T, S)

    def extra_repr(self) -> str:
        return f"d_query={self.d_query}, d_key={self.d_key}"


class LocationScore(nn.Module):
    r"""Location-based score of Luong et al. (2015): $\alpha_t = \mathrm{softmax}(W_a s_t)$.

    The scores depend on the query (the target side) only: ``W_a`` is (max_len, d_query) and gives one score per
    source *position* $i = 1..\text{max\_len}$; the keys' contents are ignored, only their number ``S`` is used
    (the first ``S`` scores are kept). The model must therefore learn *where* to look from its own state.

    Shapes: q (B, T, Dq), k (B, S, Dk) with S <= max_len -> (B, T, S).

    Introduced in: chapter 4.
    """

    def __init__(self, *, d_query: int, max_len: int):
        super().__init__()
        self.d_query = _positive_int("d_query", d_query)
        self.max_len = _positive_int("max_len", max_len)
        self.W_a = nn.Parameter(torch.empty(max_len, d_query))
        _uniform_(self.W_a, d_query)

    def forward(self, q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
        _check_qk(q, k)
        _check_width("q", q, self.d_query, "d_query")
        S = k.shape[1]
        if S > self.max_len:
            raise ValueError(f"k has {S} positions but the score was built with max_len={self.max_len}: "
                             f"shape {tuple(k.shape)}")
        return q @ self.W_a[:S].T  # (B, T, S)

    def extra_repr(self) -> str:
        return f"d_query={self.d_query}, max_len={self.max_len}"


# ---------------------------------------------------------------------------------------------- by name

#: The names ``make_score`` knows, in the order of the seed's table.
SCORE_NAMES = ("cosine", "additive", "location", "general", "dot", "scaled_dot")


def make_score(name: str, *, d_query: int, d_key: int, d_attn: int | None = None,
               max_len: int | None = None) -> nn.Module | Score:
    """Build the score called ``name`` (one of ``SCORE_NAMES``) for queries of width ``d_query`` and keys of width
    ``d_key``: a module for the learned ones, the function itself for the others.

    ``d_attn`` (the additive score's hidden width) defaults to ``d_key``; ``max_len`` is needed for
    ``"location"``. The parameter-free scores need ``d_query == d_key``.
    """
    if name not in SCORE_NAMES:
        raise ValueError(f"name must be one of {SCORE_NAMES}, got {name!r}")
    if name in ("cosine", "dot", "scaled_dot") and d_query != d_key:
        raise ValueError(f"the {name!r} score needs d_query == d_key, got {d_query} and {d_key}")
    if name == "additive":
        return AdditiveScore(d_query=d_query, d_key=d_key, d_attn=d_attn or d_key)
    if name == "general":
        return GeneralScore(d_query=d_query, d_key=d_key)
    if name == "location":
        if max_len is None:
            raise ValueError("the 'location' score needs max_len (the longest source it will see)")
        return LocationScore(d_query=d_query, max_len=max_len)
    return {"cosine": cosine_score, "dot": dot_score, "scaled_dot": scaled_dot_score}[name]

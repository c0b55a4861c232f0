r"""Softmax with a temperature (the preface; its widget is ``e2t.viz.temperature``).

$\mathrm{softmax}(z/\tau)_i = e^{z_i/\tau} / \sum_j e^{z_j/\tau}$. A small temperature $\tau$ (equivalently, scores of
a large scale) makes the softmax peaky: the largest weight tends to 1 and the gradient that flows back through the
softmax tends to 0. This is why the Transformer divides its dot products by $\sqrt{d_k}$ (chapter 4 and 6).

Introduced in: the preface.
"""

from __future__ import annotations

import torch

from .checks import check_tensor

__all__ = ["softmax_with_temperature", "entropy", "softmax_jacobian_norm"]


def softmax_with_temperature(z: torch.Tensor, tau: float) -> torch.Tensor:
    r"""$\mathrm{softmax}(z / \tau)$ over the last dimension.

    Shapes: z (..., S) -> (..., S).
    """
    check_tensor("z", z, dtype_kind="float")
    if not tau > 0:
        raise ValueError(f"tau must be > 0, got {tau}")
    return torch.softmax(z / tau, dim=-1)


def entropy(p: torch.Tensor) -> torch.Tensor:
    r"""Entropy $-\sum_i p_i \log p_i$ in nats, with $0 \log 0 = 0$. Shapes: p (..., S) -> (...)."""
    return -(p * torch.log(p.clamp_min(torch.finfo(p.dtype).tiny))).sum(-1)


def softmax_jacobian_norm(z: torch.Tensor, tau: float) -> torch.Tensor:
    r"""Frobenius norm of $\partial\,\mathrm{softmax}(z/\tau) / \partial z = (\mathrm{diag}(p) - p p^\top)/\tau$.

    It measures how much gradient a softmax passes back to its scores. Shapes: z (S,) -> ().
    """
    check_tensor("z", z, ndim=1, dtype_kind="float")
    p = softmax_with_temperature(z, tau)  # (S,)
    jacobian = (torch.diag(p) - p[:, None] * p[None, :]) / tau  # (S, S)
    return torch.linalg.matrix_norm(jacobian)

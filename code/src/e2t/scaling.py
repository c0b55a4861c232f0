r"""Why the scaled dot-product divides by $\sqrt{d}$: chapter 4's widget.

For a query and a key with independent entries of mean 0 and variance 1, $q \cdot k = \sum_{j=1}^{d} q_j k_j$ is a
sum of $d$ terms of variance 1, so its variance is $d$ and its spread $\sqrt d$. Fed to a softmax over $S$ keys,
scores that spread widely make the softmax nearly one-hot: its largest weight tends to 1, its entropy to 0, and the
gradient it passes back, the Jacobian $\partial p / \partial z = \mathrm{diag}(p) - p p^\top$, tends to 0. Dividing
by $\sqrt d$ (Vaswani et al. 2017) keeps the spread at 1 whatever the width.

``dot_product_stats`` measures this on random vectors; ``e2t.viz.scaling`` draws it, with the width $d$ as the
widget's control.

Introduced in: chapter 4.
"""

from __future__ import annotations

import functools
import math

import torch

__all__ = ["WIDTHS", "softmax_jacobian_fro", "dot_product_stats", "scaling_curves", "sample_scores"]

#: The widths the widget (and its static twin) offers.
WIDTHS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


def softmax_jacobian_fro(p: torch.Tensor) -> torch.Tensor:
    r"""Frobenius norm of the softmax Jacobian $J = \mathrm{diag}(p) - p p^\top$, from the weights $p$.

    $\lVert J\rVert_F^2 = \sum_i p_i^2 - 2\sum_i p_i^3 + (\sum_i p_i^2)^2$, so no $S \times S$ matrix is built.
    It is 0 for a one-hot $p$. Spread evenly over $k$ keys it is $\sqrt{(k - 1)/k^2}$: largest, $1/2$, for an even
    split between two keys, and smaller the more keys share the weight ($\approx 1/\sqrt{S}$ for a uniform $p$).

    Shapes: p (..., S) -> (...).
    """
    s2 = (p ** 2).sum(-1)
    s3 = (p ** 3).sum(-1)
    return (s2 - 2 * s3 + s2 ** 2).clamp_min(0.0).sqrt()


def dot_product_stats(d: int, *, n_keys: int = 16, samples: int = 500, scaled: bool = False,
                      seed: int = 0) -> dict[str, float]:
    r"""Statistics of $\mathrm{softmax}(q \cdot k_i / c)$ for random $q, k_i \sim \mathcal N(0, I_d)$, $c = \sqrt d$
    if ``scaled`` else 1, over ``samples`` queries with ``n_keys`` keys each.

    Returns the standard deviation of the scores, and the means of the largest weight, of the entropy (nats;
    $\log S$ is uniform) and of the Jacobian norm ``softmax_jacobian_fro``.
    """
    if not isinstance(d, int) or d < 1:
        raise ValueError(f"d must be a positive int, got {d!r}")
    if not isinstance(n_keys, int) or n_keys < 2:
        raise ValueError(f"n_keys must be an int >= 2, got {n_keys!r}")
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(samples, 1, d, generator=g, dtype=torch.float64)  # (B, 1, d); float64: see sample_scores
    k = torch.randn(samples, n_keys, d, generator=g, dtype=torch.float64)  # (B, S, d)
    z = (q * k).sum(-1)  # (B, S)
    if scaled:
        z = z / math.sqrt(d)
    p = torch.softmax(z, dim=-1)  # (B, S)
    entropy = -(p * torch.log(p.clamp_min(1e-30))).sum(-1)  # (B,)
    return {"score_std": float(z.std()), "max_weight": float(p.max(-1).values.mean()),
            "entropy": float(entropy.mean()), "grad_norm": float(softmax_jacobian_fro(p).mean())}


@functools.lru_cache(maxsize=4)
def scaling_curves(widths: tuple[int, ...] = WIDTHS, *, n_keys: int = 16, samples: int = 500,
                   seed: int = 0) -> dict[str, dict[str, tuple[float, ...]]]:
    """``dot_product_stats`` for every width, with and without the scale: ``{"raw"|"scaled": {stat: values}}``.
    """
    out = {}
    for name, scaled in (("raw", False), ("scaled", True)):
        rows = [dot_product_stats(d, n_keys=n_keys, samples=samples, scaled=scaled, seed=seed) for d in widths]
        out[name] = {key: tuple(r[key] for r in rows) for key in rows[0]}
    return out


@functools.lru_cache(maxsize=32)
def sample_scores(d: int, n_keys: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Random scores $q \\cdot k$ of 200 queries with ``n_keys`` keys at width ``d``: ``(z, z / sqrt(d))``, each
    (200, n_keys), float64.

    Drawn and summed in float64 so that every CPU gets the same numbers: in float32, both ``torch.randn`` (its
    vectorised normal sampler) and the sum depend on the kernels' instruction set, by up to 3e-5 at ``d = 1024``,
    and the browser twin embeds the scores of the machine that executed the chapter.
    """
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(200, 1, d, generator=g, dtype=torch.float64)  # (B, 1, d)
    k = torch.randn(200, n_keys, d, generator=g, dtype=torch.float64)  # (B, S, d)
    z = (q * k).sum(-1)  # (B, S)
    return z, z / math.sqrt(d)

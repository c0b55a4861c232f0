"""Boolean attention masks. One convention everywhere: ``True`` = may attend.

This is the convention of ``torch.nn.functional.scaled_dot_product_attention``. ``torch.nn.MultiheadAttention``
and ``torch.nn.Transformer`` use the opposite one for bool masks (``True`` = blocked): pass them ``~mask``.

Introduced in: chapter 6 (and the preface's notation).
"""

from __future__ import annotations

import torch

from .checks import check_tensor


def causal_mask(T: int, *, device: torch.device | str | None = None) -> torch.Tensor:
    """Lower-triangular mask: query ``t`` may attend to keys ``0..t`` (itself included).

    Shapes: returns (T, T), ``mask[t, s] = s <= t``.
    """
    if not isinstance(T, int) or T < 1:
        raise ValueError(f"T must be a positive int, got {T!r}")
    return torch.ones(T, T, dtype=torch.bool, device=device).tril()


def padding_mask(lengths: torch.Tensor, S: int) -> torch.Tensor:
    """Mask that lets every query see the real tokens of its own sequence and none of the padding.

    Shapes: lengths (B,) integers in [0, S] -> (B, 1, 1, S), ``mask[b, 0, 0, s] = s < lengths[b]``. It broadcasts
    over heads ``H`` and queries ``T``.
    """
    lengths = torch.as_tensor(lengths)
    check_tensor("lengths", lengths, ndim=1)
    if lengths.is_floating_point() or lengths.dtype == torch.bool:
        raise TypeError(f"lengths must hold integers, got dtype {lengths.dtype}")
    if not isinstance(S, int) or S < 1:
        raise ValueError(f"S must be a positive int, got {S!r}")
    if lengths.numel() and (int(lengths.min()) < 0 or int(lengths.max()) > S):
        raise ValueError(f"lengths must lie in [0, S={S}], got min {int(lengths.min())} and max {int(lengths.max())}")
    positions = torch.arange(S, device=lengths.device)  # (S,)
    mask = positions[None, :] < lengths[:, None]  # (B, S)
    return mask[:, None, None, :]  # (B, 1, 1, S)

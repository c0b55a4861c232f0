"""Argument checks shared by the package: clear errors that name the argument and its shape.

Introduced in: the preface.
"""

from __future__ import annotations

import torch


def check_tensor(name: str, x, *, ndim: int | tuple[int, ...] | None = None, dtype_kind: str | None = None) -> None:
    """Raise a ``TypeError``/``ValueError`` naming ``name`` unless ``x`` is a tensor of the expected rank.

    ``dtype_kind`` is ``"float"`` or ``"bool"``.

    Introduced in: the preface.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if x.dim() not in allowed:
            want = " or ".join(str(a) for a in allowed)
            raise ValueError(f"{name} must have {want} dimensions, got shape {tuple(x.shape)}")
    if dtype_kind == "float" and not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {x.dtype}")
    if dtype_kind == "bool" and x.dtype != torch.bool:
        raise TypeError(f"{name} must be a torch.bool tensor (True = may attend), got dtype {x.dtype}")


def check_broadcast(name: str, shape: torch.Size | tuple[int, ...], target_name: str,
                    target: torch.Size | tuple[int, ...]) -> None:
    """Raise a ``ValueError`` unless ``shape`` broadcasts to ``target`` (without growing ``target``).

    Introduced in: the preface.
    """
    try:
        result = torch.broadcast_shapes(tuple(shape), tuple(target))
    except RuntimeError:
        result = None
    if result != tuple(target):
        raise ValueError(f"{name} of shape {tuple(shape)} cannot broadcast to {target_name} of shape {tuple(target)}")

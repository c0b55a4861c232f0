"""Argument checks shared by the package: clear errors that name the argument and its shape.

Introduced in: the preface.
"""

from __future__ import annotations

import torch


def check_tensor(name: str, x, *, ndim: int | tuple[int, ...] | None = None, dtype_kind: str | None = None) -> None:
    """Raise a ``TypeError``/``ValueError`` naming ``name`` unless ``x`` is a tensor of the expected rank.

    ``dtype_kind`` is ``"float"`` or ``"bool"``.
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


def check_tokens(name: str, tokens, vocab_size: int, *, ndim: int | tuple[int, ...] = 2) -> None:
    """Raise a clear error unless ``tokens`` is a ``torch.long`` tensor of ids in ``[0, vocab_size)``.

    Every model of the book checks its token inputs with this before an embedding lookup, which would otherwise
    fail with a bare ``IndexError``.
    """
    check_tensor(name, tokens, ndim=ndim)
    if tokens.dtype != torch.long:
        raise TypeError(f"{name} must hold token ids (torch.long), got dtype {tokens.dtype}")
    if tokens.numel() and (int(tokens.min()) < 0 or int(tokens.max()) >= vocab_size):
        raise ValueError(f"{name} holds ids in [{int(tokens.min())}, {int(tokens.max())}] but the vocabulary has "
                         f"{vocab_size} entries (ids 0..{vocab_size - 1}); shape {tuple(tokens.shape)}")


def check_broadcast(name: str, shape: torch.Size | tuple[int, ...], target_name: str,
                    target: torch.Size | tuple[int, ...]) -> None:
    """Raise a ``ValueError`` unless ``shape`` broadcasts to ``target`` (without growing ``target``)."""
    try:
        result = torch.broadcast_shapes(tuple(shape), tuple(target))
    except RuntimeError:
        result = None
    if result != tuple(target):
        raise ValueError(f"{name} of shape {tuple(shape)} cannot broadcast to {target_name} of shape {tuple(target)}")

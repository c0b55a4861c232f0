r"""The copy task of Graves et al. (2014, §4.1): read a sequence of random bit vectors, then write it back.

A sequence of ``L`` random 8-bit vectors is shown one vector per step, followed by a delimiter flag on an extra
input channel; then the model gets ``L`` blank steps and must output the ``L`` vectors in order. The
``length`` is drawn uniformly from ``min_length..max_length`` (1..20 in the paper) for each batch.

Every generator takes ``seed=`` (or a ``torch.Generator``) and never touches the global random state.

Introduced in: chapter 5 (reused in chapter 7).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch

__all__ = ["CopyBatch", "random_bits", "copy_inputs", "copy_batch", "copy_batches", "bits_to_tokens"]


@dataclass(frozen=True)
class CopyBatch:
    """One batch of the copy task, all sequences of the same ``length`` L.

    ``inputs`` (B, 2L + 1, W + 1): the L bit vectors, the delimiter step (flag on channel W), then L blank steps.
    ``targets`` (B, L, W): the bit vectors to write back during the last L steps. ``bits`` is ``targets``.
    """

    inputs: torch.Tensor
    targets: torch.Tensor
    length: int

    @property
    def bits(self) -> torch.Tensor:
        return self.targets


def _generator(seed: int | None, generator: torch.Generator | None) -> torch.Generator:
    if generator is not None and seed is not None:
        raise ValueError("give seed or generator, not both")
    if generator is not None:
        return generator
    if seed is None:
        raise ValueError("seed is required (an int), or pass generator=")
    return torch.Generator().manual_seed(seed)


def random_bits(*, batch_size: int, length: int, width: int = 8, seed: int | None = None,
                generator: torch.Generator | None = None) -> torch.Tensor:
    """Random bits, each 0 or 1 with probability 1/2, as floats.

    Shapes: returns (batch_size, length, width).
    """
    for name, v, low in (("batch_size", batch_size, 1), ("length", length, 1), ("width", width, 1)):
        if not isinstance(v, int) or v < low:
            raise ValueError(f"{name} must be an int >= {low}, got {v!r}")
    gen = _generator(seed, generator)
    return torch.randint(0, 2, (batch_size, length, width), generator=gen).float()  # (B, L, W)


def copy_inputs(bits: torch.Tensor) -> torch.Tensor:
    """The input sequence for bits (B, L, W): bits, a delimiter step, L blank steps; one extra flag channel.

    Shapes: bits (B, L, W); returns (B, 2L + 1, W + 1).
    """
    if not isinstance(bits, torch.Tensor) or bits.dim() != 3:
        raise ValueError(f"bits must be a (B, L, W) tensor, got {getattr(bits, 'shape', type(bits).__name__)}")
    B, L, W = bits.shape
    inputs = bits.new_zeros(B, 2 * L + 1, W + 1)  # (B, 2L+1, W+1)
    inputs[:, :L, :W] = bits
    inputs[:, L, W] = 1.0  # the delimiter flag
    return inputs


def copy_batch(*, batch_size: int, length: int, width: int = 8, seed: int | None = None,
               generator: torch.Generator | None = None) -> CopyBatch:
    """One copy-task batch of sequences of exactly ``length`` vectors."""
    bits = random_bits(batch_size=batch_size, length=length, width=width, seed=seed, generator=generator)
    return CopyBatch(inputs=copy_inputs(bits), targets=bits, length=length)


def copy_batches(*, batch_size: int, min_length: int = 1, max_length: int = 20, width: int = 8,
                 seed: int) -> Iterator[CopyBatch]:
    """An endless stream of copy-task batches; each batch draws its length uniformly from min..max_length."""
    if not (isinstance(min_length, int) and isinstance(max_length, int) and 1 <= min_length <= max_length):
        raise ValueError(f"need 1 <= min_length <= max_length, got min_length={min_length!r}, "
                         f"max_length={max_length!r}")
    gen = torch.Generator().manual_seed(seed)
    while True:
        length = int(torch.randint(min_length, max_length + 1, (1,), generator=gen))
        yield copy_batch(batch_size=batch_size, length=length, width=width, generator=gen)


def bits_to_tokens(bits: torch.Tensor) -> torch.Tensor:
    """Read each W-bit vector as a binary number (first bit most significant): a token id in 0..2**W - 1.

    Lets models with a vocabulary (seq2seq, Transformer) do the same copy task in chapter 7.

    Shapes: bits (..., W); returns (...) of dtype long.
    """
    if not isinstance(bits, torch.Tensor) or bits.dim() < 1:
        raise ValueError(f"bits must be a tensor (..., W), got {getattr(bits, 'shape', type(bits).__name__)}")
    W = bits.shape[-1]
    powers = 2 ** torch.arange(W - 1, -1, -1, device=bits.device)  # (W,)
    return (bits.round().long() * powers).sum(-1)  # (...)

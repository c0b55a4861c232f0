"""Visual search on a grid of patches: find the framed shape among distractors and name it.

Chapter 4's soft-vs-hard attention task (Xu et al. 2015 attend to regions of an image; here the regions are the
cells of a grid). An image is a ``grid x grid`` board of ``patch x patch`` cells. A few cells hold a shape
(circle, square, triangle or cross, from ``e2t.data.images.shape_masks``); exactly one of them, the *target*, is
drawn inside a thin frame. The label is the target's shape. The distractors are shapes of the same kinds without a
frame, so the label cannot be read from *what* is in the image, only from *where the frame is*: a model has to look
at the right cell.

Images are grayscale float tensors in [0, 1], batch first ``(B, 1, H, W)`` with ``H = W = grid * patch``;
``to_patches`` cuts them into ``(B, N, patch * patch)`` with ``N = grid * grid`` cells in row-major order.

Introduced in: chapter 4.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .images import SHAPES, shape_masks

__all__ = ["PatchSearch", "patch_search", "to_patches"]


@dataclass(frozen=True)
class PatchSearch:
    """A batch of visual-search images.

    Shapes:
        images (B, 1, H, W) float in [0, 1], H = W = grid * patch
        labels (B,) long: the target's shape, an index into ``e2t.data.images.SHAPES``
        target (B,) long: the target's cell, in [0, grid * grid), row-major
        occupied (B, N) bool: which cells hold a shape (the target included)
    """

    images: torch.Tensor
    labels: torch.Tensor
    target: torch.Tensor
    occupied: torch.Tensor
    grid: int
    patch: int

    def __len__(self) -> int:
        return int(self.labels.shape[0])


def patch_search(n: int, *, grid: int = 4, patch: int = 10, distractors: tuple[int, int] = (4, 8),
                 decoys: bool = True, noise: float = 0.1, seed: int = 0) -> PatchSearch:
    """Generate ``n`` images: one framed target shape and ``distractors`` (min, max inclusive) other shapes.

    Every shape sits near the centre of its cell with a random radius, offset and brightness; the frame is a
    one-pixel border of the target's cell. With ``decoys=True`` each distractor has an *open* frame, missing one
    side at random, so the target is the only shape closed on all four sides (finding it needs a conjunction, not
    just "any frame pixels here"). Each image draws its own number of distractors, their cells and kinds.
    Everything comes from a ``torch.Generator`` seeded by ``seed``.

    Shapes: returns a ``PatchSearch`` with images (n, 1, grid*patch, grid*patch).
    """
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    if not isinstance(grid, int) or grid < 2:
        raise ValueError(f"grid must be an int >= 2, got {grid!r}")
    if not isinstance(patch, int) or patch < 7:
        raise ValueError(f"patch must be an int >= 7 (room for a frame around a shape), got {patch!r}")
    lo, hi = distractors
    N = grid * grid
    if not (0 <= lo <= hi <= N - 1):
        raise ValueError(f"distractors must be (min, max) with 0 <= min <= max <= grid*grid - 1 = {N - 1}, "
                         f"got {distractors}")
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise}")
    g = torch.Generator().manual_seed(seed)
    # Which cells are occupied: a random permutation per image; its first cell is the target.
    order = torch.rand(n, N, generator=g).argsort(dim=1)  # (n, N)
    count = 1 + torch.randint(lo, hi + 1, (n,), generator=g)  # (n,) shapes per image, target included
    rank = order.argsort(dim=1)  # (n, N) rank of each cell in the permutation
    occupied = rank < count[:, None]  # (n, N)
    target = order[:, 0]  # (n,)
    kinds = torch.randint(len(SHAPES), (n, N), generator=g)  # (n, N) a kind for every cell (used where occupied)
    labels = kinds.gather(1, target[:, None]).squeeze(1)  # (n,)
    # Draw every cell's shape in a patch x patch canvas, then place the canvases on the board.
    radius = patch * (0.26 + 0.06 * torch.rand(n * N, generator=g))  # (n*N,)
    jitter = 0.6 * (torch.rand(n * N, 2, generator=g) - 0.5)  # (n*N, 2) pixels
    centre = patch / 2 + jitter  # (n*N, 2)
    masks = shape_masks(kinds.reshape(-1), centre[:, 0], centre[:, 1], radius, size=patch)  # (n*N, P, P)
    bright = 0.6 + 0.4 * torch.rand(n * N, 1, 1, generator=g)  # (n*N, 1, 1)
    cells = masks.float() * bright * occupied.reshape(-1, 1, 1).float()  # (n*N, P, P)
    cells = cells.view(n, N, patch, patch)  # (n, N, P, P)
    sides = torch.zeros(4, patch, patch, dtype=torch.bool)  # top, bottom, left, right
    sides[0, 0, :] = sides[1, -1, :] = sides[2, :, 0] = sides[3, :, -1] = True
    is_target = torch.arange(N)[None, :] == target[:, None]  # (n, N)
    missing = torch.randint(4, (n, N), generator=g)  # (n, N) the side a decoy lacks
    has_side = torch.ones(n, N, 4, dtype=torch.bool)  # (n, N, 4)
    has_side.scatter_(2, missing[:, :, None], False)
    has_side = (has_side & occupied[:, :, None] & decoys) | is_target[:, :, None]  # (n, N, 4)
    frame = (has_side[:, :, :, None, None] & sides).any(dim=2)  # (n, N, P, P)
    cells = torch.where(frame, torch.tensor(0.9), cells)  # (n, N, P, P)
    board = cells.view(n, grid, grid, patch, patch).permute(0, 1, 3, 2, 4)  # (n, grid, P, grid, P)
    images = board.reshape(n, 1, grid * patch, grid * patch)  # (n, 1, H, W)
    if noise > 0:
        images = images + noise * torch.randn(images.shape, generator=g)
    return PatchSearch(images=images.clamp(0.0, 1.0), labels=labels, target=target, occupied=occupied, grid=grid,
                       patch=patch)


def to_patches(images: torch.Tensor, patch: int) -> torch.Tensor:
    """Cut images into non-overlapping ``patch x patch`` cells, row-major, each flattened.

    Shapes: images (B, C, H, W) with H and W multiples of ``patch`` -> (B, N, C * patch * patch),
    N = (H / patch) * (W / patch).
    """
    if not isinstance(images, torch.Tensor) or images.dim() != 4:
        raise ValueError(f"images must be a (B, C, H, W) tensor, got "
                         f"{tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__}")
    B, C, H, W = images.shape
    if H % patch or W % patch:
        raise ValueError(f"images of shape {tuple(images.shape)} do not split into {patch}x{patch} patches")
    x = images.view(B, C, H // patch, patch, W // patch, patch)  # (B, C, gh, P, gw, P)
    x = x.permute(0, 2, 4, 1, 3, 5)  # (B, gh, gw, C, P, P)
    return x.reshape(B, (H // patch) * (W // patch), C * patch * patch)  # (B, N, C*P*P)

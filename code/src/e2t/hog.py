r"""Histograms of oriented gradients (HOG, Dalal & Triggs 2005): a hand-crafted encoder, written with torch ops.

The source's "horizontal view" starts from hand-crafted features such as HOG. The recipe:

1. Gradients with the centred kernel $[-1, 0, 1]$: $g_x = I(x+1, y) - I(x-1, y)$, $g_y = I(x, y+1) - I(x, y-1)$;
   for a colour image, each pixel keeps the channel with the largest gradient magnitude.
2. Magnitude and unsigned orientation: $m = \sqrt{g_x^2 + g_y^2}$, $\theta = \operatorname{atan2}(g_y, g_x) \bmod \pi$.
3. Each pixel votes $m$ into the orientation histogram of its cell (``cell`` x ``cell`` pixels), split linearly
   between the two nearest of ``bins`` bins centred at $k\pi/\text{bins}$.
4. Overlapping blocks of ``block`` x ``block`` cells are normalised with L2-Hys: $v \leftarrow v / \sqrt{\|v\|_2^2 +
   \epsilon^2}$, clipped at 0.2, normalised again. The concatenated blocks are the feature vector.

Introduced in: chapter 1.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .checks import check_tensor


def image_gradients(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Centred differences $g_x, g_y$ of every channel (edges replicated), as two convolutions.

    Shapes: images (B, C, H, W) -> gx, gy (B, C, H, W).
    """
    check_tensor("images", images, ndim=4, dtype_kind="float")
    B, C, H, W = images.shape
    kx = images.new_tensor([[[[-1.0, 0.0, 1.0]]]])  # (1, 1, 1, 3)
    flat = images.reshape(B * C, 1, H, W)  # (B C, 1, H, W)
    gx = F.conv2d(F.pad(flat, (1, 1, 0, 0), mode="replicate"), kx)  # (B C, 1, H, W)
    gy = F.conv2d(F.pad(flat, (0, 0, 1, 1), mode="replicate"), kx.transpose(-1, -2))  # (B C, 1, H, W)
    return gx.view(B, C, H, W), gy.view(B, C, H, W)


def orientation_histograms(images: torch.Tensor, *, cell: int = 8, bins: int = 9) -> torch.Tensor:
    r"""Per-cell histograms of unsigned gradient orientation, weighted by magnitude (steps 1-3 of HOG).

    Shapes: images (B, C, H, W), H and W divisible by ``cell`` -> (B, bins, H / cell, W / cell).
    """
    check_tensor("images", images, ndim=4, dtype_kind="float")
    B, C, H, W = images.shape
    if cell < 1 or H % cell or W % cell:
        raise ValueError(f"images of shape {tuple(images.shape)} cannot be cut into cells of {cell} pixels")
    if bins < 2:
        raise ValueError(f"bins must be >= 2, got {bins}")
    gx, gy = image_gradients(images)  # (B, C, H, W)
    mag = torch.sqrt(gx**2 + gy**2)  # (B, C, H, W)
    best = mag.argmax(dim=1, keepdim=True)  # (B, 1, H, W): the channel with the strongest gradient
    mag, gx, gy = (t.gather(1, best).squeeze(1) for t in (mag, gx, gy))  # (B, H, W) each
    theta = torch.atan2(gy, gx) % math.pi  # (B, H, W), in [0, pi)
    pos = theta / (math.pi / bins)  # (B, H, W): bin k is centred at k * pi / bins
    low = pos.floor()
    frac = pos - low  # share of the vote that goes to the next bin up
    low = low.long() % bins
    high = (low + 1) % bins
    votes = torch.zeros(B, bins, H, W, dtype=images.dtype, device=images.device)
    votes.scatter_add_(1, low.unsqueeze(1), (mag * (1 - frac)).unsqueeze(1))
    votes.scatter_add_(1, high.unsqueeze(1), (mag * frac).unsqueeze(1))  # (B, bins, H, W)
    return F.avg_pool2d(votes, cell) * cell * cell  # (B, bins, H / cell, W / cell): sums over each cell


def hog(images: torch.Tensor, *, cell: int = 8, bins: int = 9, block: int = 2, eps: float = 1e-3,
        clip: float = 0.2) -> torch.Tensor:
    r"""HOG feature vectors: cell histograms, normalised over overlapping ``block`` x ``block`` blocks (L2-Hys).

    A constant image (no gradient anywhere) gives an all-zero vector, never NaN.

    Shapes: images (B, C, H, W) -> (B, bins * block**2 * (H/cell - block + 1) * (W/cell - block + 1)).
    """
    hist = orientation_histograms(images, cell=cell, bins=bins)  # (B, bins, h, w)
    B, K, h, w = hist.shape
    if not 1 <= block <= min(h, w):
        raise ValueError(f"block must be in 1..{min(h, w)} for {h} x {w} cells, got {block}")
    blocks = F.unfold(hist, block)  # (B, K block^2, nb)
    blocks = blocks.transpose(1, 2)  # (B, nb, K block^2)
    blocks = blocks / torch.sqrt((blocks**2).sum(-1, keepdim=True) + eps**2)
    blocks = blocks.clamp(max=clip)
    blocks = blocks / torch.sqrt((blocks**2).sum(-1, keepdim=True) + eps**2)
    return blocks.flatten(1)  # (B, nb K block^2)


__all__ = ["image_gradients", "orientation_histograms", "hog"]

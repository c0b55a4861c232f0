"""Tests of the HOG features (e2t.hog)."""

import math

import pytest
import torch

from e2t import hog


def _edge(vertical: bool, size: int = 16) -> torch.Tensor:
    img = torch.zeros(1, 1, size, size)
    if vertical:
        img[..., size // 2:] = 1.0  # dark left half, bright right half: the gradient points along x
    else:
        img[..., size // 2:, :] = 1.0  # the gradient points along y
    return img


def test_gradients_hand_computed():
    img = torch.tensor([[[[0.0, 1.0, 4.0], [0.0, 1.0, 4.0], [0.0, 1.0, 4.0]]]])
    gx, gy = hog.image_gradients(img)
    assert gx[0, 0, 1].tolist() == [1.0, 4.0, 3.0]  # replicated edges: (1-0), (4-0), (4-1)
    assert gy.abs().sum() == 0


def test_vertical_edge_votes_in_bin_zero_and_horizontal_edge_in_the_middle_bin():
    h = hog.orientation_histograms(_edge(True), cell=8, bins=8)  # (1, 8, 2, 2)
    per_bin = h.sum(dim=(0, 2, 3))
    assert float(per_bin[0]) > 0 and float(per_bin[1:].abs().sum()) == 0.0
    h = hog.orientation_histograms(_edge(False), cell=8, bins=8)
    per_bin = h.sum(dim=(0, 2, 3))
    assert float(per_bin[4]) > 0 and float(per_bin.sum() - per_bin[4]) == 0.0  # 90 degrees = bin 4 of 8


def test_votes_split_linearly_between_neighbouring_bins():
    # A ramp at 45 degrees: with 6 bins (centres 0, 30, 60, ...) the vote splits 1/2 : 1/2 between 30 and 60.
    y, x = torch.meshgrid(torch.arange(8.0), torch.arange(8.0), indexing="ij")
    img = (x + y).view(1, 1, 8, 8)
    h = hog.orientation_histograms(img, cell=8, bins=6)[0, :, 0, 0]
    inner = h / h.sum()
    assert abs(float(inner[1]) - float(inner[2])) < 0.02 and float(inner[1] + inner[2]) > 0.9


def test_colour_uses_the_strongest_channel():
    img = torch.zeros(1, 3, 8, 8)
    img[:, 2, :, 4:] = 1.0  # only the blue channel has an edge
    h = hog.orientation_histograms(img, cell=8, bins=4)
    assert float(h[0, 0].sum()) == pytest.approx(16.0)  # columns 3 and 4 have gx = 1, on 8 rows
    assert float(h[0, 1:].sum()) == 0.0


def test_rotation_by_90_degrees_shifts_the_histogram_by_half_the_bins():
    g = torch.Generator().manual_seed(0)
    img = torch.rand(1, 1, 16, 16, generator=g)
    a = hog.orientation_histograms(img, cell=16, bins=8)[0, :, 0, 0]
    b = hog.orientation_histograms(torch.rot90(img, 1, dims=(2, 3)), cell=16, bins=8)[0, :, 0, 0]
    torch.testing.assert_close(torch.roll(a, 4), b, atol=1e-4, rtol=1e-4)


def test_hog_shape_norm_and_no_nan_on_a_constant_image():
    x = torch.rand(3, 3, 32, 32)
    f = hog.hog(x, cell=8, bins=9, block=2)
    assert f.shape == (3, 9 * 4 * 3 * 3)
    blocks = f.view(3, 9, 36)
    assert float(blocks.norm(dim=-1).max()) <= 1.0 + 1e-5 and float(blocks.max()) <= 0.2 / 0.2 + 1e-6
    z = hog.hog(torch.full((2, 3, 32, 32), 0.5))
    assert torch.isfinite(z).all() and float(z.abs().sum()) == 0.0
    assert not math.isnan(float(hog.hog(x).sum()))


def test_bad_arguments():
    with pytest.raises(ValueError, match="cells of 5 pixels"):
        hog.hog(torch.rand(1, 1, 32, 32), cell=5)
    with pytest.raises(ValueError, match="images must have 4 dimensions"):
        hog.hog(torch.rand(32, 32))
    with pytest.raises(ValueError, match="block must be"):
        hog.hog(torch.rand(1, 1, 16, 16), cell=8, block=3)

"""Exercises of chapter 1: HOG's image gradients, SegNet's unpooling, orientation bins, an autoencoder's code size.

Introduced in: chapter 1.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..hog import image_gradients, orientation_histograms
from .answers import as_index_list, as_mapping, as_number
from .core import Case, fail, make_generator, register, run_cases

__all__ = ["gradient_cases", "unpool_cases", "reference_unpool", "edge_images"]


def gradient_cases() -> list[Case]:
    """Hidden cases of exercise 1.1 (bars away from the border first, then the border cases)."""
    g = make_generator(11)
    bar = torch.zeros(1, 1, 6, 6, dtype=torch.float64)
    bar[..., 2:4, 1:5] = 1.0  # a bright bar inside the image; every border pixel is 0
    border = "At the border the package repeats the edge pixel (F.pad(..., mode='replicate')): the first column's " \
             "g_x is I(1) - I(0), not I(1) - 0."
    axes = "g_x runs along the width (the last axis, x) and g_y along the height (y): did you swap them?"
    return [
        Case("a lying bar away from the border", (bar,), hint=axes),
        Case("a standing bar away from the border", (bar.transpose(-1, -2).contiguous(),), hint=axes),
        Case("a constant image: no gradient anywhere, the border included", (torch.full((1, 2, 4, 4), 0.7),),
             hint=border),
        Case("random images (2, 3, 5, 6), float64", (torch.rand(2, 3, 5, 6, generator=g, dtype=torch.float64),),
             hint=border),
        Case("one row of pixels (1, 1, 1, 5)", (torch.rand(1, 1, 1, 5, generator=g),), hint=border),
        Case("one column of pixels (1, 1, 5, 1)", (torch.rand(1, 1, 5, 1, generator=g),), hint=border),
        Case("a batch of 4 float32 images (4, 3, 8, 8)", (torch.rand(4, 3, 8, 8, generator=g),), hint=border),
    ]


@register("1.1", title="Image gradients for HOG", kind="implement", short="image gradients")
def _check_gradients(fn) -> str:
    return run_cases("1.1", "image gradients", fn, image_gradients, gradient_cases(), arg_names=("images",),
                     out_names=("gx", "gy"),
                     hint="Centred differences g_x = I(x+1, y) - I(x-1, y) and g_y = I(x, y+1) - I(x, y-1) for every "
                          "channel, with the edge pixels repeated at the border; return (gx, gy), each (B, C, H, W).")


def reference_unpool(z: torch.Tensor, indices: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """What SegNet's decoder does (``e2t.cnn.SegNet.decode``): ``F.max_unpool2d`` with the pooling indices."""
    return F.max_unpool2d(z, indices, 2, output_size=size)  # (B, C, H, W)


def unpool_cases() -> list[Case]:
    """Hidden cases of exercise 1.2: pooled maps with their indices, from ``F.max_pool2d``."""
    g = make_generator(12)

    def pooled(x):
        z, idx = F.max_pool2d(x, 2, return_indices=True)
        return (z, idx, tuple(x.shape[-2:]))

    chapter = torch.tensor([[1., 5., 2., 0.], [3., 4., 8., 1.], [0., 2., 1., 1.], [7., 1., 3., 6.]]).view(1, 1, 4, 4)
    return [
        Case("the chapter's 4 x 4 example", pooled(chapter)),
        Case("random maps (2, 3, 4, 6), float64", pooled(torch.randn(2, 3, 4, 6, generator=g, dtype=torch.float64))),
        Case("negative values only", pooled(-torch.rand(1, 2, 4, 4, generator=g) - 1),
             hint="The positions that did not hold a maximum get 0, whatever the values: fill with zeros, not "
                  "with -inf or the minimum."),
        Case("an odd size, 5 x 5 (the last row and column were never pooled)",
             pooled(torch.randn(1, 1, 5, 5, generator=g))),
        Case("a batch of 3 float32 maps (3, 2, 8, 8)", pooled(torch.randn(3, 2, 8, 8, generator=g))),
    ]


@register("1.2", title="SegNet's unpooling", kind="implement", short="unpooling")
def _check_unpool(fn) -> str:
    return run_cases("1.2", "unpooling", fn, reference_unpool, unpool_cases(), arg_names=("z", "indices", "size"),
                     out_names=("the unpooled map",),
                     hint="Each value goes back to the one pixel its index names (indices count positions in the "
                          "flattened H x W map of its channel), every other pixel is 0: start from zeros of shape "
                          "(B, C, H * W) and scatter_ the values along the last axis, then reshape to (B, C, H, W). "
                          "Copying each value into its whole 2 x 2 window is nearest-neighbour upsampling, not "
                          "unpooling.")


def edge_images() -> dict[str, torch.Tensor]:
    """The four 8 x 8 grey images of exercise 1.3, each (1, 1, 8, 8)."""
    step = torch.zeros(1, 1, 8, 8)
    step[..., 4:] = 1.0  # dark left half, bright right half
    return {"a": step, "b": 1.0 - step, "c": step.transpose(-1, -2).contiguous(), "d": torch.full((1, 1, 8, 8), 0.5)}


_WHY_BINS = {
    "a": "a vertical edge has g_y = 0 and g_x > 0, so theta = atan2(0, g_x) = 0: bin 0, centred at 0.",
    "b": "bright-to-dark flips the sign of g_x, so atan2 gives pi; HOG's orientation is unsigned (theta mod pi), so "
         "the votes land in bin 0 again: a dark-bright and a bright-dark edge look the same.",
    "c": "a horizontal edge has g_x = 0, theta = pi/2 = 4.5 bin widths (pi/9 each): exactly between the centres of "
         "bins 4 and 5, so each gets half the vote.",
    "d": "a flat image has no gradient: every magnitude is 0 and no bin gets anything.",
}


@register("1.3", title="Which orientation bins vote?", kind="predict", short="orientation bins")
def _check_bins(answer) -> str:
    answer = as_mapping("1.3", answer, ("a", "b", "c", "d"), "the bins of images a, b, c and d")
    for key, image in edge_images().items():
        votes = orientation_histograms(image, cell=8, bins=9)[0, :, 0, 0]  # (9,)
        truth = [k for k in range(9) if float(votes[k]) > 1e-6]
        mine = as_index_list("1.3", answer[key], f"the bins of image {key}")
        if mine != truth:
            raise AssertionError(f"1.3 orientation bins: image {key!r}: you predicted bins {mine}; "
                                 f"orientation_histograms gives votes to bins {truth}.\n  why: {_WHY_BINS[key]}")
    return "1.3 orientation bins: your prediction matches orientation_histograms for all four images"


@register("1.4", title="Shrink the autoencoder's code", kind="experiment", short="code size")
def _check_code_size(answer) -> str:
    answer = as_mapping("1.4", answer, (1, 8), "held-out reconstruction errors by code channels")
    mse_1, mse_8 = (as_number("1.4", answer[c], f"the MSE with {c} code channel(s)") for c in (1, 8))
    if not (0 < mse_8 < 0.1 and 0 < mse_1 < 0.2):
        fail("1.4 code size", f"these do not look like mean squared errors of images in [0, 1]: {mse_1}, {mse_8}",
             "Average ((model(X_test) - X_test) ** 2) over held-out images, with the model in eval mode.")
    if not mse_1 > 1.2 * mse_8:
        fail("1.4 code size", f"the 64-number code (1 channel) reconstructs about as well as the 512-number code "
             f"(8 channels): MSE {mse_1:.4g} vs {mse_8:.4g}; expected clearly worse (more than 1.2x).",
             "Train both for the same number of steps on the same images, and measure on held-out images.")
    return "1.4 code size: the 1-channel code reconstructs clearly worse than the 8-channel one (error ratio above 1.2)"

"""e2t.scaling: the spread of q.k grows like sqrt(d); the scale keeps the softmax soft."""

import json
import math
import os
import subprocess
import sys

import pytest
import torch

import e2t
from e2t.scaling import WIDTHS, dot_product_stats, sample_scores, softmax_jacobian_fro
from e2t.viz.scaling import draw_scaling, scaling_explorer


@pytest.fixture(autouse=True)
def _one_thread():
    e2t.set_seed(0)


def test_jacobian_norm_matches_the_matrix():
    p = torch.softmax(torch.randn(3, 5, dtype=torch.float64), -1)
    for row, value in zip(p, softmax_jacobian_fro(p)):
        J = torch.diag(row) - row[:, None] * row[None, :]
        torch.testing.assert_close(value, torch.linalg.matrix_norm(J))
    assert float(softmax_jacobian_fro(torch.tensor([0.0, 1.0, 0.0]))) == 0.0
    # and it is the autograd Jacobian of the softmax
    z = torch.randn(4, dtype=torch.float64)
    J = torch.autograd.functional.jacobian(lambda x: torch.softmax(x, 0), z)
    torch.testing.assert_close(softmax_jacobian_fro(torch.softmax(z, 0)), torch.linalg.matrix_norm(J))


@pytest.mark.parametrize("d", [4, 64, 256])
def test_raw_spread_is_sqrt_d_and_scaled_spread_is_one(d):
    raw = dot_product_stats(d, samples=400)
    scaled = dot_product_stats(d, samples=400, scaled=True)
    assert abs(raw["score_std"] / math.sqrt(d) - 1) < 0.1
    assert abs(scaled["score_std"] - 1) < 0.1


def test_without_scale_the_softmax_saturates_as_d_grows():
    small, big = dot_product_stats(2), dot_product_stats(512)
    assert big["max_weight"] > 0.9 > small["max_weight"]
    assert big["entropy"] < 0.3 * small["entropy"]
    assert big["grad_norm"] < 0.4 * small["grad_norm"]
    s_small, s_big = dot_product_stats(2, scaled=True), dot_product_stats(512, scaled=True)
    assert abs(s_big["entropy"] - s_small["entropy"]) < 0.1
    assert abs(s_big["grad_norm"] - s_small["grad_norm"]) < 0.05


def test_bad_widths():
    with pytest.raises(ValueError, match="d must"):
        dot_product_stats(0)
    with pytest.raises(ValueError, match="n_keys"):
        dot_product_stats(4, n_keys=1)


def test_widget_draws_and_covers_every_width():
    fig = draw_scaling(16)
    assert len(fig.axes) == 3
    ex = scaling_explorer()
    assert ex.controls[0].values == WIDTHS
    assert ex.render(d=8)[:4] == b"\x89PNG"


def test_sample_scores_are_the_same_with_the_lowest_kernels():
    """The browser twin embeds these scores as the executing machine drew them; the site check recomputes them
    on its own machine, so they must not depend on the instruction set (float32 draws did, by up to 3e-5)."""
    code = ("import json; from e2t.scaling import sample_scores; "
            "print(json.dumps([sample_scores(d, 16, 0)[0][0].tolist() for d in (4, 64, 1024)]))")
    env = {**os.environ, "ATEN_CPU_CAPABILITY": "default", "MKL_ENABLE_INSTRUCTIONS": "SSE4_2"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    lowest = torch.tensor(json.loads(out), dtype=torch.float64)
    here = torch.stack([sample_scores(d, 16, 0)[0][0] for d in (4, 64, 1024)])
    assert here.dtype == torch.float64
    assert float((here - lowest).abs().max()) <= 1e-12

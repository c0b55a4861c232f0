"""e2t.data.patches: the visual-search images of chapter 4."""

import pytest
import torch

import e2t

from e2t.data.images import SHAPES
from e2t.data.patches import patch_search, to_patches


@pytest.fixture(autouse=True)
def _one_thread():
    e2t.set_seed(0)  # one torch thread: the machine is shared


def test_shapes_labels_and_reproducibility():
    data = patch_search(32, grid=4, patch=10, seed=3)
    assert data.images.shape == (32, 1, 40, 40)
    assert data.labels.shape == data.target.shape == (32,)
    assert data.occupied.shape == (32, 16)
    assert 0 <= float(data.images.min()) and float(data.images.max()) <= 1
    assert int(data.labels.max()) < len(SHAPES)
    torch.testing.assert_close(patch_search(32, seed=3).images, data.images)
    assert not torch.equal(patch_search(32, seed=4).images, data.images)


def test_target_is_occupied_and_distractor_count_in_range():
    data = patch_search(200, distractors=(2, 5), seed=0)
    assert bool(data.occupied.gather(1, data.target[:, None]).all())
    counts = data.occupied.sum(1) - 1
    assert int(counts.min()) >= 2 and int(counts.max()) <= 5
    assert len(set(counts.tolist())) > 1


def test_only_the_target_has_a_closed_frame():
    data = patch_search(64, noise=0.0, seed=1)
    cells = to_patches(data.images, data.patch).view(64, 16, 10, 10)
    bright = cells > 0.85
    closed = bright[:, :, 0, :].all(-1) & bright[:, :, -1, :].all(-1) & bright[:, :, :, 0].all(-1) \
        & bright[:, :, :, -1].all(-1)  # (B, N)
    assert torch.equal(closed.float().argmax(1), data.target)
    assert torch.equal(closed.sum(1), torch.ones(64, dtype=torch.long))
    # decoys: every other occupied cell has exactly three sides
    sides = torch.stack([bright[:, :, 0, 1:-1].all(-1), bright[:, :, -1, 1:-1].all(-1),
                         bright[:, :, 1:-1, 0].all(-1), bright[:, :, 1:-1, -1].all(-1)], -1).sum(-1)
    decoy = data.occupied & ~closed
    assert bool((sides[decoy] == 3).all())
    assert bool((sides[~data.occupied] == 0).all())


def test_to_patches_is_row_major_and_invertible():
    images = torch.arange(2 * 3 * 4 * 6, dtype=torch.float32).view(2, 3, 4, 6)
    p = to_patches(images, 2)
    assert p.shape == (2, 6, 12)
    torch.testing.assert_close(p[0, 1], images[0, :, 0:2, 2:4].reshape(-1))
    torch.testing.assert_close(p[1, 5], images[1, :, 2:4, 4:6].reshape(-1))


@pytest.mark.parametrize("kwargs, match", [({"n": 0}, "n must"), ({"n": 2, "grid": 1}, "grid"),
                                            ({"n": 2, "patch": 5}, "patch"),
                                            ({"n": 2, "distractors": (3, 16)}, "distractors"),
                                            ({"n": 2, "noise": -1.0}, "noise")])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        patch_search(**kwargs)


def test_to_patches_rejects_bad_sizes():
    with pytest.raises(ValueError, match="patches"):
        to_patches(torch.zeros(1, 1, 10, 10), 3)
    with pytest.raises(ValueError, match="images"):
        to_patches(torch.zeros(10, 10), 2)

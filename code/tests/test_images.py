"""Tests of the image generators (e2t.data.images) and the reply task (e2t.data.replies)."""

import pytest
import torch

from e2t.data import images, replies


@pytest.mark.parametrize("make", [
    lambda seed: images.classification_images(40, seed=seed),
    lambda seed: images.segmentation_scenes(40, seed=seed),
    lambda seed: images.caption_scenes(40, seed=seed),
])
def test_generators_are_deterministic_per_seed(make):
    a, b, c = make(3), make(3), make(4)
    assert torch.equal(a[0], b[0]) and not torch.equal(a[0], c[0])
    if isinstance(a[1], torch.Tensor):
        assert torch.equal(a[1], b[1])
    else:
        assert a[1] == b[1]


def test_shapes_ranges_and_dtypes():
    x, y = images.classification_images(50, size=32, seed=0)
    assert x.shape == (50, 3, 32, 32) and x.dtype == torch.float32 and y.shape == (50,)
    assert 0.0 <= float(x.min()) and float(x.max()) <= 1.0
    assert set(y.tolist()) <= set(range(len(images.SHAPES)))
    x, m = images.segmentation_scenes(50, size=48, seed=0)
    assert x.shape == (50, 3, 48, 48) and m.shape == (50, 48, 48) and m.dtype == torch.long
    assert set(m.unique().tolist()) == {0, 1, 2, 3}


def test_shape_masks_hand_checked():
    kind = torch.tensor([0, 1, 2, 3])
    c = torch.full((4,), 8.0)
    masks = images.shape_masks(kind, c, c, torch.full((4,), 5.0), size=16)
    area = masks.flatten(1).sum(1)
    assert abs(int(area[0]) - 3.14159 * 25) < 8  # circle of radius 5
    assert int(area[1]) == 64  # square of half-side 0.85 * 5 = 4.25 -> 8 x 8 pixel centres
    assert masks[:, 8, 8].all()  # every shape covers its centre
    assert not masks[:, 0, 0].any()  # and no shape reaches the corner
    tri = masks[2]
    assert tri[3:8].sum() < tri[9:13].sum()  # the triangle widens downwards
    with pytest.raises(ValueError, match="kind must index SHAPES"):
        images.shape_masks(torch.tensor([7]), c[:1], c[:1], c[:1], size=16)


def test_segmentation_masks_match_painted_pixels_and_occlusion_happens():
    x, m = images.segmentation_scenes(200, noise=0.0, seed=5)
    # Without noise, object pixels are bright (value >= 0.7) and background pixels are dark (<= 0.35).
    brightest = x.max(dim=1).values  # (B, H, W)
    assert bool((brightest[m > 0] >= 0.69).all()) and bool((brightest[m == 0] <= 0.36).all())
    # Occlusion: some scene shows fewer whole shapes than it drew, i.e. a class region is cut by another class.
    x2, m2 = images.segmentation_scenes(400, noise=0.0, max_objects=4, seed=6)
    per_image_classes = torch.stack([(m2 == k).flatten(1).any(1) for k in range(1, 4)], 1).sum(1)
    assert int(per_image_classes.max()) == 3
    fractions = images.class_pixel_fractions(m2, 4)
    assert abs(float(fractions.sum()) - 1.0) < 1e-6 and float(fractions[0]) > 0.5


def test_caption_scenes_describe_columns_left_to_right():
    x, caps = images.caption_scenes(300, noise=0.0, seed=1)
    vocab = images.caption_vocab()
    lengths = set()
    for img, cap in zip(x, caps):
        objects = [cap[i:i + 3] for i in range(0, len(cap), 4)]
        assert all(cap[i] == "and" for i in range(3, len(cap), 4))
        cols = [images.COLUMNS.index(o[2]) for o in objects]
        assert cols == sorted(cols) and len(set(cols)) == len(cols)
        lengths.add(len(objects))
        bright = img.max(0).values > 0.6  # (H, W)
        w = img.shape[-1] / 3
        for c in range(3):
            inside = bright[:, int(c * w) + 1:int((c + 1) * w) - 1].any()
            assert bool(inside) == (c in cols)
        assert vocab.decode(vocab.encode(cap, bos=True, eos=True)) == cap
    assert lengths == {1, 2, 3}


def test_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match="n must be"):
        images.classification_images(0)
    with pytest.raises(ValueError, match="size must be"):
        images.segmentation_scenes(3, size=4)
    with pytest.raises(ValueError, match="max_objects"):
        images.caption_scenes(3, max_objects=5)


def test_vocab_round_trip_and_padding():
    v = replies.Vocab(["a", "b", "c"])
    assert len(v) == 7 and v.encode(["a", "zzz"]) == [4, v.unk]
    ids, lengths = v.pad_batch([["a"], ["b", "c", "a"]], bos=True, eos=True)
    assert ids.tolist() == [[1, 4, 2, 0, 0], [1, 5, 6, 4, 2]] and lengths.tolist() == [3, 5]
    assert v.decode([1, 5, 6, 2, 4]) == ["b", "c"]
    with pytest.raises(ValueError, match="empty"):
        v.pad_batch([[]])


def test_reply_pairs_are_deterministic_cover_intents_and_follow_the_rules():
    a, b = replies.reply_pairs(200, seed=3), replies.reply_pairs(200, seed=3)
    assert a == b and a != replies.reply_pairs(200, seed=4)
    assert {p.intent for p in a} == set(replies.INTENTS)
    vocab = replies.reply_vocab()
    for p in a:
        assert vocab.unk not in vocab.encode(p.email + p.reply)
        if p.intent == "meeting":
            assert (p.reply[0] == "sorry") == (p.day in replies.WEEKEND)
        if p.day is not None:
            assert p.day in p.email and p.day in p.reply
    held_out = replies.reply_pairs(100, seed=9, exclude=a)
    assert not {p.email for p in held_out} & {p.email for p in a}

"""Tests of the convolutional models (e2t.cnn): SegNet unpooling, shapes, IoU, probes, a few training steps."""

import pytest
import torch
import torch.nn.functional as F

import e2t
from e2t import cnn, train
from e2t.data import images


def test_max_unpool_puts_every_maximum_back_where_it_was():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(2, 3, 8, 8, generator=g)
    pooled, idx = F.max_pool2d(x, 2, return_indices=True)
    restored = F.max_unpool2d(pooled, idx, 2, output_size=x.shape[-2:])
    kept = restored != 0
    assert int(kept.sum()) == pooled.numel()  # one position per 2x2 window
    torch.testing.assert_close(restored[kept], x[kept])  # the maxima, in their own places
    windows = kept.view(2, 3, 4, 2, 4, 2).sum(dim=(3, 5))
    assert bool((windows == 1).all())


def test_segnet_shapes_and_that_its_decoder_unpools_at_the_encoder_indices():
    e2t.set_seed(0)
    model = cnn.make_segnet(cnn.SegNetConfig(widths=(4, 8), num_classes=5)).eval()
    x = torch.rand(3, 3, 16, 16)
    code = model.encode(x)
    assert code.z.shape == (3, 8, 4, 4) and [i.shape for i in code.indices] == [(3, 4, 8, 8), (3, 8, 4, 4)]
    assert [tuple(s) for s in code.sizes] == [(3, 4, 16, 16), (3, 8, 8, 8)]
    assert model(x).shape == (3, 5, 16, 16)
    # The first unpooling of the decoder writes non-zeros only where the deepest encoder stage had its maxima.
    seen = {}
    hook = model.decoder[0].register_forward_pre_hook(lambda m, args: seen.setdefault("in", args[0]))
    model(x)
    hook.remove()
    up = seen["in"]  # (3, 8, 8, 8), the unpooled code
    mask = torch.zeros_like(up, dtype=torch.bool).flatten(2)
    mask.scatter_(2, code.indices[-1].flatten(2), True)
    assert bool((up.flatten(2)[~mask] == 0).all())


def test_segnet_rejects_bad_images():
    model = cnn.make_segnet(cnn.SegNetConfig(widths=(4, 8)))
    with pytest.raises(ValueError, match="divisible by 4"):
        model(torch.rand(1, 3, 10, 10))
    with pytest.raises(ValueError, match="images have 1 channels"):
        model(torch.rand(1, 1, 16, 16))


def test_mean_iou_hand_computed_and_degenerate():
    truth = torch.tensor([[[0, 0, 1, 1]]])
    pred = torch.tensor([[[0, 1, 1, 1]]])
    miou, per = cnn.mean_iou(pred, truth, 3)
    assert per[0] == pytest.approx(0.5) and per[1] == pytest.approx(2 / 3) and per[2] != per[2]  # NaN: absent
    assert miou == pytest.approx((0.5 + 2 / 3) / 2)
    assert cnn.mean_iou(pred, pred, 3)[0] == 1.0
    with pytest.raises(ValueError, match="pred has shape"):
        cnn.mean_iou(pred, truth[..., :2], 3)


def test_a_few_segnet_steps_lower_the_loss():
    e2t.set_seed(0)
    x, m = images.segmentation_scenes(64, size=16, seed=0)
    model = cnn.make_segnet(cnn.SegNetConfig(widths=(8, 8)))
    h = train.fit(model, cnn.segmentation_loss, [(x, m)], steps=30, lr=1e-2, progress=False)
    assert sum(h.losses[-5:]) / 5 < 0.7 * sum(h.losses[:5]) / 5


def test_conv_encoder_and_classifier_shapes():
    enc = cnn.ConvEncoder(cnn.ConvEncoderConfig(widths=(4, 8), image_size=16, d_out=10, pool="flatten"))
    assert enc(torch.rand(2, 3, 16, 16)).shape == (2, 10)
    with pytest.raises(ValueError, match="16 pixels wide"):
        enc(torch.rand(2, 3, 32, 32))
    with pytest.raises(ValueError, match="pool must be"):
        cnn.ConvEncoder(cnn.ConvEncoderConfig(pool="max"))
    clf = cnn.make_cnn_classifier(cnn.CNNClassifierConfig(num_classes=3))
    assert clf(torch.rand(2, 3, 32, 32)).shape == (2, 3)


def test_linear_probe_separates_separable_features_and_takes_raw_features():
    g = torch.Generator().manual_seed(0)
    y = torch.randint(3, (300,), generator=g)
    x = torch.randn(300, 5, generator=g) * 0.3 + 100.0  # far from 0: standardising is needed and folded in
    x[:, 0] += y.float() * 2.0
    layer = cnn.fit_linear_probe(x, y, num_classes=3, steps=200)
    assert float((layer(x).argmax(1) == y).float().mean()) > 0.95
    with pytest.raises(ValueError, match="train_y has shape"):
        cnn.fit_linear_probe(x, y[:5], num_classes=3)


def test_autoencoder_shapes_and_a_few_steps_lower_the_loss():
    e2t.set_seed(0)
    model = cnn.make_conv_autoencoder(cnn.ConvAutoencoderConfig(widths=(8, 8), code_channels=4))
    x, _ = images.segmentation_scenes(64, size=16, seed=0)
    assert model.encode(x).shape == (64, 4, 4, 4) and model(x).shape == x.shape
    h = train.fit(model, cnn.reconstruction_loss, [x], steps=40, lr=1e-2, progress=False)
    assert sum(h.losses[-5:]) < 0.7 * sum(h.losses[:5])

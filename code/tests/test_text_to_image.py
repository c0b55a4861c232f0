"""The RNN-encoder / CNN-decoder sketch of chapter 1: shapes, clear errors, and it learns to follow the caption."""

from __future__ import annotations

import pytest
import torch

import e2t
from e2t import train
from e2t.data import images
from e2t.text_to_image import TextToImageConfig, drawing_loss, make_text_to_image, text_image_batches


@pytest.fixture(scope="module")
def data():
    vocab = images.caption_vocab()
    X, caps = images.caption_scenes(400, seed=21)
    tokens, lengths = vocab.pad_batch(caps)
    return vocab, X, tokens, lengths


def test_shapes_and_range(data):
    vocab, X, tokens, lengths = data
    e2t.set_seed(0)
    model = make_text_to_image({"vocab_size": len(vocab)})
    out = model(tokens[:5], lengths[:5])
    assert out.shape == (5, 3, 32, 32)
    assert float(out.detach().min()) > 0 and float(out.detach().max()) < 1
    wide = make_text_to_image(TextToImageConfig(vocab_size=len(vocab), widths=(8, 8, 8), image_size=64))
    assert wide(tokens[:2], lengths[:2]).shape == (2, 3, 64, 64)


def test_padding_does_not_change_the_drawing(data):
    vocab, X, tokens, lengths = data
    e2t.set_seed(0)
    model = make_text_to_image(TextToImageConfig(vocab_size=len(vocab))).eval()
    padded = torch.cat([tokens[:3], torch.zeros(3, 4, dtype=torch.long)], dim=1)
    assert torch.allclose(model(tokens[:3], lengths[:3]), model(padded, lengths[:3]), atol=1e-6)


def test_bad_input_names_the_argument(data):
    vocab, X, tokens, lengths = data
    model = make_text_to_image(TextToImageConfig(vocab_size=len(vocab)))
    with pytest.raises(ValueError, match="src holds ids"):
        model(tokens[:2] + len(vocab), lengths[:2])
    with pytest.raises(ValueError, match="lengths has 3 entries"):
        model(tokens[:2], lengths[:3])
    with pytest.raises(ValueError, match="target has shape"):
        drawing_loss(model, (tokens[:2], lengths[:2], X[:2, :, :16]))
    with pytest.raises(ValueError, match="image_size must be a multiple"):
        TextToImageConfig(vocab_size=10, image_size=30)
    with pytest.raises(ValueError, match="same length"):
        next(text_image_batches(tokens[:3], lengths[:2], X[:3]))


def test_it_learns_to_follow_the_caption(data):
    """After a short training, a drawing is closer to its own scene than to another caption's drawing."""
    vocab, X, tokens, lengths = data
    e2t.set_seed(0)
    model = make_text_to_image(TextToImageConfig(vocab_size=len(vocab)))
    train_part, test_part = slice(0, 300), slice(300, 400)
    batches = text_image_batches(tokens[train_part], lengths[train_part], X[train_part], seed=0)
    history = train.fit(model, drawing_loss, batches, steps=150, lr=3e-3)
    assert history.losses[-1] < 0.7 * history.losses[0]
    model.eval()
    with torch.no_grad():
        drawn = model(tokens[test_part], lengths[test_part])
    own = ((drawn - X[test_part]) ** 2).mean((1, 2, 3))
    other = ((drawn.roll(1, 0) - X[test_part]) ** 2).mean((1, 2, 3))
    assert float((own < other).float().mean()) > 0.6

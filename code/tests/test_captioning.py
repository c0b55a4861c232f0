"""Tests of the CNN-encoder / GRU-decoder captioner (e2t.captioning) and its checkpoint job."""

import json

import torch

import e2t
from e2t import captioning, checkpoints, train
from e2t.data import images


def test_captioner_shapes_and_batches():
    vocab = images.caption_vocab()
    model = captioning.make_captioner(captioning.CaptionerConfig(vocab_size=len(vocab)))
    x, caps = images.caption_scenes(8, seed=0)
    batch = next(captioning.caption_batches(x, caps, vocab, batch_size=5))
    assert batch[0].shape == (5, 3, 32, 32) and batch[1].shape == batch[2].shape
    assert bool((batch[1][:, 0] == vocab.BOS).all())
    assert model(batch[0], batch[1]).shape == (*batch[1].shape, len(vocab))
    assert model.encode(x).shape == (8, model.config.encoder.d_out)
    out = captioning.greedy_captions(model, x, vocab)
    assert len(out) == 8 and all(len(c) <= model.config.max_caption_len for c in out)


def test_a_few_captioner_steps_lower_the_loss():
    e2t.set_seed(0)
    vocab = images.caption_vocab()
    x, caps = images.caption_scenes(64, seed=0)
    model = captioning.make_captioner(captioning.CaptionerConfig(vocab_size=len(vocab)))
    batch = next(captioning.caption_batches(x, caps, vocab, batch_size=64))
    h = train.fit(model, captioning.caption_loss, [batch], steps=30, lr=5e-3, progress=False)
    assert sum(h.losses[-5:]) < 0.6 * sum(h.losses[:5])


def test_checkpoint_job_quick_writes_a_loadable_checkpoint(tmp_path):
    card = captioning.checkpoint_job(quick=True, directory=tmp_path)
    assert card["steps"] == 5 and set(card["metrics"]) >= {"exact_match", "bleu"}
    saved = json.loads((tmp_path / "ch1_captioner.json").read_text())
    model = captioning.make_captioner(captioning.CaptionerConfig(vocab_size=len(images.caption_vocab())))
    checkpoints.load_checkpoint(model, "ch1_captioner", directory=tmp_path)
    assert saved["parameters"] == sum(p.numel() for p in model.parameters())
    assert torch.isfinite(next(model.parameters())).all()

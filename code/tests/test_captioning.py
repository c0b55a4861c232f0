"""Tests of the CNN-encoder / GRU-decoder captioner (e2t.captioning) and its recipe (e2t.recipes.captioning)."""

import json

import torch

import e2t
from e2t import captioning
from e2t.data import images
from e2t.recipes import captioning as recipe
from e2t.train import checkpoints, fit
from e2t.train.losses import teacher_forced_loss


def test_captioner_shapes_and_batches():
    vocab = images.caption_vocab()
    model = captioning.make_captioner(captioning.CaptionerConfig(vocab_size=len(vocab)))
    x, caps = images.caption_scenes(8, seed=0)
    batch = next(captioning.caption_batches(x, caps, vocab, batch_size=5))
    assert batch.src.shape == (5, 3, 32, 32) and batch.tgt_in.shape == batch.tgt_out.shape
    assert batch.src_lengths is None  # an image has no source lengths
    assert bool((batch.tgt_in[:, 0] == vocab.bos).all())
    assert model(batch.src, None, batch.tgt_in).shape == (*batch.tgt_in.shape, len(vocab))
    assert model.encode(x).shape == (8, model.config.encoder.d_out)
    out = captioning.greedy_captions(model, x, vocab)
    assert len(out) == 8 and all(len(c) <= model.config.max_caption_len for c in out)


def test_captioner_steps_match_its_teacher_forced_forward():
    torch.manual_seed(0)
    vocab = images.caption_vocab()
    model = captioning.make_captioner(captioning.CaptionerConfig(vocab_size=len(vocab))).eval()
    x, caps = images.caption_scenes(3, seed=1)
    tgt_in = vocab.pad_batch(caps, bos=True)[0]  # (3, T)
    with torch.no_grad():
        full = model(x, None, tgt_in)  # (3, T, V)
        state = model.start(x)
        steps = []
        for t in range(tgt_in.shape[1]):
            logits, state = model.step(tgt_in[:, t], state)
            steps.append(logits)
    torch.testing.assert_close(torch.stack(steps, 1), full)


def test_a_few_captioner_steps_lower_the_loss():
    e2t.set_seed(0)
    vocab = images.caption_vocab()
    x, caps = images.caption_scenes(64, seed=0)
    model = captioning.make_captioner(captioning.CaptionerConfig(vocab_size=len(vocab)))
    batch = next(captioning.caption_batches(x, caps, vocab, batch_size=64))
    h = fit(model, teacher_forced_loss, [batch], steps=30, lr=5e-3, progress=False)
    assert sum(h.losses[-5:]) < 0.6 * sum(h.losses[:5])


def test_checkpoint_job_quick_writes_a_loadable_checkpoint(tmp_path):
    card = recipe.checkpoint_job(quick=True, directory=tmp_path)
    assert card["steps"] == 5 and set(card["metrics"]) >= {"exact_match", "bleu"}
    saved = json.loads((tmp_path / "ch1_captioner.json").read_text())
    model, loaded = checkpoints.load("ch1_captioner", captioning.make_captioner, directory=tmp_path)
    assert saved["parameters"] == sum(p.numel() for p in model.parameters()) and loaded == saved
    assert torch.isfinite(next(model.parameters())).all()

"""Tests of e2t.seq2seq: shapes for every cell, padding, teacher-forced training, decoding, the checkpoint job."""

import json

import pytest
import torch

import e2t
from e2t.data.text import Vocab, batches, collate, number_task
from e2t.recipes.seq2seq import TrainSettings, checkpoint_job, train_seq2seq
from e2t.seq2seq import CELLS, Encoder, Seq2SeqConfig, make_seq2seq
from e2t.train import checkpoints
from e2t.train.losses import teacher_forced_loss as seq2seq_loss
from e2t.train.translate import translator


@pytest.fixture(scope="module")
def task():
    return number_task()


def _small(task, **kw):
    return Seq2SeqConfig.for_task(task, d_embed=8, d_hidden=16, **kw)


@pytest.mark.parametrize("cell", sorted(CELLS))
@pytest.mark.parametrize("num_layers", [1, 2])
def test_shapes_for_every_cell(task, cell, num_layers):
    e2t.set_seed(0)
    model = make_seq2seq(_small(task, cell=cell, num_layers=num_layers))
    b = collate(task.train[100:105], task)
    logits = model(b.src, b.src_lengths, b.tgt_in)
    assert logits.shape == (5, b.tgt_in.shape[1], len(task.tgt_vocab))
    outputs, state = model.encoder(b.src, b.src_lengths)
    assert outputs.shape == (5, b.src.shape[1], 16)
    states = state if cell == "lstm" else (state,)
    assert all(s.shape == (5, num_layers, 16) for s in states)  # batch first
    # outputs are zero at padding; the last layer's state is the output at each row's last real token
    for i, n in enumerate(b.src_lengths.tolist()):
        assert torch.all(outputs[i, n:] == 0)
        torch.testing.assert_close(outputs[i, n - 1], states[0][i, -1])


def test_padding_does_not_change_the_encoder_vector(task):
    e2t.set_seed(0)
    enc = Encoder(vocab_size=len(task.src_vocab), d_embed=8, d_hidden=16, cell="gru")
    short, long = task.train[0], max(task.train[:50], key=lambda e: len(e.src))
    b = collate([short, long], task)
    alone = collate([short], task)
    torch.testing.assert_close(enc(b.src, b.src_lengths)[1][0], enc(alone.src, alone.src_lengths)[1][0])


def test_a_few_training_steps_lower_the_loss(task):
    config = _small(task)
    model, history = train_seq2seq(config, task, seed=0, settings=TrainSettings(steps=40, batch_size=32, lr=1e-2),
                                   progress=False)
    first, last = sum(history.losses[:5]) / 5, sum(history.losses[-5:]) / 5
    assert last < 0.8 * first
    # the same seed trains the same model
    again, _ = train_seq2seq(config, task, seed=0, settings=TrainSettings(steps=3, batch_size=32), progress=False)
    other, _ = train_seq2seq(config, task, seed=0, settings=TrainSettings(steps=3, batch_size=32), progress=False)
    assert all(torch.equal(p, q) for p, q in zip(again.parameters(), other.parameters()))


def test_teacher_forcing_loss_ignores_padding(task):
    e2t.set_seed(0)
    model = make_seq2seq(_small(task))
    short, long = task.train[0], max(task.train[:50], key=lambda e: len(e.tgt))
    alone = seq2seq_loss(model, collate([short], task))
    both = seq2seq_loss(model, collate([short, long], task))
    only_long = seq2seq_loss(model, collate([long], task))
    n_s, n_l = len(short.tgt) + 1, len(long.tgt) + 1
    torch.testing.assert_close(both, (alone * n_s + only_long * n_l) / (n_s + n_l))


def test_translate_greedy_and_beam(task):
    e2t.set_seed(0)
    model = make_seq2seq(_small(task, reverse_source=True))
    examples = list(task.valid[:7])
    greedy = translator(model, task, max_len=6)(examples)
    beam = translator(model, task, beam_size=3, max_len=6)(examples)
    one = translator(model, task, beam_size=1, max_len=6, batch_size=2)(examples)
    assert len(greedy) == len(beam) == 7 and greedy == one
    assert all(len(h) <= 6 and all(isinstance(t, str) for t in h) for h in greedy + beam)


def test_config_and_input_errors(task):
    with pytest.raises(ValueError, match="cell must be one of"):
        Seq2SeqConfig.for_task(task, cell="transformer")
    with pytest.raises(ValueError, match="d_hidden"):
        Seq2SeqConfig.for_task(task, d_hidden=0)
    model = make_seq2seq(_small(task))
    with pytest.raises(ValueError, match="src must have 2 dimensions"):
        model(torch.zeros(3, dtype=torch.long), torch.ones(3, dtype=torch.long), torch.zeros(3, 2, dtype=torch.long))
    with pytest.raises(ValueError, match="src_lengths must lie"):
        model(torch.zeros(2, 3, dtype=torch.long), torch.tensor([3, 4]), torch.zeros(2, 2, dtype=torch.long))
    with pytest.raises(ValueError, match="batch 2 but tgt_in has batch 3"):
        model(torch.zeros(2, 3, dtype=torch.long), torch.tensor([3, 2]), torch.zeros(3, 2, dtype=torch.long))


def test_checkpoint_job_quick_round_trip(tmp_path):
    card = checkpoint_job(quick=True, directory=tmp_path, names=("gru_twice",))
    assert card["name"] == "seq2seq_gru_baseline" and card["steps"] == 15
    sweep = json.loads((tmp_path / "seq2seq_lr_sweep.json").read_text())
    # the learning rate is chosen on validation: the chosen one has the best validation score of its cell's sweep
    trials = sweep["trials"]["gru"]
    best = max(trials, key=lambda t: (t["valid"]["exact_match"], t["valid"]["token_accuracy"]))
    assert sweep["metrics"]["chosen_lr"]["gru"] == best["lr"] == card["train"]["lr"]
    assert "validation" in sweep["selection_rule"] and "valid" in card
    assert set(card["metrics"]["exact_match_by_bucket"]) == {"1-5", "6-10", "11-15", "16-20", "21+"}
    model, loaded = checkpoints.load("seq2seq_gru_twice", make_seq2seq, directory=tmp_path)
    assert model.config.repeat_source and loaded["runs"][0]["seed"] == 0
    assert (tmp_path / "seq2seq_gru_baseline.safetensors").is_file()
    with pytest.raises(ValueError, match="directory"):
        checkpoint_job(quick=True)


def test_batches_sort_pool_groups_lengths(task):
    data = task.train[:640]
    pooled = list(batches(data, task, batch_size=32, seed=0, sort_pool=20))
    plain = list(batches(data, task, batch_size=32, seed=0))
    assert sorted(e.value for b in pooled for e in b.examples) == sorted(e.value for e in data)
    pad = Vocab.pad
    assert sum(int((b.tgt_out == pad).sum()) for b in pooled) < 0.5 * sum(int((b.tgt_out == pad).sum())
                                                                          for b in plain)


def test_start_and_step_give_the_teacher_forced_logits(task):
    e2t.set_seed(0)
    model = make_seq2seq(_small(task, cell="lstm")).eval()
    b = collate(task.train[100:104], task)
    with torch.no_grad():
        full = model(b.src, b.src_lengths, b.tgt_in)  # (B, T, V)
        state = model.start(b.src, b.src_lengths)
        for t in range(b.tgt_in.shape[1]):
            logits, state = model.step(b.tgt_in[:, t], state)
            torch.testing.assert_close(logits, full[:, t])
    with pytest.raises(ValueError, match="src holds ids"):
        model(torch.full((1, 2), len(task.src_vocab)), torch.tensor([2]), torch.zeros(1, 1, dtype=torch.long))

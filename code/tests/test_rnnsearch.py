"""RNNsearch: shapes, masks, padding invariance, decoding with every score, the checkpoint job."""

import json

import pytest
import torch

import e2t
from e2t.data.text import collate, make_examples, number_task
from e2t.train.decoding import beam_search, greedy_decode
from e2t.recipes.rnnsearch import checkpoint_job
from e2t.rnnsearch import RNNsearchConfig, alignments, decoding_step_macs, make_rnnsearch
from e2t.train import checkpoints, fit
from e2t.train.losses import teacher_forced_loss
from e2t.train.translate import translator
from e2t.scores import SCORE_NAMES, dot_score

TINY = dict(d_embed=8, d_enc=6, d_dec=12, d_attn=5, d_out=10)


@pytest.fixture(scope="module")
def task():
    return number_task()


def tiny(task, **kw):
    e2t.set_seed(0)
    return make_rnnsearch(RNNsearchConfig.for_task(task, **{**TINY, **kw})).eval()


def mixed_examples(task):
    by_len = sorted(task.test, key=lambda e: len(e.src))
    return [by_len[-1], by_len[0], by_len[len(by_len) // 2]]  # longest, shortest, middle


def test_shapes_and_state(task):
    model = tiny(task)
    b = collate(mixed_examples(task), task)
    B, S = b.src.shape
    state = model.start(b.src, b.src_lengths)
    assert state["keys"].shape == (B, S, 12) and state["s"].shape == (B, 12) and state["mask"].shape == (B, 1, S)
    assert state["prepared"].shape == (B, S, 5)
    logits, weights = model(b.src, b.src_lengths, b.tgt_in, return_weights=True)
    assert logits.shape == (B, b.tgt_in.shape[1], len(task.tgt_vocab))
    assert weights.shape == (B, b.tgt_in.shape[1], S)


def test_attention_weights_sum_to_one_over_real_tokens_and_zero_on_padding(task):
    model = tiny(task)
    b = collate(mixed_examples(task), task)
    _, weights = model(b.src, b.src_lengths, b.tgt_in, return_weights=True)  # (B, T, S)
    for i, n in enumerate(b.src_lengths.tolist()):
        torch.testing.assert_close(weights[i, :, :n].sum(-1), torch.ones(weights.shape[1]))
        assert (weights[i, :, n:] == 0).all()
    assert b.src_lengths.min() < b.src.shape[1]  # the batch really has padding


def test_padding_a_batch_does_not_change_a_translation(task):
    model = tiny(task)
    short = min(task.test, key=lambda e: len(e.src))
    others = mixed_examples(task)
    translate = translator(model, task)
    alone = translate([short])
    in_batch = translate([*others, short])
    assert in_batch[-1] == alone[0]
    # and the scores themselves agree, not just the argmax
    b1, b2 = collate([short], task), collate([*others, short], task)
    l1 = model(b1.src, b1.src_lengths, b1.tgt_in)
    l2 = model(b2.src, b2.src_lengths, b2.tgt_in)[-1:, :b1.tgt_in.shape[1]]
    torch.testing.assert_close(l2, l1, atol=1e-5, rtol=1e-5)


def test_step_works_with_greedy_and_beam_search(task):
    model = tiny(task)
    b = collate(mixed_examples(task), task)
    V = task.tgt_vocab
    kw = dict(batch_size=len(b), bos=V.bos, eos=V.eos, max_len=6)
    greedy = greedy_decode(model.step, model.start(b.src, b.src_lengths), **kw)
    beam1 = beam_search(model.step, model.start(b.src, b.src_lengths), beam_size=1, **kw)
    assert greedy == beam1
    beam3 = beam_search(model.step, model.start(b.src, b.src_lengths), beam_size=3, **kw)
    assert len(beam3) == len(b)
    logits, state = model.step(torch.full((len(b),), V.bos), model.start(b.src, b.src_lengths))
    assert logits.shape == (len(b), len(V))
    torch.testing.assert_close(state["alpha"].sum(-1), torch.ones(len(b)))


@pytest.mark.parametrize("score", SCORE_NAMES)
def test_every_score_trains(task, score):
    """Each score learns: 60 steps on one batch of 16 numbers cut the loss by more than half, and the score's own
    parameters (if it has any) receive finite gradients."""
    e2t.set_seed(0)
    model = tiny(task, score=score, d_enc=6, d_dec=12)
    b = collate(list(task.train[:16]), task)
    history = fit(model, teacher_forced_loss, [b], steps=60, lr=1e-2, progress=False)
    assert sum(history.losses[-5:]) < 0.5 * sum(history.losses[:5]), (score, history.losses[:5], history.losses[-5:])
    model.train()
    teacher_forced_loss(model, b).backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.attention.parameters())


def test_a_score_callable_overrides_the_config(task):
    e2t.set_seed(0)
    model = make_rnnsearch(RNNsearchConfig.for_task(task, **TINY), score=dot_score)
    assert model.attention.score is dot_score
    b = collate(list(task.train[:4]), task)
    assert torch.isfinite(teacher_forced_loss(model, b))


def test_alignments_rows_are_the_output_plus_eos(task):
    model = tiny(task)
    items = alignments(model, task, mixed_examples(task), max_len=5)
    for item in items:
        assert item.weights.shape == (len(item.output) + 1, len(item.example.src))
        assert item.rows[-1] == "<eos>"


def test_bad_config_and_input_raise(task):
    with pytest.raises(ValueError, match="score must be one of"):
        RNNsearchConfig.for_task(task, score="bilinear")
    with pytest.raises(ValueError, match="d_enc must be a positive int"):
        RNNsearchConfig.for_task(task, d_enc=0)
    model = tiny(task)
    with pytest.raises(ValueError, match="src_lengths must lie in"):
        model.start(torch.ones(2, 3, dtype=torch.long), torch.tensor([3, 4]))
    with pytest.raises(ValueError, match="src must have 2 dimensions"):
        model.start(torch.ones(3, dtype=torch.long), torch.tensor([3]))
    with pytest.raises(ValueError, match="src holds ids"):
        model.start(torch.full((1, 3), len(task.src_vocab)), torch.tensor([3]))


def test_checkpoint_job_quick(tmp_path, task):
    card = checkpoint_job(quick=True, directory=tmp_path)
    assert (tmp_path / "rnnsearch.safetensors").is_file()
    fig2 = json.loads((tmp_path / "rnnsearch_fig2.json").read_text())
    assert {r["model"] for r in fig2["runs"]} == {"RNNenc", "RNNsearch"}
    # equal steps for both models, a test score at every budget, and the shipped run chosen on validation
    assert {r["steps"] for r in fig2["runs"]} == {4} and all(set(r["test"]) == {"2", "4"} for r in fig2["runs"])
    assert "validation" in card["selection_rule"] and card["steps"] == 4
    assert set(card["metrics"]["exact_match_by_bucket"]) == {"1-5", "6-10", "11-15", "16-20", "21+"}
    model, loaded = checkpoints.load("rnnsearch", make_rnnsearch, directory=tmp_path)
    assert loaded["steps"] == card["steps"] and isinstance(model.config, RNNsearchConfig)


def test_decoding_step_cost_is_linear_in_source_length_only_with_attention(task):
    from e2t.seq2seq import Seq2SeqConfig, make_seq2seq

    model = tiny(task)
    costs = [decoding_step_macs(model, S)["per_step"] for S in (1, 2, 3, 10)]
    slope = costs[1] - costs[0]
    assert slope == TINY["d_attn"] + 2 * TINY["d_enc"] > 0
    assert costs[2] - costs[1] == slope and costs[3] - costs[0] == 9 * slope
    enc = make_seq2seq(Seq2SeqConfig.for_task(task, d_embed=4, d_hidden=8))
    assert decoding_step_macs(enc, 1) == decoding_step_macs(enc, 500)
    assert decoding_step_macs(enc, 1)["per_step"] == 3 * 8 * (4 + 8) + 8 * len(task.tgt_vocab)
    with pytest.raises(ValueError, match="additive score only"):
        decoding_step_macs(tiny(task, score="dot", d_enc=6, d_dec=12), 3)


def test_crossing_detects_reordering(task):
    from e2t.viz.alignment import crossing, plot_alignment
    from e2t.rnnsearch import Alignment

    (ex,) = make_examples([42])  # forty two -> zwei und vierzig
    crossed = torch.tensor([[0.1, 0.9], [0.5, 0.5], [0.8, 0.2], [0.5, 0.5]])  # zwei->two, vierzig->forty
    straight = torch.tensor([[0.9, 0.1], [0.5, 0.5], [0.2, 0.8], [0.5, 0.5]])
    assert crossing(Alignment(example=ex, output=ex.tgt, weights=crossed))
    assert not crossing(Alignment(example=ex, output=ex.tgt, weights=straight))
    ax = plot_alignment(Alignment(example=ex, output=ex.tgt, weights=crossed))
    assert [t.get_text() for t in ax.get_xticklabels()] == list(ex.src)


def test_alignment_explorer_builds_from_the_shipped_checkpoint():
    from e2t.viz.alignment import alignment_explorer, default_examples

    ex = alignment_explorer()
    (control,) = ex.controls
    task = number_task()
    assert len(control.values) == len(default_examples(task)) == 16
    assert ex.render(example=0)[:4] == b"\x89PNG" and ex.render(example=0) != ex.render(example=15)
    with pytest.raises(ValueError, match="at least 2"):
        alignment_explorer(examples=task.test[:1])

"""Tests of e2t.lm: the counting text, the tiny GPT (causal) and BERT (masked) models, their checkpoint job."""

import json

import pytest
import torch

import e2t
from e2t import lm
from e2t.data import counting
from e2t.data.counting import VOCAB
from e2t.recipes import lm as recipe
from e2t.train import checkpoints


def test_number_words_and_counting_runs():
    assert counting.number_words(342) == ["three", "hundred", "and", "forty", "two"]
    assert counting.counting_run(98, 3) == ["ninety", "eight", ",", "ninety", "nine", ",", "one", "hundred", ","]
    assert VOCAB.decode(VOCAB.encode(counting.counting_run(5, 4))) == counting.counting_run(5, 4)
    with pytest.raises(ValueError, match="n must be"):
        counting.number_words(1000)
    with pytest.raises(ValueError, match="not in the vocabulary"):
        VOCAB.encode(["forty", "zwei"])


def test_causal_batches_shift_targets_by_one():
    tokens, lengths, targets = next(counting.lm_batches(batch_size=4, seed=1))
    assert tokens.shape == targets.shape and (tokens[:, 0] == VOCAB.bos).all()
    for b in range(4):
        n = int(lengths[b])
        assert torch.equal(tokens[b, 1:n], targets[b, :n - 1])  # the target is the next token
        assert targets[b, n - 1] == VOCAB.eos and (targets[b, n:] == -100).all()


def test_masked_batches_hide_about_15_percent_and_keep_targets():
    tokens, lengths, targets = next(counting.lm_batches(batch_size=256, seed=2, masked=True))
    chosen = targets != -100
    real = int(lengths.sum())
    assert 0.10 < chosen.sum().item() / real < 0.20
    assert (tokens[chosen] == counting.MASK).float().mean() > 0.7  # most chosen tokens became <mask>
    assert (tokens[~chosen] != counting.MASK).all()  # nothing else is masked


def test_no_training_run_holds_a_held_out_number():
    seen = set()
    g = counting.lm_batches(batch_size=64, seed=3)
    for _ in range(20):
        tokens, lengths, _ = next(g)
        for row in tokens:
            words = " ".join(VOCAB.decode(row.tolist())).split(" , ")
            seen |= {next(n for n in range(1, 1000) if " ".join(counting.number_words(n)) == w.strip(" ,"))
                     for w in words if w.strip(" ,")}
    assert seen and not any(counting.held_out(n) for n in seen)
    assert 90 <= len(counting.HELD_OUT) <= 110 and max(seen) > 900 and min(seen) < 100
    assert all(not counting.held_out(n) for s in counting.training_starts() for n in range(s, s + 5))
    # an evaluation run asks for exactly one number, the held-out one at the given position
    for s in counting.evaluation_starts(4, 3):
        assert counting.held_out(s + 3) and not any(counting.held_out(s + i) for i in range(3))
    assert len(counting.evaluation_starts(5, 2)) > 30
    with pytest.raises(ValueError, match="position"):
        counting.evaluation_starts(4, 4)


@pytest.mark.parametrize("causal", [True, False])
def test_gpt_sees_only_the_past_and_bert_sees_both_sides(causal):
    torch.manual_seed(0)
    model = lm.make_lm(lm.LMConfig(causal=causal, d_model=16, num_heads=2, num_layers=1, d_ff=32)).eval()
    tokens = torch.tensor([VOCAB.encode(counting.counting_run(10, 3))])  # (1, L)
    changed = tokens.clone()
    changed[0, -2] = VOCAB.encode(["seven"])[0]
    a, b = model(tokens), model(changed)
    same_before = torch.allclose(a[:, :-2], b[:, :-2])
    assert same_before == causal  # GPT: earlier positions cannot see the change; BERT: they can


def test_decoder_only_model_has_no_encoder_decoder_attention():
    model = lm.make_lm(lm.GPT_CONFIG)
    names = [n for n, _ in model.named_modules()]
    assert not any("cross_attn" in n for n in names)
    assert sum("self_attn" in n and n.endswith("self_attn") for n in names) == lm.GPT_CONFIG.num_layers


def test_generate_and_fill_check_the_model_kind():
    gpt, bert = lm.make_lm(lm.GPT_CONFIG), lm.make_lm(lm.BERT_CONFIG)
    assert len(lm.generate(gpt, ["one", ","], max_new_tokens=3)) <= 3
    filled = lm.fill_masks(bert, ["one", ",", "<mask>", ","])
    assert filled[0] == "one" and filled[2] not in counting.SPECIALS
    with pytest.raises(ValueError, match="causal"):
        lm.generate(bert, ["one"])
    with pytest.raises(ValueError, match="masked"):
        lm.fill_masks(gpt, ["one"])


@pytest.mark.parametrize("kind", ["gpt", "bert"])
def test_a_few_training_steps_lower_the_loss(kind):
    _, history = recipe.train_lm(kind, steps=40, progress=False)
    assert sum(history.losses[-5:]) < 0.8 * sum(history.losses[:5])


def test_checkpoint_job_quick_writes_cards(tmp_path):
    card = recipe.checkpoint_job(quick=True, directory=tmp_path)
    assert {"next_number_exact_match", "masked_number_exact_match"} <= set(card["metrics"])
    for kind in ("gpt", "bert"):
        saved = json.loads((tmp_path / f"lm_{kind}.json").read_text())
        assert saved["steps"] == 5 and saved["config"]["causal"] == (kind == "gpt")
        model = lm.make_lm(lm.LMConfig(**saved["config"]))
        checkpoints.load_checkpoint(model, f"lm_{kind}", directory=tmp_path)
    with pytest.raises(ValueError, match="directory"):
        recipe.checkpoint_job(quick=True)

"""e2t.saliency: the gradient influence of source words on output steps, hand-computed on toy models, and on the
book's translation models (padding, batch independence, no side effects); the row summaries; bad input."""

import math

import pytest
import torch
from torch import nn

import e2t
from e2t.data.text import collate, number_task
from e2t.rnnsearch import RNNsearchConfig, make_rnnsearch
from e2t.saliency import influence_shares, peak_share, row_similarity, source_influence
from e2t.seq2seq import Seq2SeqConfig, make_seq2seq


@pytest.fixture(autouse=True)
def _seeded():
    e2t.set_seed(0)


class Diagonal(nn.Module):
    """Output step t reads source word t only: logits_t = e_t (the embedding width is the vocabulary size)."""

    def __init__(self, V=5):
        super().__init__()
        self.embed = nn.Embedding(V, V)

    def forward(self, src, src_lengths, tgt_in):
        x = self.embed(src)  # (B, S, V)
        return x[:, : tgt_in.shape[1]]  # (B, T, V) with T <= S


class Pooled(nn.Module):
    """Every output step reads the same summary, the mean of the source vectors: a fixed vector."""

    def __init__(self, V=5, E=3):
        super().__init__()
        self.embed = nn.Embedding(V, E)
        self.out = nn.Linear(E, V)
        self.step = nn.Embedding(V, V)

    def forward(self, src, src_lengths, tgt_in):
        c = self.embed(src).mean(dim=1)  # (B, E)
        return self.out(c)[:, None, :] + 0 * self.step(tgt_in)  # (B, T, V): the same logits at every step


def test_diagonal_model_hand_computed():
    model = Diagonal()
    src = torch.tensor([[1, 2, 3]])
    tgt_out = torch.tensor([[4, 0, 2]])
    influence = source_influence(model, src, torch.tensor([3]), torch.zeros(1, 3, dtype=torch.long), tgt_out,
                                 embedding=model.embed, pad_id=-1)
    assert influence.shape == (1, 3, 3)
    off = influence[0] * (1 - torch.eye(3))
    assert torch.equal(off, torch.zeros(3, 3))  # step t depends on word t only
    with torch.no_grad():
        for t in range(3):  # d log softmax(x)_y / dx = onehot(y) - softmax(x)
            x = model.embed(src[0, t])
            expected = (nn.functional.one_hot(tgt_out[0, t], 5).float() - torch.softmax(x, -1)).norm()
            torch.testing.assert_close(influence[0, t, t], expected)
    shares = influence_shares(influence)
    assert torch.equal(shares[0], torch.eye(3))
    assert float(peak_share(shares)) == 1.0
    assert float(row_similarity(shares)) == 0.0


def test_a_mean_of_the_source_weighs_every_word_equally_at_every_step():
    model = Pooled()
    src = torch.tensor([[1, 2, 3, 4]])
    tgt = torch.tensor([[0, 1, 2]])  # a different target word at each step
    influence = source_influence(model, src, torch.tensor([4]), tgt, tgt, embedding=model.embed, pad_id=-1)
    shares = influence_shares(influence)
    torch.testing.assert_close(shares, torch.full((1, 3, 4), 0.25))  # d c / d e_i = 1/S for every word
    assert float(peak_share(shares)) == pytest.approx(0.25)
    assert float(row_similarity(shares)) == pytest.approx(1.0)


@pytest.fixture(scope="module")
def task():
    return number_task()


def _models(task):
    e2t.set_seed(0)
    search = make_rnnsearch(RNNsearchConfig.for_task(task, d_embed=8, d_enc=6, d_dec=12, d_attn=5, d_out=10))
    enc = make_seq2seq(Seq2SeqConfig.for_task(task, d_embed=8, d_hidden=12))
    return [(search, search.src_embed), (enc, enc.encoder.embed)]


def test_real_models_padding_batch_independence_and_no_side_effects(task):
    by_len = sorted(task.test, key=lambda e: len(e.src))
    examples = [by_len[-1], by_len[0], by_len[len(by_len) // 2]]  # longest, shortest, middle: padding on both sides
    b = collate(examples, task)
    for model, embedding in _models(task):
        model.train()
        influence = source_influence(model, b.src, b.src_lengths, b.tgt_in, b.tgt_out, embedding=embedding)
        B, T = b.tgt_out.shape
        assert influence.shape == (B, T, b.src.shape[1])
        assert model.training  # mode restored
        assert all(p.grad is None for p in model.parameters())  # no parameter gradient accumulated
        for i, e in enumerate(examples):
            S_i, T_i = len(e.src), len(e.tgt) + 1  # + eos
            assert (influence[i, :T_i, :S_i] > 0).all()
            assert (influence[i, T_i:] == 0).all() and (influence[i, :, S_i:] == 0).all()
        one = collate(examples[1:2], task)  # the shortest example alone: the same numbers as in the batch
        alone = source_influence(model, one.src, one.src_lengths, one.tgt_in, one.tgt_out, embedding=embedding)
        S_1, T_1 = alone.shape[2], alone.shape[1]
        torch.testing.assert_close(alone[0], influence[1, :T_1, :S_1], rtol=1e-4, atol=1e-6)


def test_works_under_no_grad(task):
    model, embedding = _models(task)[0]
    b = collate(task.test[:2], task)
    with torch.no_grad():
        influence = source_influence(model, b.src, b.src_lengths, b.tgt_in, b.tgt_out, embedding=embedding)
    assert influence.abs().sum() > 0


def test_summaries_hand_computed():
    shares = torch.tensor([[[0.5, 0.5, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]])  # the last row is padding
    assert float(peak_share(shares)[0]) == pytest.approx(0.75)
    assert float(row_similarity(shares)[0]) == pytest.approx(1 / math.sqrt(2))
    torch.testing.assert_close(influence_shares(torch.tensor([[2.0, 6.0], [0.0, 0.0]])),
                               torch.tensor([[0.25, 0.75], [0.0, 0.0]]))
    assert math.isnan(float(row_similarity(torch.tensor([[1.0, 0.0], [0.0, 0.0]]))))  # one real row


def test_bad_input_raises(task):
    model, embedding = _models(task)[0]
    b = collate(task.test[:2], task)
    with pytest.raises(ValueError, match="ran 0 times"):
        source_influence(model, b.src, b.src_lengths, b.tgt_in, b.tgt_out, embedding=nn.Embedding(3, 3))
    with pytest.raises(ValueError, match="tgt_in and tgt_out"):
        source_influence(model, b.src, b.src_lengths, b.tgt_in, b.tgt_out[:, :-1], embedding=embedding)
    with pytest.raises(TypeError, match="token ids"):
        source_influence(model, b.src.float(), b.src_lengths, b.tgt_in, b.tgt_out, embedding=embedding)
    with pytest.raises(ValueError, match="non-negative"):
        influence_shares(torch.tensor([[-1.0, 2.0]]))
    with pytest.raises(ValueError, match="at least one row"):
        peak_share(torch.zeros(1, 2, 3))

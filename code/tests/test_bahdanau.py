"""BahdanauAttention: alpha = softmax(score(s_{t-1}, h)), c = sum_i alpha_i h_i, masks via masked_softmax."""

import pytest
import torch

from e2t.attention import BahdanauAttention
from e2t.scores import AdditiveScore, dot_score


def lengths_mask(lengths, S):
    return (torch.arange(S)[None, :] < torch.tensor(lengths)[:, None]).unsqueeze(1)  # (B, 1, S)


def test_weights_sum_to_one_over_real_tokens_and_are_zero_on_padding():
    torch.manual_seed(0)
    att = BahdanauAttention(d_query=4, d_key=6, d_attn=5)
    lengths = [3, 5, 1]
    mask = lengths_mask(lengths, 5)
    keys = torch.randn(3, 5, 6)
    context, weights = att(torch.randn(3, 2, 4), keys, mask)
    assert context.shape == (3, 2, 6) and weights.shape == (3, 2, 5)
    for b, n in enumerate(lengths):
        torch.testing.assert_close(weights[b, :, :n].sum(-1), torch.ones(2))
        assert (weights[b, :, n:] == 0).all()
        assert (weights[b, :, :n] > 0).all()


def test_matches_the_formula_step_by_step():
    torch.manual_seed(1)
    att = BahdanauAttention(d_query=3, d_key=4, d_attn=2).double()
    s_prev = torch.randn(2, 3, dtype=torch.float64)  # one decoder step: a 2-D query
    h = torch.randn(2, 4, 4, dtype=torch.float64)
    context, alpha = att(s_prev, h)
    assert context.shape == (2, 4) and alpha.shape == (2, 4)
    W_a, v_a = att.score.W_a, att.score.v_a
    for b in range(2):
        e = torch.stack([v_a @ torch.tanh(W_a @ torch.cat([s_prev[b], h[b, i]])) for i in range(4)])
        want_alpha = torch.exp(e) / torch.exp(e).sum()
        torch.testing.assert_close(alpha[b], want_alpha)
        torch.testing.assert_close(context[b], (want_alpha[:, None] * h[b]).sum(0))


def test_padding_keys_do_not_change_the_result():
    torch.manual_seed(2)
    att = BahdanauAttention(d_query=3, d_key=4, d_attn=5)
    q, h = torch.randn(1, 2, 3), torch.randn(1, 3, 4)
    c_short, w_short = att(q, h)
    padded = torch.cat([h, 100 * torch.randn(1, 2, 4)], dim=1)  # (1, 5, 4) with garbage at padding
    c_pad, w_pad = att(q, padded, lengths_mask([3], 5))
    torch.testing.assert_close(c_pad, c_short)
    torch.testing.assert_close(w_pad[..., :3], w_short)


def test_fully_masked_row_gives_zeros_not_nan():
    att = BahdanauAttention(d_query=2, d_key=2, d_attn=2)
    context, weights = att(torch.randn(1, 1, 2), torch.randn(1, 3, 2), torch.zeros(1, 1, 3, dtype=torch.bool))
    assert torch.equal(weights, torch.zeros(1, 1, 3)) and torch.equal(context, torch.zeros(1, 1, 2))


def test_any_score_can_be_passed_and_prepare_changes_nothing():
    torch.manual_seed(3)
    att = BahdanauAttention(d_query=4, d_key=4, score=dot_score)
    q, h = torch.randn(2, 1, 4), torch.randn(2, 3, 4)
    _, w = att(q, h)
    torch.testing.assert_close(w, torch.softmax(q @ h.transpose(1, 2), dim=-1))
    assert att.prepare(h) is None
    additive = BahdanauAttention(d_query=4, d_key=4, score=AdditiveScore(d_query=4, d_key=4, d_attn=3))
    assert len(list(additive.parameters())) == 2  # the score's W_a and v_a train with the model
    c1, w1 = additive(q, h)
    c2, w2 = additive(q, h, prepared=additive.prepare(h))
    torch.testing.assert_close(c1, c2)
    torch.testing.assert_close(w1, w2)


def test_bad_input_raises():
    att = BahdanauAttention(d_query=3, d_key=4, d_attn=2)
    with pytest.raises(ValueError, match="do not fit this attention"):
        att(torch.zeros(2, 1, 5), torch.zeros(2, 3, 4))
    with pytest.raises(ValueError, match="keys must have 3 dimensions"):
        att(torch.zeros(2, 1, 3), torch.zeros(3, 4))
    with pytest.raises(ValueError, match="cannot broadcast"):
        att(torch.zeros(2, 1, 3), torch.zeros(2, 3, 4), torch.ones(2, 1, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match="d_attn is needed"):
        BahdanauAttention(d_query=3, d_key=4)
    with pytest.raises(TypeError, match="score must be callable"):
        BahdanauAttention(d_query=3, d_key=4, score=3)

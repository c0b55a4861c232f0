"""The six alignment scores of e2t.scores, each against its formula on a small hand-computed case."""

import math

import pytest
import torch

from e2t.scores import (SCORE_NAMES, AdditiveScore, GeneralScore, LocationScore, cosine_score, dot_score,
                        make_score, scaled_dot_score)


def t(rows):
    return torch.tensor(rows, dtype=torch.float64).unsqueeze(0)  # (1, n, d): a batch of one


def test_additive_score_hand_computed_2x2():
    # W_a = [[1, 1], [1, -1]] on [s; h] (d_query = d_key = 1), v_a = [1, 2]:
    # score(s, h) = tanh(s + h) + 2 tanh(s - h)
    score = AdditiveScore(d_query=1, d_key=1, d_attn=2).double()
    with torch.no_grad():
        score.W_a.copy_(torch.tensor([[1.0, 1.0], [1.0, -1.0]]))
        score.v_a.copy_(torch.tensor([1.0, 2.0]))
    q, k = t([[1.0], [0.0]]), t([[0.0], [2.0]])  # queries s = 1, 0; keys h = 0, 2
    th = math.tanh
    expected = torch.tensor([[[3 * th(1), th(3) - 2 * th(1)],
                              [0.0, th(2) - 2 * th(2)]]], dtype=torch.float64)
    torch.testing.assert_close(score(q, k), expected)


def test_additive_score_equals_the_concatenated_formula_on_random_input():
    torch.manual_seed(0)
    score = AdditiveScore(d_query=3, d_key=5, d_attn=4).double()
    q, k = torch.randn(2, 3, 3, dtype=torch.float64), torch.randn(2, 4, 5, dtype=torch.float64)
    out = score(q, k)
    for b in range(2):
        for i in range(3):
            for j in range(4):
                concat = torch.cat([q[b, i], k[b, j]])
                want = score.v_a @ torch.tanh(score.W_a @ concat)
                torch.testing.assert_close(out[b, i, j], want)
    # the precomputed key half gives the same scores
    torch.testing.assert_close(score(q, k, keys_projected=score.project_keys(k)), out)


def test_additive_score_gradcheck():
    torch.manual_seed(1)
    score = AdditiveScore(d_query=2, d_key=3, d_attn=2).double()
    q = torch.randn(1, 2, 2, dtype=torch.float64, requires_grad=True)
    k = torch.randn(1, 3, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b: score(a, b), (q, k))


def test_general_score_hand_computed():
    score = GeneralScore(d_query=2, d_key=2).double()
    with torch.no_grad():
        score.W_a.copy_(torch.tensor([[1.0, 2.0], [0.0, 1.0]]))
    q, k = t([[1.0, 0.0], [0.0, 1.0]]), t([[1.0, 1.0], [2.0, -1.0]])
    # s^T W h: s = e1 -> h1 + 2 h2; s = e2 -> h2
    torch.testing.assert_close(score(q, k), t([[3.0, 0.0], [1.0, -1.0]]))


def test_general_score_allows_different_widths():
    score = GeneralScore(d_query=3, d_key=5)
    assert score(torch.randn(2, 4, 3), torch.randn(2, 6, 5)).shape == (2, 4, 6)


def test_dot_and_scaled_dot_hand_computed():
    q, k = t([[1.0, 2.0], [3.0, -1.0]]), t([[1.0, 0.0], [2.0, 2.0]])
    torch.testing.assert_close(dot_score(q, k), t([[1.0, 6.0], [3.0, 4.0]]))
    torch.testing.assert_close(scaled_dot_score(q, k), t([[1.0, 6.0], [3.0, 4.0]]) / math.sqrt(2))


def test_cosine_hand_computed_and_zero_vector():
    q, k = t([[1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]), t([[2.0, 0.0], [0.0, -3.0]])
    r = 1 / math.sqrt(2)
    out = cosine_score(q, k)
    torch.testing.assert_close(out, t([[1.0, 0.0], [r, -r], [0.0, 0.0]]))
    assert torch.isfinite(out).all()


def test_location_score_uses_position_not_content():
    score = LocationScore(d_query=2, max_len=3).double()
    with torch.no_grad():
        score.W_a.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]))
    q = t([[2.0, 3.0]])
    torch.testing.assert_close(score(q, t([[9.0], [9.0], [9.0]])), t([[2.0, 3.0, 5.0]]))
    # only the number of keys matters, not what they hold
    torch.testing.assert_close(score(q, t([[1.0], [-4.0]])), t([[2.0, 3.0]]))
    with pytest.raises(ValueError, match="max_len=3"):
        score(q, torch.zeros(1, 4, 1, dtype=torch.float64))


@pytest.mark.parametrize("name", SCORE_NAMES)
def test_every_score_has_the_common_shape_and_backpropagates(name):
    torch.manual_seed(0)
    score = make_score(name, d_query=6, d_key=6, d_attn=5, max_len=10)
    q = torch.randn(3, 2, 6, requires_grad=True)
    k = torch.randn(3, 7, 6, requires_grad=True)
    out = score(q, k)
    assert out.shape == (3, 2, 7)
    out.sum().backward()
    assert q.grad is not None and torch.isfinite(q.grad).all()


def test_bad_input_raises_naming_the_argument():
    with pytest.raises(ValueError, match="q has width 3 but k has width 4"):
        dot_score(torch.zeros(1, 2, 3), torch.zeros(1, 2, 4))
    with pytest.raises(ValueError, match="q has batch 2 but k has batch 1"):
        scaled_dot_score(torch.zeros(2, 2, 3), torch.zeros(1, 2, 3))
    with pytest.raises(ValueError, match="k must have 3 dimensions"):
        cosine_score(torch.zeros(1, 2, 3), torch.zeros(2, 3))
    with pytest.raises(ValueError, match="k has width 4 but the score was built with d_key=5"):
        AdditiveScore(d_query=3, d_key=5, d_attn=2)(torch.zeros(1, 2, 3), torch.zeros(1, 2, 4))
    with pytest.raises(ValueError, match="d_attn must be a positive int"):
        AdditiveScore(d_query=3, d_key=5, d_attn=0)
    with pytest.raises(ValueError, match="name must be one of"):
        make_score("bilinear", d_query=2, d_key=2)
    with pytest.raises(ValueError, match="needs d_query == d_key"):
        make_score("dot", d_query=2, d_key=3)
    with pytest.raises(ValueError, match="needs max_len"):
        make_score("location", d_query=2, d_key=2)

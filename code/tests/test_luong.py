"""e2t.luong: Luong's global, local-m and local-p attention, the translator they live in, and its recipe."""

import math

import pytest
import torch

import e2t
from e2t.attention import masked_softmax
from e2t.luong import (LuongAttention, LuongConfig, PredictivePosition, gaussian_window, local_weights, make_luong,
                       window_mask)
from e2t.recipes.luong import checkpoint_job, checkpoint_name
from e2t.train import checkpoints
from e2t.viz.local_window import draw_local_window, local_window_explorer
from e2t.scores import GeneralScore


@pytest.fixture(autouse=True)
def _one_thread():
    e2t.set_seed(0)


@pytest.mark.parametrize("p, D, support", [(4.0, 2, [2, 3, 4, 5, 6]), (0.0, 2, [0, 1, 2]), (4.5, 1, [4, 5]),
                                           (9.0, 3, [6, 7, 8, 9]), (3.0, 0, [3]), (4.4, 1, [4, 5])])
def test_window_support(p, D, support):
    mask = window_mask(torch.tensor([[p]]), S=10, D=D)
    assert mask.shape == (1, 1, 10)
    assert mask[0, 0].nonzero().flatten().tolist() == support


def test_gaussian_values():
    g = gaussian_window(torch.tensor([[3.0]]), S=8, D=2)[0, 0]  # sigma = 1
    torch.testing.assert_close(g, torch.exp(-(torch.arange(8.0) - 3) ** 2 / 2))
    assert math.isclose(float(g[5]), math.exp(-2), rel_tol=1e-6)  # at p +- D: exp(-D^2 / (2 (D/2)^2)) = exp(-2)
    delta = gaussian_window(torch.tensor([[2.0]]), S=5, D=0)[0, 0]
    assert delta.tolist() == [0.0, 0.0, 1.0, 0.0, 0.0]


def test_local_weights_hand_computed():
    scores = torch.tensor([[[1.0, 2.0, 0.0, 3.0, 1.0]]])
    p = torch.tensor([[2.0]])
    m = local_weights(scores, p, D=1, gaussian=False)[0, 0]
    inside = torch.softmax(torch.tensor([2.0, 0.0, 3.0]), 0)
    torch.testing.assert_close(m, torch.tensor([0.0, *inside.tolist(), 0.0]))
    pw = local_weights(scores, p, D=2, gaussian=True)[0, 0]
    soft = torch.softmax(scores[0, 0], 0)
    gauss = torch.exp(-(torch.arange(5.0) - 2) ** 2 / 2)
    torch.testing.assert_close(pw, soft * gauss)
    assert float(pw.sum()) < 1.0  # Luong's product is not renormalised


def test_local_weights_respect_padding_and_empty_windows():
    scores = torch.randn(2, 3, 6)
    p = torch.tensor([[0.0, 2.0, 5.0], [0.0, 2.0, 5.0]])
    pad = torch.tensor([[True] * 6, [True, True, True, False, False, False]]).view(2, 1, 6)
    w = local_weights(scores, p, D=1, mask=pad, gaussian=False)
    assert bool((w[1, :, 3:] == 0).all())
    torch.testing.assert_close(w[1, :2].sum(-1), torch.ones(2))
    # row 1, query 2: window [4, 6] lies entirely in the padding -> zeros, never NaN
    assert w[1, 2].tolist() == [0.0] * 6
    assert bool(torch.isfinite(w).all())


def test_predictive_position_formula_and_range():
    torch.manual_seed(0)
    pos = PredictivePosition(d_query=4, d_hidden=3)
    h = torch.randn(2, 5, 4) * 10
    lengths = torch.tensor([7, 3])
    p = pos(h, lengths)
    expected = lengths[:, None] * torch.sigmoid(torch.tanh(h @ pos.W_p.weight.T) @ pos.v_p.weight.T).squeeze(-1)
    torch.testing.assert_close(p, expected.float())
    assert bool((p >= 0).all()) and bool((p[0] <= 7).all()) and bool((p[1] <= 3).all())


def test_global_attention_is_the_masked_softmax_of_the_score():
    torch.manual_seed(0)
    att = LuongAttention(d_query=4, d_key=6, mode="global")
    q, k = torch.randn(2, 3, 4), torch.randn(2, 5, 6)
    lengths = torch.tensor([5, 2])
    ctx, w, p = att(q, k, lengths)
    assert p is None and ctx.shape == (2, 3, 6) and w.shape == (2, 3, 5)
    pad = (torch.arange(5)[None] < lengths[:, None]).unsqueeze(1)
    torch.testing.assert_close(w, masked_softmax(att.score(q, k), pad))
    assert isinstance(att.score, GeneralScore)
    assert bool((w[1, :, 2:] == 0).all())


def test_local_m_centres_on_the_target_step():
    att = LuongAttention(d_query=4, d_key=4, mode="local-m", D=1)
    q, k = torch.randn(1, 4, 4), torch.randn(1, 6, 4)
    _, w, p = att(q, k, torch.tensor([6]))
    assert p[0].tolist() == [0.0, 1.0, 2.0, 3.0]
    for t in range(4):
        assert (w[0, t] > 0).nonzero().flatten().tolist() == [s for s in range(max(0, t - 1), t + 2)]
    _, w2, p2 = att(q[:, 3:4], k, torch.tensor([6]), positions=torch.tensor([3]))
    torch.testing.assert_close(w2[0, 0], w[0, 3])


def test_local_p_weights_live_in_the_window_around_p():
    torch.manual_seed(1)
    att = LuongAttention(d_query=4, d_key=4, mode="local-p", D=2)
    _, w, p = att(torch.randn(3, 5, 4), torch.randn(3, 9, 4), torch.tensor([9, 9, 4]))
    s = torch.arange(9.0)
    outside = (s.view(1, 1, 9) - p.unsqueeze(-1)).abs() > 2
    assert bool((w[outside] == 0).all())
    assert bool((p[2] <= 4).all())


def test_bad_input():
    with pytest.raises(ValueError, match="mode"):
        LuongAttention(d_query=4, d_key=4, mode="local")
    with pytest.raises(ValueError, match="D must"):
        window_mask(torch.zeros(1, 1), S=3, D=-1)
    with pytest.raises(ValueError, match="p must"):
        local_weights(torch.zeros(1, 2, 3), torch.zeros(1, 3), D=1)
    with pytest.raises(ValueError, match="batch"):
        LuongAttention(d_query=4, d_key=4)(torch.zeros(2, 1, 4), torch.zeros(3, 2, 4), torch.tensor([2, 2]))


@pytest.mark.parametrize("mode", ["global", "local-m", "local-p"])
@pytest.mark.parametrize("score", ["general", "location", "additive"])
def test_translator_step_matches_teacher_forcing(mode, score):
    torch.manual_seed(0)
    model = make_luong(LuongConfig(src_vocab_size=11, tgt_vocab_size=9, mode=mode, score=score, d_embed=8,
                                   d_hidden=12)).eval()
    src = torch.tensor([[4, 5, 6, 7], [8, 9, 0, 0]])
    lengths = torch.tensor([4, 2])
    tgt_in = torch.tensor([[1, 4, 5], [1, 6, 7]])
    logits, weights = model(src, lengths, tgt_in, return_weights=True)
    assert logits.shape == (2, 3, 9) and weights.shape == (2, 3, 4)
    assert torch.equal(model(src, lengths, tgt_in), logits)  # without return_weights: the logits only
    assert bool((weights[1, :, 2:] == 0).all())
    state = model.start(src, lengths)
    for t in range(3):
        step_logits, state = model.step(tgt_in[:, t], state)
        torch.testing.assert_close(step_logits, logits[:, t], atol=1e-5, rtol=1e-5)


def test_padding_does_not_change_a_sentence():
    torch.manual_seed(0)
    model = make_luong(LuongConfig(src_vocab_size=11, tgt_vocab_size=9, mode="local-p", d_embed=8,
                                   d_hidden=12)).eval()
    alone = model(torch.tensor([[8, 9]]), torch.tensor([2]), torch.tensor([[1, 6, 7]]))
    padded = model(torch.tensor([[8, 9, 0, 0], [4, 5, 6, 7]]), torch.tensor([2, 4]),
                   torch.tensor([[1, 6, 7], [1, 2, 3]]))
    torch.testing.assert_close(padded[0], alone[0], atol=1e-5, rtol=1e-5)


def test_widget_frames():
    ex = local_window_explorer()
    assert ex.mode == "browser"  # the page recomputes the window from the sliders
    assert len(draw_local_window(2, 4.5).axes) == 1


def test_checkpoint_job_quick(tmp_path):
    card = checkpoint_job(quick=True, directory=tmp_path)
    assert card["steps"] == 5 and 0.0 <= card["metrics"]["exact_match"] <= 1.0
    model, card = checkpoints.load(checkpoint_name("local-p"), make_luong, directory=tmp_path)
    assert model.config.mode == "local-p" and card["command"].startswith("python -m e2t.jobs luong")
    with pytest.raises(ValueError, match="mode must be one of"):
        checkpoint_name("local")
    with pytest.raises(ValueError, match="directory"):
        checkpoint_job(quick=True)


def test_token_ids_out_of_range_get_a_clear_error():
    model = make_luong(LuongConfig(src_vocab_size=11, tgt_vocab_size=9, d_embed=8, d_hidden=12))
    with pytest.raises(ValueError, match="src holds ids in .* vocabulary has 11"):
        model(torch.tensor([[3, 11]]), torch.tensor([2]), torch.tensor([[1, 2]]))
    with pytest.raises(ValueError, match="tgt_in holds ids"):
        model(torch.tensor([[3, 4]]), torch.tensor([2]), torch.tensor([[1, 9]]))

"""Tests of the core: seeding, masks, masked softmax and scaled dot-product attention."""

import pytest
import torch
import torch.nn.functional as F

import e2t
from e2t.attention import masked_softmax, scaled_dot_product_attention
from e2t.masks import causal_mask, padding_mask


def test_set_seed_repeats_draws():
    e2t.set_seed(3)
    a = torch.randn(5)
    e2t.set_seed(3)
    assert torch.equal(a, torch.randn(5))
    assert torch.get_num_threads() == 1


def test_set_seed_rejects_non_int():
    with pytest.raises(TypeError, match="seed"):
        e2t.set_seed(1.5)


def test_lazy_submodules_and_unknown_attribute():
    assert e2t.masks.causal_mask is causal_mask
    with pytest.raises(AttributeError, match="no_such_thing"):
        e2t.no_such_thing


def test_causal_mask_is_lower_triangle():
    m = causal_mask(3)
    assert m.dtype == torch.bool
    assert m.tolist() == [[True, False, False], [True, True, False], [True, True, True]]


def test_padding_mask_shape_and_values():
    m = padding_mask(torch.tensor([2, 0, 3]), 3)
    assert m.shape == (3, 1, 1, 3)
    assert m[:, 0, 0].tolist() == [[True, True, False], [False, False, False], [True, True, True]]


@pytest.mark.parametrize("lengths, S, err", [
    (torch.tensor([1.0, 2.0]), 3, TypeError),
    (torch.tensor([4]), 3, ValueError),
    (torch.tensor([[1, 2]]), 3, ValueError),
    (torch.tensor([1]), 0, ValueError),
])
def test_padding_mask_bad_input(lengths, S, err):
    with pytest.raises(err, match="lengths|S"):
        padding_mask(lengths, S)


def test_masked_softmax_hand_computed():
    scores = torch.tensor([[0.0, 0.0, 5.0]])
    mask = torch.tensor([[True, True, False]])
    assert torch.allclose(masked_softmax(scores, mask), torch.tensor([[0.5, 0.5, 0.0]]))


def test_fully_masked_row_gives_zeros_and_finite_gradient():
    scores = torch.randn(2, 4, dtype=torch.float64, requires_grad=True)
    mask = torch.tensor([[True, False, True, False], [False, False, False, False]])
    w = masked_softmax(scores, mask)
    assert torch.equal(w[1], torch.zeros(4, dtype=torch.float64))
    assert torch.allclose(w[0].sum(), torch.tensor(1.0, dtype=torch.float64))
    (w * torch.arange(4.0, dtype=torch.float64)).sum().backward()
    assert torch.isfinite(scores.grad).all()
    assert torch.equal(scores.grad[1], torch.zeros(4, dtype=torch.float64))


def test_masked_softmax_rejects_float_mask_and_bad_broadcast():
    scores = torch.randn(2, 3, 4)
    with pytest.raises(TypeError, match="mask must be a torch.bool"):
        masked_softmax(scores, torch.ones(2, 3, 4))
    with pytest.raises(ValueError, match=r"mask of shape \(5,\) cannot broadcast to scores of shape \(2, 3, 4\)"):
        masked_softmax(scores, torch.ones(5, dtype=torch.bool))


def _random_mask(shape, generator):
    mask = torch.rand(shape, generator=generator) > 0.3
    mask[..., 0] = True  # torch gives NaN on fully masked rows; keep one key per row for the parity test
    return mask


@pytest.mark.parametrize("lead", [(2,), (2, 3)])  # 3-D and 4-D inputs
@pytest.mark.parametrize("masked", [False, True])
def test_sdpa_matches_torch(lead, masked):
    g = torch.Generator().manual_seed(0)
    T, S, D, Dv = 4, 5, 8, 6
    q = torch.randn(*lead, T, D, generator=g, dtype=torch.float64)
    k = torch.randn(*lead, S, D, generator=g, dtype=torch.float64)
    v = torch.randn(*lead, S, Dv, generator=g, dtype=torch.float64)
    mask = _random_mask((*lead, T, S), g) if masked else None
    out, weights = scaled_dot_product_attention(q, k, v, mask)
    expected = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    torch.testing.assert_close(out, expected)
    assert weights.shape == (*lead, T, S)
    torch.testing.assert_close(weights.sum(-1), torch.ones(*lead, T, dtype=torch.float64))


def test_sdpa_causal_and_padding_masks_broadcast():
    B, H, T, D = 2, 3, 4, 8
    q = torch.randn(B, H, T, D)
    mask = causal_mask(T) & padding_mask(torch.tensor([4, 2]), T)  # (B, 1, T, T)
    _, w = scaled_dot_product_attention(q, q, q, mask)
    assert (w[1, :, :, 2:] == 0).all()
    assert (w[0].triu(1) == 0).all()


def test_sdpa_fully_masked_query_gives_zero_output():
    q = torch.randn(1, 2, 4)
    mask = torch.tensor([[[True, True], [False, False]]])
    out, w = scaled_dot_product_attention(q, q, q, mask)
    assert torch.equal(out[0, 1], torch.zeros(4))
    assert not torch.isnan(out).any()


def test_sdpa_bad_shapes_name_the_arguments():
    with pytest.raises(ValueError, match="q has width 8 but k has width 7"):
        scaled_dot_product_attention(torch.randn(2, 3, 8), torch.randn(2, 3, 7), torch.randn(2, 3, 7))
    with pytest.raises(ValueError, match="k has 3 positions but v has 4"):
        scaled_dot_product_attention(torch.randn(2, 3, 8), torch.randn(2, 3, 8), torch.randn(2, 4, 8))
    with pytest.raises(TypeError, match="mask must be a torch.bool"):
        scaled_dot_product_attention(torch.randn(3, 8), torch.randn(3, 8), torch.randn(3, 8), torch.ones(3, 3))


def test_sdpa_gradcheck():
    g = torch.Generator().manual_seed(1)
    q = torch.randn(2, 3, 4, generator=g, dtype=torch.float64, requires_grad=True)
    k = torch.randn(2, 5, 4, generator=g, dtype=torch.float64, requires_grad=True)
    v = torch.randn(2, 5, 3, generator=g, dtype=torch.float64, requires_grad=True)
    mask = _random_mask((2, 3, 5), g)
    mask[1, 2] = False  # a fully masked row must keep finite gradients too
    assert torch.autograd.gradcheck(lambda a, b, c: scaled_dot_product_attention(a, b, c, mask), (q, k, v))

"""Tests of e2t.ntm: each addressing step on hand-computed cases, read/write, robustness, gradients, shapes."""

import math

import pytest
import torch

from e2t import ntm
from e2t.viz import ntm_addressing, ntm_read_write


def one_hot(i, N, B=1, dtype=torch.float64):
    w = torch.zeros(B, N, dtype=dtype)
    w[:, i] = 1.0
    return w


def col(*values, dtype=torch.float64):
    """Per-head scalars shaped (B, 1)."""
    return torch.tensor(values, dtype=dtype).reshape(-1, 1)


# -- content addressing -----------------------------------------------------------------------------------------
def test_content_addressing_hand_computed():
    memory = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]], dtype=torch.float64)  # (1, 3, 2)
    key = torch.tensor([[1.0, 0.0]], dtype=torch.float64)
    beta = col(2.0)
    cos = torch.tensor([1.0, 0.0, 1 / math.sqrt(2)], dtype=torch.float64)
    expected = torch.softmax(2.0 * cos, dim=0)
    torch.testing.assert_close(ntm.content_addressing(memory, key, beta)[0], expected)
    torch.testing.assert_close(ntm.cosine_rows(memory, key)[0], cos)


def test_cosine_is_scale_invariant():
    memory = torch.randn(2, 5, 4, dtype=torch.float64)
    key = torch.randn(2, 4, dtype=torch.float64)
    torch.testing.assert_close(ntm.cosine_rows(memory * 3.0, key * 0.1), ntm.cosine_rows(memory, key))


def test_beta_zero_gives_uniform():
    memory = torch.randn(3, 7, 4)
    w = ntm.content_addressing(memory, torch.randn(3, 4), torch.zeros(3, 1))
    torch.testing.assert_close(w, torch.full((3, 7), 1 / 7))


def test_huge_beta_is_finite_and_one_hot():
    memory = torch.eye(4).unsqueeze(0)  # (1, 4, 4): rows are the unit vectors
    key = torch.tensor([[0.1, 0.2, 1.0, 0.3]])
    for beta in (1e6, 1e30):
        w = ntm.content_addressing(memory, key, torch.tensor([[beta]]))
        assert torch.isfinite(w).all()
        torch.testing.assert_close(w, one_hot(2, 4, dtype=torch.float32))


def test_zero_key_and_zero_memory_row_are_defined():
    memory = torch.randn(1, 4, 3, dtype=torch.float64)
    memory[0, 1] = 0.0  # an all-zero row
    key = torch.randn(1, 3, dtype=torch.float64)
    cos = ntm.cosine_rows(memory, key)
    assert torch.isfinite(cos).all() and cos[0, 1] == 0.0
    w = ntm.content_addressing(memory, torch.zeros(1, 3, dtype=torch.float64), col(5.0))
    torch.testing.assert_close(w, torch.full((1, 4), 0.25, dtype=torch.float64))  # zero key: uniform
    # gradients at a zero key and a zero memory row are finite, not NaN
    memory.requires_grad_(True)
    zero_key = torch.zeros(1, 3, dtype=torch.float64, requires_grad=True)
    (ntm.content_addressing(memory, zero_key, col(5.0)) * torch.arange(4.0, dtype=torch.float64)).sum().backward()
    assert torch.isfinite(zero_key.grad).all() and torch.isfinite(memory.grad).all()


def test_all_zero_memory_gives_uniform_content_weighting():
    w = ntm.content_addressing(torch.zeros(2, 5, 3), torch.randn(2, 3), torch.full((2, 1), 10.0))
    torch.testing.assert_close(w, torch.full((2, 5), 0.2))


# -- interpolation ----------------------------------------------------------------------------------------------
def test_interpolate_g_zero_returns_previous_and_g_one_content():
    w_c = torch.softmax(torch.randn(2, 6), -1)
    w_prev = torch.softmax(torch.randn(2, 6), -1)
    torch.testing.assert_close(ntm.interpolate(w_c, w_prev, torch.zeros(2, 1)), w_prev)
    torch.testing.assert_close(ntm.interpolate(w_c, w_prev, torch.ones(2, 1)), w_c)
    half = ntm.interpolate(w_c, w_prev, torch.full((2, 1), 0.25))
    torch.testing.assert_close(half, 0.25 * w_c + 0.75 * w_prev)


# -- shift ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("s, start, end", [
    ([0.0, 0.0, 1.0], 2, 3),   # +1: one row down
    ([1.0, 0.0, 0.0], 2, 1),   # -1: one row up
    ([0.0, 1.0, 0.0], 2, 2),   # stay
    ([0.0, 0.0, 1.0], 4, 0),   # +1 from the last row wraps to row 0
    ([1.0, 0.0, 0.0], 0, 4),   # -1 from row 0 wraps to the last row
])
def test_shift_moves_a_one_hot_by_one_row_with_wrap_around(s, start, end):
    out = ntm.shift(one_hot(start, 5), torch.tensor([s], dtype=torch.float64))
    torch.testing.assert_close(out, one_hot(end, 5))


def test_shift_hand_computed_blur_and_five_element_kernel():
    w = torch.tensor([[0.0, 1.0, 0.0, 0.0]], dtype=torch.float64)
    out = ntm.shift(w, torch.tensor([[0.2, 0.5, 0.3]], dtype=torch.float64))
    torch.testing.assert_close(out, torch.tensor([[0.2, 0.5, 0.3, 0.0]], dtype=torch.float64))
    out5 = ntm.shift(one_hot(0, 6), torch.tensor([[0.0, 0.0, 0.0, 0.0, 1.0]], dtype=torch.float64))
    torch.testing.assert_close(out5, one_hot(2, 6))  # K = 5: last weight moves by +2


def test_one_element_shift_kernel_is_identity():
    w = torch.softmax(torch.randn(3, 8, dtype=torch.float64), -1)
    torch.testing.assert_close(ntm.shift(w, torch.ones(3, 1, dtype=torch.float64)), w)


def test_shift_keeps_the_sum():
    w = torch.softmax(torch.randn(4, 9), -1)
    s = torch.softmax(torch.randn(4, 3), -1)
    torch.testing.assert_close(ntm.shift(w, s).sum(-1), torch.ones(4))


# -- sharpen ----------------------------------------------------------------------------------------------------
def test_sharpen_hand_computed_keeps_argmax_and_sums_to_one():
    w = torch.tensor([[0.2, 0.5, 0.3]], dtype=torch.float64)
    out = ntm.sharpen(w, col(2.0))
    expected = torch.tensor([[0.04, 0.25, 0.09]], dtype=torch.float64) / 0.38
    torch.testing.assert_close(out, expected)
    torch.testing.assert_close(ntm.sharpen(w, col(1.0)), w)  # gamma = 1 changes nothing
    rand = torch.softmax(torch.randn(5, 10), -1)
    for gamma in (1.0, 1.5, 4.0, 30.0):
        s = ntm.sharpen(rand, torch.full((5, 1), gamma))
        assert torch.equal(s.argmax(-1), rand.argmax(-1))
        torch.testing.assert_close(s.sum(-1), torch.ones(5))
        assert (s.max(-1).values >= rand.max(-1).values - 1e-6).all()  # sharper, never flatter


def test_huge_gamma_and_zero_entries_are_finite():
    w = torch.tensor([[0.0, 0.6, 0.4, 0.0]], requires_grad=True)
    for gamma in (1.0, 1e4, 1e30):
        out = ntm.sharpen(w, torch.tensor([[gamma]]))
        assert torch.isfinite(out).all()
        assert out[0, 0] == 0.0 and out[0, 3] == 0.0
        out[0, 1].backward()
        assert torch.isfinite(w.grad).all()
        w.grad = None
    torch.testing.assert_close(ntm.sharpen(w.detach(), torch.tensor([[1e30]])), torch.tensor([[0.0, 1.0, 0.0, 0.0]]))


# -- the whole pipeline -----------------------------------------------------------------------------------------
def test_address_chains_the_four_steps():
    torch.manual_seed(0)
    memory = torch.randn(2, 6, 4, dtype=torch.float64)
    key = torch.randn(2, 4, dtype=torch.float64)
    beta, g, gamma = col(3.0, 0.5), col(0.7, 0.1), col(1.5, 2.0)
    s = torch.softmax(torch.randn(2, 3, dtype=torch.float64), -1)
    w_prev = torch.softmax(torch.randn(2, 6, dtype=torch.float64), -1)
    w = ntm.address(memory, key=key, beta=beta, g=g, s=s, gamma=gamma, w_prev=w_prev)
    by_hand = ntm.sharpen(ntm.shift(ntm.interpolate(ntm.content_addressing(memory, key, beta), w_prev, g), s), gamma)
    torch.testing.assert_close(w, by_hand)
    torch.testing.assert_close(w.sum(-1), torch.ones(2, dtype=torch.float64))


def test_location_only_addressing_steps_through_memory():
    """g = 0 and a +1 shift: the focus walks one row per step, whatever the memory holds."""
    memory = torch.randn(1, 5, 3)
    w = one_hot(0, 5, dtype=torch.float32)
    for step in range(1, 7):
        w = ntm.address(memory, key=torch.randn(1, 3), beta=torch.tensor([[5.0]]), g=torch.zeros(1, 1),
                        s=torch.tensor([[0.0, 0.0, 1.0]]), gamma=torch.tensor([[1.0]]), w_prev=w)
        assert int(w.argmax()) == step % 5


# -- read and write ---------------------------------------------------------------------------------------------
def test_read_hand_computed():
    memory = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]])
    w = torch.tensor([[0.5, 0.25, 0.25]])
    torch.testing.assert_close(ntm.read(memory, w), torch.tensor([[0.5 + 0.75 + 1.25, 1.0 + 1.0 + 1.5]]))
    torch.testing.assert_close(ntm.read(memory, torch.tensor([[0.0, 1.0, 0.0]])), torch.tensor([[3.0, 4.0]]))


def test_write_hand_computed_erase_then_add():
    memory = torch.tensor([[[1.0, 2.0], [3.0, 4.0]]])
    w = torch.tensor([[1.0, 0.5]])
    erase = torch.tensor([[1.0, 0.0]])
    add = torch.tensor([[10.0, 20.0]])
    out = ntm.write(memory, w, erase, add)
    # row 0: [1*(1-1), 2*(1-0)] + 1*[10, 20] = [10, 22]; row 1: [3*(1-0.5), 4] + 0.5*[10, 20] = [6.5, 14]
    torch.testing.assert_close(out, torch.tensor([[[10.0, 22.0], [6.5, 14.0]]]))
    assert memory[0, 0, 0] == 1.0  # the input memory is not changed


def test_write_with_full_erase_and_one_hot_replaces_the_row_then_read_returns_it():
    memory = torch.randn(2, 4, 3)
    w = one_hot(2, 4, B=2, dtype=torch.float32)
    add = torch.randn(2, 3)
    new = ntm.write(memory, w, torch.ones(2, 3), add)
    torch.testing.assert_close(ntm.read(new, w), add)
    torch.testing.assert_close(new[:, [0, 1, 3]], memory[:, [0, 1, 3]])


def test_write_rejects_erase_outside_unit_interval():
    with pytest.raises(ValueError, match="erase must satisfy"):
        ntm.write(torch.zeros(1, 2, 3), torch.ones(1, 2) / 2, torch.full((1, 3), 1.5), torch.zeros(1, 3))


# -- the hardened API -------------------------------------------------------------------------------------------
def _address_args(B=2, N=5, M=4):
    return dict(key=torch.randn(B, M), beta=torch.ones(B, 1), g=torch.full((B, 1), 0.5),
                s=torch.tensor([[0.25, 0.5, 0.25]]).expand(B, 3), gamma=torch.ones(B, 1),
                w_prev=torch.full((B, N), 1 / N))


def test_address_takes_keywords_only_after_memory():
    memory = torch.randn(2, 5, 4)
    a = _address_args()
    with pytest.raises(TypeError):
        ntm.address(memory, a["key"], a["beta"], a["g"], a["s"], a["gamma"], a["w_prev"])  # positional: refused
    assert ntm.address(memory, **a).shape == (2, 5)


@pytest.mark.parametrize("name, value, match", [
    ("beta", -0.5, "beta must satisfy beta >= 0"),
    ("g", 1.5, "g must satisfy 0 <= g <= 1"),
    ("g", -0.1, "g must satisfy 0 <= g <= 1"),
    ("gamma", 0.5, "gamma must satisfy gamma >= 1"),
    ("beta", float("nan"), "beta must satisfy"),
])
@pytest.mark.parametrize("requires_grad", [False, True])
def test_out_of_range_parameters_raise_naming_the_argument(name, value, match, requires_grad):
    """The checks run whether or not the tensors require gradients (a swapped beta and gamma, say)."""
    a = _address_args()
    a[name] = torch.full((2, 1), value, requires_grad=requires_grad)
    with pytest.raises(ValueError, match=match):
        ntm.address(torch.randn(2, 5, 4), **a)


@pytest.mark.parametrize("s, match", [([[0.5, 0.5, 0.5]], "s must sum to 1"), ([[-0.5, 1.0, 0.5]], "s >= 0")])
def test_shift_weights_must_be_a_distribution(s, match):
    with pytest.raises(ValueError, match=match):
        ntm.shift(torch.full((1, 5), 0.2), torch.tensor(s, requires_grad=True))


def test_erase_is_checked_with_gradients_too():
    erase = torch.full((1, 3), 1.5, requires_grad=True)
    with pytest.raises(ValueError, match="erase must satisfy"):
        ntm.write(torch.zeros(1, 2, 3), torch.ones(1, 2) / 2, erase, torch.zeros(1, 3))


# -- gradients --------------------------------------------------------------------------------------------------
def _gradcheck(fn, *inputs):
    inputs = tuple(x.detach().to(torch.float64).requires_grad_(True) for x in inputs)
    assert torch.autograd.gradcheck(fn, inputs, eps=1e-6, atol=1e-5)


def test_gradcheck_each_step():
    torch.manual_seed(1)
    B, N, M = 2, 5, 3
    memory = torch.randn(B, N, M)
    key = torch.randn(B, M)
    w = torch.softmax(torch.randn(B, N), -1)
    w2 = torch.softmax(torch.randn(B, N), -1)
    _gradcheck(ntm.cosine_rows, memory, key)
    _gradcheck(ntm.content_addressing, memory, key, torch.rand(B, 1) * 3)
    _gradcheck(ntm.interpolate, w, w2, torch.rand(B, 1))
    _gradcheck(ntm.shift, w, torch.softmax(torch.randn(B, 3), -1))
    _gradcheck(ntm.sharpen, w, 1 + torch.rand(B, 1) * 2)
    _gradcheck(lambda m, k, b, g, s, gm, wp: ntm.address(m, key=k, beta=b, g=g, s=s, gamma=gm, w_prev=wp),
               memory, key, torch.rand(B, 1) * 3, torch.rand(B, 1), torch.softmax(torch.randn(B, 3), -1),
               1 + torch.rand(B, 1), w)
    _gradcheck(ntm.read, memory, w)
    _gradcheck(ntm.write, memory, w, torch.rand(B, M), torch.randn(B, M))


# -- bad input --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("call, match", [
    (lambda: ntm.content_addressing(torch.zeros(2, 5, 4), torch.zeros(2, 3), torch.ones(2, 1)),
     r"key has width 3 but memory rows have width 4"),
    (lambda: ntm.content_addressing(torch.zeros(2, 5, 4), torch.zeros(3, 4), torch.ones(3, 1)),
     r"key has batch size 3"),
    (lambda: ntm.content_addressing(torch.zeros(2, 5, 4), torch.zeros(2, 4), torch.ones(2)),
     r"beta must have 2 dimensions"),
    (lambda: ntm.content_addressing(torch.zeros(5, 4), torch.zeros(2, 4), torch.ones(2, 1)),
     r"memory must have 3 dimensions"),
    (lambda: ntm.interpolate(torch.zeros(2, 5), torch.zeros(2, 6), torch.ones(2, 1)), r"w_prev has shape"),
    (lambda: ntm.interpolate(torch.zeros(2, 5), torch.zeros(2, 5), torch.ones(2, 2)), r"g must have shape"),
    (lambda: ntm.shift(torch.zeros(2, 5), torch.full((2, 2), 0.5)), r"s must have an odd number"),
    (lambda: ntm.shift(torch.zeros(2, 5), torch.full((3, 3), 1 / 3)), r"s has batch size 3"),
    (lambda: ntm.sharpen(torch.zeros(2, 5), torch.ones(1, 1)), r"gamma must have shape"),
    (lambda: ntm.read(torch.zeros(2, 5, 4), torch.zeros(2, 6)), r"w has width 6"),
    (lambda: ntm.write(torch.zeros(2, 5, 4), torch.zeros(2, 5), torch.zeros(2, 3), torch.zeros(2, 4)),
     r"erase has width 3 but memory rows have width 4"),
    (lambda: ntm.write(torch.zeros(2, 5, 4), torch.zeros(2, 5), torch.zeros(2, 4), torch.zeros(2, 5)),
     r"add has width 5"),
    (lambda: ntm.address(torch.zeros(2, 5, 4), key=torch.zeros(2, 4), beta=torch.ones(2, 1), g=torch.ones(2, 1),
                         s=torch.ones(2, 3) / 3, gamma=torch.ones(2, 1), w_prev=torch.zeros(2, 4)),
     r"w_prev has width 4"),
    (lambda: ntm.read([[1.0]], torch.zeros(1, 1)), r"memory must be a torch.Tensor"),
])
def test_bad_shapes_name_the_argument(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


@pytest.mark.parametrize("N, K", [(5, 3), (6, 5), (3, 7), (2, 5)])
def test_shift_matches_the_formula_with_indices_mod_N(N, K):
    """w~(i) = sum_j w(j) s(i - j mod N), s indexed by the move d = k - K//2 (also when K > N)."""
    torch.manual_seed(N * K)
    w = torch.softmax(torch.randn(2, N, dtype=torch.float64), -1)
    s = torch.softmax(torch.randn(2, K, dtype=torch.float64), -1)
    expected = torch.zeros(2, N, dtype=torch.float64)
    for i in range(N):
        for k in range(K):
            d = k - K // 2
            expected[:, i] += s[:, k] * w[:, (i - d) % N]
    torch.testing.assert_close(ntm.shift(w, s), expected)


def test_chapter5_widgets_render_and_follow_their_controls():
    ex = ntm_read_write.read_write_explorer()
    assert [c.name for c in ex.controls] == ["row", "sharpness", "erase", "add"]
    assert ex.render(row=1) != ex.render(row=5) and ex.render(erase="e = 0 (keep)") != ex.render()
    ad = ntm_addressing.addressing_explorer()
    assert [c.name for c in ad.controls] == ["beta", "g", "s_minus", "s_plus", "gamma"]
    assert ad.render(beta=0.0) != ad.render(beta=100.0)
    assert len(ntm_addressing.draw_addressing(10.0, 0.5, 0.0, 0.5, 1.0).axes) == 9
    assert len(ntm_read_write.draw_read_write(2, 2.0, "e = 1 (wipe)", "a = 1").axes) == 8


def test_widget_helpers():
    w = ntm_read_write.focus_weighting(3, 8.0)
    assert w.shape == (1, 8) and int(w.argmax()) == 3 and torch.isclose(w.sum(), torch.tensor(1.0))
    torch.testing.assert_close(ntm_read_write.focus_weighting(0, 0.0), torch.full((1, 8), 1 / 8))
    torch.testing.assert_close(ntm_addressing.shift_weights(0.25, 0.5), torch.tensor([[0.25, 0.25, 0.5]]))
    with pytest.raises(ValueError):  # no silent rescaling: s(-1) + s(+1) may not exceed 1
        ntm_addressing.shift_weights(0.75, 0.75)
    after = ntm.write(ntm_read_write.widget_memory(), ntm_read_write.focus_weighting(2, 100.0), torch.ones(1, 6), torch.zeros(1, 6))
    assert after[0, 2].abs().max() < 1e-6  # e = 1, a = 0 wipes the focused row only


# -- the paper's open choices: a scalar shift, several write heads --------------------------------------------------
def test_scalar_shift_puts_the_paper_weights_on_two_moves():
    sigma = torch.tensor([6.7, 0.5, -1.0, 7.0, -7.0], dtype=torch.float64)
    s = ntm.scalar_shift(sigma, 15)  # (5, 15), column k is the move k - 7
    assert s.shape == (5, 15) and s.dtype == torch.float64
    torch.testing.assert_close(s.sum(-1), torch.ones(5, dtype=torch.float64))
    torch.testing.assert_close(s[0, 13:15], torch.tensor([0.3, 0.7], dtype=torch.float64))  # moves 6 and 7
    torch.testing.assert_close(s[1, 7:9], torch.tensor([0.5, 0.5], dtype=torch.float64))
    assert s[2, 6] == 1 and s[3, 14] == 1 and s[4, 0] == 1  # whole moves, and both ends
    focus = torch.zeros(1, 16, dtype=torch.float64)
    focus[0, 0] = 1.0
    moved = ntm.shift(focus, s[:1])[0]
    torch.testing.assert_close(moved[6:8], torch.tensor([0.3, 0.7], dtype=torch.float64))
    assert float(moved.sum()) == pytest.approx(1.0)


def test_scalar_shift_rejects_bad_arguments():
    with pytest.raises(ValueError, match="sigma"):
        ntm.scalar_shift(torch.tensor([1.5]), 3)  # beyond K // 2 = 1
    with pytest.raises(ValueError, match="K must be a positive odd"):
        ntm.scalar_shift(torch.tensor([0.5]), 4)
    with pytest.raises(ValueError, match="sigma must have 1 dimensions"):
        ntm.scalar_shift(torch.tensor([[0.5]]), 3)


def test_write_heads_erase_all_then_add_all_in_any_order():
    memory = torch.ones(1, 4, 3, dtype=torch.float64)
    wipe = torch.ones(1, 3, dtype=torch.float64)
    a = (torch.tensor([[0.0, 1.0, 0.0, 0.0]], dtype=torch.float64), wipe, torch.full((1, 3), 2.0, dtype=torch.float64))
    b = (torch.tensor([[0.0, 0.5, 0.5, 0.0]], dtype=torch.float64), wipe, torch.full((1, 3), 4.0, dtype=torch.float64))
    both = ntm.write_heads(memory, [a, b])
    assert torch.equal(both, ntm.write_heads(memory, [b, a]))
    # row 1: erased to 1 * (1 - 1) * (1 - 0.5) = 0, then + 2 + 0.5 * 4 = 4; row 2: 0.5, then + 2 = 2.5
    torch.testing.assert_close(both[0, :, 0], torch.tensor([1.0, 4.0, 2.5, 1.0], dtype=torch.float64))
    one_after_other = ntm.write(ntm.write(memory, *a), *b)
    assert float(one_after_other[0, 1, 0]) != float(both[0, 1, 0])
    assert torch.equal(ntm.write_heads(memory, [a]), ntm.write(memory, *a))
    with pytest.raises(ValueError, match="at least one"):
        ntm.write_heads(memory, [])
    with pytest.raises(ValueError, match=r"heads\[0\] must be a \(w, erase, add\) triple"):
        ntm.write_heads(memory, [a[:2]])

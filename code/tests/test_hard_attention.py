"""e2t.hard_attention: soft/hard/no attention over patches, REINFORCE and its baseline."""

import pytest
import torch

import e2t

from e2t.data.patches import patch_search, to_patches
from e2t.hard_attention import (MovingAverageBaseline, PatchModelConfig, accuracy, make_patch_model, patch_loss,
                                policy_gradient_variance, reinforce_surrogate)
from e2t.recipes.hard_attention import train_patch_model


@pytest.fixture(autouse=True)
def _one_thread():
    e2t.set_seed(0)  # one torch thread: the machine is shared


@pytest.mark.parametrize("mode", ["soft", "hard", "none"])
def test_output_shapes_and_weights(mode):
    torch.manual_seed(0)
    model = make_patch_model(PatchModelConfig(mode=mode, patch_dim=100))
    out = model(torch.rand(5, 16, 100))
    assert out.logits.shape == (5, 4)
    assert out.weights.shape == (5, 16) and out.index.shape == out.log_prob.shape == (5,)
    torch.testing.assert_close(out.weights.sum(-1), torch.ones(5))
    assert bool(torch.isfinite(out.log_prob).all())
    if mode == "none":
        torch.testing.assert_close(out.weights, torch.full((5, 16), 1 / 16))


def test_soft_is_the_expected_feature_and_hard_reads_one_cell():
    torch.manual_seed(0)
    soft = make_patch_model(PatchModelConfig(mode="soft", patch_dim=6, d_model=4, d_attn=3))
    hard = make_patch_model(PatchModelConfig(mode="hard", patch_dim=6, d_model=4, d_attn=3))
    hard.load_state_dict(soft.state_dict())
    x = torch.randn(3, 5, 6)
    out = soft(x)
    a = soft.embed(x)
    z = (out.weights[..., None] * a).sum(1)
    torch.testing.assert_close(out.logits, soft.head(z))
    hard.eval()
    h = hard(x)  # evaluation: the argmax cell
    torch.testing.assert_close(h.logits, soft.head(a[torch.arange(3), out.weights.argmax(-1)]))
    torch.testing.assert_close(h.log_prob, out.weights.max(-1).values.log())


def test_hard_sampling_follows_the_weights():
    torch.manual_seed(0)
    model = make_patch_model(PatchModelConfig(mode="hard", patch_dim=4))
    x = torch.randn(1, 3, 4).expand(20000, 3, 4)
    out = model(x, sample=True, generator=torch.Generator().manual_seed(1))
    freq = torch.bincount(out.index, minlength=3).float() / 20000
    torch.testing.assert_close(freq, out.weights[0].detach(), atol=0.015, rtol=0)


@pytest.mark.parametrize("baseline", [0.0, 1.7])
def test_reinforce_is_unbiased_on_a_tiny_case(baseline):
    """E[(R(s) - b) grad log p(s)] = grad E[R(s)] for a 4-way categorical with fixed rewards."""
    theta = torch.tensor([0.3, -0.5, 1.0, 0.1], requires_grad=True)
    rewards = torch.tensor([1.0, -2.0, 0.5, 3.0])
    true = torch.autograd.grad((torch.softmax(theta, 0) * rewards).sum(), theta)[0]
    g = torch.Generator().manual_seed(0)
    n = 200_000
    log_p = torch.log_softmax(theta, 0)
    s = torch.multinomial(torch.softmax(theta, 0).detach(), n, replacement=True, generator=g)
    estimate = -torch.autograd.grad(reinforce_surrogate(log_p[s], rewards[s], baseline), theta)[0]
    # per-sample estimates have std < 10, so the mean of 200k has std < 0.025
    torch.testing.assert_close(estimate, true, atol=0.06, rtol=0)
    assert float(true.abs().max()) > 0.3  # the case is not trivially zero


def test_reinforce_surrogate_checks_shapes():
    with pytest.raises(ValueError, match="reward"):
        reinforce_surrogate(torch.zeros(3), torch.zeros(4))


def test_moving_average_baseline():
    b = MovingAverageBaseline(momentum=0.5)
    assert b() == 0.0
    b.update(torch.tensor([2.0, 4.0]))
    assert b() == 3.0
    b.update(torch.tensor([1.0]))
    assert b() == 2.0
    with pytest.raises(ValueError, match="momentum"):
        MovingAverageBaseline(momentum=1.0)


def test_baseline_reduces_gradient_variance():
    torch.manual_seed(0)
    data = patch_search(64, seed=2)
    model = make_patch_model(PatchModelConfig(mode="hard"))
    x = to_patches(data.images, data.patch)
    reward = -torch.nn.functional.cross_entropy(model(x).logits, data.labels).item()
    without = policy_gradient_variance(model, x, data.labels, baseline=0.0, draws=32)
    with_b = policy_gradient_variance(model, x, data.labels, baseline=reward, draws=32)
    assert with_b["variance"] < 0.5 * without["variance"]


def test_hard_loss_updates_the_scorer_and_baseline():
    torch.manual_seed(0)
    data = patch_search(16, seed=0)
    model = make_patch_model(PatchModelConfig(mode="hard"))
    b = MovingAverageBaseline()
    loss = patch_loss(model, to_patches(data.images, data.patch), data.labels, baseline=b)
    loss.backward()
    assert model.W_a.weight.grad is not None and float(model.W_a.weight.grad.abs().sum()) > 0
    assert b.value is not None and b.value < 0


def test_bad_input():
    with pytest.raises(ValueError, match="mode"):
        make_patch_model(PatchModelConfig(mode="glimpse"))
    model = make_patch_model(PatchModelConfig(patch_dim=100))
    with pytest.raises(ValueError, match="patch_dim"):
        model(torch.zeros(2, 16, 64))


def test_short_training_learns_where_to_look():
    train = patch_search(1024, seed=1)
    valid = patch_search(256, seed=2)
    model, history = train_patch_model("soft", steps=120, train=train, valid=valid, eval_every=120)
    assert history.evals[-1]["accuracy"] > 0.6
    assert accuracy(model, valid)["weight_on_target"] > 0.3

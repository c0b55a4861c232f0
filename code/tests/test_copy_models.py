"""The copy-task attention model and Transformer of chapter 7."""

import pytest
import torch

import e2t
from e2t.copy_models import make_attention_copy, make_transformer_copy
from e2t.recipes.copy_models import checkpoint_job
from e2t.data.copy_task import copy_batch
from e2t.ntm_model import copy_loss


@pytest.mark.parametrize("make", [make_attention_copy, make_transformer_copy])
def test_shapes_and_answer_phase_only(make):
    e2t.set_seed(0)
    model = make()
    batch = copy_batch(batch_size=3, length=5, seed=0)
    out = model(batch.inputs)
    assert out.shape == (3, 11, 8)
    assert torch.equal(out[:, :6], torch.zeros(3, 6, 8))  # nothing is asked before the answer phase


@pytest.mark.parametrize("make", [make_attention_copy, make_transformer_copy])
def test_bad_inputs_name_the_argument(make):
    model = make()
    with pytest.raises(ValueError, match=r"inputs must have shape \(B, 2L\+1, 9\)"):
        model(torch.zeros(2, 10, 9))
    with pytest.raises(ValueError, match="inputs must have 3 dimensions"):
        model(torch.zeros(10, 9))


def test_attention_weights_sum_to_one():
    model = make_attention_copy()
    batch = copy_batch(batch_size=2, length=4, seed=1)
    _, weights = model(batch.inputs, return_attention=True)
    assert weights.shape == (2, 4, 4)
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 4))


@pytest.mark.parametrize("make", [make_attention_copy, make_transformer_copy])
def test_a_few_steps_lower_the_loss(make):
    e2t.set_seed(0)
    model = make()
    batch = copy_batch(batch_size=16, length=4, seed=2)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    first = float(copy_loss(model, batch).detach())
    for _ in range(30):
        optimizer.zero_grad()
        copy_loss(model, batch).backward()
        optimizer.step()
    assert float(copy_loss(model, batch).detach()) < 0.8 * first


def test_checkpoint_job_quick(tmp_path):
    result = checkpoint_job(quick=True, directory=tmp_path)
    assert set(result["metrics"]) == {"attention_copy", "transformer_copy"}
    assert (tmp_path / "transformer_copy.safetensors").is_file() and (tmp_path / "attention_copy.json").is_file()
    with pytest.raises(ValueError, match="directory"):
        checkpoint_job(quick=True)

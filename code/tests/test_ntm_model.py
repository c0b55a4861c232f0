"""Tests of e2t.ntm_model (the whole NTM, the LSTM baseline), of the copy-task trainer and cost tracker
(e2t.recipes.copy_task) and of the NTM's checkpoint job (e2t.recipes.ntm_model)."""

import json

import pytest
import torch

import e2t
from e2t.data.copy_task import copy_batch
from e2t.ntm_model import LSTMConfig, NTMConfig, NTMState, bit_errors, copy_loss, make_lstm, make_ntm
from e2t.recipes import copy_task
from e2t.recipes.copy_task import CostTracker, curriculum_batches, evaluate_copy, make_optimizer, train_copy
from e2t.recipes.ntm_model import checkpoint_job
from e2t.train import checkpoints

SMALL = NTMConfig(controller_size=16, memory_rows=12, memory_width=6)


def test_ntm_step_is_keyword_only_and_carries_a_named_state():
    e2t.set_seed(0)
    model = make_ntm(SMALL)
    state = model.start(2)
    assert isinstance(state, NTMState) and state.memory.shape == (2, 12, 6) and state.w_read[:, 0].eq(1).all()
    x = torch.zeros(2, SMALL.input_width)
    with pytest.raises(TypeError):
        model.step(x, state)  # positional arguments are refused
    logits, new, add = model.step(x=x, state=state)
    assert logits.shape == (2, 8) and add.shape == (2, 6) and isinstance(new, NTMState)
    torch.testing.assert_close(new.w_write.sum(-1), torch.ones(2))


def test_ntm_shapes_and_trace():
    e2t.set_seed(0)
    model = make_ntm(SMALL)
    batch = copy_batch(batch_size=3, length=4, seed=0)
    logits, trace = model(batch.inputs, return_trace=True)
    assert logits.shape == (3, 9, 8)
    assert trace.read_weights.shape == (3, 9, 12) and trace.write_weights.shape == (3, 9, 12)
    assert trace.adds.shape == (3, 9, 6) and trace.memory.shape == (3, 12, 6)
    for w in (trace.read_weights, trace.write_weights):
        torch.testing.assert_close(w.sum(-1), torch.ones(3, 9))
        assert (w >= 0).all()
    torch.testing.assert_close(model(batch.inputs), logits)


@pytest.mark.parametrize("controller", ["lstm", "feedforward"])
def test_both_controllers_run_and_get_gradients(controller):
    e2t.set_seed(0)
    model = make_ntm(NTMConfig(controller=controller, controller_size=8, memory_rows=6, memory_width=4))
    loss = copy_loss(model, copy_batch(batch_size=2, length=3, seed=1))
    loss.backward()
    assert torch.isfinite(loss)
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())


def test_bad_config_and_inputs():
    with pytest.raises(ValueError, match="controller must be"):
        NTMConfig(controller="gru")
    with pytest.raises(ValueError, match="shift_size must be odd"):
        NTMConfig(shift_size=2)
    with pytest.raises(ValueError, match=r"inputs must have shape \(B, T, 9\)"):
        make_ntm(SMALL)(torch.zeros(2, 5, 8))
    with pytest.raises(ValueError, match=r"inputs must have shape \(B, T, 9\)"):
        make_lstm(LSTMConfig(hidden_size=8))(torch.zeros(5, 9))


def test_bit_errors_hand_computed():
    targets = torch.tensor([[[1.0, 0.0], [0.0, 0.0]], [[1.0, 1.0], [1.0, 1.0]]])
    logits = torch.tensor([[[3.0, -1.0], [2.0, -2.0]], [[-1.0, -1.0], [1.0, 1.0]]])
    assert bit_errors(logits, targets).tolist() == [1.0, 2.0]


def test_cost_tracker_finds_first_window_below_threshold_and_the_worst_after():
    tracker = CostTracker(threshold=0.01, window=100, batch_size=50)
    for errors in [5.0, 1.0, 0.0, 0.0, 0.02, 0.0]:
        tracker.update(1.0, errors, 50)
    # windows of 2 batches: (5,1) (1,0) (0,0) -> converged after 200 sequences; then (0,.02)=.01 and (.02,0)
    assert tracker.converged_at == 200
    assert tracker.worst_after == pytest.approx(0.01)
    assert [c[0] for c in tracker.curve] == [100, 200, 300]


def test_cost_tracker_convergence_is_where_the_cost_first_stays_below():
    tracker = CostTracker(threshold=0.01, window=100, batch_size=50, stay=100)
    for errors in [5.0, 1.0, 0.0, 0.0, 0.03, 0.0, 0.0, 0.0]:
        tracker.update(1.0, errors, 50)
    # windows: 3 (100), .5 (150), 0 (200: first below), .015 (250), .015 (300), 0 (350), 0 (400): a run of 50 only
    assert tracker.first_below_at == 200 and tracker.converged_at is None
    tracker.update(1.0, 0.0, 50)  # 0 at 450: the run that began at 350 has lasted 100 sequences
    assert tracker.converged_at == 350
    assert tracker.worst_after == pytest.approx(0.015)
    assert tracker.converged_time_s >= tracker.first_below_time_s


def test_curriculum_grows_to_the_full_range():
    tracker = CostTracker(batch_size=4)
    stream = curriculum_batches(tracker, batch_size=4, seed=0, start=4, grow=8, max_length=20)
    lengths = []
    for i in range(40):
        batch = next(stream)
        lengths.append(batch.length)
        tracker.update(0.0, 0.0, 4)  # a perfect learner
    assert max(lengths[:8]) <= 4 and max(lengths) > 12
    assert tracker.full_range and [top for _, top in tracker.stages] == [12, 20]


def test_training_lowers_the_loss_on_short_sequences():
    e2t.set_seed(0)
    model = make_ntm(NTMConfig(controller_size=32, memory_rows=8, memory_width=8))
    probe = copy_batch(batch_size=64, length=2, seed=99)
    with torch.no_grad():
        before = float(copy_loss(model, probe))
    train_copy(model, seed=0, batch_size=16, lr=3e-3, max_sequences=16 * 60, min_length=1, max_length=2)
    with torch.no_grad():
        after = float(copy_loss(model, probe))
    assert after < 0.8 * before


def test_rmsprop_recipe_lowers_the_loss_and_bad_optimizer_names_are_refused():
    e2t.set_seed(0)
    model = make_ntm(NTMConfig(controller="feedforward", controller_size=32, memory_rows=8, memory_width=8))
    probe = copy_batch(batch_size=64, length=2, seed=99)
    with torch.no_grad():
        before = float(copy_loss(model, probe))
    train_copy(model, seed=0, batch_size=16, lr=1e-3, optimizer="rmsprop", max_sequences=16 * 60, min_length=1,
               max_length=2)
    with torch.no_grad():
        after = float(copy_loss(model, probe))
    assert after < 0.9 * before
    assert isinstance(make_optimizer(model, "rmsprop", 1e-4), torch.optim.RMSprop)
    with pytest.raises(ValueError, match="optimizer"):
        make_optimizer(model, "sgd", 1e-3)


class _PerfectCopier(torch.nn.Module):
    """Outputs the right answer from the start (logits +-20), so the cost is 0 and training converges at once."""

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(()))

    def forward(self, inputs):
        B, T, _ = inputs.shape
        L = (T - 1) // 2
        out = torch.zeros(B, T, 8)  # (B, 2L+1, 8)
        out[:, L + 1:] = 40 * inputs[:, :L, :8] - 20  # the L bit vectors, delayed by L + 1 steps
        return out + 0 * self.w


def test_learning_rate_drops_as_the_cost_falls(monkeypatch):
    made = []

    def recording(model, name, lr):
        made.append(make_optimizer(model, name, lr))
        return made[-1]

    monkeypatch.setattr(copy_task, "make_optimizer", recording)
    tracker = train_copy(_PerfectCopier(), seed=0, batch_size=16, lr=1e-3, optimizer="rmsprop",
                         lr_drops=((0.01, 1e-5), (1.0, 1e-4)), max_sequences=16 * 60, after_convergence=64)
    assert tracker.converged_at is not None and tracker.converged_at <= 512
    assert made[0].param_groups[0]["lr"] == 1e-5
    # both drops happened, the higher cost threshold first; a perfect copier is below both at the first full window
    assert [rate for _, rate in tracker.lr_changes] == [1e-4, 1e-5]
    assert tracker.lr_changes[0][0] <= tracker.converged_at + 16


def test_after_first_below_stops_without_waiting_for_the_cost_to_stay():
    tracker = train_copy(_PerfectCopier(), seed=0, batch_size=16, lr=1e-3, after_convergence=10**6,
                         after_first_below=64, max_sequences=16 * 200)
    assert tracker.first_below_at is not None
    assert tracker.sequences == tracker.first_below_at + 64  # stopped there, long before a run of 10**6 below
    assert tracker.converged_at is None


def test_lr_drops_rejects_bad_pairs():
    with pytest.raises(ValueError, match="lr_drops"):
        train_copy(_PerfectCopier(), seed=0, batch_size=4, lr_drops=((0.0, 1e-4),), max_sequences=8)


def test_evaluate_copy_returns_rates():
    e2t.set_seed(0)
    result = evaluate_copy(make_lstm(LSTMConfig(hidden_size=8)), lengths=(3, 5), sequences=6, batch_size=4)
    assert set(result) == {3, 5}
    for r in result.values():
        assert 0.0 <= r["bit_error_rate"] <= 1.0 and r["bits_per_sequence"] > 0


def test_checkpoint_job_quick_writes_both_checkpoints(tmp_path):
    card = checkpoint_job(quick=True, directory=tmp_path)
    for name in ("ntm_copy", "lstm_copy"):
        assert (tmp_path / f"{name}.safetensors").is_file()
        saved = json.loads((tmp_path / f"{name}.json").read_text())
        # a quick run can take under 0.05 s, which the card rounds to 0.0
        assert saved["name"] == name and "metrics" in saved and saved["wall_time_s"] >= 0
    assert card["runs"][0]["sequences_seen"] >= 64
    assert card["runs"][0]["curve"][-1][0] == card["runs"][0]["sequences_seen"]  # the curve reaches the end
    model, loaded = checkpoints.load("ntm_copy", make_ntm, directory=tmp_path)
    assert loaded["config"] == card["config"] and isinstance(model.config, NTMConfig)
    with pytest.raises(ValueError, match="quick=True must write to a directory"):
        checkpoint_job(quick=True)

"""Tests of ``e2t.viz.curves``: curves drawn from small fake cards (the right lines, the right numbers), a clear
error naming the card and the key when a card lacks one, and the Transformer's learning-rate schedule."""

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from e2t.recipes.transformer import TASK_TRAINING, warmup_decay  # noqa: E402
from e2t.train.checkpoints import CHECKPOINT_DIR  # noqa: E402
from e2t.viz import curves  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _curve(n=10, every=20, start=3.0):
    return [[every * (i + 1), round(start / (i + 1), 4)] for i in range(n)]


def _eval(step, em):
    return {"step": step, "loss": 1.0, "overall": {"exact_match": em, "n": 10},
            "by_bucket": {"1-5": {"exact_match": em}, "21+": {"exact_match": em / 2}}}


def _write(directory: Path, name: str, **card) -> str:
    card = {"name": name, "command": f"python -m e2t.jobs {name}", **card}
    (directory / f"{name}.json").write_text(json.dumps(card), encoding="utf-8")
    return name


def _seq2seq(directory, name, seeds=(0, 1, 2), drop=None):
    runs = [{"seed": s, "curve": _curve(start=3 + s), "valid": {"overall": {"exact_match": 0.5 + 0.1 * s}}}
            for s in seeds]
    if drop:
        del runs[1][drop]
    return _write(directory, name, command="python -m e2t.jobs seq2seq", runs=runs)


def test_missing_curve_names_the_card_the_key_and_the_command(tmp_path):
    _write(tmp_path, "old_card", command="python -m e2t.jobs old", metrics={})
    with pytest.raises(curves.MissingKeyError) as err:
        curves.training_curves("old_card", directory=tmp_path)
    message = str(err.value)
    assert "'old_card'" in message and "['curve']" in message and "python -m e2t.jobs old" in message
    assert isinstance(err.value, KeyError)


@pytest.mark.parametrize("call, key", [
    (lambda d: curves.seq2seq_curves([_seq2seq(d, "seq2seq_gru", drop="valid")], directory=d),
     "['runs'][1]['valid']"),
    (lambda d: curves.seq2seq_curves([_seq2seq(d, "seq2seq_gru", drop="curve")], directory=d),
     "['runs'][1]['curve']"),
    (lambda d: curves.rnnsearch_fig2_curves(_write(d, "rnnsearch_fig2", runs=[{"model": "RNNenc", "seed": 0,
                                                                                 "evals": []}]), directory=d),
     "['runs'][0]['valid']"),
    (lambda d: curves.transformer_curves(_write(d, "transformer_numbers", curve=_curve(), training={"steps": 200},
                                                valid_curve=[{"step": 100, "valid_exact_match": 0.5}]),
                                         directory=d),
     "['lr_factor_every_1pct']"),
    (lambda d: curves.transformer_curves(_write(d, "transformer_numbers", curve=_curve()), directory=d),
     "['valid_curve']"),
    (lambda d: curves.ntm_curves(_write(d, "ntm_copy", seed=0, runs=[{"seed": 0, "curve": [[512, 80.0, 30.0]]}]),
                                 baseline=_write(d, "lstm_copy"), directory=d),
     "'lstm_copy' has no ['curve']"),
])
def test_helpers_fail_clearly_on_a_missing_key(tmp_path, call, key):
    with pytest.raises(curves.MissingKeyError, match=r"card '.*" if key.startswith("[") else None) as err:
        call(tmp_path)
    assert key in str(err.value)


def test_a_malformed_curve_is_reported(tmp_path):
    _write(tmp_path, "bad", curve=[1, 2, 3])
    with pytest.raises(ValueError, match=r"card 'bad': \['curve'\] must be a non-empty list of \[x, y"):
        curves.training_curves("bad", directory=tmp_path)
    with pytest.raises(TypeError, match="a card .* or a checkpoint name"):
        curves.training_curves(3)


def test_training_curves_one_line_per_seed_and_the_validation_points(tmp_path):
    fig = curves.training_curves(_seq2seq(tmp_path, "seq2seq_lstm"), directory=tmp_path)
    ax, valid_ax = fig.axes
    loss_lines = [ln for ln in ax.get_lines() if len(ln.get_xdata())]
    assert len(loss_lines) == 3 and [ln.get_label() for ln in loss_lines] == ["seed 0", "seed 1", "seed 2"]
    assert list(loss_lines[1].get_ydata()) == [row[1] for row in _curve(start=4)]
    stars = valid_ax.get_lines()
    assert [float(s.get_ydata()[0]) for s in stars] == pytest.approx([0.5, 0.6, 0.7])
    assert all(float(s.get_xdata()[0]) == 200 for s in stars)  # at the last step of each curve
    assert ax.get_ylabel() == "training loss" and valid_ax.get_ylabel() == "validation exact match"


def test_training_curves_reads_the_validation_column_and_valid_curve(tmp_path):
    rnnsearch = _write(tmp_path, "rnnsearch", curve=[[100, 1.0, 0.2], [200, 0.5, 0.6]],
                       curve_columns=["step", "training loss (mean of the last 50 steps)", "validation exact match"])
    fig = curves.training_curves(rnnsearch, directory=tmp_path)
    ax, valid_ax = fig.axes
    assert len(ax.get_lines()) == 1 and list(valid_ax.get_lines()[0].get_ydata()) == [0.2, 0.6]
    card = {"name": "transformer_numbers", "curve": _curve(),
            "valid_curve": [{"step": 100, "valid_exact_match": 0.9}, {"step": 200, "valid_exact_match": 1.0}]}
    ax, valid_ax = curves.training_curves(card).axes
    assert list(valid_ax.get_lines()[0].get_xdata()) == [100, 200]
    copy = curves.training_curves({"name": "lstm_copy", "curve": [[512, 80.0, 30.0], [1024, 60.0, 20.0]]})
    assert copy.axes[0].get_xlabel() == "sequences" and len(copy.axes) == 1  # no validation axis
    assert list(copy.axes[0].get_lines()[0].get_ydata()) == [80.0, 60.0]


def test_seq2seq_curves_every_seed_of_every_setting(tmp_path):
    names = [_seq2seq(tmp_path, "seq2seq_gru"), _seq2seq(tmp_path, "seq2seq_lstm", seeds=(0, 1))]
    ax = curves.seq2seq_curves(names, directory=tmp_path).axes[0]
    assert len(ax.get_lines()) == 5
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["gru: valid EM 0.60 (3 seeds)", "lstm: valid EM 0.55 (2 seeds)"]


def test_rnnsearch_fig2_panels_and_lines(tmp_path):
    runs = [{"model": m, "seed": s, "valid": [_eval(100 * (i + 1), 0.1 * i) for i in range(n)]}
            for m, n in (("RNNenc", 5), ("RNNsearch", 3)) for s in (0, 1)]
    fig = curves.rnnsearch_fig2_curves(_write(tmp_path, "rnnsearch_fig2", runs=runs), directory=tmp_path)
    overall, long = fig.axes
    assert len(overall.get_lines()) == 4 and len(long.get_lines()) == 4
    assert list(long.get_lines()[2].get_ydata()) == pytest.approx([0.0, 0.05, 0.1])  # RNNsearch seed 0, "21+"
    assert overall.get_lines()[0].get_color() == overall.get_lines()[1].get_color()  # one colour per model
    with pytest.raises(curves.MissingKeyError, match=r"\['by_bucket'\]\['6-10'\]"):
        curves.rnnsearch_fig2_curves(_write(tmp_path, "rnnsearch_fig2", runs=runs), directory=tmp_path,
                                     buckets=("6-10",))


def test_ntm_curves_seeds_and_baseline(tmp_path):
    runs = [{"seed": s, "curve": [[512, 80.0 - s, 30.0], [1024, 10.0, 2.0 + s]]} for s in range(3)]
    ntm = _write(tmp_path, "ntm_copy", seed=2, runs=runs)
    lstm = _write(tmp_path, "lstm_copy", curve=[[512, 85.0, 40.0], [1024, 70.0, 30.0]])
    ax = curves.ntm_curves(ntm, baseline=lstm, directory=tmp_path).axes[0]
    lines = ax.get_lines()
    assert len(lines) == 4 and lines[2].get_linewidth() > lines[0].get_linewidth()  # the shipped seed
    assert lines[2].get_label() == "NTM seed 2 (shipped)" and lines[3].get_label() == "LSTM (lstm_copy)"
    ax = curves.ntm_curves(ntm, baseline=None, directory=tmp_path, column=2).axes[0]
    assert [list(ln.get_ydata()) for ln in ax.get_lines()] == [[30.0, 2.0], [30.0, 3.0], [30.0, 4.0]]
    with pytest.raises(ValueError, match="column must be 1"):
        curves.ntm_curves(ntm, baseline=None, directory=tmp_path, column=0)


def test_transformer_curves_draw_the_recorded_learning_rate(tmp_path):
    steps, warmup, lr = 200, 10, 0.003
    factors = [round(warmup_decay(i, warmup=warmup, total=steps), 4) for i in range(0, steps, steps // 100)]
    card = _write(tmp_path, "transformer_numbers", curve=_curve(), training={"steps": steps, "lr": lr},
                  valid_curve=[{"step": 100, "valid_exact_match": 0.8}, {"step": 200, "valid_exact_match": 0.9}],
                  lr_factor_every_1pct=factors)
    fig = curves.transformer_curves(card, directory=tmp_path)
    left, right, valid_ax = fig.axes[0], fig.axes[1], fig.axes[2]
    assert len(left.get_lines()) == 1 and list(valid_ax.get_lines()[0].get_ydata()) == [0.8, 0.9]
    line = right.get_lines()[0]
    assert list(line.get_xdata()) == list(range(0, steps, 2))
    assert list(line.get_ydata()) == pytest.approx([lr * f for f in factors])


def test_compare_curves_one_line_per_card(tmp_path):
    names = [_write(tmp_path, f"ch4_luong_{m}", curve=_curve(start=s), valid={"exact_match": 0.9})
             for s, m in ((3, "global"), (4, "local_m"))]
    ax = curves.compare_curves(names, directory=tmp_path, labels=["global", "local-m"]).axes[0]
    assert [ln.get_label() for ln in ax.get_lines()] == ["global (validation exact match 0.900)",
                                                         "local-m (validation exact match 0.900)"]
    with pytest.raises(ValueError, match="labels has 1 entries but names has 2"):
        curves.compare_curves(names, directory=tmp_path, labels=["x"])


def test_lr_schedule_is_the_recipe_and_the_paper():
    fig = curves.lr_schedule()
    book, paper = fig.axes[0].get_lines()[:2]
    warmup, total, lr = TASK_TRAINING["warmup"], TASK_TRAINING["steps"], TASK_TRAINING["lr"]
    expected = [lr * warmup_decay(s, warmup=warmup, total=total) for s in range(total)]
    torch.testing.assert_close(torch.tensor(book.get_ydata()), torch.tensor(expected, dtype=torch.float64))
    ys = list(paper.get_ydata())
    assert ys.index(max(ys)) == warmup - 1  # the inverse-square-root schedule peaks at the end of warmup
    assert len(curves.lr_schedule(50, 400, paper=False).axes[0].get_lines()) == 2  # the schedule + warmup marker
    with pytest.raises(ValueError, match="0 < warmup < total"):
        curves.lr_schedule(500, 400)


def _has_curves(card: dict) -> bool:
    runs = card.get("runs")
    return "curve" in card or (isinstance(runs, list) and bool(runs) and all("curve" in r for r in runs))


SHIPPED = sorted(p.stem for p in CHECKPOINT_DIR.glob("*.json")
                 if _has_curves(json.loads(p.read_text(encoding="utf-8"))))


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_card_with_a_curve_plots(name):
    fig = curves.training_curves(name)
    assert fig.axes[0].get_lines() and fig.axes[0].get_xlabel() in ("step", "sequences")

"""Tests of the shared helpers: training loop, checkpoints, metrics, plots, source display, widgets."""

import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

import e2t  # noqa: E402
from e2t import train  # noqa: E402
from e2t.train import checkpoints, metrics  # noqa: E402
from e2t.viz import plot, widgets  # noqa: E402
from e2t import temperature as t  # noqa: E402
from e2t.book.source import show_source  # noqa: E402
from e2t.viz.temperature import EXAMPLE_SCORES, TEMPERATURES, _TemperaturePainter, draw_temperature, temperature_explorer  # noqa: E402,E501


def _regression_batches(seed=0):
    g = torch.Generator().manual_seed(seed)
    w = torch.tensor([[2.0], [-1.0]])
    while True:
        x = torch.randn(16, 2, generator=g)
        yield x, x @ w


def _mse(model, batch):
    x, y = batch
    return torch.nn.functional.mse_loss(model(x), y)


def test_fit_lowers_the_loss_and_repeats_with_a_seed():
    results = []
    for _ in range(2):
        e2t.set_seed(0)
        model = torch.nn.Linear(2, 1)
        h = train.fit(model, _mse, _regression_batches(), steps=200, lr=0.05, progress=False,
                      eval_fn=lambda m: {"w0": float(m.weight[0, 0])}, eval_every=50)
        results.append(h.losses)
    assert results[0] == results[1]
    assert sum(results[0][-20:]) < 0.01 * sum(results[0][:20])
    assert [e["step"] for e in h.evals] == [50, 100, 150, 200]
    assert h.wall_time_s > 0 and len(h.smoothed(10)) == 200


def test_fit_stops_on_stop_fn_and_cycles_finite_iterables():
    model = torch.nn.Linear(2, 1)
    data = [next(_regression_batches()) for _ in range(3)]
    h = train.fit(model, _mse, data, steps=50, progress=False, stop_fn=lambda hist: len(hist.steps) >= 7)
    assert len(h.steps) == 7 and h.stopped_early


def test_fit_raises_on_nonfinite_loss():
    model = torch.nn.Linear(2, 1)
    with pytest.raises(FloatingPointError, match="step 1"):
        train.fit(model, lambda m, b: m(b[0]).sum() * float("nan"), _regression_batches(), steps=3, progress=False)


def test_checkpoint_round_trip(tmp_path):
    model = torch.nn.Linear(3, 2)
    card = {"name": "toy", "command": "test", "seed": 0, "steps": 1, "wall_time_s": 0.1, "metrics": {"a": 1}}
    path = checkpoints.save_checkpoint(model, "toy", card, directory=tmp_path)
    assert path.suffix == ".safetensors"
    other = torch.nn.Linear(3, 2)
    loaded = checkpoints.load_checkpoint(other, "toy", directory=tmp_path)
    assert torch.equal(other.weight, model.weight)
    assert loaded["parameters"] == 8 and loaded["metrics"] == {"a": 1}
    assert json.loads((tmp_path / "toy.json").read_text())["torch"].startswith("2.")


def test_load_rebuilds_the_model_from_its_card(tmp_path):
    from e2t.seq2seq import Seq2SeqConfig, make_seq2seq

    model = make_seq2seq(Seq2SeqConfig(src_vocab_size=7, tgt_vocab_size=5, d_embed=4, d_hidden=6))
    card = {"name": "toy", "command": "test", "seed": 0, "steps": 1, "wall_time_s": 0.1, "metrics": {},
            "config": {"src_vocab_size": 7, "tgt_vocab_size": 5, "d_embed": 4, "d_hidden": 6}}
    checkpoints.save_checkpoint(model, "toy", card, directory=tmp_path)
    loaded, read = checkpoints.load("toy", make_seq2seq, directory=tmp_path)
    assert not loaded.training and read["config"]["d_hidden"] == 6
    assert all(torch.equal(a, b) for a, b in zip(loaded.state_dict().values(), model.state_dict().values()))
    checkpoints.save_card("no_config", {k: v for k, v in card.items() if k != "config"}, directory=tmp_path)
    with pytest.raises(ValueError, match="no 'config'"):
        checkpoints.load("no_config", make_seq2seq, directory=tmp_path)


def test_checkpoint_errors(tmp_path):
    model = torch.nn.Linear(3, 2)
    with pytest.raises(ValueError, match="card is missing"):
        checkpoints.save_checkpoint(model, "toy", {"name": "toy"}, directory=tmp_path)
    with pytest.raises(FileNotFoundError, match="make checkpoints"):
        checkpoints.load_checkpoint(model, "absent", directory=tmp_path)
    with pytest.raises(ValueError, match="bare checkpoint name"):
        checkpoints.checkpoint_paths("a/b")


def test_metrics():
    hyp = [["a", "b"], ["c"], ["d", "e", "f"]]
    ref = [["a", "b"], ["c", "x"], ["d", "e", "g"]]
    assert metrics.exact_match(hyp, ref) == pytest.approx(1 / 3)
    assert metrics.token_accuracy(hyp, ref) == pytest.approx(5 / 7)
    long_ref = [["one", "two", "three", "four", "five"], ["six", "seven", "eight", "nine", "ten"]]
    long_hyp = [["one", "two", "three", "four", "five"], ["six", "seven", "eight", "nine", "eleven"]]
    assert metrics.corpus_bleu(long_ref, long_ref) == pytest.approx(100.0)
    assert 0.0 < metrics.corpus_bleu(long_hyp, long_ref) < 100.0
    with pytest.raises(ValueError, match="hypotheses has 1 items but references has 3"):
        metrics.exact_match(hyp[:1], ref)


def test_heatmap_labels_and_shape_check():
    ax = plot.heatmap(torch.eye(3), x_labels=list("abc"), y_labels=list("xyz"), title="t")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    plt.close("all")
    with pytest.raises(ValueError, match="x_labels has 2 labels"):
        plot.heatmap(torch.eye(3), x_labels=["a", "b"])


def test_show_source_reads_the_package():
    code = show_source(e2t.masks.causal_mask)
    assert "def causal_mask" in code.data
    with pytest.raises(ValueError, match="e2t objects only"):
        show_source(json.dumps)


def _draw(scale, n):
    fig, ax = plt.subplots(figsize=(2, 1.5))
    ax.bar(range(n), [scale * i for i in range(n)])
    ax.set_ylim(0, 20)
    return fig


def test_explorer_grid_twin_has_every_frame_and_the_widget_bundle():
    ex = widgets.explore(_draw, widgets.slider("scale", [1.0, 2.0, 3.0], value=2.0),
                         widgets.choice("n", {"three": 3, "five": 5}), title="bars")
    assert ex.mode == "grid" and len(ex.frame_indices()) == 6
    html = ex.twin_html()
    assert html.count('type="range"') == 2 and "document.currentScript.parentNode" in html
    payload = html.split('class="e2t-twin-data">')[1].split("</script>")[0]
    data = json.loads(payload)
    assert sorted(data["frames"]) == sorted(",".join(map(str, i)) for i in ex.frame_indices())
    assert len(set(data["images"])) == 6  # every combination draws a different figure
    bundle = ex._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle and bundle["text/html"] == html
    assert not plt.get_fignums()  # every frame's figure was closed


def test_explorer_axes_mode_when_the_grid_is_too_large():
    ex = widgets.explore(_draw, widgets.slider("scale", [1.0, 2.0, 3.0, 4.0]),
                         widgets.slider("n", [2, 3, 4, 5], value=3), max_frames=10)
    assert ex.mode == "axes"
    idx = ex.frame_indices()
    assert len(idx) == 4 + 4 - 1 and len(set(idx)) == len(idx)
    assert "back to their defaults" in ex.twin_html()


def test_explorer_argument_errors():
    with pytest.raises(ValueError, match="not one of its values"):
        widgets.slider("x", [1, 2], value=3)
    with pytest.raises(ValueError, match="unique"):
        widgets.explore(_draw, widgets.slider("n", [1, 2]), widgets.slider("n", [1, 2]))
    ex = widgets.explore(_draw, widgets.slider("scale", [1.0, 2.0]), widgets.slider("n", [2, 3]))
    with pytest.raises(ValueError, match="unknown controls"):
        ex.render(bogus=1)


def test_temperature_softmax_limits():
    z = torch.tensor(EXAMPLE_SCORES, dtype=torch.float64)
    cold, hot = t.softmax_with_temperature(z, 0.01), t.softmax_with_temperature(z, 100.0)
    assert cold.max() > 0.99 and (hot.max() - hot.min()) < 0.05
    assert t.entropy(hot) > t.entropy(cold)
    # a peaky softmax passes almost no gradient back (the reason for the 1/sqrt(d_k) scale)
    assert t.softmax_jacobian_norm(z, 0.01) < 1e-6 < t.softmax_jacobian_norm(z, 1.0)
    jac = torch.autograd.functional.jacobian(lambda x: t.softmax_with_temperature(x, 0.5), z)
    torch.testing.assert_close(t.softmax_jacobian_norm(z, 0.5), torch.linalg.matrix_norm(jac))
    with pytest.raises(ValueError, match="tau must be > 0"):
        t.softmax_with_temperature(z, 0.0)


def test_temperature_explorer_twin_computes_in_the_browser():
    ex = temperature_explorer()
    assert ex.mode == "browser"  # no precomputed frames: the page recomputes the softmax from the slider
    html = ex.twin_html()
    assert "<script" in html and "e2t-twin" in html and "data:image/png" not in html
    low, high = ex.expected(tau=min(TEMPERATURES)), ex.expected(tau=max(TEMPERATURES))
    assert low != high  # what the page must compute changes with the control
    plt.close("all")


def _pixels(png):
    import io

    import numpy as np
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=float)


def test_painter_frames_match_a_full_redraw_and_reuse_the_background():
    painter = _TemperaturePainter()
    quantized = painter.png(tau=0.5)  # the default: a 256-colour PNG
    painter.mode = "RGB"  # exact colours, to compare with an ordinary render
    first = painter.png(tau=0.5)
    painter.png(tau=5.0)
    again = painter.png(tau=0.5)  # drawn over the cached background
    assert len(painter._backgrounds) == 1 and first == again
    full = widgets.figure_to_png(draw_temperature(0.5))  # an ordinary figure, everything drawn at once
    a, b = _pixels(again), _pixels(full)
    assert a.shape == b.shape and abs(a - b).mean() < 1.0
    assert abs(_pixels(quantized) - b).mean() < 3.0 and len(quantized) < len(full)
    assert abs(_pixels(painter.png(tau=5.0)) - a).mean() > 1.0  # the frame does change with the control


def test_explorer_accepts_png_frames_and_figure_to_png_keeps_the_layout():
    ex = widgets.explore(lambda n: widgets.figure_to_png(_draw(1.0, n)), widgets.slider("n", [2, 3]))
    assert ex.render(n=3)[:4] == b"\x89PNG"
    fig = _draw(1.0, 3)
    width, height = fig.get_size_inches()
    assert _pixels(widgets.figure_to_png(fig, dpi=72)).shape[:2] == (round(72 * height), round(72 * width))
    assert not plt.get_fignums()

"""The synthesis of chapter 7: tables and plots built from the shipped checkpoints and live evaluations."""

import matplotlib
import pytest
import torch

matplotlib.use("Agg")

from e2t.book import synthesis as sy  # noqa: E402
from e2t.data.text import number_task  # noqa: E402
from e2t.train.evaluation import DEFAULT_BUCKETS, bucket_label  # noqa: E402

BUCKETS = [bucket_label(b) for b in DEFAULT_BUCKETS]


@pytest.fixture(scope="module")
def task():
    return number_task()


@pytest.fixture(scope="module")
def translators(task):
    return sy.load_translators(task)


def test_every_translation_model_loads_with_its_cards_parameter_count(translators):
    assert list(translators) == [s.label for s in sy.TRANSLATION_MODELS]
    for label, m in translators.items():
        assert sy.count_parameters(m.model) == m.card["parameters"], label
        assert m.card["name"] == m.spec.checkpoint


def test_tiny_evaluation_gives_one_row_per_model_and_scores_in_range(task, translators):
    examples = list(task.test)[:5]
    results = sy.evaluate_translators(translators, examples)
    ms = sy.decode_ms_per_sentence(translators, examples, repeats=1)
    table = sy.translation_table(translators, results, decode_ms=ms)
    assert list(table.index) == list(translators)
    for col in [f"EM {b}" for b in BUCKETS] + ["EM all", "BLEU", "parameters", "train steps (card)",
                                                "batch (card)", "train wall s (card)", "decode ms/sentence"]:
        assert col in table.columns, col
    assert table["EM all"].between(0, 1).all() and table["BLEU"].between(0, 1).all()
    assert (table["decode ms/sentence"] > 0).all()
    assert all(r["overall"]["n"] == 5 for r in results.values())
    assert "decode ms/sentence" not in sy.translation_table(translators, results).columns


def test_a_perfect_translator_scores_one_and_a_silent_one_zero(task, translators):
    examples = list(task.test)[:20]
    spec = sy.ModelSpec("oracle", "none", 0, lambda config: None)
    model = next(iter(translators.values())).model
    loaded = {"oracle": sy.Loaded(spec, model, {}, lambda exs: [list(e.tgt) for e in exs]),
              "silent": sy.Loaded(spec, model, {}, lambda exs: [[] for _ in exs])}
    results = sy.evaluate_translators(loaded, examples)
    assert results["oracle"]["overall"]["exact_match"] == 1.0
    assert results["silent"]["overall"]["exact_match"] == 0.0
    table = sy.translation_table(loaded, results)
    assert table.loc["oracle", "train wall s (card)"] is None and table.loc["oracle", "EM all"] == 1.0


def test_bad_arguments_name_the_argument(task, translators):
    with pytest.raises(ValueError, match="names"):
        sy.load_translators(task, names=["no_such_model"])
    with pytest.raises(ValueError, match="names"):
        sy.load_copy_models(names="ntm_copy")
    with pytest.raises(ValueError, match="repeats"):
        sy.decode_ms_per_sentence(translators, list(task.test)[:2], repeats=0)
    with pytest.raises(ValueError, match="examples"):
        sy.evaluate_translators(translators, [])
    results = sy.evaluate_translators(translators, list(task.test)[:2])
    results.pop(next(iter(results)))
    with pytest.raises(ValueError, match="results"):
        sy.translation_table(translators, results)


def test_a_subset_by_checkpoint_name(task):
    loaded = sy.load_translators(task, names=["ch4_luong_local_p", "seq2seq_gru_baseline"])
    assert list(loaded) == ["Luong local-p", "fixed vector (GRU)"]


def test_copy_models_tiny_evaluation_and_table():
    loaded = sy.load_copy_models(names=["lstm_copy", "transformer_copy"])
    assert list(loaded) == ["LSTM", "Transformer"]
    results = sy.evaluate_copy_models(loaded, lengths=(3, 6), sequences=4)
    assert all(set(r) == {3, 6} and all(0.0 <= v <= 1.0 for v in r.values()) for r in results.values())
    again = sy.evaluate_copy_models(loaded, lengths=(3, 6), sequences=4)
    assert again == results  # the same seeded sequences every time
    table = sy.copy_table(loaded, results)
    assert list(table.index) == ["LSTM", "Transformer"]
    assert {"BER L=3", "BER L=6", "parameters", "train sequences (card)", "first below 0.01 at (card)",
            "train wall s (card)"} <= set(table.columns)
    assert (table["train sequences (card)"] > 0).all()
    with pytest.raises(ValueError, match="lengths"):
        sy.evaluate_copy_models(loaded, lengths=(0, 4))
    with pytest.raises(ValueError, match="sequences"):
        sy.evaluate_copy_models(loaded, sequences=0)


def test_every_copy_model_loads():
    loaded = sy.load_copy_models()
    assert [m.spec.checkpoint for m in loaded.values()] == [s.checkpoint for s in sy.COPY_MODELS]
    for m in loaded.values():
        out = m.model(torch.zeros(1, 5, 9))
        assert out.shape[-1] == 8


def test_plots_draw_one_line_per_model():
    by_bucket = {b: {"exact_match": 0.5, "n": 100} for b in BUCKETS}
    fig = sy.plot_translation({"a": {"by_bucket": by_bucket}, "b": {"by_bucket": by_bucket}})
    assert len(fig.axes[0].lines) == 2 + len(BUCKETS) - 1  # two models and the lines between the buckets
    fig = sy.plot_copy({"a": {10: 0.0, 40: 0.2}, "b": {10: 0.1, 40: 0.4}, "c": {10: 0.0, 40: 0.0}})
    ax = fig.axes[0]
    assert len(ax.lines) == 3 + 1  # three models and the chance line
    assert len(ax.patches) == 1  # the shaded training range
    with pytest.raises(ValueError, match="train_lengths"):
        sy.plot_copy({"a": {10: 0.0}}, train_lengths=(20, 1))
    with pytest.raises(ValueError, match="results"):
        sy.plot_translation({})


def test_translation_plot_shows_error_rates_and_puts_zero_errors_on_the_floor():
    perfect = {b: {"exact_match": 1.0, "n": 200} for b in BUCKETS}
    half = {b: {"exact_match": 0.5, "n": 200} for b in BUCKETS}
    fig = sy.plot_translation({"perfect": {"by_bucket": perfect}, "half": {"by_bucket": half}})
    ax = fig.axes[0]
    floor, *_ = ax.get_yticks()
    lines = {line.get_label(): line for line in ax.lines}
    assert list(lines["perfect"].get_ydata()) == [floor] * len(BUCKETS)
    assert list(lines["half"].get_ydata()) == [0.5] * len(BUCKETS)
    assert 0 < floor < 1 / 200 and ax.get_yscale() == "log"
    assert ax.yaxis.get_major_formatter()(floor, 0) == "none wrong"
    texts = [t for t in fig.findobj(matplotlib.text.Text) if t.get_text()]
    assert min(t.get_fontsize() for t in texts) >= 9
    fig.canvas.draw()
    assert ax.get_legend().get_window_extent().y1 <= ax.get_window_extent().y0  # the legend is below the data


def test_first_below_at_reads_the_card_or_its_metrics():
    assert sy._first_below_at({"converged_at_sequences": 3952}) == 3952
    assert sy._first_below_at({"metrics": {"converged_at_sequences": 128}}) == 128
    assert sy._first_below_at({"converged_at_sequences": None}) == "not reached"
    assert sy._first_below_at({"metrics": {}}) == "–"
    # a card that records both: where the cost first dipped below 0.01 wins over where it stayed below
    assert sy._first_below_at({"first_below_at_sequences": 4832, "converged_at_sequences": 6064}) == 4832
    ntm_like = {"seed": 2, "metrics": {"converged_at_sequences": 6064},
                "runs": [{"seed": 0, "first_below_at_sequences": 3936}, {"seed": 2, "first_below_at_sequences": 4832}]}
    assert sy._first_below_at(ntm_like) == 4832


def test_batch_size_is_read_where_each_card_keeps_it(translators):
    assert sy.card_batch_size({"train": {"batch_size": 64}}) == 64
    assert sy.card_batch_size({"training": {"batch_size": 32}}) == 32
    assert sy.card_batch_size({"batch_size": 16}) == 16
    assert sy.card_batch_size({"config": {}}) is None
    sizes = {label: sy.card_batch_size(m.card) for label, m in translators.items()}
    assert sizes["fixed vector (GRU)"] == 64 and sizes["Bahdanau (RNNsearch)"] == 128 and sizes["Transformer"] == 64


def test_card_note_reads_either_key():
    assert sy.card_note({"note": "shared"}) == "shared"
    assert sy.card_note({"timing_note": "inflated"}) == "inflated"
    assert sy.card_note({}) == ""

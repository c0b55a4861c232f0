"""e2t.score_study: the six-score (RNNsearch) / three-attention (Luong) study runs end to end and its tables read
the card."""

import json

import pytest

import e2t
from e2t.recipes.score_study import (checkpoint_job, load_study, mean_exact_match, results_table, run_one, settings,
                             train_rnnsearch_study)
from e2t.scores import SCORE_NAMES


@pytest.fixture(autouse=True)
def _one_thread():
    e2t.set_seed(0)


def test_settings_cover_six_scores_on_rnnsearch_and_three_modes_on_luong():
    triples = settings()
    assert [s for d, m, s in triples if d == "rnnsearch"] == list(SCORE_NAMES)
    assert {m for d, m, _ in triples if d == "rnnsearch"} == {"global"}
    assert [m for d, m, s in triples if d == "luong"] == ["global", "local-m", "local-p"]
    assert {s for d, _, s in triples if d == "luong"} == {"general"}


def test_the_scores_part_trains_chapter_3s_rnnsearch():
    from e2t.rnnsearch import RNNsearch

    model, history = train_rnnsearch_study(score="location", seed=0, steps=2)
    assert isinstance(model, RNNsearch) and model.config.score == "location" and len(history.steps) == 2
    with pytest.raises(ValueError, match="score"):
        train_rnnsearch_study(score="bilinear", seed=0, steps=1)
    with pytest.raises(ValueError, match="decoder"):
        run_one("lstm", "global", "dot", 0, steps=1)
    with pytest.raises(ValueError, match="mode"):
        run_one("rnnsearch", "local-m", "dot", 0, steps=1)


def test_quick_job_writes_a_card_the_tables_read(tmp_path):
    card = checkpoint_job(quick=True, directory=tmp_path)
    on_disk = json.loads((tmp_path / "ch4_score_study.json").read_text())
    assert on_disk["steps"] == 3 and len(on_disk["runs"]) == len(settings())
    assert load_study(directory=tmp_path)["runs"] == card["runs"]
    for run in card["runs"]:
        assert 0.0 <= run["exact_match"] <= 1.0 and run["parameters"] > 0 and run["ms_per_step"] > 0
    table = results_table(card)
    assert list(table.index) == list(SCORE_NAMES)
    # the location score has the extra W_a rows, the parameter-free scores add nothing to the dot model
    assert table.loc["dot", "parameters"] == table.loc["cosine", "parameters"] < table.loc["general", "parameters"]
    modes = results_table(card, part="reach")
    assert list(modes.index) == ["global", "local-m", "local-p"]
    assert 0.0 <= mean_exact_match(card, decoder="luong", mode="local-p", score="general", long=True) <= 1.0
    # global + general is in both parts: the decoder is a required argument, never guessed
    with pytest.raises(TypeError):
        mean_exact_match(card, mode="global", score="general")
    with pytest.raises(TypeError):
        mean_exact_match(card, "luong", "global", "general")  # keyword-only
    assert 0.0 <= mean_exact_match(card, decoder="rnnsearch", mode="global", score="general") <= 1.0
    with pytest.raises(ValueError, match="no runs"):
        mean_exact_match(card, decoder="luong", mode="local-p", score="dot")
    assert all(0.0 <= run["alignment_accuracy"] <= 1.0 for run in card["runs"])
    with pytest.raises(ValueError, match="part"):
        results_table(card, part="both")
    with pytest.raises(ValueError, match="directory"):
        checkpoint_job(quick=True)

"""e2t.score_study: the six-score / three-attention study runs end to end and its table reads the card."""

import json

import pytest

import e2t
from e2t.score_study import checkpoint_job, load_study, mean_exact_match, results_table, settings
from e2t.scores import SCORE_NAMES


@pytest.fixture(autouse=True)
def _one_thread():
    e2t.set_seed(0)


def test_settings_cover_six_scores_and_three_modes():
    pairs = settings()
    assert [s for m, s in pairs if m == "global"] == list(SCORE_NAMES)
    assert {m for m, _ in pairs} == {"global", "local-m", "local-p"}


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
    modes = results_table(card, modes=("global", "local-m", "local-p"), by="mode")
    assert list(modes.index) == ["global", "local-m", "local-p"]
    assert 0.0 <= mean_exact_match(card, "local-p", "general", long=True) <= 1.0
    with pytest.raises(ValueError, match="no runs"):
        mean_exact_match(card, "local-p", "dot")
    with pytest.raises(ValueError, match="directory"):
        checkpoint_job(quick=True)

"""Every shipped checkpoint card says how it was made and how its weights were chosen."""

import json

import pytest

from e2t.train.checkpoints import CHECKPOINT_DIR

CARDS = sorted(CHECKPOINT_DIR.glob("*.json"))


def test_there_are_cards():
    assert len(CARDS) >= 10


@pytest.mark.parametrize("path", CARDS, ids=lambda p: p.stem)
def test_card_records_its_command_and_selection_rule(path):
    card = json.loads(path.read_text(encoding="utf-8"))
    assert card["name"] == path.stem
    assert card["command"].startswith(("python -m e2t.jobs", "python -c")), card["command"]
    rule = card.get("selection_rule") or card.get("shipped_rule")
    assert isinstance(rule, str) and len(rule) > 20, f"{path.name}: no selection rule"
    # a rule that picks by score must say the score is a validation one
    if not rule.startswith("none"):
        assert "validation" in rule, f"{path.name}: the rule does not say it uses validation data: {rule!r}"


@pytest.mark.parametrize("path", CARDS, ids=lambda p: p.stem)
def test_weights_beside_a_card_that_ships_a_model(path):
    card = json.loads(path.read_text(encoding="utf-8"))
    if "config" in card and card["name"] not in ("rnnsearch_fig2", "ch4_score_study", "seq2seq_lr_sweep"):
        assert path.with_suffix(".safetensors").is_file(), f"{path.name}: no weights beside it"

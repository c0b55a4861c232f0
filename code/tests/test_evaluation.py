"""Tests of e2t.evaluation: scores overall and by source-length bucket, tables."""

import pytest

from e2t.data.text import Example
from e2t.train.evaluation import DEFAULT_BUCKETS, bucket_label, by_bucket_table, evaluate, mean_std, summary_table, \
    to_markdown


def _ex(value, n_src, tgt):
    return Example(value, tuple(["w"] * n_src), tuple(tgt))


EXAMPLES = [_ex(1, 2, ["a", "b"]), _ex(2, 3, ["c"]), _ex(3, 7, ["a", "b", "c", "d"]), _ex(4, 22, ["d", "e"])]


def _translate(examples):
    # right for the short ones, half right for the 7-word one, wrong for the long one
    out = {1: ["a", "b"], 2: ["c"], 3: ["a", "b", "x", "y"], 4: ["q"]}
    return [out[e.value] for e in examples]


def test_evaluate_overall_and_by_bucket():
    r = evaluate(_translate, EXAMPLES)
    assert r["overall"]["n"] == 4
    assert r["overall"]["exact_match"] == pytest.approx(0.5)
    assert r["overall"]["token_accuracy"] == pytest.approx(5 / 9)
    assert 0.0 < r["overall"]["bleu"] < 1.0
    assert list(r["by_bucket"]) == ["1-5", "6-10", "11-15", "16-20", "21+"]
    b = r["by_bucket"]
    assert (b["1-5"]["n"], b["1-5"]["exact_match"]) == (2, 1.0)
    assert (b["6-10"]["n"], b["6-10"]["exact_match"], b["6-10"]["token_accuracy"]) == (1, 0.0, 0.5)
    assert (b["21+"]["n"], b["21+"]["exact_match"]) == (1, 0.0)
    # an empty bucket is defined (zeros, n = 0), never NaN
    assert b["11-15"] == {"n": 0, "exact_match": 0.0, "token_accuracy": 0.0, "bleu": 0.0}


def test_evaluate_filters_and_checks():
    r = evaluate(_translate, EXAMPLES, max_source_len=10, return_hypotheses=True)
    assert r["overall"]["n"] == 3 and r["overall"]["exact_match"] == pytest.approx(2 / 3)
    assert r["hypotheses"][2] == ["a", "b", "x", "y"]
    with pytest.raises(ValueError, match="returned 1 outputs for 4"):
        evaluate(lambda ex: [["a"]], EXAMPLES)
    with pytest.raises(ValueError, match="bad bucket"):
        evaluate(_translate, EXAMPLES, buckets=[(5, 2)])
    with pytest.raises(ValueError, match="empty"):
        evaluate(_translate, EXAMPLES, max_source_len=1)


def test_buckets_cover_the_task_range():
    assert [bucket_label(b) for b in DEFAULT_BUCKETS][-1] == "21+"
    covered = {n for lo, hi in DEFAULT_BUCKETS for n in range(lo, (hi or 40) + 1)}
    assert set(range(1, 41)) <= covered


def test_tables():
    r1 = evaluate(_translate, EXAMPLES)
    r2 = evaluate(lambda ex: [list(e.tgt) for e in ex], EXAMPLES)
    t = by_bucket_table({"half": r1, "perfect": r2})
    assert t.loc["perfect", "all"] == 1.0 and t.loc["half", "1-5"] == 1.0
    s = summary_table({"mix": [r1, r2]}, columns=["exact_match", "exact_match@21+"])
    assert s.loc["mix", "exact_match"] == "0.750 ± 0.354" and s.loc["mix", "seeds"] == 2
    assert s.loc["mix", "exact_match@21+"] == "0.500 ± 0.707"
    md = to_markdown(t)
    assert md.splitlines()[0].startswith("| | 1-5") and "| perfect | 1.000" in md
    assert mean_std([0.5]) == (0.5, 0.0)
    with pytest.raises(ValueError, match="non-empty"):
        mean_std([])
    with pytest.raises(ValueError, match="metric must be one of"):
        by_bucket_table({"x": r1}, metric="f1")

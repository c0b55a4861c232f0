"""The browser check's own logic (tools/twin_check.py), without a browser: which settings it tries, how it compares
the page's numbers with e2t's, and how bench reports it."""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT))

import twin_check  # noqa: E402

from bench import __main__ as bench_main  # noqa: E402
from e2t.viz.masking import masking_explorer  # noqa: E402
from e2t.viz.ntm_addressing import addressing_explorer  # noqa: E402


@pytest.mark.parametrize("factory", [addressing_explorer, masking_explorer])
def test_settings_to_try_are_valid_reproducible_and_reach_the_ends(factory):
    ex = factory()
    spec = ex.spec()
    tried = twin_check.settings_to_try(spec, twin_check.SETTINGS_PER_TWIN, seed=3)
    assert len(tried) == twin_check.SETTINGS_PER_TWIN >= 50
    assert tried == twin_check.settings_to_try(spec, twin_check.SETTINGS_PER_TWIN, seed=3)
    assert tried != twin_check.settings_to_try(spec, twin_check.SETTINGS_PER_TWIN, seed=4)
    for s in tried:
        assert ex.normalize(s) == s  # on the controls' steps, within range, constraints met
    for c in spec["controls"]:
        seen = {s[c["name"]] for s in tried}
        low = c["min"] if c["kind"] == "range" else c["values"][0]
        assert low in seen and len(seen) > 2, f"{c['name']}: {sorted(seen, key=str)[:5]}"
    assert tried[1]["s_minus" if "s_minus" in tried[1] else "padded"] in (1.0, 8)  # the upper corner


def test_max_abs_diff_compares_numbers_and_refuses_another_structure():
    assert twin_check.max_abs_diff({"w": [0.5, 0.25], "s": 1.0}, {"w": [0.5, 0.25], "s": 1.0}) == 0.0
    assert twin_check.max_abs_diff({"w": [[1, 0], [0, 1]]}, {"w": [[1, 0], [0, 0.999]]}) == pytest.approx(1e-3)
    with pytest.raises(AssertionError, match="structure"):
        twin_check.max_abs_diff({"w": [0.5, 0.25]}, {"w": [0.5, 0.25, 0.0]})
    with pytest.raises(AssertionError, match="structure"):
        twin_check.max_abs_diff({"w": [0.5]}, {"v": [0.5]})


def test_every_site_twin_is_a_package_twin():
    from e2t.viz.browser import BROWSER_TWINS

    hosted = [k for keys in twin_check.SITE_TWINS.values() for k in keys]
    assert sorted(hosted) == sorted(BROWSER_TWINS)


def test_bench_reports_parity_and_redraw_time_against_the_frame_goal():
    row = {"widget": "w", "settings": 50, "presets": 2, "moves": 150, "max_abs_diff": 3e-16,
           "redraw_ms_median": 4.0, "redraw_ms_p90": 6.0, "frame_ms_median": 9.0}
    slow = {**row, "widget": "v", "redraw_ms_median": 20.0}
    md = bench_main.to_markdown({"machine": bench_main.machine(), "quick": False, "load": {}, "twins": [row, slow]})
    assert "## Browser twins" in md and "| `w` | 50 + 2 | 150 | 3.0e-16 | 4.0 | 6.0 | met, 12.0 ms to spare |" in md
    assert "**missed by 4.0 ms**" in md

"""The widgets whose static twin computes in the browser (e2t.viz.browser): the Python side.

What the twin embeds, the expected-values functions the browser check compares the page with, presets,
constraints (no silent rescaling), the defaults of the addressing explorer, and the live panel. With Node.js on the
machine, each widget's JavaScript also runs here on random settings and must match ``e2t`` (the same comparison as
the browser check of ``tools/twin_check.py``, without a browser).
"""

import importlib
import inspect
import json
import pkgutil
import random
import re
import shutil
import subprocess

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
import torch  # noqa: E402

import e2t.viz  # noqa: E402
from e2t import ntm  # noqa: E402
from e2t.viz import browser  # noqa: E402
from e2t.viz.browser import BROWSER_TWINS, BrowserExplorer  # noqa: E402
from e2t.viz.masking import masking_demo  # noqa: E402
from e2t.viz.ntm_addressing import (addressing_explorer, addressing_values, shift_weights,  # noqa: E402
                                    widget_addressing_inputs)
from e2t.viz.ntm_read_write import read_write_values, widget_memory  # noqa: E402


def _factory(key):
    module, name = key.rsplit(".", 1)
    return getattr(importlib.import_module(module), name)


@pytest.fixture(scope="module")
def explorers():
    return {key: _factory(key)() for key in BROWSER_TWINS}


def _payload(html):
    return json.loads(html.split('class="e2t-twin-data">')[1].split("</script>")[0].replace("<\\/", "</"))


def test_every_closed_form_widget_has_a_browser_twin(explorers):
    found = set()
    for info in pkgutil.iter_modules(e2t.viz.__path__, prefix="e2t.viz."):
        module = importlib.import_module(info.name)
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if name.endswith("_explorer") and fn.__module__ == module.__name__:
                found.add(f"{info.name}.{name}")
    assert found - set(BROWSER_TWINS) == {"e2t.viz.alignment.alignment_explorer"}  # needs a trained model
    for key, ex in explorers.items():
        assert isinstance(ex, BrowserExplorer) and ex.key == key and ex.mode == "browser"
        assert ex.frame_indices() == []


def test_twin_html_is_self_contained_deterministic_and_small(explorers):
    for key, ex in explorers.items():
        html = ex.twin_html()
        again = _factory(key)().twin_html()
        assert html == again, f"{key}: the twin is not deterministic"
        assert len(html) < 80_000, f"{key}: {len(html)} bytes"
        assert "document.currentScript.parentNode" in html and " id=" not in html
        assert 'class="e2t-twin e2t-browser-twin"' in html and f'data-e2t-widget="{key}"' in html
        assert not re.search(r"(src|href)=\"https?:", html), f"{key}: the twin loads something from the network"
        for name in ("svg", "twin", ex.script):
            assert browser.script(name) in html
        payload = _payload(html)
        assert [c["name"] for c in payload["spec"]["controls"]] == [c.name for c in ex.controls]
        assert payload["data"] == json.loads(json.dumps(ex.data))
        bundle = ex._repr_mimebundle_()
        assert "application/vnd.jupyter.widget-view+json" in bundle and bundle["text/html"] == html


def test_embedded_inputs_are_e2t_s_inputs(explorers):
    addr = explorers["e2t.viz.ntm_addressing.addressing_explorer"].data
    for name, tensor in widget_addressing_inputs().items():
        assert torch.equal(torch.tensor(addr[name], dtype=torch.float64), tensor[0].double())
    rw = explorers["e2t.viz.ntm_read_write.read_write_explorer"].data
    assert torch.equal(torch.tensor(rw["memory"], dtype=torch.float64), widget_memory(torch.float64)[0])
    mask = explorers["e2t.viz.masking.masking_explorer"].data
    attn, x = masking_demo()
    assert torch.equal(torch.tensor(mask["W_q"], dtype=torch.float64), attn.W_q.weight.double())
    assert torch.equal(torch.tensor(mask["x"], dtype=torch.float64), x[0].double())


def test_presets_set_every_control_to_a_reachable_value(explorers):
    for key, ex in explorers.items():
        assert ex.presets, f"{key} has no preset"
        for p in ex.presets:
            assert ex.normalize(p["settings"]) == p["settings"]
            ex.expected(**p["settings"])
    labels = [p["label"] for p in explorers["e2t.viz.ntm_addressing.addressing_explorer"].presets]
    assert "g = 0, shift +1" in labels and "blur then sharpen" in labels


def test_shift_weights_are_used_as_shown_never_rescaled():
    assert shift_weights(0.1, 0.6, dtype=torch.float64).tolist() == [[0.1, 1 - 0.1 - 0.6, 0.6]]
    with pytest.raises(ValueError, match="s\\(-1\\) \\+ s\\(\\+1\\) <= 1"):
        shift_weights(0.75, 0.75)
    with pytest.raises(ValueError):
        shift_weights(-0.1, 0.5)
    ex = addressing_explorer()
    with pytest.raises(ValueError, match="exceeds"):
        ex.expected(s_minus=0.7, s_plus=0.5)
    # moving one slider past the sum moves the other one down, visibly; the moved one keeps its value
    fixed = ex.constrain({**ex.defaults, "s_minus": 0.7, "s_plus": 0.6}, moved=("s_minus",))
    assert (fixed["s_minus"], fixed["s_plus"]) == (0.7, 0.3)
    fixed = ex.constrain({**ex.defaults, "s_minus": 0.7, "s_plus": 0.6}, moved=("s_plus",))
    assert (fixed["s_minus"], fixed["s_plus"]) == (0.4, 0.6)
    s = ex.expected(s_minus=0.0, s_plus=1.0)["s"]
    assert s == [0.0, 0.0, 1.0]
    assert "s(0) = 1 − s(−1) − s(+1) = 0.30" in ex.readout(ex.defaults)


def test_addressing_defaults_show_every_stage_and_every_control_acts():
    ex = addressing_explorer()
    base = ex.expected()
    w_s = base["w_s"]
    top = sorted(w_s, reverse=True)
    assert top[0] - top[1] > 0.05, "the shifted weighting has a tie at the top: no gamma can sharpen it"
    assert max(base["w"]) > max(w_s) + 0.05  # gamma = 2 visibly sharpens
    assert base["s"][0] != base["s"][2]  # an asymmetric shift
    assert max(base["w_g"]) < 0.9 and sorted(base["w_g"])[-2] > 0.2  # the gate mixes content and previous focus
    for name, other in (("beta", 2.0), ("g", 0.2), ("s_minus", 0.4), ("s_plus", 0.1), ("gamma", 8.0)):
        moved = ex.expected(**{name: other})["w"]
        assert max(abs(a - b) for a, b in zip(moved, base["w"])) > 0.02, f"moving {name} changes nothing visible"
    # the stages are e2t's: the chain equals e2t.ntm.address
    inputs = {k: v.double() for k, v in widget_addressing_inputs().items()}
    t = lambda v: torch.tensor([[v]], dtype=torch.float64)  # noqa: E731
    w = ntm.address(inputs["memory"], key=inputs["key"], beta=t(10.0), g=t(0.7), gamma=t(2.0), w_prev=inputs["prev"],
                    s=shift_weights(0.1, 0.6, dtype=torch.float64))
    assert torch.allclose(w[0], torch.tensor(base["w"], dtype=torch.float64), atol=1e-15)
    # g = 0, shift +1: the previous focus (row 6) moves exactly one row down
    moved = addressing_values(beta=10.0, g=0.0, s_minus=0.0, s_plus=1.0, gamma=1.0)
    rotated = moved["w_prev"][-1:] + moved["w_prev"][:-1]
    assert moved["w_s"] == rotated  # the shift itself is exact
    assert moved["w"] == pytest.approx([x / sum(rotated) for x in rotated], abs=1e-15)  # gamma = 1 only normalises


def test_other_expected_values_are_e2t_s(explorers):
    masking = explorers["e2t.viz.masking.masking_explorer"]
    v = masking.expected(kind="both", length=3, padded=7)
    w = torch.tensor(v["weights"])  # (H, T, S)
    mask = torch.tensor(v["mask"], dtype=torch.bool)
    assert w.shape == (2, 7, 7) and torch.allclose(w.sum(-1), torch.ones(2, 7), atol=1e-12)
    assert (w[:, ~mask] == 0).all()
    with pytest.raises(ValueError, match="exceeds"):
        masking.expected(length=7, padded=6)
    fixed = masking.constrain({"kind": "both", "length": 7, "padded": 6}, moved=("length",))
    assert fixed["padded"] == 7
    fixed = masking.constrain({"kind": "both", "length": 7, "padded": 6}, moved=("padded",))
    assert fixed["length"] == 6
    rw = read_write_values(row=2.0, sharpness=100.0, erase="e = 1 (wipe)", add="a = 0")
    assert max(abs(x) for x in rw["after"][2]) < 1e-12 and rw["after"][5] == widget_memory(torch.float64)[0, 5].tolist()
    local = explorers["e2t.viz.local_window.local_window_explorer"].expected(D=2, p=4.5)
    assert local["window"] == [0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0] and 0 < local["local_sum"] < 1
    temp = explorers["e2t.viz.temperature.temperature_explorer"]
    assert temp.expected(tau=0.05)["max_weight"] > 0.99 > temp.expected(tau=10.0)["max_weight"]
    assert 0.05 in temp.controls[0].values and 10.0 in temp.controls[0].values
    scale = explorers["e2t.viz.scaling.scaling_explorer"].expected(d=1024)
    assert scale["raw_max"] > scale["scaled_max"] and sum(scale["hist_raw"]) == 200 * 16
    with pytest.raises(ValueError, match="not on its step"):
        explorers["e2t.viz.local_window.local_window_explorer"].expected(p=4.01)


def test_live_panel_keeps_the_shift_weights_as_shown_and_applies_presets():
    ex = addressing_explorer()
    panel = ex.widget()
    sliders = {c.description: c for c in panel.children if hasattr(c, "description") and hasattr(c, "value")}
    s_minus, s_plus = sliders["s(−1) (one row up)"], sliders["s(+1) (one row down)"]
    s_minus.value = 0.9
    assert s_minus.value == 0.9 and s_plus.value == pytest.approx(0.1)
    buttons = [b for box in panel.children if hasattr(box, "children") for b in box.children
               if getattr(b, "description", "") == "g = 0, shift +1"]
    buttons[0].click()
    assert (sliders["g (gate)"].value, s_minus.value, s_plus.value) == (0.0, 0.0, 1.0)
    assert ex.render(s_plus=1.0)[:4] == b"\x89PNG"  # moving s(+1) to 1 moves s(-1) to 0 instead of failing


# -- the twins' JavaScript, run by Node.js on random settings -------------------------------------------------
HARNESS = """
const fs = require('fs');
const input = JSON.parse(fs.readFileSync(0, 'utf8'));
eval(input.code);
const out = input.settings.map(s => {
  const v = WIDGET.compute(s, input.data);
  const svg = WIDGET.draw(s, v, input.data, input.width);
  return [v, /data-e2t-min-font-px="([0-9.]+)"/.exec(svg)[1], svg.length];
});
process.stdout.write(JSON.stringify(out));
"""


def _random_settings(ex, rng, n):
    out = []
    while len(out) < n:
        s = {}
        for c in ex.controls:
            if c.kind == "choice" or c.live_step is None:
                s[c.name] = rng.choice(c.values)
            else:
                lo, hi, step = min(c.values), max(c.values), c.live_step
                k = rng.randrange(round((hi - lo) / step) + 1)
                v = round(lo + k * step, 6)
                s[c.name] = int(v) if isinstance(c.value, int) else v
        try:
            out.append(ex.normalize(s))
        except ValueError:
            continue  # a combination the constraints exclude
    return out


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js (the browser check in make site covers it)")
@pytest.mark.parametrize("key", BROWSER_TWINS)
def test_the_twin_s_javascript_matches_e2t(key, explorers):
    ex = explorers[key]
    settings = [ex.defaults] + [p["settings"] for p in ex.presets] + _random_settings(ex, random.Random(0), 30)
    code = "\n".join(browser.script(n) for n in ("svg", "twin", ex.script))
    floor = 40 / 3 if key.endswith("addressing_explorer") else 12.0
    for width in (919, 420):
        run = subprocess.run(["node", "-e", HARNESS], input=json.dumps(
            {"code": code, "data": ex.data, "settings": settings, "width": width}), capture_output=True, text=True,
            timeout=60)
        assert run.returncode == 0, run.stderr[-2000:]
        for s, (values, min_font, size) in zip(settings, json.loads(run.stdout)):
            want = ex.expected(**s)
            assert values.keys() == want.keys()
            for name in want:
                got = torch.tensor(values[name], dtype=torch.float64)
                exp = torch.tensor(want[name], dtype=torch.float64)
                assert got.shape == exp.shape and (got - exp).abs().max() <= 1e-9, f"{key} {name} at {s}"
            assert float(min_font) >= floor - 1e-9 and size > 1000

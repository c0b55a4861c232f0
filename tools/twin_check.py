"""The browser check of the widgets' twins that compute in the browser (e2t.viz.browser.BrowserExplorer).

For one twin on a page open in headless Chromium: move every control to random settings (seeded; every control
each time, in the page's order, plus two corners: all controls at their lowest and at their highest), and after
each setting compare what the page computed (``data-e2t-values``) with what ``e2t`` computes at the settings the
page used (``BrowserExplorer.expected``); the largest absolute difference must stay within ``TOLERANCE``. The page
must use exactly the values requested (every combination reachable, no silent rescaling), and show them. Each
preset button is clicked and checked the same way. Every move's redraw time is recorded as the page measured it
(``data-e2t-redraw-ms``: input event to the end of the redraw, layout included; ``data-e2t-frame-ms``: to the next
animation frame). The figure's smallest text and its width are measured as rendered.

Used by ``tools/test_site.py`` on the built site (``make site``), and by ``tools/twin_page.py`` and
``bench/twins.py`` on a standalone page holding every twin.
"""

from __future__ import annotations

import functools
import http.server
import importlib
import json
import os
import random
import shutil
import statistics
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

TOLERANCE = 1e-6
SETTINGS_PER_TWIN = 50
FRAME_BUDGET_MS = 16.0
#: Smallest text of a figure, in CSS px at the rendered size: 10 pt for the addressing explorer, 9 pt elsewhere.
MIN_FONT_PX = {"e2t.viz.ntm_addressing.addressing_explorer": 40 / 3}
DEFAULT_MIN_FONT_PX = 12.0
#: Smallest figure width at a 1280 px window (the twin spans the page's column and its right margin).
MIN_FIGURE_WIDTH_PX = 900

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"

#: The pages of the built site that host browser twins, with the twins each must carry (the chapters' cells).
SITE_TWINS = {
    "chapters/preface.html": ("e2t.viz.temperature.temperature_explorer",),
    "chapters/04_attention_family.html": ("e2t.viz.scaling.scaling_explorer",
                                          "e2t.viz.local_window.local_window_explorer"),
    "chapters/05_ntm.html": ("e2t.viz.ntm_read_write.read_write_explorer",
                             "e2t.viz.ntm_addressing.addressing_explorer"),
    "chapters/06_transformer.html": ("e2t.viz.masking.masking_explorer",),
}

MOVE = """
const [root, name, kind, value, done] = arguments;
const el = root.querySelector('[data-e2t-control="' + name + '"]');
if (kind === 'range') el.value = String(value);
else if (kind === 'values') el.value = String(value);
else el.selectedIndex = value;
el.dispatchEvent(new Event(kind === 'choice' ? 'change' : 'input', {bubbles: true}));
requestAnimationFrame(() => requestAnimationFrame(() => done(
  [root.getAttribute('data-e2t-redraw-ms'), root.getAttribute('data-e2t-frame-ms'),
   root.getAttribute('data-e2t-error')])));
"""

PRESS = """
const [root, index, done] = arguments;
root.querySelector('button.e2t-preset[data-e2t-preset="' + index + '"]').click();
requestAnimationFrame(() => requestAnimationFrame(() => done(
  [root.getAttribute('data-e2t-redraw-ms'), root.getAttribute('data-e2t-frame-ms'),
   root.getAttribute('data-e2t-error')])));
"""

STATE = """
const root = arguments[0];
const shown = {};
root.querySelectorAll('output[data-e2t-value]').forEach(o => {
  shown[o.getAttribute('data-e2t-value')] = o.textContent;
});
return [root.getAttribute('data-e2t-settings'), root.getAttribute('data-e2t-values'), shown];
"""

LOOKS = """
const root = arguments[0], svg = root.querySelector('.e2t-figure svg');
if (!svg) return null;
let min = 1e9;
svg.querySelectorAll('text, tspan').forEach(t => {
  if (t.textContent.trim()) min = Math.min(min, parseFloat(getComputedStyle(t).fontSize));
});
const box = svg.getBoundingClientRect();
let left = box.left, right = box.right;  // the part no scrolling or clipping ancestor hides
for (let e = svg.parentElement; e; e = e.parentElement) {
  if (getComputedStyle(e).overflowX === 'visible') continue;
  const r = e.getBoundingClientRect();
  left = Math.max(left, r.left);
  right = Math.min(right, r.right);
}
return [min, box.width, parseFloat(svg.getAttribute('width')), right - left, window.innerWidth];
"""


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # the browser cancels requests it no longer needs (broken pipes); a real failure shows as a status


@contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve ``directory`` over HTTP on a free local port; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    httpd = _Server(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()


@contextmanager
def chromium(width: int = 1280, height: int = 1800):
    """Headless Chromium driven by Selenium (Debian's chromium and chromedriver), with no network of its own."""
    from selenium import webdriver  # imported here: the package's tests run without selenium
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_OFFLINE", "true")
    profile = tempfile.mkdtemp(prefix="e2t-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={profile}", f"--window-size={width},{height}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@functools.cache
def explorer(key: str):
    """The explorer a twin's ``data-e2t-widget`` names (a factory's path), built once."""
    module, name = key.rsplit(".", 1)
    return getattr(importlib.import_module(module), name)()


def twins(driver) -> list:
    """The browser twins on the page open in ``driver``, in page order."""
    from selenium.webdriver.common.by import By  # imported here: the package's tests run without selenium

    return driver.find_elements(By.CSS_SELECTOR, ".e2t-browser-twin")


def _flatten(x, path: str, out: list) -> None:
    if isinstance(x, (list, tuple)):
        for i, item in enumerate(x):
            _flatten(item, f"{path}[{i}]", out)
    elif isinstance(x, dict):
        for key in sorted(x):
            _flatten(x[key], f"{path}.{key}", out)
    else:
        out.append((path, float(x)))


def max_abs_diff(got: dict, want: dict) -> float:
    """Largest absolute difference between two nested structures of numbers; ``AssertionError`` when their keys or
    shapes differ."""
    a, b = [], []
    _flatten(got, "", a)
    _flatten(want, "", b)
    if [p for p, _ in a] != [p for p, _ in b]:
        raise AssertionError(f"the page's values have another structure than e2t's: "
                             f"{sorted({p for p, _ in a} ^ {p for p, _ in b})[:6]}")
    return max((abs(x - y) for (_, x), (_, y) in zip(a, b)), default=0.0)


def _decimals(step: float) -> int:
    text = repr(float(step)).rstrip("0")
    return 0 if text.endswith(".") else len(text.split(".")[1])


def _value(c: dict, k: int):
    """The k-th value of control ``c`` (range: its k-th step)."""
    if c["kind"] != "range":
        return c["values"][k]
    v = round(c["min"] + k * c["step"], _decimals(c["step"]))
    return int(v) if all(isinstance(x, int) for x in (c["min"], c["max"], c["step"])) else v


def _count(c: dict) -> int:
    return round((c["max"] - c["min"]) / c["step"]) + 1 if c["kind"] == "range" else len(c["values"])


def _meets(spec: dict, s: dict) -> bool:
    for rule in spec["constraints"]:
        a, b = (s[n] for n in rule["names"])
        if rule["kind"] == "sum_at_most" and a + b > rule["total"] + 1e-9:
            return False
        if rule["kind"] == "at_most" and a > b:
            return False
    return True


def settings_to_try(spec: dict, n: int, seed: int) -> list[dict]:
    """``n`` random settings that meet the constraints, the first two at the corners (every control at its lowest
    value, then at its highest; a constraint's second control lowered until it holds)."""
    rng = random.Random(seed)
    controls = spec["controls"]
    out = []
    for corner in (0, -1):
        s = {c["name"]: _value(c, 0 if corner == 0 else _count(c) - 1) for c in controls}
        for rule in spec["constraints"]:
            a, b = rule["names"]
            c = next(c for c in controls if c["name"] == b)
            k = _count(c) - 1
            while not _meets({"constraints": [rule]}, s) and k > 0:
                k -= 1
                s[b] = _value(c, k)
            if not _meets({"constraints": [rule]}, s):
                s[a] = s[b] if rule["kind"] == "at_most" else s[a]
        out.append(s)
    while len(out) < n:
        s = {c["name"]: _value(c, rng.randrange(_count(c))) for c in controls}
        if _meets(spec, s):
            out.append(s)
    return out[:n]


def _same(a, b) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return abs(float(a) - float(b)) <= 1e-9


def _check_state(driver, root, key: str, requested: dict, spec: dict) -> float:
    settings, values, shown = driver.execute_script(STATE, root)
    used = json.loads(settings)
    wrong = {k: (requested[k], used.get(k)) for k in requested if not _same(requested[k], used.get(k))}
    assert not wrong, f"{key}: the page used other values than requested (requested, used): {wrong}"
    for c in spec["controls"]:
        if c["name"] not in shown:
            continue
        text, v = shown[c["name"]], used[c["name"]]
        ok = abs(float(text) - v) <= 1e-9 if c["kind"] == "range" else text == c["labels"][c["values"].index(v)]
        assert ok, f"{key}: control {c['name']} shows {text!r} but the page used {v!r}"
    return max_abs_diff(json.loads(values), explorer(key).expected(**used))


def check_twin(driver, root, *, n: int = SETTINGS_PER_TWIN, seed: int = 0) -> dict:
    """Check one twin (a ``.e2t-browser-twin`` element) as the module says; returns what was measured."""
    key = root.get_attribute("data-e2t-widget")
    driver.execute_script("arguments[0].scrollIntoView({block: 'start'})", root)
    assert root.get_attribute("data-e2t-ready") == "1", f"{key}: the twin's script did not start"
    spec = json.loads(driver.execute_script(
        "return arguments[0].querySelector('script.e2t-twin-data').textContent", root))["spec"]
    redraw, frame, worst = [], [], 0.0

    def record(result, what):
        assert result[2] is None, f"{key}: the page failed at {what}: {result[2]}"
        redraw.append(float(result[0]))
        frame.append(float(result[1]))

    tried = settings_to_try(spec, n, seed)
    for setting in tried:
        for c in spec["controls"]:
            v = setting[c["name"]]
            arg = v if c["kind"] == "range" else c["values"].index(v)
            record(driver.execute_async_script(MOVE, root, c["name"], c["kind"], arg), setting)
        worst = max(worst, _check_state(driver, root, key, setting, spec))
    for i, p in enumerate(spec["presets"]):
        record(driver.execute_async_script(PRESS, root, i), p["label"])
        worst = max(worst, _check_state(driver, root, key, p["settings"], spec))
    assert worst <= TOLERANCE, f"{key}: the page's numbers differ from e2t's by up to {worst:.3g} (> {TOLERANCE})"
    min_font, shown_width, width, visible, window = driver.execute_script(LOOKS, root)
    assert abs(shown_width - width) < 1, f"{key}: the figure is scaled ({width} px drawn, {shown_width} shown)"
    assert visible >= width - 1, f"{key}: only {visible:.0f} of the figure's {width:.0f} px are visible (clipped)"
    if window >= 1280:
        assert width >= MIN_FIGURE_WIDTH_PX, f"{key}: the figure is {width} px wide at a {window} px window"
    floor = MIN_FONT_PX.get(key, DEFAULT_MIN_FONT_PX)
    assert min_font >= floor - 1e-6, f"{key}: text of {min_font} px, below {floor:.2f} px"
    return {"widget": key, "settings": len(tried), "presets": len(spec["presets"]), "moves": len(redraw),
            "max_abs_diff": worst, "redraw_ms_median": statistics.median(redraw),
            "redraw_ms_p90": sorted(redraw)[int(0.9 * (len(redraw) - 1))], "frame_ms_median": statistics.median(frame),
            "min_font_px": min_font, "figure_width_px": width}

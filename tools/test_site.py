"""The built site, checked in a real browser (headless Chromium driven by Selenium), with no network.

Run by `make site` (part of `make test`) after the site is built into _build/html. For every page: it loads, math is
typeset by the vendored MathJax (no raw TeX delimiters left), local links, scripts, stylesheets and images resolve,
and no JavaScript error is logged. On the preface: the static twin of the temperature widget is shown and changes
its figure when its control moves. A screenshot of the preface is saved to _build/screenshots/preface.png.

Browser twins (widgets whose static twin computes in the browser, ``e2t.viz.browser``): every chapter page listed in
``twin_check.SITE_TWINS`` must carry its twins, and each passes ``twin_check.check_twin`` (at least 50 random
settings and every preset, the page's numbers within 1e-6 of ``e2t``'s, the values shown = the values used, text
size and figure width, every move's redraw time recorded). A page whose saved outputs predate the twins fails with
a message naming the chapter to re-execute. The same check runs on a standalone page built from the package
(``tools/twin_page.py``), so the twins are checked even before the chapters are re-executed. What was measured goes
to _build/twin-check.json.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlparse

import pytest

import twin_check  # tools/, beside this file (pytest puts this folder on sys.path)
import twin_page

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
MEASURED = ROOT / "_build" / "twin-check.json"

PAGES = sorted(
    str(p.relative_to(SITE)) for p in SITE.rglob("*.html")
    if not any(part.startswith("_") for part in p.relative_to(SITE).parts)
) if SITE.is_dir() else []

# Text nodes outside code that still hold TeX delimiters mean MathJax did not run on them.
FIND_RAW_TEX = r"""
const bad = [];
const walker = document.createTreeWalker(document.querySelector('main') || document.body, NodeFilter.SHOW_TEXT);
const skip = el => el.closest('pre, code, script, style, textarea, .highlight, .output, .cell_output, mjx-container');
let node;
while ((node = walker.nextNode())) {
  if (!node.parentElement || skip(node.parentElement)) continue;
  if (/\\\(|\\\)|\\\[|\\\]|\$\$/.test(node.textContent)) bad.push(node.textContent.trim().slice(0, 80));
}
return bad;
"""

WAIT_FOR_MATHJAX = """
const done = arguments[arguments.length - 1];
if (!window.MathJax || !MathJax.startup || !MathJax.startup.promise) { done('no-mathjax'); return; }
MathJax.startup.promise.then(() => done('ok')).catch(e => done('error: ' + e));
"""

LOCAL_REFERENCES = """
const out = [];
document.querySelectorAll('a[href]').forEach(a => out.push(['a', a.href]));
document.querySelectorAll('img[src]').forEach(i => out.push(['img', i.src, i.complete && i.naturalWidth > 0]));
document.querySelectorAll('script[src]').forEach(s => out.push(['script', s.src]));
document.querySelectorAll('link[rel="stylesheet"][href]').forEach(l => out.push(['css', l.href]));
return out;
"""


@pytest.fixture(scope="module")
def server():
    if not PAGES:
        pytest.fail(f"no built site in {SITE}: run `make build` (or `make book`) first")
    with twin_check.serve(SITE) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    with twin_check.chromium() as driver:
        yield driver


@pytest.fixture(scope="module")
def measured():
    """What the twin checks measured, written to _build/twin-check.json at the end of the module."""
    rows: dict[str, list] = {}
    yield rows
    MEASURED.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")


def _wait_until_loaded(driver, page: str, seconds: float = 30.0) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, seconds).until(lambda d: d.execute_script("return document.readyState") == "complete",
                                         message=f"{page} did not finish loading")


def _is_local(url: str, base: str) -> bool:
    return url.startswith(base)


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(urldefrag(url)[0], timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _errors_in_log(driver, base: str) -> list[str]:
    """JavaScript errors and failed local loads; failed loads of outside addresses are expected offline."""
    errors = []
    for entry in driver.get_log("browser"):
        if entry["level"] != "SEVERE":
            continue
        message = entry["message"]
        urls = re.findall(r"https?://[^\s\"')]+", message)
        if urls and all(not _is_local(u, base) for u in urls) and ("net::" in message or "Failed to load" in message):
            continue  # an outside address (CDN fallback, Binder badge) while offline
        errors.append(message[:300])
    return errors


@pytest.mark.parametrize("page", PAGES)
def test_page(page, server, browser):
    url = urljoin(server, page)
    browser.get(url)
    _wait_until_loaded(browser, page)
    title = browser.title
    assert title and "404" not in title, f"{page}: no title"

    has_math = browser.execute_script("return document.querySelectorAll('.math, .MathJax_Preview').length > 0 "
                                      "|| /\\\\\\(|\\$\\$/.test(document.body.innerHTML)")
    state = browser.execute_async_script(WAIT_FOR_MATHJAX)
    if has_math:
        assert state == "ok", f"{page}: MathJax did not start ({state})"
        assert browser.execute_script("return document.querySelectorAll('mjx-container').length") > 0, \
            f"{page}: has math but MathJax typeset nothing"
    raw = browser.execute_script(FIND_RAW_TEX)
    assert not raw, f"{page}: raw TeX left on the page: {raw[:5]}"

    broken = []
    checked: dict[str, int] = {}
    for kind, ref, *loaded in browser.execute_script(LOCAL_REFERENCES):
        if kind == "img" and not loaded[0]:
            broken.append(f"image not loaded: {ref[:100]}")
            continue
        if not _is_local(ref, server) or urlparse(ref).scheme not in ("http", "https"):
            continue
        target = urldefrag(ref)[0]
        if target not in checked:
            checked[target] = _status(target)
        if checked[target] != 200:
            broken.append(f"{kind} {target} -> {checked[target]}")
    assert not broken, f"{page}: broken local references: {broken[:10]}"

    errors = _errors_in_log(browser, server)
    assert not errors, f"{page}: browser errors: {errors[:5]}"


def test_preface_twin_moves_and_screenshot(server, browser):
    from selenium.webdriver.common.by import By

    browser.get(urljoin(server, "chapters/preface.html"))
    _wait_until_loaded(browser, "chapters/preface.html")
    browser.execute_async_script(WAIT_FOR_MATHJAX)
    twins = browser.find_elements(By.CSS_SELECTOR, ".e2t-twin")
    assert twins, "the preface has no static widget twin"
    twin = twins[0]
    assert twin.is_displayed()
    control = twin.find_element(By.CSS_SELECTOR, "input[type=range]")
    label = twin.find_element(By.CSS_SELECTOR, "output")
    figure = twin.find_element(By.CSS_SELECTOR, ".e2t-figure, img.e2t-twin-frame")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", twin)

    def drawn():
        return browser.execute_script("const f = arguments[0]; return f.tagName === 'IMG' ? f.src : f.innerHTML",
                                      figure)

    before_figure, before_label = drawn(), label.text
    maximum = int(float(control.get_attribute("max")))
    for target in (control.get_attribute("min"), maximum):
        browser.execute_script(
            "arguments[0].value = arguments[1];"
            "arguments[0].dispatchEvent(new Event('input', {bubbles: true}));", control, target)
        now, text = drawn(), label.text
        assert now != before_figure and text != before_label, f"moving the control to {target} changed nothing"
        before_figure, before_label = now, text
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser.execute_script("arguments[0].value = arguments[0].max * 0.3;"
                           "arguments[0].dispatchEvent(new Event('input'));", control)
    browser.execute_script("window.scrollTo(0, 0)")
    browser.save_screenshot(str(SHOTS / "preface.png"))
    browser.execute_script("arguments[0].scrollIntoView({block: 'start'})", twin)
    browser.save_screenshot(str(SHOTS / "preface-widget.png"))
    assert (SHOTS / "preface.png").stat().st_size > 10_000


def _page_stem(page: str) -> str:
    return Path(page).stem


@pytest.mark.parametrize("page", sorted(twin_check.SITE_TWINS))
def test_browser_twins_on_the_site(page, server, browser, measured):
    """Every closed-form widget of a chapter computes in the reader's browser, matching e2t at random settings."""
    if page not in PAGES:
        pytest.fail(f"{page} is not in the built site")
    browser.get(urljoin(server, page))
    _wait_until_loaded(browser, page)
    expected = list(twin_check.SITE_TWINS[page])
    found = twin_check.twins(browser)
    keys = [t.get_attribute("data-e2t-widget") for t in found]
    if keys != expected:
        old = len(browser.find_elements("css selector", ".e2t-twin")) - len(found)
        missing = [k for k in expected if k not in keys]
        pytest.fail(f"{page}: expected the browser twins {expected}, found {keys}"
                    + (f" (and {old} precomputed-frames twin(s) from before)" if old else "")
                    + f". The saved outputs of chapters/{_page_stem(page)}.ipynb predate them: re-execute the cells "
                    f"that display {', '.join(k.rsplit('.', 1)[1] + '()' for k in missing) or 'these widgets'} "
                    f"(`make execute NB=chapters/{_page_stem(page)}.ipynb`), then rebuild the site.")
    SHOTS.mkdir(parents=True, exist_ok=True)
    rows = []
    for i, root in enumerate(found):
        browser.execute_script("arguments[0].scrollIntoView({block: 'start'})", root)
        root.screenshot(str(SHOTS / f"{_page_stem(page)}-{keys[i].rsplit('.', 1)[1]}.png"))
        rows.append(twin_check.check_twin(browser, root, seed=i))
    measured[page] = rows
    errors = _errors_in_log(browser, server)
    assert not errors, f"{page}: browser errors while moving the twins: {errors[:5]}"


def test_browser_twins_on_a_standalone_page(measured):
    """The same check on a page built from the package now (every twin, as a re-executed chapter will show it)."""
    directory = ROOT / "_build" / "twins"
    twin_page.build_page(directory)
    rows = twin_page.check_page(directory)
    hosted = [key for keys in twin_check.SITE_TWINS.values() for key in keys]
    assert sorted(r["widget"] for r in rows) == sorted(hosted), "a browser twin is on no chapter page, or missing"
    measured["standalone"] = rows


CHAPTER_PAGES = [p for p in PAGES if p.startswith("chapters/") and Path(p).stem not in ("glossary", "references")]


@pytest.mark.parametrize("page", CHAPTER_PAGES)
def test_chapter_screenshot(page, server, browser):
    """A screenshot of the top of every chapter page, at 1280 px, saved under _build/screenshots/."""
    browser.get(urljoin(server, page))
    _wait_until_loaded(browser, page)
    browser.execute_async_script(WAIT_FOR_MATHJAX)
    browser.execute_script("window.scrollTo(0, 0)")
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = SHOTS / (page.replace("/", "_").removesuffix(".html") + ".png")
    browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000, f"{page}: the screenshot is nearly empty"


@pytest.mark.parametrize("page", CHAPTER_PAGES)
def test_exercises_fold_and_self_checks_answer_a_click(page, server, browser):
    """Every chapter has exercises whose solutions start folded and open on a click (showing the check's pass line),
    and self-check questions that answer a click without a kernel."""
    from selenium.webdriver.common.by import By

    browser.get(urljoin(server, page))
    _wait_until_loaded(browser, page)
    solutions = browser.find_elements(By.CSS_SELECTOR, "div.solution")
    assert solutions, f"{page}: no exercise solutions"
    solution = solutions[0]
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", solution)
    body = [e for e in solution.find_elements(By.XPATH, "./*") if "admonition-title" not in (e.get_attribute("class") or "")]
    assert body and not any(e.is_displayed() for e in body), f"{page}: the first solution is not folded"
    solution.find_element(By.CSS_SELECTOR, "button.toggle-button").click()
    browser.execute_script("return new Promise(r => setTimeout(r, 400))")
    shown = " ".join(e.text for e in body if e.is_displayed())
    assert re.search(r"\b\d\.\d\b", shown), f"{page}: a click did not unfold the solution with its check"

    quizzes = browser.find_elements(By.CSS_SELECTOR, ".e2t-quiz")
    assert quizzes, f"{page}: no self-check question"
    quiz = quizzes[0]
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", quiz)
    assert quiz.get_attribute("data-e2t-ready") == "1", f"{page}: the question's script did not run"
    status = quiz.find_element(By.CSS_SELECTOR, ".e2t-quiz-status")
    radios = quiz.find_elements(By.CSS_SELECTOR, "input[type=radio]")
    if radios:
        right = next(r for r in radios if r.get_attribute("data-correct") == "1")
        right.find_element(By.XPATH, "..").click()
    else:
        box = quiz.find_element(By.CSS_SELECTOR, "input[type=text]")
        box.clear()
        box.send_keys(quiz.find_element(By.TAG_NAME, "form").get_attribute("data-answer"), "\n")
    assert status.text.startswith("\u2714"), f"{page}: the right answer got {status.text[:60]!r}"

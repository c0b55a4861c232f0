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

The Chinese edition (``_build/html/zh/``, built when ``locales/zh_CN`` exists) gets the same checks page by page
(math, references, twins, exercises and self-checks, a screenshot of every chapter), and more: every English page
has its Chinese counterpart and each links to the other; the page is declared Chinese and set in a CJK font that is
installed here; and no prose block of the article (paragraph, heading, list item, caption, admonition, glossary
entry, exercise, self-check question) is left in English. Cell outputs, code, math and the bibliography stay as
they are in both editions.
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


ZH_BUILT = (ROOT / "locales" / "zh_CN").is_dir()
TWIN_PAGES = sorted(twin_check.SITE_TWINS) + (["zh/" + p for p in sorted(twin_check.SITE_TWINS)] if ZH_BUILT else [])


@pytest.mark.parametrize("page", TWIN_PAGES)
def test_browser_twins_on_the_site(page, server, browser, measured):
    """Every closed-form widget of a chapter computes in the reader's browser, matching e2t at random settings."""
    if page not in PAGES:
        pytest.fail(f"{page} is not in the built site")
    browser.get(urljoin(server, page))
    _wait_until_loaded(browser, page)
    expected = list(twin_check.SITE_TWINS[page.removeprefix("zh/")])
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
        prefix = "zh-" if page.startswith("zh/") else ""
        root.screenshot(str(SHOTS / f"{prefix}{_page_stem(page)}-{keys[i].rsplit('.', 1)[1]}.png"))
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


CHAPTER_PAGES = [p for p in PAGES if p.removeprefix("zh/").startswith("chapters/")
                 and Path(p).stem not in ("glossary", "references")]


@pytest.mark.parametrize("page", CHAPTER_PAGES)
def test_chapter_screenshot(page, server, browser):
    """A screenshot of the top of every chapter page, at 1280 px, saved under _build/screenshots/."""
    browser.get(urljoin(server, page))
    _wait_until_loaded(browser, page)
    browser.execute_async_script(WAIT_FOR_MATHJAX)
    browser.execute_script("window.scrollTo(0, 0)")
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = SHOTS / (page.replace("/", "_").removesuffix(".html") + ".png")  # zh pages: zh_chapters_*.png
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


# --------------------------------------------------------------------------------------------- the Chinese edition
ZH_PAGES = [p for p in PAGES if p.startswith("zh/")]
ZH_ARTICLES = [p for p in ZH_PAGES if p.startswith("zh/chapters/")]  # (index.html redirects; search and index
# pages are Sphinx's own, translated by Sphinx)
EN_PAGES = [p for p in PAGES if not p.startswith("zh/")]
CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei")

# Prose blocks of the article that are still English: no CJK character and at least five English words (eight in a
# table cell). Cell outputs, code, math, the bibliography, and the links to the other edition are not prose to
# translate.
ENGLISH_BLOCKS = r"""
const article = document.querySelector('article') || document.querySelector('main');
const skip = 'pre, code, script, style, .cell_output, .output, .highlight, mjx-container, .math, .bibliography, '
           + '.citation, .e2t-language-switch, .e2t-twin, .widget-area, .jupyter-widgets';
const blocks = article.querySelectorAll('p, li, h1, h2, h3, h4, dt, dd, figcaption, caption, th, td, legend, '
                                        + '.admonition-title, summary, label');
const out = [];
blocks.forEach(el => {
  if (el.closest(skip) && !el.closest('.e2t-quiz')) return;
  let text = '';
  const walk = node => node.childNodes.forEach(c => {
    if (c.nodeType === Node.TEXT_NODE) text += c.textContent;
    else if (c.nodeType === Node.ELEMENT_NODE && !c.matches('code, mjx-container, .math, script, style, '
             + 'p, li, dd, dt, ul, ol, div, table, pre')) walk(c);
  });
  walk(el);
  const words = (text.match(/[A-Za-z]{3,}/g) || []).length;
  const need = el.closest('td, th') ? 8 : 5;  // a table cell of names (the source's English headings) is no prose
  if (words >= need && !/[\u3400-\u9fff]/.test(text)) out.push(text.trim().replace(/\s+/g, ' ').slice(0, 90));
});
return out;
"""


def test_both_editions_are_built():
    """With catalogues in locales/zh_CN, every English page has a Chinese counterpart (and nothing else is there)."""
    if not ZH_BUILT:
        pytest.fail("locales/zh_CN is missing: the Chinese edition is part of the book (make i18n)")
    assert sorted(p.removeprefix("zh/") for p in ZH_PAGES) == sorted(EN_PAGES)


def test_a_cjk_font_is_installed():
    """The screenshots and a reader on this machine see Chinese glyphs from a font of the pages' font stack."""
    import subprocess

    families = subprocess.run(["fc-list", ":lang=zh", "family"], check=True, capture_output=True,
                              text=True).stdout
    assert any(font in families for font in CJK_FONTS), f"no CJK font of {CJK_FONTS} (apt-get install fonts-wqy-microhei)"


@pytest.mark.parametrize("page", ZH_ARTICLES)
def test_chinese_page(page, server, browser):
    """Declared Chinese, set in a CJK font, linked both ways to its English page, and no English prose left."""
    url = urljoin(server, page)
    browser.get(url)
    _wait_until_loaded(browser, page)
    browser.execute_async_script(WAIT_FOR_MATHJAX)
    assert browser.execute_script("return document.documentElement.lang") == "zh-CN", f"{page}: not declared zh-CN"
    font = browser.execute_script("return getComputedStyle(document.querySelector('article') || document.body)"
                                  ".fontFamily")
    assert any(f in font for f in CJK_FONTS), f"{page}: the article's fonts have no CJK face: {font}"
    switch = browser.execute_script("const a = document.querySelector('.e2t-language-switch a'); "
                                    "return a ? a.href : null")
    assert switch == urljoin(server, page.removeprefix("zh/")), f"{page}: links to {switch}, not its English page"
    browser.get(urljoin(server, page.removeprefix("zh/")))
    _wait_until_loaded(browser, page)
    back = browser.execute_script("const a = document.querySelector('.e2t-language-switch a'); return a ? a.href : null")
    assert back == url, f"{page.removeprefix('zh/')}: links to {back}, not its Chinese page"
    browser.get(url)
    _wait_until_loaded(browser, page)
    english = browser.execute_script(ENGLISH_BLOCKS)
    assert english == [], f"{page}: English prose on the Chinese page: {english[:5]}"
    title = browser.execute_script("const h = document.querySelector('article h1'); return h ? h.textContent : ''")
    # Chinese, or a name both editions share ("6. Transformer")
    assert re.search(r"[\u3400-\u9fff]", title) or len(re.findall(r"[A-Za-z]{3,}", title)) < 2, \
        f"{page}: the title is not Chinese: {title!r}"

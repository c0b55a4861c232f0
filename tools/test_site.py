"""The built site, checked in a real browser (headless Chromium driven by Selenium), with no network.

Run by `make site` (part of `make test`) after the site is built into _build/html. For every page: it loads, math is
typeset by the vendored MathJax (no raw TeX delimiters left), local links, scripts, stylesheets and images resolve,
and no JavaScript error is logged. On the preface: the static twin of the temperature widget is shown and changes
its figure when its control moves. A screenshot of the preface is saved to _build/screenshots/preface.png.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import tempfile
import threading
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlparse

import pytest

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"

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


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # the browser cancels requests it no longer needs (broken pipes); a real failure shows as a status


@pytest.fixture(scope="module")
def server():
    if not PAGES:
        pytest.fail(f"no built site in {SITE}: run `make build` (or `make book`) first")
    handler = functools.partial(_QuietHandler, directory=str(SITE))
    httpd = _Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_OFFLINE", "true")
    profile = tempfile.mkdtemp(prefix="e2t-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1280,1800"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


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
    control = twin.find_element(By.CSS_SELECTOR, "input.e2t-twin-input")
    image = twin.find_element(By.CSS_SELECTOR, "img.e2t-twin-frame")
    label = twin.find_element(By.CSS_SELECTOR, "output.e2t-twin-value")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", twin)
    before_src, before_label = image.get_attribute("src"), label.text
    assert browser.execute_script("return arguments[0].naturalWidth", image) > 0
    maximum = int(control.get_attribute("max"))
    assert maximum >= 2
    for target in (0, maximum):
        browser.execute_script(
            "arguments[0].value = arguments[1];"
            "arguments[0].dispatchEvent(new Event('input', {bubbles: true}));", control, target)
        src, text = image.get_attribute("src"), label.text
        assert src != before_src and text != before_label, f"moving the control to {target} changed nothing"
        assert browser.execute_script("return arguments[0].naturalWidth", image) > 0
        before_src, before_label = src, text
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser.execute_script("arguments[0].value = 6; arguments[0].dispatchEvent(new Event('input'));", control)
    browser.execute_script("window.scrollTo(0, 0)")
    browser.save_screenshot(str(SHOTS / "preface.png"))
    browser.execute_script("arguments[0].scrollIntoView({block: 'start'})", twin)
    browser.save_screenshot(str(SHOTS / "preface-widget.png"))
    assert (SHOTS / "preface.png").stat().st_size > 10_000

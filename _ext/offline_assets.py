"""Sphinx extension of the book: serve MathJax, require.js and the widget manager from the site itself.

`make` vendors them from npm into `_vendor/` (tools/vendor.sh). When that folder is complete, this extension adds it
to the static files and points `mathjax_path` and `nb_ipywidgets_js` at the local copies, so the site renders math
and saved widgets with no network. When it is missing (no npm), the CDN defaults stay: the site then needs a network.

It also adds the book's own stylesheet (`book_static/e2t-book.css`: full-width figures), and honours `BOOK_EXECUTE`
(`off`, `cache`, `force`, ...), which overrides the execution mode of `_config.yml` (`off`: the site shows the
outputs committed in the notebooks). `make book` passes `off`, `make book EXECUTE=1` passes
`cache` (`EXECUTE=force`: `force`), and `make test` builds with `off` right after nbval has executed every chapter.
"""

from __future__ import annotations

import os
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.util import logging

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
REQUIRED = ("mathjax/tex-mml-chtml.js", "requirejs/require.js", "html-manager/embed-amd.js")


def _configure(app: Sphinx, config: Config) -> None:
    mode = os.environ.get("BOOK_EXECUTE")
    if mode:
        config.nb_execution_mode = mode
    vendor = Path(app.confdir) / "_vendor"
    if not all((vendor / f).is_file() for f in REQUIRED):
        logger.info("offline_assets: no vendored assets in %s; MathJax and widgets load from CDNs", vendor)
        return
    config.html_static_path = [*config.html_static_path, str(vendor), str(HERE / "static")]
    config.mathjax_path = "mathjax/tex-mml-chtml.js"
    config.nb_ipywidgets_js = {
        "requirejs/require.js": {},
        "require-config.js": {},
        "html-manager/embed-amd.js": {"data-jupyter-widgets-cdn": "https://cdn.jsdelivr.net/npm/"},
    }


def _book_css(app: Sphinx, config: Config) -> None:
    config.html_static_path = [*config.html_static_path, str(HERE / "book_static")]


def _add_book_css(app: Sphinx) -> None:
    app.add_css_file("e2t-book.css")


def _dedupe_scripts(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Drop repeated inline scripts (sphinx-thebe adds its `const THEBE_JS_URL ...` once per read of the
    environment; a second copy is a SyntaxError in the browser)."""
    seen, kept = set(), []
    for script in context.get("script_files", []):
        attributes = getattr(script, "attributes", {})
        body = attributes.get("body")
        key = ("inline", body) if body else (str(script), tuple(sorted(attributes.items())))
        if key not in seen:
            seen.add(key)
            kept.append(script)
    context["script_files"] = kept


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", _configure, priority=100)
    app.connect("config-inited", _book_css, priority=150)
    app.connect("builder-inited", _add_book_css)
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

"""Sphinx extension of the book: one site, two languages.

The English edition is built into ``_build/html/`` and the Chinese one (the same notebooks, the prose translated
through Sphinx's gettext catalogues in ``locales/zh_CN``) into ``_build/html/zh/``. Every page gets a link to its
counterpart in the other language (placed at the top of the article), and the Chinese pages a CJK font stack:
the fonts a reader's system has (Noto Sans CJK, WenQuanYi, PingFang, Microsoft YaHei), nothing fetched online.

``BOOK_LANGUAGE`` (``zh_CN``) selects the Chinese build (see ``tools/i18n.py``, which writes its configuration).
"""

from __future__ import annotations

import html
import posixpath
from pathlib import Path

from sphinx.application import Sphinx

HERE = Path(__file__).resolve().parent
#: The other edition's folder, seen from each edition's root.
COUNTERPART = {"en": "zh/", "zh_CN": "../"}
LABEL = {"en": "中文版", "zh_CN": "English"}
TITLE = {"en": "这一页的中文版", "zh_CN": "This page in English"}


def _language(app: Sphinx) -> str:
    return app.config.language or "en"


def _switch(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Put a link to the page's counterpart at the top of its body."""
    if doctree is None or "body" not in context:
        return
    language = _language(app)
    if language not in COUNTERPART or not (Path(app.confdir) / "locales" / "zh_CN").is_dir():
        return  # no Chinese edition is built without its catalogues: no link to it
    depth = pagename.count("/")
    target = posixpath.join("../" * depth + COUNTERPART[language], pagename + ".html")
    hreflang = "zh-CN" if language == "en" else "en"
    link = (f'<p class="e2t-language-switch"><a href="{html.escape(target)}" hreflang="{hreflang}" '
            f'lang="{hreflang}" title="{html.escape(TITLE[language])}">{html.escape(LABEL[language])}</a></p>')
    context["body"] = link + context["body"]
    context.setdefault("metatags", "")
    context["metatags"] += f'\n<link rel="alternate" hreflang="{hreflang}" href="{html.escape(target)}">'


def _assets(app: Sphinx, config) -> None:
    config.html_static_path = [*config.html_static_path, str(HERE / "i18n_static")]


def _css(app: Sphinx) -> None:
    app.add_css_file("e2t-languages.css")


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", _assets, priority=200)
    app.connect("builder-inited", _css)
    app.connect("html-page-context", _switch, priority=800)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

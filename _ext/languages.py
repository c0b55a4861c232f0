"""Sphinx extension of the book: one site, two languages.

The English edition is built into ``_build/html/`` and the Chinese one (the same notebooks, the prose translated
through Sphinx's gettext catalogues in ``locales/zh_CN``) into ``_build/html/zh/``. Every page gets a link to its
counterpart in the other language (placed at the top of the article), and the Chinese pages a CJK font stack:
the fonts a reader's system has (Noto Sans CJK, WenQuanYi, PingFang, Microsoft YaHei), nothing fetched online.

The Chinese build is the English configuration with ``language: zh_CN`` (``tools/i18n.py config`` writes it).

What goes into the catalogues is prose only: math blocks and everything inside a cell's output are marked not
translatable before Sphinx extracts or applies messages, so a translator never sees a LaTeX block, a printed table
or the LaTeX twin of a code listing. The self-check questions are cell outputs, too (HTML made by
``e2t.exercises.self_check``); the Chinese build re-renders each one from its own catalogue,
``locales/zh_CN/LC_MESSAGES/self_checks.po`` (written by ``make i18n`` from ``e2t.exercises.quiz.messages()``), and
warns (an error under ``-W``) about any text of it that is not translated.

Glued numbers in translated prose: Sphinx parses each translation as a small document of its own, which has no
notebook behind it, so myst-nb's glue roles there would find no glue data ("No key ... found"). While Sphinx applies
the translations of a page, the glue lookups of such a message document are answered from the glue data myst-nb
saved when it read the page (``_glue_from_the_page`` below; the prose uses ``{glue:text}`` only). The Chinese build runs with ``-W``, so if a myst-nb
update changed this, the build would fail, not show empty numbers.
"""

from __future__ import annotations

import contextvars
import functools
import html
import posixpath
import re
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms import SphinxTransform
from sphinx.util import logging

logger = logging.getLogger(__name__)

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


class KeepAsWritten(SphinxTransform):
    """Math blocks and cell outputs are not prose: neither extracted for translation nor translated."""

    default_priority = 10  # before sphinx.transforms.i18n.Locale (20), which applies the translations

    def apply(self, **kwargs) -> None:
        for node in self.document.findall(nodes.math_block):
            node["translatable"] = False
        for container in self.document.findall(nodes.container):
            if "cell_output" in container.get("classes", []):
                for node in container.findall(nodes.TextElement):
                    node["translatable"] = False


_QUIZ = re.compile(r'^<div class="e2t-quiz">.*?<strong>Self-check (\w+)\.</strong>', re.DOTALL)


_CATALOGUES: dict[Path, tuple[float, dict[str, str]]] = {}


def _catalogue(app: Sphinx) -> dict[str, str]:
    """The translated self-check texts of this build's language (read again when the file changes)."""
    path = Path(app.confdir) / "locales" / _language(app) / "LC_MESSAGES" / "self_checks.po"
    if not path.is_file():
        return {}
    mtime = path.stat().st_mtime
    if _CATALOGUES.get(path, (None,))[0] != mtime:
        from babel.messages.pofile import read_po

        with path.open("rb") as f:
            _CATALOGUES[path] = (mtime, {m.id: m.string for m in read_po(f) if m.id and m.string and not m.fuzzy})
    return _CATALOGUES[path][1]


def _translator(app: Sphinx, catalogue: dict[str, str], question: str, where: tuple):
    def translate(text: str) -> str:
        if text not in catalogue:
            logger.warning(f"self-check {question}: no {_language(app)} translation of {text[:60]!r} "
                           "(run `make i18n` and translate locales/*/LC_MESSAGES/self_checks.po)", location=where)
            return text
        return catalogue[text]

    return translate


def _translate_self_checks(app: Sphinx, doctree, docname: str) -> None:
    """In a translated build, re-render every self-check question of the page in the page's language."""
    if _language(app) == "en":
        return
    catalogue = _catalogue(app)
    for node in list(doctree.findall(nodes.raw)):
        match = _QUIZ.match(node.astext()) if "html" in node.get("format", "") else None
        if not match:
            continue
        # the book's package, imported here: only translated builds need it
        from e2t.exercises import self_check

        question = match.group(1)
        translate = _translator(app, catalogue, question, (docname, node.line))
        translated = nodes.raw("", self_check(question).html(translate), format="html")
        translated["classes"] = list(node.get("classes", []))
        node.replace_self(translated)


_PAGE = contextvars.ContextVar("e2t_page_being_translated", default=None)


def _page_glue(document, key: str):
    """The glue data ``key`` of the page being translated, from the copy myst-nb writes when it reads the page
    (``<output_folder>/<docname>.glue.json``, the file its cross-page glue references read)."""
    import json

    from myst_nb.core.variables import RetrievalError, VariableOutput

    env = document.settings.env
    docname = env.docname.split("/")
    path = Path(env.mystnb_config.output_folder).joinpath(*docname[:-1], f"{docname[-1]}.glue.json")
    glue = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    if key not in glue:
        # docutils does not report problems inside a translated message: say it here (an error under -W)
        logger.warning(f"translated text glues {key!r}, which {env.docname} does not glue", location=env.docname)
        raise RetrievalError(f"No key {key!r} found in glue data for {env.docname}.")
    return VariableOutput(data=glue[key]["data"], metadata=glue[key].get("metadata", {}), nb_renderer=None,
                          vtype="glue")


def _glue_from_the_page() -> None:
    """Let glue roles in a translated message read the glue data of the page being translated (see the docstring)."""
    from myst_nb.ext.glue import roles, utils
    from sphinx.transforms import i18n

    if getattr(i18n.Locale.apply, "_e2t", False):
        return
    locale_apply = i18n.Locale.apply

    @functools.wraps(locale_apply)
    def apply(self, **kwargs):
        token = _PAGE.set(self.document)
        try:
            return locale_apply(self, **kwargs)
        finally:
            _PAGE.reset(token)

    apply._e2t = True
    i18n.Locale.apply = apply
    retrieve = utils.retrieve_glue_data

    @functools.wraps(retrieve)
    def retrieve_glue_data(document, key):
        if "nb_renderer" not in document and _PAGE.get() is not None:
            return _page_glue(_PAGE.get(), key)  # a translated message: only {glue:text} is used in the prose
        return retrieve(document, key)

    roles.retrieve_glue_data = retrieve_glue_data


def _assets(app: Sphinx, config) -> None:
    config.html_static_path = [*config.html_static_path, str(HERE / "i18n_static")]


def _css(app: Sphinx) -> None:
    app.add_css_file("e2t-languages.css")


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", _assets, priority=200)
    app.connect("builder-inited", _css)
    app.connect("html-page-context", _switch, priority=800)
    app.add_transform(KeepAsWritten)
    _glue_from_the_page()
    app.connect("doctree-resolved", _translate_self_checks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

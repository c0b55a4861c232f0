"""The Chinese edition's catalogues: write the Chinese build's configuration, report and check the translations.

    python tools/i18n.py config zh_CN OUT.yml [--toc TOC.yml]   # _config.yml (and _toc.yml) for the zh_CN build
    python tools/i18n.py stats                   # translated / fuzzy / untranslated messages per catalogue
    python tools/i18n.py check POT_DIR           # fail unless every English message of POT_DIR is translated
    python tools/i18n.py quiz-pot OUT.pot        # the self-check questions' texts, as a catalogue template

The catalogues live in ``locales/<language>/LC_MESSAGES/chapters/*.po``; ``make i18n`` extracts the English
messages (Sphinx's gettext builder, one ``.pot`` per page) and merges them into the catalogues with ``sphinx-intl
update``. ``check`` is what keeps the editions from drifting: a paragraph changed in English is a new message, so
it fails until the catalogue has its translation. The self-check questions are not Markdown but cell outputs made
by ``e2t.exercises.self_check``; ``quiz-pot`` writes their texts (``e2t.exercises.quiz.messages()``) into
``self_checks.pot`` beside the pages' templates, so they are kept, merged and checked the same way, and the
Chinese build renders them from ``self_checks.po`` (``_ext/languages.py``).

A translation must keep the markup of its message: the same citations, glued numbers, inline math, inline code and
link targets; a cross-reference (``term``, ``ref``, ``numref``, ``doc``) may get a translated title
(``{term}`上下文向量 <context vector>` ``) but keeps its target.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

import yaml
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
LOCALES = ROOT / "locales"
LANGUAGES = ("zh_CN",)
TITLES = {"zh_CN": "从编码器-解码器到 Transformer"}
CODE_PROMPTS = {"zh_CN": {"nb_code_prompt_show": "显示代码单元", "nb_code_prompt_hide": "隐藏代码单元"}}

ROLE = re.compile(r"\{([a-z:]+)\}`([^`]*)`")
MATH = re.compile(r"(?<!\\)\$[^$\n]+\$")
DISPLAY_MATH = re.compile(r"(?<!\\)\$\$.+?\$\$", re.S)
CODE = re.compile(r"`([^`\n]+)`")
LINK = re.compile(r"\]\(([^)\s]+)\)")
PLACEHOLDER = re.compile(r"\{[a-z_]+\}(?!`)")  # a Python format field of a self-check's form text
#: Cross-references whose title may be translated (their target may not).
TITLED = ("term", "ref", "numref", "doc")


def markup(text: str) -> list[str]:
    """What a translation of ``text`` must keep: roles (a titled cross-reference by its target), inline math,
    inline code, link targets and format fields (``{id}``), sorted."""
    items = []
    for name, body in ROLE.findall(text):
        if name in TITLED:
            titled = re.fullmatch(r"(.*?)\s*<([^<>]+)>", body, re.DOTALL)
            body = titled.group(2) if titled else body
        items.append(f"{{{name}}}`{body}`")
    rest = ROLE.sub(" ", text)
    items += DISPLAY_MATH.findall(rest)  # $$ ... $$ inside a paragraph, before the inline math it would confuse
    rest = DISPLAY_MATH.sub(" ", rest)
    items += MATH.findall(rest)
    items += [f"`{c}`" for c in CODE.findall(MATH.sub(" ", rest))]
    items += [f"]({u})" for u in LINK.findall(rest)]
    items += PLACEHOLDER.findall(rest)
    return sorted(items)


def write_config(language: str, out: Path) -> None:
    """The English _config.yml with the language set, the title translated and local paths made absolute."""
    if language not in LANGUAGES:
        raise SystemExit(f"language must be one of {LANGUAGES}, got {language!r}")
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    config["title"] = TITLES[language]
    sphinx = config.setdefault("sphinx", {})
    sphinx["local_extensions"] = {name: str((ROOT / path).resolve())
                                  for name, path in sphinx.get("local_extensions", {}).items()}
    settings = sphinx.setdefault("config", {})
    settings["language"] = language
    # myst-nb's fold buttons ("Show code cell source"); {type} would stay English (source, outputs), so it is left out
    settings.update(CODE_PROMPTS[language])
    settings["locale_dirs"] = [str(LOCALES)]
    html = config.setdefault("html", {})
    if "favicon" in html:
        html["favicon"] = str((ROOT / html["favicon"]).resolve())
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")


def write_toc(language: str, out: Path) -> None:
    """The English _toc.yml with its part captions translated (Sphinx does not translate the sidebar's captions;
    their translations are in the root page's catalogue, where the gettext builder puts them)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    translated = {m.id: m.string for po in catalogues(language) for m in _read(po) if m.id and m.string and not m.fuzzy}
    for part in toc.get("parts", []):
        if "caption" in part:
            if part["caption"] not in translated:
                raise SystemExit(f"the caption {part['caption']!r} of _toc.yml has no {language} translation "
                                 "(run `make i18n` and translate it in the root page's catalogue)")
            part["caption"] = translated[part["caption"]]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(yaml.safe_dump(toc, allow_unicode=True, sort_keys=False), encoding="utf-8")


def catalogues(language: str = "zh_CN") -> list[Path]:
    return sorted((LOCALES / language / "LC_MESSAGES").rglob("*.po"))


def _read(path: Path):
    with path.open("rb") as f:
        return read_po(f)


def counts(path: Path) -> dict[str, int]:
    """Translated, fuzzy and untranslated messages of one catalogue (its header not counted)."""
    out = {"translated": 0, "fuzzy": 0, "untranslated": 0}
    for message in _read(path):
        if not message.id:
            continue
        if message.fuzzy:
            out["fuzzy"] += 1
        elif message.string:
            out["translated"] += 1
        else:
            out["untranslated"] += 1
    return out


#: A translation is parsed again as Markdown, on its own: one that opens with a list or heading marker ("2. 序列到序列")
#: becomes a list, and Sphinx then silently keeps the English. Escape the marker: "2\\. 序列到序列".
BLOCK_START = re.compile(r"^(\d+[.)]|[-*+]|#+|>)\s")


def markup_problems(path: Path) -> list[str]:
    """Messages whose translation lost or changed markup, or would not be used (it opens with a block marker)."""
    problems = []
    for message in _read(path):
        if message.id and message.string and not message.fuzzy:
            want, got = markup(message.id), markup(message.string)
            if want != got:
                problems.append(f"{path.name}: {message.id[:60]!r}: markup {sorted(set(want) ^ set(got))[:3]}")
            if BLOCK_START.match(message.string) and path.name != "self_checks.po":
                problems.append(f"{path.name}: {message.string[:40]!r} opens with a list or heading marker: "
                                "escape it (e.g. '2\\. 标题'), or Sphinx keeps the English")
    return problems


def stats(language: str = "zh_CN") -> int:
    total = {"translated": 0, "fuzzy": 0, "untranslated": 0}
    for path in catalogues(language):
        c = counts(path)
        total = {k: total[k] + c[k] for k in total}
        print(f"{path.relative_to(LOCALES)}: {c['translated']} translated, {c['fuzzy']} fuzzy, "
              f"{c['untranslated']} untranslated")
    done = total["translated"] / max(1, sum(total.values()))
    print(f"{language}: {total['translated']} translated ({done:.0%}), {total['fuzzy']} fuzzy, "
          f"{total['untranslated']} untranslated")
    return 0 if total["fuzzy"] == total["untranslated"] == 0 else 1


def check(pot_dir: Path, language: str = "zh_CN") -> int:
    """Every message of every .pot under ``pot_dir`` has a translated, non-fuzzy entry in its catalogue."""
    missing = []
    for pot in sorted(pot_dir.rglob("*.pot")):
        po = LOCALES / language / "LC_MESSAGES" / pot.relative_to(pot_dir).with_suffix(".po")
        have = {m.id: m for m in _read(po)} if po.is_file() else {}
        for message in _read(pot):
            if not message.id:
                continue
            found = have.get(message.id)
            if found is None or found.fuzzy or not found.string:
                missing.append(f"{po.relative_to(ROOT)}: {str(message.id)[:80]!r}")
    problems = [p for po in catalogues(language) for p in markup_problems(po)]
    for line in missing[:20] + problems[:20]:
        print(line, file=sys.stderr)
    if missing or problems:
        print(f"{len(missing)} English messages lack a {language} translation; {len(problems)} translations lost "
              "markup. Run `make i18n`, translate, and try again.", file=sys.stderr)
        return 1
    print(f"{language}: every English message is translated")
    return 0


def quiz_pot(out: Path) -> int:
    """Write the self-check questions' texts as a gettext template (``self_checks.pot``)."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po
    from e2t.exercises.quiz import messages

    catalog = Catalog(project="e2t self-check questions", fuzzy=False)
    for text in messages():
        catalog.add(text)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as f:
        write_po(f, catalog, width=0, omit_header=False)
    print(f"wrote {len(catalog)} self-check texts to {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("config")
    c.add_argument("language")
    c.add_argument("out", type=Path)
    c.add_argument("--toc", type=Path, help="also write the table of contents, its captions translated")
    sub.add_parser("stats")
    k = sub.add_parser("check")
    k.add_argument("pot_dir", type=Path)
    q = sub.add_parser("quiz-pot")
    q.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    os.chdir(ROOT)
    if args.command == "config":
        write_config(args.language, args.out)
        if args.toc:
            write_toc(args.language, args.toc)
        return 0
    if args.command == "stats":
        return stats()
    if args.command == "quiz-pot":
        return quiz_pot(args.out)
    return check(args.pot_dir)


if __name__ == "__main__":
    raise SystemExit(main())

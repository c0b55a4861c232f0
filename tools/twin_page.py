"""A standalone page holding every browser twin of the book, and the browser check run on it.

    python tools/twin_page.py                  # write _build/twins/index.html
    python tools/twin_page.py --check          # ... and check every twin in headless Chromium (tools/twin_check.py)
    python tools/twin_page.py --check --json _build/twins/check.json

The page imitates the book's layout at a 1280 px window (a 676 px column; a cell tagged full-width is 36 % wider, as
sphinx-book-theme makes it; myst-nb's output area clips what overflows it), so sizes measured on it are the site's. It loads nothing but the twins themselves: each
carries its own script and data, which is what a saved notebook carries too. The twins are built by calling the
factories the chapters call, so the page shows what a re-executed chapter will show.
"""

from __future__ import annotations

import argparse
import html
import importlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

import twin_check  # noqa: E402

from e2t.viz.browser import BROWSER_TWINS  # noqa: E402

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>e2t browser twins</title><link rel="icon" href="data:,">
<style>
*, ::before, ::after {{ box-sizing: border-box; }}
body {{ margin: 0; font-family: sans-serif; font-size: 16px; }}
main {{ width: 676px; margin-left: 285px; }}  /* the book's output column at a 1280 px window */
div.output {{ overflow-x: auto; }}  /* myst-nb's output area: it clips what overflows it */
@media (min-width: 992px) {{
  div.cell.tag_full-width {{ width: 136%; max-width: 136%; position: relative; z-index: 2; }}
}}
section {{ margin: 2em 0 4em; }}
</style></head>
<body><main><h1>Every browser twin of the book</h1>
{sections}
</main></body></html>
"""


def build_page(directory: Path, keys=BROWSER_TWINS) -> Path:
    """Write ``directory/index.html`` with one section per twin (``keys``: factory paths); return its path."""
    sections = []
    for key in keys:
        module, name = key.rsplit(".", 1)
        explorer = getattr(importlib.import_module(module), name)()
        sections.append(f'<section><h2>{html.escape(key)}</h2><div class="cell"><div class="cell_output">'
                        f'<div class="output text_html">{explorer.twin_html()}</div></div></div></section>')
    directory.mkdir(parents=True, exist_ok=True)
    page = directory / "index.html"
    page.write_text(PAGE.format(sections="\n".join(sections)), encoding="utf-8")
    return page


def check_page(directory: Path, keys=BROWSER_TWINS, *, n: int = twin_check.SETTINGS_PER_TWIN, seed: int = 0,
               screenshots: bool = True) -> list[dict]:
    """Run ``twin_check.check_twin`` on every twin of the page in ``directory``; return one row per twin."""
    rows = []
    with twin_check.serve(directory) as base, twin_check.chromium() as driver:
        driver.get(base + "index.html")
        found = twin_check.twins(driver)
        found_keys = [t.get_attribute("data-e2t-widget") for t in found]
        assert found_keys == list(keys), f"the page holds {found_keys}, expected {list(keys)}"
        for i, root in enumerate(found):
            if screenshots:  # at the defaults, as a reader first sees it
                driver.execute_script("arguments[0].scrollIntoView({block: 'start'})", root)
                root.screenshot(str(directory / f"{found_keys[i].rsplit('.', 1)[1]}.png"))
            rows.append(twin_check.check_twin(driver, root, n=n, seed=seed + i))
        errors = [e["message"][:300] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert not errors, f"browser errors on the twins' page: {errors[:5]}"
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "twins")
    parser.add_argument("--check", action="store_true", help="check every twin in headless Chromium")
    parser.add_argument("--settings", type=int, default=twin_check.SETTINGS_PER_TWIN)
    parser.add_argument("--json", type=Path, help="write the check's rows here")
    parser.add_argument("--only", nargs="*", default=list(BROWSER_TWINS), help="factory paths of the twins to take")
    args = parser.parse_args(argv)
    page = build_page(args.out, args.only)
    print(f"wrote {page}")
    if args.check:
        rows = check_page(args.out, args.only, n=args.settings)
        for r in rows:
            print(f"{r['widget']:<48} {r['settings']:>3} settings + {r['presets']} presets, {r['moves']:>4} moves: "
                  f"max |diff| {r['max_abs_diff']:.2e}; redraw median {r['redraw_ms_median']:.2f} ms "
                  f"(p90 {r['redraw_ms_p90']:.2f}), to next frame {r['frame_ms_median']:.2f} ms; "
                  f"smallest text {r['min_font_px']:.1f} px, figure {r['figure_width_px']:.0f} px wide")
        if args.json:
            args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

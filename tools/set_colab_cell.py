"""Write the Colab cell: the first code cell of every chapter, the same everywhere.

    python tools/set_colab_cell.py            # rewrite the first code cell of every chapters/*.ipynb
    python tools/set_colab_cell.py --check    # exit 1 and name the chapters whose first cell differs
    python tools/set_colab_cell.py --print    # print the cell's source

The cell clones the repository named in `_config.yml` (`repository.url`) and installs `e2t` from it, in Colab only
(when `google.colab` is imported) and only when `e2t` is missing. Two environment variables, read by the cell, let a
test (code/tests/test_colab_cell.py) or a fork point it elsewhere while the visible default stays the real address:
`E2T_REPOSITORY` (what to clone) and `E2T_CLONE_DIR` (where to, `/content/book` by default).

A rewritten cell keeps its id, execution count and other metadata, gets the tags `colab-install` and `remove-cell`,
and loses its outputs (it prints nothing). Nothing else in the notebook changes (nbformat writes the notebooks the way
`jupyter execute` does, byte for byte).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
TAGS = ("colab-install", "remove-cell")

TEMPLATE = '''\
# Colab: install the book's package `e2t` if it is missing (elsewhere this cell does nothing).
import importlib.util, os, subprocess, sys
if importlib.util.find_spec("e2t") is None and "google.colab" in sys.modules:
    repo = os.environ.get("E2T_REPOSITORY", "{url}")
    book = os.environ.get("E2T_CLONE_DIR", "/content/book")
    if not os.path.isdir(book):
        subprocess.run(["git", "clone", "-q", "--depth", "1", repo, book], check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-e", os.path.join(book, "code")], check=True)
    sys.path.insert(0, os.path.join(book, "code", "src"))'''


def repository_url(root: Path = ROOT) -> str:
    text = (root / "_config.yml").read_text(encoding="utf-8")
    match = re.search(r"^repository:\s*\n\s+url:\s*(\S+)", text, re.M)
    if not match:
        raise SystemExit("_config.yml has no repository.url")
    return match.group(1)


def cell_source(root: Path = ROOT) -> str:
    return TEMPLATE.format(url=repository_url(root))


def first_code_cell(nb) -> dict:
    """The first code cell with any source (the one code/tests/test_chapters.py compares)."""
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.strip():
            return cell
    raise ValueError("no code cell")


def is_current(cell, source: str) -> bool:
    tags = cell.get("metadata", {}).get("tags", [])
    return cell.source == source and set(TAGS) <= set(tags) and not cell.get("outputs")


def set_cell(cell, source: str) -> None:
    cell.source = source
    cell.outputs = []
    tags = list(cell.metadata.get("tags", []))
    cell.metadata["tags"] = tags + [t for t in TAGS if t not in tags]


def chapters(root: Path = ROOT) -> list[Path]:
    return sorted((root / "chapters").glob("*.ipynb"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="only check; exit 1 if a chapter's cell differs")
    mode.add_argument("--print", action="store_true", help="print the cell's source")
    parser.add_argument("--root", type=Path, default=ROOT, help="the repository (default: this one)")
    args = parser.parse_args(argv)
    source = cell_source(args.root)
    if args.print:
        print(source)
        return 0
    stale = []
    for path in chapters(args.root):
        nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
        cell = first_code_cell(nb)
        if is_current(cell, source):
            continue
        stale.append(path.name)
        if not args.check:
            set_cell(cell, source)
            nbformat.write(nb, path)
    if args.check:
        if stale:
            print("first code cell differs from tools/set_colab_cell.py in: " + ", ".join(stale))
            return 1
        print("the Colab cell is current in every chapter")
        return 0
    print(f"rewrote the Colab cell in {len(stale)} chapter(s): {', '.join(stale) or 'none needed'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

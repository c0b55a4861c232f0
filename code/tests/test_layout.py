"""The package's layout, read from its source: models apart from recipes and widgets, no import cycle, modules a
reader can hold in mind, imports at the top.

- model and operation modules (``e2t/*.py``), ``e2t.data`` and ``e2t.train`` never import ``e2t.recipes``,
  ``e2t.viz`` or ``e2t.book``; recipes never import ``viz`` or ``book``;
- the module-level imports between ``e2t`` modules form no cycle;
- no module is longer than 400 lines;
- an import inside a function carries a comment (on its line or the line above) that says why.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "e2t"
MAX_LINES = 400


def _name(path: Path) -> str:
    parts = ["e2t", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(module: str, node: ast.ImportFrom | ast.Import) -> list[str]:
    """The e2t modules an import statement loads (a ``from package import submodule`` counts the submodule)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] == "e2t"]
    if node.level:
        base = module.split(".")
        if not MODULES[module].name == "__init__.py":
            base = base[:-1]
        base = base[:len(base) - node.level + 1]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    if target.split(".")[0] != "e2t":
        return []
    out = [target]
    out += [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in MODULES]
    return out


def _imports(module: str, *, top_level_only: bool) -> set[str]:
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else ast.walk(tree)
    found = set()
    for node in nodes:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.update(t for t in _resolve(module, node) if t in MODULES)
    return found


def _kind(module: str) -> str:
    """``model`` for ``e2t.<module>``; the subpackage's name for its modules; ``package`` for ``e2t`` itself."""
    parts = module.split(".")
    if len(parts) == 1:
        return "package"
    if parts[1] in ("recipes", "viz", "book", "train", "data", "exercises", "jobs"):
        return parts[1]
    return "model"


FORBIDDEN = {"model": {"recipes", "viz", "book"}, "data": {"recipes", "viz", "book"},
             "train": {"recipes", "viz", "book"}, "recipes": {"viz", "book"}}


def test_the_layout_has_every_part():
    kinds = {_kind(m) for m in MODULES}
    assert {"model", "data", "train", "recipes", "viz", "book"} <= kinds
    assert {"e2t.masks", "e2t.attention", "e2t.scores", "e2t.ntm", "e2t.transformer"} <= set(MODULES)  # stable API


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _kind(m) in FORBIDDEN))
def test_lower_layers_never_import_upper_ones(module):
    bad = sorted(t for t in _imports(module, top_level_only=False) if _kind(t) in FORBIDDEN[_kind(module)])
    assert not bad, f"{module} ({_kind(module)}) imports {bad}"


def test_no_import_cycle():
    graph = {m: _imports(m, top_level_only=True) - {m} for m in MODULES}
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        path.append(m)
        for t in sorted(graph[m]):
            if state.get(t) == 1:
                cycle = path[path.index(t):] + [t]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if t not in state:
                visit(t)
        path.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)


def test_the_layering_check_catches_a_model_importing_a_widget(tmp_path):
    """The check above can fail: a model module that imports from viz is reported."""
    fake = "e2t.fake_model"
    MODULES[fake] = tmp_path / "fake_model.py"
    MODULES[fake].write_text("from e2t.viz.widgets import explore\n", encoding="utf-8")
    try:
        bad = [t for t in _imports(fake, top_level_only=False) if _kind(t) in FORBIDDEN[_kind(fake)]]
        assert bad == ["e2t.viz.widgets"]
    finally:
        del MODULES[fake]


@pytest.mark.parametrize("module", sorted(MODULES))
def test_modules_are_at_most_400_lines(module):
    n = len(MODULES[module].read_text(encoding="utf-8").splitlines())
    assert n <= MAX_LINES, f"{module} has {n} lines"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_inside_functions_say_why(module):
    source = MODULES[module].read_text(encoding="utf-8")
    lines = source.splitlines()
    tree = ast.parse(source)
    unexplained = []
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(fn):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    here, above = lines[node.lineno - 1], lines[node.lineno - 2] if node.lineno > 1 else ""
                    if "#" not in here and not above.strip().startswith("#") and not _after_comment(lines, node):
                        unexplained.append(f"line {node.lineno}: {here.strip()}")
    assert not unexplained, f"{module}: imports inside functions without a comment: {unexplained}"


def _after_comment(lines: list[str], node: ast.stmt) -> bool:
    """True when the import is one of a block of imports directly under a comment line."""
    i = node.lineno - 2
    while i >= 0 and lines[i].strip().startswith(("import ", "from ")):
        i -= 1
    return i >= 0 and lines[i].strip().startswith("#")

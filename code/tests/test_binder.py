"""Binder's configuration (binder/) agrees with what the book is tested with.

Binder itself cannot run here (no network but the package registries). These checks keep binder/ consistent: the
CPU-only torch from PyTorch's index at the version of constraints.txt, every other pin equal to constraints.txt,
every package the chapters and `e2t` import pinned, the package installed by postBuild, the same Python as the
site's workflow.
"""

from __future__ import annotations

import ast
import json
import os
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BINDER = ROOT / "binder"
CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def _name(requirement: str) -> str:
    """The normalised project name of a requirement (PEP 503)."""
    return re.sub(r"[-_.]+", "-", re.split(r"[\s<>=!~\[;@]", requirement.strip(), maxsplit=1)[0]).lower()


def _lines(path: Path) -> list[str]:
    return [line.split(" #")[0].strip() for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in _lines(path):
        if line.startswith("-"):
            continue
        assert "==" in line, f"{path.name}: {line!r} is not pinned with =="
        name, version = line.split("==", 1)
        pins[_name(name)] = version.strip()
    return pins


def _binder_requirements() -> list[str]:
    return _lines(BINDER / "requirements.txt")


def test_binder_installs_torch_from_pytorchs_cpu_index_at_the_tested_version():
    lines = _binder_requirements()
    options = [line for line in lines if line.startswith("-")]
    assert f"--extra-index-url {CPU_INDEX}" in options, "binder/requirements.txt must add PyTorch's CPU index"
    assert not any(o.startswith(("--index-url", "-i ")) for o in options), "PyPI must stay the main index"
    tested = _pins(ROOT / "constraints.txt")["torch"]
    assert _pins(BINDER / "requirements.txt")["torch"] == f"{tested.split('+')[0]}+cpu", (
        "binder/requirements.txt: torch must be constraints.txt's version of the CPU build (+cpu)")


def test_every_binder_pin_is_the_version_of_constraints_txt():
    tested = _pins(ROOT / "constraints.txt")
    for name, version in _pins(BINDER / "requirements.txt").items():
        assert name in tested, f"binder pins {name}, which constraints.txt does not"
        if name != "torch":
            assert version == tested[name], f"binder pins {name}=={version}; constraints.txt has {tested[name]}"


def test_binder_pins_what_a_reader_installs():
    """requirements.txt's packages and e2t's dependencies (code/pyproject.toml), nothing left to chance."""
    pinned = set(_pins(BINDER / "requirements.txt"))
    wanted = {_name(r) for r in _lines(ROOT / "requirements.txt") if not r.startswith("-")}
    project = tomllib.loads((ROOT / "code" / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted |= {_name(r) for r in project["dependencies"]}
    assert wanted <= pinned, f"binder/requirements.txt misses {sorted(wanted - pinned)}"


def _imports(source: str) -> set[str]:
    source = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def test_binder_pins_every_package_the_chapters_and_e2t_import():
    modules = set()
    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] == "code":
                modules |= _imports("".join(cell["source"]))
    for path in (ROOT / "code" / "src" / "e2t").rglob("*.py"):
        modules |= _imports(path.read_text(encoding="utf-8"))
    third_party = {m for m in modules if m not in sys.stdlib_module_names and m not in ("e2t", "google")}
    owners = packages_distributions()
    pinned = set(_pins(BINDER / "requirements.txt"))
    missing = {m: owners.get(m) for m in third_party if not {_name(d) for d in owners.get(m, [])} & pinned}
    assert not missing, f"imported but not pinned in binder/requirements.txt (module: distributions): {missing}"


def test_binder_requirements_have_no_local_path_so_binder_can_cache_them():
    """repo2docker installs a requirements file without local references before copying the repository, in a
    layer it reuses until the file changes: a new commit then rebuilds only the postBuild step."""
    for line in _binder_requirements():
        assert not re.match(r"^(-e|--editable)\b|^\.{0,2}/", line), f"local reference in binder/requirements.txt: {line}"


def test_postbuild_installs_the_package_without_its_dependencies():
    post = BINDER / "postBuild"
    assert post.is_file() and os.access(post, os.X_OK), "binder/postBuild must exist and be executable"
    text = post.read_text(encoding="utf-8")
    assert text.startswith("#!") and "set -e" in text
    (install,) = [line for line in text.splitlines() if "pip install" in line]
    assert re.search(r"-e code\b", install) and "--no-deps" in install


def test_binder_python_is_the_python_the_book_is_built_and_tested_with():
    runtime = (BINDER / "runtime.txt").read_text(encoding="utf-8").strip()
    assert re.fullmatch(r"python-3\.\d+", runtime), runtime
    workflow = (ROOT / ".github" / "workflows" / "book.yml").read_text(encoding="utf-8")
    (version,) = re.findall(r'python-version:\s*"([\d.]+)"', workflow)
    assert runtime == f"python-{version}"


def test_the_book_has_a_binder_launch_button():
    config = (ROOT / "_config.yml").read_text(encoding="utf-8")
    assert re.search(r"^\s+binderhub_url:\s*https://mybinder\.org\s*$", config, re.M)

"""The Colab cell (the first code cell of every chapter) really installs `e2t`, and does nothing outside Colab.

The test executes the cell's source as it is in the notebooks, in a fresh virtual environment that has no `e2t`,
with `google.colab` faked and the clone pointed at a bare clone of this repository (the cell reads `E2T_REPOSITORY`
and `E2T_CLONE_DIR`; their defaults are the real address and /content/book). pip runs with no index, no find-links
and no build isolation, so nothing can come from the network; the fresh environment sees the packages of the
environment running the tests (torch, numpy, pip, setuptools, ...) through a .pth file, so the cell's
`pip install -e` must install `e2t` alone.

Why not `python -m venv --system-site-packages` from .venv: that exposes the base interpreter's packages, not the
.venv's. The .pth file below exposes the .venv's site-packages minus `e2t` (a folder of links to its entries).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))

FAKE_COLAB = """\
import sys, types
sys.modules["google"] = types.ModuleType("google")
sys.modules["google.colab"] = types.ModuleType("google.colab")
"""

AFTER = """
import json, e2t, e2t.masks
mask = e2t.masks.causal_mask(3)
print("RESULT " + json.dumps({"file": e2t.__file__, "mask": mask.int().tolist()}))
"""


def _first_code_cell(path: Path) -> str:
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "code" and source.strip():
            return source
    raise AssertionError(f"{path.name} has no code cell")


def _repository_url() -> str:
    match = re.search(r"^repository:\s*\n\s+url:\s*(\S+)", (ROOT / "_config.yml").read_text(encoding="utf-8"), re.M)
    assert match, "_config.yml has no repository.url"
    return match.group(1)


def _colab_cell() -> str:
    sources = {_first_code_cell(p) for p in CHAPTERS}
    assert len(sources) == 1, "the chapters' first code cells differ (run tools/set_colab_cell.py)"
    return sources.pop()


def _is_e2t(name: str) -> bool:
    """site-packages entries of an installed e2t: the package, its dist-info, an editable install's .pth/finder."""
    return re.match(r"^(__editable__[._]+)?e2t([-_.]|$)", name.lower()) is not None


def _environment(tmp_path: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PIP_", "PYTHON", "VIRTUAL_ENV", "E2T_", "CONDA"))}
    env.update({
        "PIP_CONFIG_FILE": os.devnull,      # no pip.conf: no index, find-links or constraints of this machine
        "PIP_NO_INDEX": "1",                # nothing from the network
        "PIP_NO_BUILD_ISOLATION": "0",      # pip's inverted spelling of --no-build-isolation: setuptools is there
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PYTHONNOUSERSITE": "1",
        "HOME": str(tmp_path / "home"),     # no user git or pip configuration either
        "GIT_CONFIG_NOSYSTEM": "1",
    })
    env.update(extra)
    return env


def _run(args, *, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{args[:3]} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    return result


def _site_packages(venv: Path) -> Path:
    (site,) = venv.glob("lib/python*/site-packages")
    return site


def _distributions(site: Path) -> dict[str, int]:
    """Installed distributions in `site` (name -> bytes of its files, as its RECORD lists them)."""
    out = {}
    for info in site.glob("*.dist-info"):
        name = info.name.split("-")[0].lower().replace("_", "-")
        size = 0
        record = info / "RECORD"
        if record.is_file():
            for line in record.read_text(encoding="utf-8").splitlines():
                path = site / line.split(",")[0]
                if path.is_file() and not path.is_symlink():
                    size += path.stat().st_size
        out[name] = size
    return out


@pytest.fixture(scope="module")
def colab(tmp_path_factory):
    """Run the cell once without and once with a fake google.colab; return what the second run saw."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs git and a git checkout of the book")
    cell = _colab_cell()
    assert "E2T_REPOSITORY" in cell and "E2T_CLONE_DIR" in cell, (
        "the Colab cell does not read E2T_REPOSITORY / E2T_CLONE_DIR: run tools/set_colab_cell.py")
    assert f'"{_repository_url()}"' in cell, "the cell's default must be the repository URL of _config.yml"

    tmp = tmp_path_factory.mktemp("colab")
    (tmp / "home").mkdir()
    work = tmp / "work"  # the working directory of the kernel: no e2t next to it
    work.mkdir()
    env = _environment(tmp)
    bare = tmp / "book.git"
    _run(["git", "clone", "-q", "--bare", str(ROOT), str(bare)], cwd=tmp, env=env)

    venv = tmp / "venv"  # without pip and setuptools of its own: they come from this environment too
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp, env=env)
    python = str(venv / "bin" / "python")
    site = _site_packages(venv)
    overlay = tmp / "overlay"  # this environment's packages without e2t
    overlay.mkdir()
    here = {Path(sysconfig.get_paths()["purelib"]), Path(sysconfig.get_paths()["platlib"])}
    for folder in here:
        for entry in folder.iterdir():
            if not _is_e2t(entry.name) and not (overlay / entry.name).exists():
                (overlay / entry.name).symlink_to(entry)
    (site / "zz_test_overlay.pth").write_text(f"{overlay}\n", encoding="utf-8")

    probe = "import importlib.util, torch; print(importlib.util.find_spec('e2t'))"
    assert _run([python, "-c", probe], cwd=work, env=env).stdout.strip() == "None", "e2t is already importable"

    clone = tmp / "clone"
    cell_env = _environment(tmp, E2T_REPOSITORY=bare.as_uri(), E2T_CLONE_DIR=str(clone))
    outside = _run([python, "-c", cell], cwd=work, env=cell_env)  # no google.colab: the cell does nothing
    assert not clone.exists() and not outside.stdout and not outside.stderr

    before = _distributions(site)
    inside = _run([python, "-c", FAKE_COLAB + cell + AFTER], cwd=work, env=cell_env)
    after = _distributions(site)
    (line,) = [l for l in inside.stdout.splitlines() if l.startswith("RESULT ")]
    later = _run([python, "-c", "import e2t; print(e2t.__file__)"], cwd=work, env=cell_env)
    return {"clone": clone, "result": json.loads(line[len("RESULT "):]), "before": before, "after": after,
            "later": later.stdout.strip(), "site": site}


def _set_colab_cell():
    spec = importlib.util.spec_from_file_location("set_colab_cell", ROOT / "tools" / "set_colab_cell.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_chapters_hold_the_cell_that_tools_set_colab_cell_writes():
    assert _colab_cell() == _set_colab_cell().cell_source(ROOT), "run tools/set_colab_cell.py"


def test_set_colab_cell_rewrites_only_the_first_code_cell(tmp_path):
    import nbformat

    tool = _set_colab_cell()
    (tmp_path / "_config.yml").write_text("repository:\n  url: https://github.com/a/b\n", encoding="utf-8")
    (tmp_path / "chapters").mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Title"),
                nbformat.v4.new_code_cell("print('old')", execution_count=1, metadata={"tags": ["keep"]},
                                          outputs=[nbformat.v4.new_output("stream", text="old\n")]),
                nbformat.v4.new_code_cell("import e2t", execution_count=2)]
    path = tmp_path / "chapters" / "x.ipynb"
    nbformat.write(nb, path)
    assert tool.main(["--check", "--root", str(tmp_path)]) == 1
    assert tool.main(["--root", str(tmp_path)]) == 0
    assert tool.main(["--check", "--root", str(tmp_path)]) == 0
    after = nbformat.read(path, as_version=4)
    first = after.cells[1]
    assert first.source == tool.cell_source(tmp_path) and '"https://github.com/a/b"' in first.source
    assert first.outputs == [] and first.execution_count == 1 and first.id == nb.cells[1].id
    assert first.metadata["tags"] == ["keep", "colab-install", "remove-cell"]
    assert after.cells[0] == nb.cells[0] and after.cells[2] == nb.cells[2]


def test_every_chapter_starts_with_the_same_colab_cell_reading_the_override_variables():
    cell = _colab_cell()
    assert "os.environ.get(\"E2T_REPOSITORY\"" in cell and "os.environ.get(\"E2T_CLONE_DIR\", \"/content/book\")" in cell


def test_the_cell_clones_the_given_repository_and_imports_e2t_from_the_clone(colab):
    clone = colab["clone"].resolve()
    assert (clone / "code" / "pyproject.toml").is_file() and (clone / ".git").is_dir()
    module = Path(colab["result"]["file"]).resolve()
    assert module.is_relative_to(clone / "code" / "src"), module
    assert not module.is_relative_to(ROOT.resolve())
    assert colab["result"]["mask"] == [[1, 0, 0], [1, 1, 0], [1, 1, 1]]


def test_pip_installed_e2t_alone_and_editable_from_the_clone(colab):
    new = set(colab["after"]) - set(colab["before"])
    assert new == {"e2t"}, f"pip installed {sorted(new)}"
    assert sum(colab["after"].values()) - sum(colab["before"].values()) < 1_000_000, "pip installed something big"
    (info,) = colab["site"].glob("e2t-*.dist-info")
    direct = json.loads((info / "direct_url.json").read_text(encoding="utf-8"))
    assert direct["dir_info"].get("editable") and direct["url"] == (colab["clone"] / "code").as_uri()
    # A new kernel (after a restart) imports the installed copy without the cell's sys.path line.
    assert Path(colab["later"]).resolve().is_relative_to(colab["clone"].resolve() / "code" / "src")

"""`make book` builds the site from the committed outputs; `make book EXECUTE=1` re-executes; the Pages workflow
builds the same way."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def _book_command(*args: str) -> str:
    if shutil.which("make") is None:
        pytest.skip("needs make")
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "EXECUTE", "BOOK_EXECUTE")}
    out = subprocess.run(["make", "-n", "book", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                         check=True).stdout
    # the English edition's build (the Chinese one, made by `make zh` after it, always builds with execution off)
    (line,) = [l for l in out.splitlines() if "jupyter-book build" in l and "--config" not in l]
    return line


def test_config_builds_from_the_committed_outputs():
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert config["execute"]["execute_notebooks"] == "off"


@pytest.mark.parametrize("args, mode", [((), "off"), (("EXECUTE=1",), "cache"), (("EXECUTE=force",), "force"),
                                        (("EXECUTE=0",), "off")])
def test_make_book_executes_only_when_asked(args, mode):
    line = _book_command(*args)
    assert re.search(rf"(^|\s)BOOK_EXECUTE={mode}\s", line), line
    assert "-W" in line.split() and "-n" in line.split()


def test_book_execute_overrides_the_configured_mode(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("offline_assets", ROOT / "_ext" / "offline_assets.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    app = SimpleNamespace(confdir=str(tmp_path))  # no _vendor/ there: only the execution mode is touched
    for env, expected in ((None, "off"), ("cache", "cache")):
        config = SimpleNamespace(nb_execution_mode="off", html_static_path=[])
        if env is None:
            monkeypatch.delenv("BOOK_EXECUTE", raising=False)
        else:
            monkeypatch.setenv("BOOK_EXECUTE", env)
        module._configure(app, config)
        assert config.nb_execution_mode == expected


def test_pages_workflow_builds_with_make_book_from_the_committed_outputs():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "book.yml").read_text(encoding="utf-8"))
    steps = workflow["jobs"]["build"]["steps"]
    (build,) = [s for s in steps if "make book" in s.get("run", "")]
    assert build["run"].strip() == "make book", "the site is built from the committed outputs (no EXECUTE)"
    assert "download.pytorch.org/whl/cpu" in build.get("env", {}).get("PIP_EXTRA_INDEX_URL", "")
    assert not any("jupyter_cache" in str(s) for s in steps), "nothing is executed: no jupyter-cache to keep"
    upload = [s for s in steps if "upload-pages-artifact" in s.get("uses", "")]
    assert upload and upload[0]["with"]["path"] == "_build/html"

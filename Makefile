# The book's commands. `make book` builds the site; `make test` checks everything (what CI runs).
# Both work on a fresh clone with Python 3.11, make, npm and apt: they create .venv and install into it.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(abspath $(VENV)/bin)
STAMP  := $(VENV)/.installed
NB     ?= chapters
JOBS   ?= 2
HTML   := _build/html

export PATH := $(BIN):$(PATH)
export PYDEVD_DISABLE_FILE_VALIDATION := 1
# With MPLBACKEND=Agg in the environment plt.show() draws nothing in a notebook and nbval misses every figure.
unexport MPLBACKEND
# The portability pass's kernels: another instruction set than the main pass (CONTRIBUTING.md).
PORTABLE ?= $(shell bash tools/portable_env.sh)

NBVAL := --nbval --nbval-current-env --nbval-cell-timeout=900 --nbval-sanitize-with code/tests/nbval-sanitize.cfg

.PHONY: help venv book build test unit nbval nbval-portable site browser vendor execute checkpoints bench constraints clean

help:
	@echo "make book         build the site from the outputs committed in the notebooks; print the path of index.html"
	@echo "make book EXECUTE=1  the same, re-executing the chapters first (cached: only those that changed)"
	@echo "make test         unit tests, nbval over every chapter, site build and headless-browser check"
	@echo "make execute      execute chapters in place (NB=chapters/05_ntm.ipynb for one)"
	@echo "make nbval        nbval over chapters (NB=... for one)"
	@echo "make nbval-portable  the same with the kernels switched to another instruction set"
	@echo "make unit         unit tests of e2t"
	@echo "make checkpoints  retrain every checkpoint shipped in data/checkpoints"
	@echo "make bench        benchmarks -> bench/results.md"

$(STAMP): requirements.txt requirements-dev.txt constraints.txt code/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -c constraints.txt -r requirements-dev.txt
	touch $@

venv: $(STAMP)

# Offline assets for the site (MathJax, require.js, the widget manager), from npm; the CDN is the fallback.
vendor: $(STAMP)
	bash tools/vendor.sh _vendor

# `make book` builds the site from the outputs committed in the notebooks (nbval in `make test` proves they come from
# the code): a few seconds once .venv exists. `make book EXECUTE=1` re-executes the chapters first, through
# jupyter-cache (only those that changed since the last such build; EXECUTE=force runs them all); `make execute`
# refreshes the outputs committed in the notebooks.
EXECUTE ?=
BOOK_EXECUTE_MODE := $(if $(filter-out 0 off no false,$(EXECUTE)),$(if $(filter force,$(EXECUTE)),force,cache),off)

book: $(STAMP) vendor
	BOOK_EXECUTE=$(BOOK_EXECUTE_MODE) $(BIN)/jupyter-book build . -W -n --keep-going
	@echo "The book: $(abspath $(HTML))/index.html"

# The site from the committed outputs, without executing anything (make test has just run every chapter).
build: $(STAMP) vendor
	BOOK_EXECUTE=off $(BIN)/jupyter-book build . -W -n --keep-going

unit: $(STAMP)
	$(BIN)/pytest -q code/tests

nbval: $(STAMP)
	$(BIN)/pytest -q $(NBVAL) -n $(JOBS) --dist loadfile $(NB)

nbval-portable: $(STAMP)
	@echo "portability pass: $(PORTABLE)"
	env $(PORTABLE) $(BIN)/pytest -q $(NBVAL) -n $(JOBS) --dist loadfile $(NB)

browser:
	@bash tools/install_chromium.sh

site: $(STAMP) browser
	$(BIN)/pytest -q tools/test_site.py

test: $(STAMP)
	$(MAKE) unit
	$(MAKE) nbval
	$(MAKE) nbval-portable
	$(MAKE) build
	$(MAKE) site

execute: $(STAMP)
	@for nb in $(if $(filter chapters,$(NB)),chapters/*.ipynb,$(NB)); do \
	  echo "executing $$nb"; \
	  $(BIN)/jupyter-execute --inplace --timeout=1200 "$$nb" || exit 1; \
	done

checkpoints: $(STAMP)
	$(BIN)/python -m e2t.jobs $(CHECKPOINTS)

bench: $(STAMP)
	$(BIN)/python -m bench

constraints: $(STAMP)
	$(BIN)/python -m pip freeze --exclude-editable | sed 's/+cpu$$//' > constraints.new && mv constraints.new constraints.txt

clean:
	rm -rf _build _vendor

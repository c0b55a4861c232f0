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

.PHONY: help venv book build zh i18n i18n-check test unit nbval nbval-portable site browser vendor execute checkpoints bench constraints clean

help:
	@echo "make book         build the site (English, and Chinese in zh/) from the outputs committed in the notebooks"
	@echo "make book EXECUTE=1  the same, re-executing the chapters first (cached: only those that changed)"
	@echo "make test         unit tests, the Chinese catalogues, nbval over every chapter (twice), both editions built and checked in a headless browser"
	@echo "make execute      execute chapters in place (NB=chapters/05_ntm.ipynb for one)"
	@echo "make nbval        nbval over chapters (NB=... for one)"
	@echo "make nbval-portable  the same with the kernels switched to another instruction set"
	@echo "make unit         unit tests of e2t"
	@echo "make checkpoints  retrain every checkpoint shipped in data/checkpoints"
	@echo "make bench        benchmarks -> bench/results.md"
	@echo "make i18n         refresh locales/zh_CN from the English text and report what is left to translate"
	@echo "make i18n-check   fail if an English message has no Chinese translation (part of make test)"

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
	$(MAKE) zh
	@echo "The book: $(abspath $(HTML))/index.html (中文版: $(abspath $(HTML))/zh/index.html)"

# The Chinese edition: the same notebooks and outputs, the prose from locales/zh_CN, into _build/html/zh/.
# (Built from the committed outputs; the English build above must exist.)
ZH_CONFIG := _build/_config_zh_CN.yml
ZH_TOC := _build/_toc_zh_CN.yml
zh: $(STAMP) vendor
	@if [ -d locales/zh_CN ]; then \
	  $(BIN)/python tools/i18n.py config zh_CN $(ZH_CONFIG) --toc $(ZH_TOC) && \
	  BOOK_EXECUTE=off $(BIN)/jupyter-book build . --config $(ZH_CONFIG) --toc $(ZH_TOC) --path-output _build/zh -W -n --keep-going && \
	  rm -rf $(HTML)/zh && cp -r _build/zh/_build/html $(HTML)/zh; \
	else echo "no locales/zh_CN: the Chinese edition is not built"; fi

# Refresh the Chinese catalogues from the English text (new and changed paragraphs become untranslated or fuzzy
# messages), then report what is left to translate.
i18n: $(STAMP)
	BOOK_EXECUTE=off $(BIN)/jupyter-book build . --builder custom --custom-builder gettext --path-output _build/i18n
	$(BIN)/python tools/i18n.py quiz-pot _build/i18n/_build/gettext/self_checks.pot
	$(BIN)/sphinx-intl update -p _build/i18n/_build/gettext -l zh_CN -d locales -w 0
	-$(BIN)/python tools/i18n.py stats

# Fails when an English message (a page's or a self-check's) has no Chinese translation, or a translation lost
# markup (a role's target, inline math or code, a link).
i18n-check: $(STAMP)
	BOOK_EXECUTE=off $(BIN)/jupyter-book build . --builder custom --custom-builder gettext --path-output _build/i18n -q
	$(BIN)/python tools/i18n.py quiz-pot _build/i18n/_build/gettext/self_checks.pot
	$(BIN)/python tools/i18n.py check _build/i18n/_build/gettext

# The site from the committed outputs, without executing anything (make test has just run every chapter).
build: $(STAMP) vendor
	BOOK_EXECUTE=off $(BIN)/jupyter-book build . -W -n --keep-going
	$(MAKE) zh

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
	$(MAKE) i18n-check
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

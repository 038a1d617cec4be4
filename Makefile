# lithioscreen: every set-up step lives here. On a fresh machine with Python 3.11:
#   make rank   - create .venv, install, rank the default candidates with the shipped model
#   make test   - create .venv, install, lint, build the docs, run the whole test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
BASE := $(VENV)/.installed-base
STAMP := $(VENV)/.installed-stamp
# pytest-xdist workers (make test JOBS=0 runs them in one process); a test file stays on one worker, so its
# module fixtures (a trained champion, an installed wheel) are built once
JOBS ?= 2
PYTEST := $(BIN)/python -m pytest -q -n $(JOBS) --dist loadfile

.DEFAULT_GOAL := help
.PHONY: help install rank train test test-fast lint format docs features ui serve report browser clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

# ranking needs only the base install; the tests also cover the interatomic potentials (mlip extra)
$(BASE): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[test]'
	touch $(BASE)

$(STAMP): $(BASE)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[test,mlip]'
	touch $(STAMP)

install: $(STAMP) ## create .venv with everything (the mlip extra included)

rank: $(BASE) ## the main job: rank every candidate metal, 30 nm on 200 nm Mg, with the shipped champion
	$(BIN)/lithioscreen rank

train: $(BASE) ## retrain every model on data/ (MLflow store ./mlflow.db), register and export the champion to models/
	$(BIN)/lithioscreen train

test: $(STAMP) browser lint docs ## lint, build the docs (strict), run every test (CI runs this)
	$(PYTEST)

test-fast: $(BASE) ## the tests not marked slow or browser (under a minute; mlip tests skip without the extra)
	$(PYTEST) -m "not slow and not browser"

lint: $(BASE) ## ruff: lint and format check
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

format: $(BASE) ## ruff: fix what can be fixed, format
	$(BIN)/ruff check --fix src tests benchmarks
	$(BIN)/ruff format src tests benchmarks

docs: $(BASE) ## build the documentation site (MkDocs, strict) into site/
	$(BIN)/mkdocs build --strict --quiet

features: $(BASE) ## descriptors of the paper's metals
	$(BIN)/lithioscreen features W Cr Mo Ti Zr Mg

## Debian's chromium + chromium-driver for the MLflow UI test (tests/test_ui_browser.py); installed only when missing
browser:
	@if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" != 0 ]; then \
	  echo "error: tests/test_ui_browser.py needs Debian's chromium and chromium-driver; install them as root: apt-get install chromium chromium-driver" >&2; exit 1; \
	else \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver; \
	fi

ui: $(BASE) ## MLflow UI on the local store (http://127.0.0.1:5000)
	$(BIN)/lithioscreen ui --port 5000

serve: $(BASE) ## serve the registered champion (after make train) on http://127.0.0.1:5001/invocations
	$(BIN)/lithioscreen serve --port 5001

report: $(BASE) ## figures (PNG) of the exported champion into reports/figures
	$(BIN)/lithioscreen report --out reports/figures

clean: ## remove the venv, caches, the local MLflow store and the built docs
	rm -rf $(VENV) .pytest_cache .ruff_cache mlruns mlflow.db site

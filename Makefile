# lithioscreen: every set-up step lives here. On a fresh machine with Python 3.11:
#   make rank   - create .venv, install, rank the default candidates with the shipped model
#   make test   - create .venv, install, run the whole test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
BASE := $(VENV)/.installed-base
STAMP := $(VENV)/.installed-stamp

.PHONY: install rank train test features ui serve report browser clean

# ranking needs only the base install; the tests also cover the interatomic potentials (mlip extra)
$(BASE): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[test]'
	touch $(BASE)

$(STAMP): $(BASE)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[test,mlip]'
	touch $(STAMP)

install: $(STAMP)

## the main job: rank every candidate metal as a 30 nm overlayer on 200 nm Mg
rank: $(BASE)
	$(BIN)/lithioscreen rank

## retrain every model on data/ (MLflow store: ./mlflow.db) and re-export the champion to models/
train: $(BASE)
	$(BIN)/lithioscreen train

features: $(BASE)
	$(BIN)/lithioscreen features W Cr Mo Ti Zr Mg

test: $(STAMP) browser
	$(BIN)/python -m pytest -q

## Debian's chromium + chromium-driver for the MLflow UI test (tests/test_ui_browser.py); installed only when missing
browser:
	@if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" != 0 ]; then \
	  echo "error: tests/test_ui_browser.py needs Debian's chromium and chromium-driver; install them as root: apt-get install chromium chromium-driver" >&2; exit 1; \
	else \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver; \
	fi

ui: $(BASE)
	$(BIN)/lithioscreen ui --port 5000

## serve the registered champion (after `make train`) on http://127.0.0.1:5001/invocations
serve: $(BASE)
	$(BIN)/lithioscreen serve --port 5001

## figures (PNG) of the exported champion into reports/figures
report: $(BASE)
	$(BIN)/lithioscreen report --out reports/figures

clean:
	rm -rf $(VENV) .pytest_cache mlruns mlflow.db

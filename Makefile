# lithioscreen: every set-up step lives here. On a fresh machine with Python 3.11:
#   make rank   - create .venv, install, rank the default candidates with the shipped model
#   make test   - create .venv, install, run the whole test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
BASE := $(VENV)/.installed-base
STAMP := $(VENV)/.installed-stamp

.PHONY: install rank train test features ui clean

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

test: $(STAMP)
	$(BIN)/python -m pytest -q

ui: $(BASE)
	$(BIN)/mlflow ui --backend-store-uri sqlite:///mlflow.db --host 127.0.0.1 --port 5000

clean:
	rm -rf $(VENV) .pytest_cache mlruns mlflow.db

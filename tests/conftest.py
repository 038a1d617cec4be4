"""Shared fixtures: copies of the shipped data, one trained model per test session, and the
benchmark scripts imported as modules."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import pytest

from lithioscreen import config

REPO_DATA = config.PROJECT_ROOT / "data"


@pytest.fixture
def data_copy(tmp_path: Path, monkeypatch) -> Path:
    """A writable copy of data/, made the default data folder for the test."""
    target = tmp_path / "data"
    shutil.copytree(REPO_DATA, target)
    monkeypatch.setenv("LITHIOSCREEN_DATA_DIR", str(target))
    return target


@pytest.fixture(scope="session")
def trained(tmp_path_factory):
    """Train every model once into a temporary MLflow store and models folder."""
    from lithioscreen.tracking.training import train

    root = tmp_path_factory.mktemp("trained")
    tracking_uri = f"sqlite:///{root / 'mlflow.db'}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        summary = train(tracking_uri=tracking_uri, models_dir=root / "models")
    return {"summary": summary, "tracking_uri": tracking_uri, "models_dir": root / "models", "root": root}


@pytest.fixture(scope="session")
def champion(trained):
    from lithioscreen.models.champion import load_champion

    return load_champion(trained["models_dir"])


def load_benchmark(name: str):
    """A script of benchmarks/ imported as a module (they are scripts, not a package)."""
    import importlib.util

    from lithioscreen.config import PROJECT_ROOT

    spec = importlib.util.spec_from_file_location(name, PROJECT_ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

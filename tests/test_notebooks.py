"""The notebooks in notebooks/ run top to bottom (nbclient, the test environment's own kernel) and write nothing."""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import pytest

from lithioscreen import config

NOTEBOOKS = sorted((config.PROJECT_ROOT / "notebooks").glob("*.ipynb"))


def _tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(f"{path.relative_to(folder)}:{hashlib.sha256(path.read_bytes()).hexdigest()}\n".encode())
    return digest.hexdigest()


def test_there_is_a_walkthrough():
    assert "01-screening-walkthrough.ipynb" in {path.name for path in NOTEBOOKS}


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_notebook_runs_and_writes_nothing(path, tmp_path, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    root = config.PROJECT_ROOT
    before = {name: _tree_digest(root / name) for name in ("data", "models")}
    store_before = (root / "mlflow.db").stat().st_mtime_ns if (root / "mlflow.db").exists() else None
    # a tracking store nobody uses: a notebook that logs to MLflow would write here, not into the repo
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.setenv("MPLBACKEND", "Agg")

    notebook = nbformat.read(path, as_version=4)
    # ipykernel's spec starts `python`: make that this interpreter (the test venv), activated or not
    monkeypatch.setenv("PATH", os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    client = NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()

    errors = [
        output for cell in notebook.cells for output in cell.get("outputs", []) if output.get("output_type") == "error"
    ]
    assert not errors
    text = "\n".join(
        str(output.get("text", "")) + str(output.get("data", {}).get("text/plain", ""))
        for cell in notebook.cells
        for output in cell.get("outputs", [])
    )
    assert "candidates ranked; the top three:" in text
    images = sum("image/png" in output.get("data", {}) for cell in notebook.cells for output in cell.get("outputs", []))
    assert images >= 3
    assert {name: _tree_digest(root / name) for name in ("data", "models")} == before
    assert ((root / "mlflow.db").stat().st_mtime_ns if (root / "mlflow.db").exists() else None) == store_before
    assert not list(tmp_path.glob("*.png")) and not (tmp_path / "mlflow.db").exists()

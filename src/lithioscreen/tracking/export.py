"""The champion exported to ``models/``, so that ranking needs no tracking server.

``models/lithioscreen-ccd/`` is an MLflow model directory written by ``mlflow.sklearn.save_model``
(pickle serialisation, so it also loads without importing MLflow) and ``models/champion.json``
holds what a user should know about it: the model name, registry version, run id, data version,
cross-validated metrics and the threshold the data supports.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from lithioscreen import config

MODEL_DIRNAME = config.REGISTERED_MODEL_NAME
METADATA_FILENAME = "champion.json"


class NoChampionError(FileNotFoundError):
    """No exported champion in the models folder."""


@dataclass
class Champion:
    model: object  # a fitted lithioscreen pipeline
    metadata: dict


def export_champion(model, metadata: dict, models_dir: Path | None = None, signature=None, input_example=None) -> Path:
    """Write the model and its metadata; the old export is replaced only once the new one is complete."""
    import mlflow.sklearn

    models_dir = Path(models_dir or config.models_dir())
    models_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".champion-", dir=models_dir))
    try:
        mlflow.sklearn.save_model(
            model,
            staging / MODEL_DIRNAME,
            serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_PICKLE,
            signature=signature,
            input_example=input_example,
        )
        (staging / METADATA_FILENAME).write_text(json.dumps(metadata, indent=2, sort_keys=True) + "\n")
        return install_export(staging, models_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def install_export(staging: Path, models_dir: Path) -> Path:
    """Move a complete export (model folder + metadata) from ``staging`` into ``models_dir``.

    The old model folder is first renamed aside, then the new one renamed in, so that ``models_dir``
    never holds a half-written model; ``staging`` must be on the same file system (a sub-folder).
    """
    target = models_dir / MODEL_DIRNAME
    retired = None
    if target.exists():
        retired = Path(tempfile.mkdtemp(prefix=".retired-", dir=models_dir))
        os.replace(target, retired / MODEL_DIRNAME)
    os.replace(staging / MODEL_DIRNAME, target)
    os.replace(staging / METADATA_FILENAME, models_dir / METADATA_FILENAME)
    if retired is not None:
        shutil.rmtree(retired, ignore_errors=True)
    return target


def load_champion(models_dir: Path | None = None) -> Champion:
    """Load the exported champion (plain pickle: fast, and no MLflow import)."""
    models_dir = Path(models_dir or config.models_dir())
    model_file = models_dir / MODEL_DIRNAME / "model.pkl"
    metadata_file = models_dir / METADATA_FILENAME
    if not model_file.exists() or not metadata_file.exists():
        raise NoChampionError(f"no trained model in {models_dir} (run `lithioscreen train` first)")
    with model_file.open("rb") as handle:
        model = pickle.load(handle)
    return Champion(model=model, metadata=json.loads(metadata_file.read_text()))

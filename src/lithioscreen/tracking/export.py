"""Writing the champion into ``models/`` (an MLflow model directory plus ``champion.json``).

The folder's layout, its lock and how an export is installed atomically live with the artefact
in :mod:`lithioscreen.models.champion`; this module adds only what needs MLflow: saving the model.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from lithioscreen import config
from lithioscreen.models.champion import METADATA_FILENAME, MODEL_DIRNAME, install_export, models_lock


def export_champion(model, metadata: dict, models_dir: Path | None = None, signature=None, input_example=None) -> Path:
    """Write the model and its metadata; the old export is replaced only once the new one is complete.

    The model is saved as an MLflow scikit-learn model with pickle serialisation, in a staging
    folder inside ``models_dir``, and installed under the models folder's lock
    (:func:`lithioscreen.models.champion.install_export`).

    Parameters
    ----------
    model : CCDScreeningModel
        The fitted champion.
    metadata : dict
        The content of ``champion.json`` (JSON-serialisable).
    models_dir : pathlib.Path or None
        The models folder; None: :func:`lithioscreen.config.models_dir`.
    signature : mlflow.models.ModelSignature or None
        Passed to ``mlflow.sklearn.save_model``.
    input_example : pandas.DataFrame or None
        Passed to ``mlflow.sklearn.save_model``.

    Returns
    -------
    pathlib.Path
        The installed model folder, ``models_dir/lithioscreen-ccd``.

    Raises
    ------
    lithioscreen.config.ReadOnlyFolderError
        If ``models_dir`` is the copy shipped inside the installed package.
    TimeoutError
        If another export or retraining holds the lock for too long.
    """
    import mlflow.sklearn

    models_dir = config.writable(Path(models_dir or config.models_dir()), "the exported champion")
    models_dir.mkdir(parents=True, exist_ok=True)
    with models_lock(models_dir):
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

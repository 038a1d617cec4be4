"""The exported champion: the model artefact ranking loads, with no MLflow code and no tracking server.

``models/lithioscreen-ccd/`` is an MLflow model directory (written by
:func:`lithioscreen.tracking.export.export_champion` with pickle serialisation, so it loads
without importing MLflow) and ``models/champion.json`` holds what a user should know about it: the
model name, registry version, run id, data version, cross-validated metrics and the threshold the
data supports. This module loads it, and installs a new export atomically under the models
folder's lock (:func:`models_lock`, :func:`install_export`, :func:`recover_staging`).
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from lithioscreen import config

MODEL_DIRNAME = config.REGISTERED_MODEL_NAME
METADATA_FILENAME = "champion.json"
#: The lock every writer of a models folder holds (export, retraining and promotion), inside the
#: folder: a staging folder found while holding it belongs to a process that died.
LOCK_FILENAME = ".promotion.lock"
#: Staging folders inside models/: a new export (.champion-), a retraining (.candidate-), the old
#: model while it is swapped out (.retired-).
STAGING_PREFIXES = (".candidate-", ".champion-", ".retired-")
#: How long a writer waits for another one on the same models folder, seconds (a retraining takes minutes).
LOCK_TIMEOUT_S = 3600.0


class NoChampionError(FileNotFoundError):
    """No exported champion in the models folder."""


@dataclass
class Champion:
    """The exported champion as ranking uses it.

    Attributes
    ----------
    model : object
        The fitted model (:class:`lithioscreen.models.prediction.CCDScreeningModel`).
    metadata : dict
        ``champion.json``: model name, registry version, run id, data version, cross-validated
        metrics, the threshold the data supports.
    """

    model: object  # a fitted lithioscreen pipeline
    metadata: dict


@contextmanager
def models_lock(models_dir: Path, timeout_s: float = LOCK_TIMEOUT_S) -> Iterator[list[str]]:
    """Hold ``models_dir/.promotion.lock``, after cleaning up what writers that died left behind.

    Parameters
    ----------
    models_dir : pathlib.Path
        The models folder; created if missing.
    timeout_s : float
        How long to wait for another writer, seconds.

    Yields
    ------
    list of str
        The names of the staging folders recovered or removed (:func:`recover_staging`).

    Raises
    ------
    TimeoutError
        If another writer holds the lock for longer than ``timeout_s``.
    lithioscreen.config.ReadOnlyFolderError
        If ``models_dir`` is the copy shipped inside the installed package.
    """
    from lithioscreen.data._files import exclusive_lock

    models_dir = Path(models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(models_dir / LOCK_FILENAME, timeout_s, "another export or retraining"):
        yield recover_staging(models_dir)


def recover_staging(models_dir: Path) -> list[str]:
    """Finish or undo what a killed writer left in ``models_dir``; call only while holding :func:`models_lock`.

    * a ``.retired-*`` folder while ``models/lithioscreen-ccd`` is missing: killed between the two
      renames of :func:`install_export`; the old model is put back;
    * a staging folder that still holds the metadata but no longer the model: killed after the new
      model was renamed in; its metadata is moved in too, completing the install;
    * every staging folder is then removed (``kill -9`` during a retraining left ``.candidate-*``).

    Parameters
    ----------
    models_dir : pathlib.Path
        The models folder.

    Returns
    -------
    list of str
        The names of the staging folders handled, in sorted order.
    """
    models_dir = Path(models_dir)
    target = models_dir / MODEL_DIRNAME
    handled = []
    for folder in sorted(
        path for path in models_dir.iterdir() if path.is_dir() and path.name.startswith(STAGING_PREFIXES)
    ):
        if folder.name.startswith(".retired-"):
            if not target.exists() and (folder / MODEL_DIRNAME).is_dir():
                os.replace(folder / MODEL_DIRNAME, target)
        elif target.exists() and (folder / METADATA_FILENAME).is_file() and not (folder / MODEL_DIRNAME).exists():
            os.replace(folder / METADATA_FILENAME, models_dir / METADATA_FILENAME)
        shutil.rmtree(folder, ignore_errors=True)
        handled.append(folder.name)
    return handled


def install_export(staging: Path, models_dir: Path) -> Path:
    """Move a complete export (model folder + metadata) from ``staging`` into ``models_dir``.

    The old model folder is first renamed aside, then the new one renamed in, so that ``models_dir``
    never holds a half-written model. Call while holding :func:`models_lock`.

    Parameters
    ----------
    staging : pathlib.Path
        A folder holding ``lithioscreen-ccd/`` and ``champion.json``, on the same file system as
        ``models_dir`` (a sub-folder of it).
    models_dir : pathlib.Path
        The models folder.

    Returns
    -------
    pathlib.Path
        The installed model folder, ``models_dir/lithioscreen-ccd``.
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
    """Load the exported champion (plain pickle: fast, and no MLflow import).

    Parameters
    ----------
    models_dir : pathlib.Path or None
        The models folder; None: :func:`lithioscreen.config.models_dir`.

    Returns
    -------
    Champion
        The unpickled model and its metadata.

    Raises
    ------
    NoChampionError
        If ``lithioscreen-ccd/model.pkl`` or ``champion.json`` is missing.
    """
    models_dir = Path(models_dir or config.models_dir())
    model_file = models_dir / MODEL_DIRNAME / "model.pkl"
    metadata_file = models_dir / METADATA_FILENAME
    if not model_file.exists() or not metadata_file.exists():
        raise NoChampionError(f"no trained model in {models_dir} (run `lithioscreen train` first)")
    with model_file.open("rb") as handle:
        model = pickle.load(handle)
    return Champion(model=model, metadata=json.loads(metadata_file.read_text()))

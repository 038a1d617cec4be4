"""A lab's project folder: its own copy of the data tables and the exported champion.

An installed ``lithioscreen`` reads the copies it ships (read-only). A lab keeps its cells, their
history, computed interfacial energies and retrained champions in a folder of its own, made by
:func:`init_project` (``lithioscreen init DIR``) from the shipped copies; commands then take
``--data-dir DIR/data --models-dir DIR/models`` or the environment variables
``LITHIOSCREEN_DATA_DIR`` and ``LITHIOSCREEN_MODELS_DIR``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from lithioscreen import config


class ProjectExistsError(FileExistsError):
    """The project folder already holds data or models (nothing is overwritten)."""


def init_project(
    folder: Path | str, data_source: Path | None = None, models_source: Path | None = None
) -> tuple[Path, Path]:
    """Create ``folder/data`` and ``folder/models`` from the shipped (or the given) copies.

    Parameters
    ----------
    folder : path
        The new project folder; created if missing. Its ``data`` and ``models`` must not exist yet.
    data_source, models_source : path, optional
        Where to copy from; default: the data and models this installation reads.

    Returns
    -------
    (data_dir, models_dir) : tuple of Path
        The project's data and models folders.

    Raises
    ------
    ProjectExistsError
        If ``folder/data`` or ``folder/models`` already exists (nothing is changed).
    """
    folder = Path(folder)
    data_dir, models_dir = folder / "data", folder / "models"
    existing = [str(path) for path in (data_dir, models_dir) if path.exists()]
    if existing:
        raise ProjectExistsError(
            f"{', '.join(existing)} already exist(s): a project folder is created once (nothing was changed)"
        )
    data_source = Path(data_source or config.data_dir())
    models_source = Path(models_source or config.models_dir())
    folder.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".*.lock", ".*.tmp", "cells_history.jsonl")
    shutil.copytree(data_source, data_dir, ignore=ignore)
    shutil.copytree(models_source, models_dir, ignore=shutil.ignore_patterns("__pycache__", ".*"))
    return data_dir, models_dir

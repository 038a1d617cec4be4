"""Paths and defaults shared by the library and the CLI.

**Where data and models are read from.** ``LITHIOSCREEN_DATA_DIR`` / ``LITHIOSCREEN_MODELS_DIR``
(or each command's ``--data-dir`` / ``--models-dir``) name a lab's project folder; without them,
a source checkout uses its own ``data/`` and ``models/``, and an installed package the copies it
ships (package data, read through :mod:`importlib.resources`; read-only: commands that write,
``cells add``, ``train`` and ``interface``, ask for a project folder instead, which
``lithioscreen init DIR`` creates from the shipped copies).
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

#: The source checkout this module lives in (meaningful only when :func:`in_checkout`).
PROJECT_ROOT = Path(__file__).resolve().parents[2]
#: Packages that hold the shipped data tables and the exported champion (``data/`` and
#: ``models/`` of the repository, mapped into the wheel by ``pyproject.toml``).
SHIPPED_DATA_PACKAGE = "lithioscreen.shipped.data"
SHIPPED_MODELS_PACKAGE = "lithioscreen.shipped.models"

#: The paper's interfacial-energy threshold for a high CCD (Oh et al. 2024, Fig. 7e), meV/Å².
DEFAULT_THRESHOLD_MEV_PER_A2 = 100.0
#: A cell "beats the target" when its CCD is at least this, mA/cm². Bare Mg gives 1.3, every
#: X/Mg bilayer of the paper more than 3.2: 3.0 separates "protected" from "unprotected".
DEFAULT_CCD_TARGET_MA_CM2 = 3.0
#: The paper's standard stack: 30 nm overlayer on 200 nm Mg.
DEFAULT_OVERLAYER_NM = 30.0
DEFAULT_UNDERLAYER = "Mg"
DEFAULT_UNDERLAYER_NM = 200.0

#: At most this many candidates per screen (a grid, a candidates file) unless ``--max-candidates``
#: raises it: a ranking keeps every row in memory, so the cap bounds a screen's memory (the memory
#: of a large screen is on the benchmarks page, ``docs/benchmarks.md``).
DEFAULT_MAX_CANDIDATES = 1_000_000
#: At most this many new cells per file for ``cells add`` unless ``--max-rows`` raises it (a week in
#: the lab is a handful; a huge file costs memory to ingest and stays in the append-only history for good).
MAX_NEW_CELLS = 1000

REGISTERED_MODEL_NAME = "lithioscreen-ccd"
CHAMPION_ALIAS = "champion"
EXPERIMENT_NAME = "lithioscreen-ccd"

CELLS_FILE = "cells.csv"
INTERFACIAL_ENERGIES_FILE = "interfacial_energies.csv"
PHASE_DATA_FILE = "li_binary_phase_data.csv"
ORDERINGS_FILE = "ccd_orderings.csv"


def in_checkout() -> bool:
    """Whether this is a source checkout (``data/``, ``src/`` and ``pyproject.toml`` in :data:`PROJECT_ROOT`).

    Returns
    -------
    bool
        True in a source checkout (editable install), False in an installed package.
    """
    return (
        (PROJECT_ROOT / "pyproject.toml").is_file()
        and (PROJECT_ROOT / "data").is_dir()
        and (PROJECT_ROOT / "src").is_dir()
    )


def shipped_dir(package: str, marker: str) -> Path:
    """The folder of a shipped package-data package, found through one file it holds.

    The shipped folders are namespace packages, for which :func:`importlib.resources.files` returns
    a multiplexed path; a file inside it is a plain path (wheels install unzipped).

    Parameters
    ----------
    package : str
        The package's dotted name (:data:`SHIPPED_DATA_PACKAGE`).
    marker : str
        A file the folder holds (``cells.csv``).

    Returns
    -------
    pathlib.Path
        The folder.
    """
    return Path(str(resources.files(package).joinpath(marker))).parent


def _folder(variable: str, name: str, package: str, marker: str) -> Path:
    if variable in os.environ:
        return Path(os.environ[variable])
    return PROJECT_ROOT / name if in_checkout() else shipped_dir(package, marker)


def data_dir() -> Path:
    """The data folder: ``LITHIOSCREEN_DATA_DIR``, else the checkout's ``data/``, else the shipped copy.

    Returns
    -------
    pathlib.Path
        The folder (not checked to exist); the shipped copy is read-only (:func:`writable`).
    """
    return _folder("LITHIOSCREEN_DATA_DIR", "data", SHIPPED_DATA_PACKAGE, CELLS_FILE)


def models_dir() -> Path:
    """The models folder: ``LITHIOSCREEN_MODELS_DIR``, else the checkout's ``models/``, else the shipped copy (see :func:`data_dir`)."""
    return _folder("LITHIOSCREEN_MODELS_DIR", "models", SHIPPED_MODELS_PACKAGE, "champion.json")


class ReadOnlyFolderError(PermissionError):
    """A command would write into the copy of the data or models shipped inside the installed package."""


def writable(folder: Path, what: str) -> Path:
    """``folder``, unless it is inside the installed package (never written: site-packages is not a lab notebook).

    Parameters
    ----------
    folder : pathlib.Path
        The folder a command is about to write into.
    what : str
        What would be written, for the error message (``the exported champion``, a file name).

    Returns
    -------
    pathlib.Path
        ``folder``, unchanged.

    Raises
    ------
    ReadOnlyFolderError
        If ``folder`` is the installed package or inside it (never in a source checkout).
    """
    package_root = Path(__file__).resolve().parent
    target = Path(folder).resolve()
    if not in_checkout() and (target == package_root or package_root in target.parents):
        raise ReadOnlyFolderError(
            f"{what} would be written into the installed package ({target}); create a project folder with "
            "`lithioscreen init DIR` and use its data/ and models/ (`data_dir`, `models_dir`; or set "
            "LITHIOSCREEN_DATA_DIR and LITHIOSCREEN_MODELS_DIR)"
        )
    return Path(folder)

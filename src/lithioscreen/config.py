"""Paths and defaults shared by the library and the CLI.

The data and model folders default to the repository's ``data/`` and ``models/``; the
environment variables ``LITHIOSCREEN_DATA_DIR`` and ``LITHIOSCREEN_MODELS_DIR`` override them
(the tests use this to work on copies).
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]

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
#: raises it: a ranking keeps every row, about 1.5 KB each (``rank --alloys ternary --grid 0.1``:
#: 413,280 rows, 601 MiB RSS), so the default keeps a screen under ~1.5 GB.
DEFAULT_MAX_CANDIDATES = 1_000_000
#: At most this many new cells per file for ``cells add`` unless ``--max-rows`` raises it (a week in
#: the lab is a handful; a 100k-row file took 630 MB to ingest and 16 MB of permanent history).
MAX_NEW_CELLS = 1000

REGISTERED_MODEL_NAME = "lithioscreen-ccd"
CHAMPION_ALIAS = "champion"
EXPERIMENT_NAME = "lithioscreen-ccd"

CELLS_FILE = "cells.csv"
INTERFACIAL_ENERGIES_FILE = "interfacial_energies.csv"
PHASE_DATA_FILE = "li_binary_phase_data.csv"
ORDERINGS_FILE = "ccd_orderings.csv"


def data_dir() -> Path:
    return Path(os.environ.get("LITHIOSCREEN_DATA_DIR", PROJECT_ROOT / "data"))


def models_dir() -> Path:
    return Path(os.environ.get("LITHIOSCREEN_MODELS_DIR", PROJECT_ROOT / "models"))

"""Element-property tables as numpy arrays, read from the data files matminer and pymatgen ship.

The vectorized featurizers (:mod:`lithioscreen.features._vectorized`) index these arrays by
``Z - 1``. The values are read from the very files matminer's ``MagpieData`` and ``Miedema``
read, and imputed the way matminer imputes them, so the features are identical to matminer's;
the files are located with :func:`importlib.util.find_spec`, which finds a package without
importing it: importing ``matminer.featurizers`` is slow, reading these files is cheap (the
start-up time of the commands is measured by ``benchmarks/cli_latency.py``).

* ``magpie_table(properties)``: ``matminer/utils/data_files/magpie_elementdata/<property>.table``,
  one line per Z = 1..118; a missing or unparsable value becomes the mean over the elements that
  have one (``MagpieData(impute_nan=True)``).
* ``miedema_table()``: ``matminer/utils/data_files/Miedema.csv`` (73 elements); elements absent
  from the file and NaN cells take the column mean (``Miedema(impute_nan=True)``).
* ``symbols()``, ``pauling_electronegativity()``, ``molar_volume_cm3()``: pymatgen's
  ``core/periodic_table.json.gz``, as ``Element(symbol).X`` and ``.molar_volume`` report them
  (NaN where pymatgen has no value).
"""

from __future__ import annotations

import csv
import gzip
import importlib.util
import json
from functools import cache, lru_cache
from pathlib import Path

import numpy as np

N_ELEMENTS = 118

#: Parameters of matminer's Miedema model, in Miedema.csv's column names.
MIEDEMA_COLUMNS = (
    "molar_volume",
    "electron_density",
    "electronegativity",
    "valence_electrons",
    "a_const",
    "R_const",
    "H_trans",
    "compressibility",
    "shear_modulus",
    "melting_point",
    "structural_stability",
)


def package_dir(name: str) -> Path:
    """Folder of an installed package, found without importing it.

    Parameters
    ----------
    name : str
        The package's import name (``matminer``).

    Returns
    -------
    pathlib.Path
        Its folder.

    Raises
    ------
    ModuleNotFoundError
        If it is not installed, or is not a package.
    """
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"package {name!r} is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def matminer_data_dir() -> Path:
    """matminer's ``utils/data_files`` folder, found without importing matminer.

    Returns
    -------
    pathlib.Path
        The folder.
    """
    return package_dir("matminer") / "utils" / "data_files"


@lru_cache(maxsize=1)
def _periodic_table() -> dict:
    with gzip.open(package_dir("pymatgen") / "core" / "periodic_table.json.gz", "rt", encoding="utf-8") as handle:
        table = json.load(handle)
    table.pop("_unit", None)
    return table


@lru_cache(maxsize=1)
def symbols() -> tuple[str, ...]:
    """Element symbols by atomic number: ``symbols()[Z - 1]``.

    Returns
    -------
    tuple of str
        118 symbols, H to Og.
    """
    table = _periodic_table()
    by_z = {entry["Atomic no"]: symbol for symbol, entry in table.items() if not entry.get("Is named isotope", False)}
    return tuple(by_z[z] for z in range(1, N_ELEMENTS + 1))


@lru_cache(maxsize=1)
def symbol_index() -> dict[str, int]:
    """Index of each element symbol in the tables: ``{symbol: Z - 1}``.

    Returns
    -------
    dict of str to int
        118 entries.
    """
    return {symbol: index for index, symbol in enumerate(symbols())}


def _element_values(key: str) -> np.ndarray:
    table = _periodic_table()
    values = np.full(N_ELEMENTS, np.nan)
    for index, symbol in enumerate(symbols()):
        value = table[symbol].get(key)
        if value:  # pymatgen treats a missing (or zero) value as "no data"
            values[index] = float(value)
    values.setflags(write=False)
    return values


@lru_cache(maxsize=1)
def pauling_electronegativity() -> np.ndarray:
    """``Element.X``: Pauling electronegativity (NaN where pymatgen has none).

    Returns
    -------
    numpy.ndarray
        Shape ``(118,)``, indexed by ``Z - 1``, read-only.
    """
    return _element_values("X")


@lru_cache(maxsize=1)
def molar_volume_cm3() -> np.ndarray:
    """``Element.molar_volume``: experimental molar volume, cm³/mol (NaN where pymatgen has none).

    Returns
    -------
    numpy.ndarray
        Read-only, one value per element (W: 9.47): shape ``(118,)``, indexed by ``Z - 1``.
    """
    return _element_values("Molar volume")


@cache
def _magpie_column(prop: str) -> np.ndarray:
    path = matminer_data_dir() / "magpie_elementdata" / f"{prop}.table"
    lines = path.read_text().splitlines()
    values = np.full(N_ELEMENTS, np.nan)
    for z in range(1, N_ELEMENTS + 1):
        try:
            values[z - 1] = float(lines[z - 1])
        except (ValueError, IndexError):
            pass
    values[np.isnan(values)] = np.nanmean(values)
    values.setflags(write=False)
    return values


def magpie_table(properties: tuple[str, ...]) -> np.ndarray:
    """Magpie element properties, imputed as matminer does (missing values: the mean over elements).

    Parameters
    ----------
    properties : tuple of str
        Magpie property names (``MeltingT``), i.e. ``magpie_elementdata/<name>.table`` files.

    Returns
    -------
    numpy.ndarray
        Shape ``(118, len(properties))``, row ``Z - 1``, in matminer's units for each property.
    """
    return np.column_stack([_magpie_column(prop) for prop in properties])


@lru_cache(maxsize=1)
def miedema_table() -> dict[str, np.ndarray]:
    """Miedema parameters per element, imputed as matminer does (missing values: the column mean).

    Returns
    -------
    dict of str to numpy.ndarray
        One read-only array of shape ``(118,)`` per name in :data:`MIEDEMA_COLUMNS`, indexed by ``Z - 1``.
    """
    with (matminer_data_dir() / "Miedema.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    index = symbol_index()
    table = {}
    for column in MIEDEMA_COLUMNS:
        values = np.full(N_ELEMENTS, np.nan)
        for row in rows:
            text = row[column].strip()
            values[index[row["element"]]] = float(text) if text else np.nan
        values[np.isnan(values)] = np.nanmean(values)
        values.setflags(write=False)
        table[column] = values
    return table

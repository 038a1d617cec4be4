"""Validated access to the tables in the repository's ``data/`` folder."""

from lithioscreen.data.loaders import (
    DataValidationError,
    file_sha256,
    load_cells,
    load_interfacial_energies,
    load_phase_data,
    training_cells,
)

__all__ = [
    "DataValidationError",
    "file_sha256",
    "load_cells",
    "load_interfacial_energies",
    "load_phase_data",
    "training_cells",
]

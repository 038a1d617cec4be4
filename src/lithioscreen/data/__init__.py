"""Validated access to the data tables (a project's ``data/`` folder, or the copy the package ships)."""

from lithioscreen.data.loaders import (
    DataValidationError,
    ccd_cells,
    file_sha256,
    load_ccd_orderings,
    load_cells,
    load_interfacial_energies,
    load_phase_data,
    training_cells,
)

__all__ = [
    "DataValidationError",
    "ccd_cells",
    "file_sha256",
    "load_ccd_orderings",
    "load_cells",
    "load_interfacial_energies",
    "load_phase_data",
    "training_cells",
]

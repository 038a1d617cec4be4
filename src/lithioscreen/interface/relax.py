"""Relaxations with an ASE optimizer: bulk crystals (atoms and cell) and Li/X sandwiches (atoms and
the cell length along the interface normal; the in-plane cell stays X's bulk lattice).

A :class:`RelaxTask` is one independent relaxation (the unit of parallel work); :func:`relax`
runs it with any ASE calculator and returns a :class:`RelaxResult`. The optimizer is ASE's BFGS
on a :class:`~ase.filters.FrechetCellFilter`, converged when every force and the stress
(times the cell volume) are below ``fmax`` (eV/Å), or stopped after ``steps`` steps.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

import numpy as np

DEFAULT_FMAX = 0.05
DEFAULT_STEPS = 300
#: which strain components relax: all six for a bulk crystal, only zz for an interface
BULK_MASK = (True, True, True, True, True, True)
INTERFACE_MASK = (False, False, True, False, False, False)


@dataclass
class RelaxTask:
    """One relaxation. ``key`` names it in results: ('bulk', element) or
    ('interface', element, plane, li_layers, supercell variant)."""

    key: tuple
    atoms: object = field(repr=False)  # ASE Atoms
    kind: str = "interface"  # 'bulk' or 'interface'
    fmax: float = DEFAULT_FMAX
    steps: int = DEFAULT_STEPS

    @property
    def mask(self):
        return BULK_MASK if self.kind == "bulk" else INTERFACE_MASK


@dataclass
class RelaxResult:
    key: tuple
    energy_ev: float
    n_atoms: int
    converged: bool
    steps: int
    seconds: float
    atoms: object = field(repr=False)  # relaxed ASE Atoms (no calculator attached)
    counts: dict = field(default_factory=dict)  # atoms per element


# FrechetCellFilter takes the matrix log of the cell deformation at every step; scipy warns that
# logm is "inaccurate" at errors of ~1e-12, hundreds of times per relaxation. Only that message is hidden.
warnings.filterwarnings("ignore", message="logm result may be inaccurate", category=RuntimeWarning)


def make_optimizer(atoms, task: RelaxTask):
    from ase.filters import FrechetCellFilter
    from ase.optimize import BFGS

    return BFGS(FrechetCellFilter(atoms, mask=list(task.mask)), logfile=None)


def finish(
    task: RelaxTask, atoms, converged: bool, steps: int, seconds: float, energy: float | None = None
) -> RelaxResult:
    energy = float(atoms.get_potential_energy()) if energy is None else float(energy)
    if not np.isfinite(energy):
        raise RuntimeError(f"{task.key}: the potential returned a non-finite energy")
    relaxed = atoms.copy()
    relaxed.calc = None
    symbols = relaxed.get_chemical_symbols()
    return RelaxResult(
        key=task.key,
        energy_ev=energy,
        n_atoms=len(relaxed),
        converged=bool(converged),
        steps=int(steps),
        seconds=seconds,
        atoms=relaxed,
        counts={symbol: symbols.count(symbol) for symbol in sorted(set(symbols))},
    )


def relax(task: RelaxTask, calculator) -> RelaxResult:
    """Relax ``task.atoms`` (a copy) with ``calculator`` (an ASE calculator)."""
    start = time.perf_counter()
    atoms = task.atoms.copy()
    atoms.calc = calculator
    optimizer = make_optimizer(atoms, task)
    converged = optimizer.run(fmax=task.fmax, steps=task.steps)
    return finish(task, atoms, converged, optimizer.nsteps, time.perf_counter() - start)


def relax_named(task: RelaxTask, calculator_name: str, device: str = "cpu") -> RelaxResult:
    """:func:`relax` with a potential named by string, loaded (once per process) where it runs:
    this is what joblib and Dask workers execute."""
    from lithioscreen.interface.calculators import make_calculator

    return relax(task, make_calculator(calculator_name, device))

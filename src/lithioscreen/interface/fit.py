r"""The interfacial energy as the y-intercept of a line through a Li thickness series.

What is fitted
--------------
Each structure of a series (:mod:`lithioscreen.interface.build`) is a periodic sandwich of the
same X slab (:math:`n_X` atoms) and a Li slab of :math:`N` atoms, with two identical Li/X
interfaces of area :math:`A` per cell and no free surface. After relaxation its total energy is
:math:`E(N)`. With the potential's own relaxed bulk energies per atom, :math:`\varepsilon_X` and
:math:`\varepsilon_{Li}` (unstrained bcc Li), the fitted quantity is the excess energy per unit
interface area

.. math::

    y(N) = \frac{E(N) - n_X \varepsilon_X - N \varepsilon_{Li}}{2A} \quad [\mathrm{meV/Å^2}],

plotted against :math:`N` as in the paper's Fig. 4e and 7d.

Why the intercept removes the strain energy
-------------------------------------------
Coherence forces the Li slab onto X's in-plane lattice: every Li atom is strained and costs
:math:`\Delta\varepsilon = \varepsilon_{Li}^{strained} - \varepsilon_{Li}` more than in bulk
Li. So :math:`E(N) = n_X \varepsilon_X + N(\varepsilon_{Li} + \Delta\varepsilon) + 2A\gamma`,
i.e. :math:`y(N) = \gamma + N\,\Delta\varepsilon/(2A)`: a straight line whose **slope** is the
strain energy of the Li slab (per Li atom, divided by :math:`2A`) and whose **intercept** at
:math:`N = 0` is the interfacial energy :math:`\gamma` without any strain energy of Li. (X is
not strained in-plane, so :math:`n_X\varepsilon_X` needs no correction; the finite-thickness
interaction of the two interfaces through thin slabs, and X's own relaxation, stay in
:math:`\gamma`.)

Quality
-------
The fit reports R² and the standard error of the intercept. A fit is refused
(:class:`PoorFitError`) when it has fewer than ``min_points`` distinct Li counts, when the
intercept's standard error exceeds ``max_stderr``, or when R² is below ``min_r2`` while the
points scatter around the line by more than ``tolerance`` (RMS of the residuals, meV/Å²).
The last condition exists because R² is meaningless when the slope is nearly zero (Li barely
strained): points that all agree within ``tolerance`` define the intercept well even though they
carry no slope.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EV_PER_A2_TO_MEV_PER_A2 = 1000.0
DEFAULT_MIN_R2 = 0.95
DEFAULT_MIN_POINTS = 3
DEFAULT_TOLERANCE_MEV_PER_A2 = 1.0
DEFAULT_MAX_STDERR_MEV_PER_A2 = 10.0


class PoorFitError(ValueError):
    """The thickness series does not define an interfacial energy."""


@dataclass(frozen=True)
class InterfaceFit:
    interfacial_energy_mev_per_a2: float  # the intercept, gamma
    intercept_stderr_mev_per_a2: float
    slope_mev_per_a2_per_atom: float
    strain_energy_ev_per_li: float  # slope * 2A: the strained-Li energy per atom above bulk Li
    r2: float
    residual_rms_mev_per_a2: float
    n_points: int


def excess_energy_mev_per_a2(
    total_energy_ev: float, n_x: int, n_li: int, x_bulk_ev_per_atom: float, li_bulk_ev_per_atom: float, area_a2: float
) -> float:
    """y(N) of the module docstring: the sandwich's energy above bulk X and bulk Li, per interface area."""
    return (
        (total_energy_ev - n_x * x_bulk_ev_per_atom - n_li * li_bulk_ev_per_atom)
        / (2 * area_a2)
        * EV_PER_A2_TO_MEV_PER_A2
    )


def fit_interfacial_energy(
    n_li,
    excess_mev_per_a2,
    area_a2: float,
    min_r2: float = DEFAULT_MIN_R2,
    min_points: int = DEFAULT_MIN_POINTS,
    tolerance_mev_per_a2: float = DEFAULT_TOLERANCE_MEV_PER_A2,
    max_stderr_mev_per_a2: float = DEFAULT_MAX_STDERR_MEV_PER_A2,
) -> InterfaceFit:
    """Least-squares line y = gamma + slope * N; see the module docstring for y and the checks."""
    x = np.asarray(n_li, dtype=float)
    y = np.asarray(excess_mev_per_a2, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise PoorFitError("n_li and the excess energies must be two lists of the same length")
    if not np.isfinite(x).all() or not np.isfinite(y).all():
        raise PoorFitError("non-finite energies in the thickness series")
    distinct = len(np.unique(x))
    if distinct < max(min_points, 3):
        raise PoorFitError(
            f"{distinct} distinct Li counts: at least {max(min_points, 3)} are needed for an intercept with an error"
        )
    n = len(x)
    design = np.column_stack([np.ones(n), x])
    (intercept, slope), *_ = np.linalg.lstsq(design, y, rcond=None)
    residuals = y - (intercept + slope * x)
    ss_res = float(residuals @ residuals)
    ss_tot = float(((y - y.mean()) ** 2).sum())
    r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else 1.0
    sigma2 = ss_res / (n - 2)
    covariance = sigma2 * np.linalg.inv(design.T @ design)
    stderr = float(np.sqrt(covariance[0, 0]))
    rms = float(np.sqrt(ss_res / n))
    fit = InterfaceFit(
        interfacial_energy_mev_per_a2=float(intercept),
        intercept_stderr_mev_per_a2=stderr,
        slope_mev_per_a2_per_atom=float(slope),
        strain_energy_ev_per_li=float(slope) * 2 * area_a2 / EV_PER_A2_TO_MEV_PER_A2,
        r2=float(r2),
        residual_rms_mev_per_a2=rms,
        n_points=n,
    )
    if r2 < min_r2 and rms > tolerance_mev_per_a2:
        raise PoorFitError(
            f"poor linear fit of the excess energy vs N_Li: R² = {r2:.3f} < {min_r2} with residual RMS "
            f"{rms:.2f} meV/Å² > {tolerance_mev_per_a2}; points (N, y) = {list(zip(x.astype(int).tolist(), np.round(y, 2).tolist()))}"
        )
    if stderr > max_stderr_mev_per_a2:
        raise PoorFitError(f"intercept standard error {stderr:.1f} meV/Å² exceeds {max_stderr_mev_per_a2} meV/Å²")
    return fit

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

plotted against :math:`N` as in the paper's Fig. 4e and 7d. For a compound X (LiF, Li2S),
:math:`n_X` counts formula units of the X slab and :math:`\varepsilon_X` is the relaxed bulk
energy per formula unit; :math:`N` counts only the Li atoms of the Li slab.

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

Quality: the acceptance rule (protocol v2)
------------------------------------------
A fit is accepted when it has at least ``min_points`` (3) distinct Li counts and the intercept's
standard error is at most ``max_stderr_mev_per_a2`` (10 meV/Å²); R² is reported, never used.
R² measures how much of the points' spread the slope explains, and the slope is the strain energy
of Li, which is often near zero (Li is soft: a few meV per atom at several % strain). A flat
series then has R² near 0 however well it defines the intercept; the previous rule (R² >= 0.95
unless the residuals were below 1 meV/Å²) refused such series (Nb, Ta, Hf, Pd, Zr with residuals
of 1.0-1.8 meV/Å²). What matters for the descriptor is the uncertainty of the intercept itself.

Why 10 meV/Å²: the intercept error is not hidden, it enters the descriptor's σ in quadrature
(:mod:`lithioscreen.interface.calibration`) with the potentials' errors, which are tens of meV/Å²
before calibration (CHGNet -8 and -49, SevenNet-0 -31 and -25 on Mo and Ti) and aimed at 15 after
it. At 10, an accepted fit adds at most 1.6 meV/Å² to a 30 meV/Å² potential error
(sqrt(30² + 10²) = 31.6) and 3 to a 15 meV/Å² calibrated σ, so it never dominates σ; a series with
a larger intercept error is a broken one (a relaxation that jumped to another state, Li
intermixing), with residuals of 5 meV/Å² and more. The intercept is an extrapolation from
N_Li = 20-60 to 0, which multiplies the scatter by ~2, and with three points the error has one
degree of freedom, so it is itself uncertain by a factor ~2: a tighter threshold would refuse
sound series by chance. (A threshold of 5 was written first; before any protocol-v2 value was
computed, the old CHGNet Zr(0001) series, residual RMS 1.8 meV/Å², was found to have an intercept
error of 6.7, i.e. 5 would still refuse the kind of series the issue says is good. 10 was fixed
then, before the committee runs, and not changed after.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lithioscreen.interface.protocol import DEFAULT_MAX_STDERR_MEV_PER_A2

EV_PER_A2_TO_MEV_PER_A2 = 1000.0
DEFAULT_MIN_POINTS = 3


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
    min_points: int = DEFAULT_MIN_POINTS,
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
    if not stderr <= max_stderr_mev_per_a2:
        raise PoorFitError(
            f"intercept standard error {stderr:.2f} meV/Å² exceeds {max_stderr_mev_per_a2:g} meV/Å² (intercept {intercept:.2f}, "
            f"R² {r2:.3f}, residual RMS {rms:.2f}); points (N, y) = {list(zip(x.astype(int).tolist(), np.round(y, 2).tolist()))}"
        )
    return fit

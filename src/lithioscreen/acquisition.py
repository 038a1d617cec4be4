"""Acquisition functions: how much a cell not yet built is worth building, given mean and σ.

All three are for maximising the CCD and take the model's predictive mean ``μ`` and standard
deviation ``σ`` (mA/cm², :func:`lithioscreen.models.predict_ccd`, which already includes the
interfacial-energy uncertainty):

* ``ei``, expected improvement over the best measured CCD ``f*``:
  ``EI = (μ - f* - ξ) Φ(z) + σ φ(z)``, ``z = (μ - f* - ξ) / σ`` (Jones et al. 1998); for
  ``σ = 0`` it is ``max(μ - f* - ξ, 0)``. In mA/cm²: the CCD gain over ``f*`` to expect.
* ``ucb``, upper confidence bound: ``μ + κ σ`` (Srinivas et al. 2010), mA/cm².
* ``explore``, pure exploration: ``σ``, mA/cm², the cell the model knows least about.

**The best measured CCD with censored results.** Many CCDs are censored: "> 5.0" (no short
circuit up to 5.0, the test stopped) or "between 3.2 and 4.8". :func:`best_measured_ccd` takes
``f*`` as the largest CCD that some cell is *known* to have reached: the largest of the exact
values and the lower ends of the lower-bound and interval results. For the paper's cells that is
5.0 mA/cm² (W/Mg, "> 5.0"), not Cr's exact 4.8: W is known to hold at least 5.0. It is a
conservative incumbent: the true best may be higher (W's CCD is unknown above 5.0), so EI
somewhat overstates the improvement over the real best, never understates it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm

STRATEGIES = ("ei", "ucb", "explore")
DEFAULT_KAPPA = 2.0
DEFAULT_XI = 0.0


@dataclass(frozen=True)
class Incumbent:
    """The best CCD known to have been reached, and the cell that reached it.

    Attributes
    ----------
    ccd_ma_cm2 : float
        The CCD known to be reached, mA/cm²: the exact value, or the lower end of a censored one.
    cell_id : str
        The cell that reached it.
    candidate : str
        Its overlayer composition.
    censoring : str
        Its ``ccd_censoring`` (``exact``, ``lower_bound`` or ``interval``).
    """

    ccd_ma_cm2: float
    cell_id: str
    candidate: str
    censoring: str

    def describe(self) -> str:
        """One line for people, e.g. ``≥ 5 mA/cm² (W, cell oh2024-w30-mg200, lower_bound)``.

        Returns
        -------
        str
            The CCD (with ``≥`` when censored), the candidate, the cell and its censoring.
        """
        sign = "≥ " if self.censoring in {"lower_bound", "interval"} else ""
        return f"{sign}{self.ccd_ma_cm2:g} mA/cm² ({self.candidate}, cell {self.cell_id}, {self.censoring})"


def best_measured_ccd(cells: pd.DataFrame) -> Incumbent:
    """Largest CCD known to be reached: max over cells of the exact value or the lower bound.

    Parameters
    ----------
    cells : pandas.DataFrame
        Training cells (:func:`lithioscreen.data.training_cells`) or the validated ``cells.csv``
        table; cells without a CCD (``not_measured``, or no finite lower bound) are ignored.

    Returns
    -------
    Incumbent
        The largest ``ccd_lower_ma_cm2`` and the cell it belongs to.

    Raises
    ------
    ValueError
        If no cell has a measured CCD.
    """
    measured = cells[cells["ccd_censoring"] != "not_measured"]
    measured = measured[np.isfinite(measured["ccd_lower_ma_cm2"].to_numpy(dtype=float))]
    if measured.empty:
        raise ValueError("no cell with a measured CCD: expected improvement needs one")
    best = measured.loc[measured["ccd_lower_ma_cm2"].astype(float).idxmax()]
    candidate = best["candidate"] if "candidate" in best.index else best["overlayer"]
    return Incumbent(float(best["ccd_lower_ma_cm2"]), str(best["cell_id"]), str(candidate), str(best["ccd_censoring"]))


def expected_improvement(mean, std, best: float, xi: float = DEFAULT_XI) -> np.ndarray:
    """Expected improvement over ``best`` for maximisation; exact for σ = 0.

    Parameters
    ----------
    mean, std : array_like
        Predictive mean and standard deviation of the CCD, mA/cm², shape ``(n,)``.
    best : float
        The incumbent CCD ``f*``, mA/cm² (:func:`best_measured_ccd`).
    xi : float
        Margin ``ξ`` the gain must exceed, mA/cm².

    Returns
    -------
    numpy.ndarray
        EI per candidate, mA/cm², shape ``(n,)``.
    """
    mean, std = np.asarray(mean, dtype=float), np.asarray(std, dtype=float)
    gain = mean - best - xi
    result = np.maximum(gain, 0.0)
    positive = std > 0
    z = gain[positive] / std[positive]
    result[positive] = gain[positive] * norm.cdf(z) + std[positive] * norm.pdf(z)
    return result


def upper_confidence_bound(mean, std, kappa: float = DEFAULT_KAPPA) -> np.ndarray:
    """Upper confidence bound ``μ + κ σ``.

    Parameters
    ----------
    mean, std : array_like
        Predictive mean and standard deviation of the CCD, mA/cm², shape ``(n,)``.
    kappa : float
        Weight ``κ`` of the standard deviation, at least 0.

    Returns
    -------
    numpy.ndarray
        UCB per candidate, mA/cm², shape ``(n,)``.

    Raises
    ------
    ValueError
        If ``kappa`` is negative.
    """
    if kappa < 0:
        raise ValueError(f"kappa must be ≥ 0, got {kappa}")
    return np.asarray(mean, dtype=float) + kappa * np.asarray(std, dtype=float)


def exploration(mean, std) -> np.ndarray:
    """Pure exploration: the predictive standard deviation itself.

    Parameters
    ----------
    mean : array_like
        Ignored; taken so that every strategy has the same signature.
    std : array_like
        Predictive standard deviation of the CCD, mA/cm², shape ``(n,)``.

    Returns
    -------
    numpy.ndarray
        A copy of ``std`` as floats, mA/cm².
    """
    return np.asarray(std, dtype=float).copy()


def probability_of_improvement(mean, std, best: float, xi: float = DEFAULT_XI) -> np.ndarray:
    """P(CCD > best + ξ) under the Gaussian predictive distribution (shown with every suggestion).

    Parameters
    ----------
    mean, std, best, xi
        As for :func:`expected_improvement`.

    Returns
    -------
    numpy.ndarray
        Probabilities in [0, 1], shape ``(n,)``; 0 or 1 where σ = 0.
    """
    mean, std = np.asarray(mean, dtype=float), np.asarray(std, dtype=float)
    gain = mean - best - xi
    result = (gain > 0).astype(float)
    positive = std > 0
    result[positive] = norm.cdf(gain[positive] / std[positive])
    return result


def acquisition(
    strategy: str, mean, std, best: float | None = None, kappa: float = DEFAULT_KAPPA, xi: float = DEFAULT_XI
) -> np.ndarray:
    """The named acquisition function's values (higher = more worth building).

    Parameters
    ----------
    strategy : {"ei", "ucb", "explore"}
        Expected improvement, upper confidence bound or pure exploration.
    mean, std : array_like
        Predictive mean and standard deviation of the CCD, mA/cm², shape ``(n,)``.
    best : float or None
        The incumbent CCD, mA/cm²; needed by ``ei`` only.
    kappa : float
        UCB's weight of σ.
    xi : float
        EI's margin, mA/cm².

    Returns
    -------
    numpy.ndarray
        Acquisition values, mA/cm², shape ``(n,)``.

    Raises
    ------
    ValueError
        For an unknown strategy, ``ei`` without ``best``, or a negative ``kappa``.
    """
    if strategy == "ei":
        if best is None:
            raise ValueError("expected improvement needs the best measured CCD")
        return expected_improvement(mean, std, best, xi)
    if strategy == "ucb":
        return upper_confidence_bound(mean, std, kappa)
    if strategy == "explore":
        return exploration(mean, std)
    raise ValueError(f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")

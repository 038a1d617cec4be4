"""The interfacial-energy threshold: the flag, and the threshold the data itself supports.

Oh et al. (2024) suggest that a Li/X interfacial energy near 100 meV/Å² separates metals that
give a high CCD (Cr, W) from those that do not (Mo, Ti, Zr). lithioscreen flags every candidate
at or above a configurable threshold (default 100 meV/Å²) and estimates the threshold from the
measured X/Mg cells by a change-point fit: CCD is modelled as one constant below the threshold
and another above it, and the split with the least squared error wins. The threshold is then
somewhere between the interfacial energies on either side of that split; bootstrap resampling of
the cells gives its spread.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lithioscreen import config


def above_threshold(interfacial_energy_mev_per_a2, threshold_mev_per_a2: float = config.DEFAULT_THRESHOLD_MEV_PER_A2):
    """True where the interfacial energy is at or above the threshold (NaN is never flagged).

    Parameters
    ----------
    interfacial_energy_mev_per_a2 : array_like
        Li/X interfacial energies, meV/Å².
    threshold_mev_per_a2 : float
        The threshold, meV/Å².

    Returns
    -------
    numpy.ndarray
        Boolean, the shape of the input.
    """
    energy = np.asarray(interfacial_energy_mev_per_a2, dtype=float)
    return np.where(np.isnan(energy), False, energy >= threshold_mev_per_a2)


@dataclass
class ThresholdEstimate:
    """The change-point estimate of the threshold (:func:`fit_threshold`).

    Attributes
    ----------
    threshold_mev_per_a2 : float
        Midpoint of the best split, meV/Å².
    lower_mev_per_a2, upper_mev_per_a2 : float
        The highest interfacial energy below the split and the lowest above it, meV/Å².
    bootstrap_low_mev_per_a2, bootstrap_high_mev_per_a2 : float
        2.5th and 97.5th percentiles of the bootstrap midpoints, meV/Å² (NaN if no resample split).
    n_cells : int
        Cells used.
    ccd_below_ma_cm2, ccd_above_ma_cm2 : float
        Mean CCD on either side of the split, mA/cm².
    """

    threshold_mev_per_a2: float  # midpoint of the best split
    lower_mev_per_a2: float  # highest interfacial energy below the split
    upper_mev_per_a2: float  # lowest interfacial energy above the split
    bootstrap_low_mev_per_a2: float  # 2.5th percentile of bootstrap midpoints
    bootstrap_high_mev_per_a2: float  # 97.5th percentile
    n_cells: int
    ccd_below_ma_cm2: float
    ccd_above_ma_cm2: float

    def as_dict(self) -> dict[str, float]:
        """The fields as floats (``n_cells`` too), e.g. for ``champion.json`` and MLflow.

        Returns
        -------
        dict of str to float
        """
        return {key: float(value) for key, value in self.__dict__.items()}


def _best_split(energy: np.ndarray, ccd: np.ndarray) -> tuple[float, float, float, float] | None:
    order = np.argsort(energy)
    energy, ccd = energy[order], ccd[order]
    best = None
    for split in range(1, len(energy)):
        if energy[split - 1] == energy[split]:
            continue
        below, above = ccd[:split], ccd[split:]
        sse = np.sum((below - below.mean()) ** 2) + np.sum((above - above.mean()) ** 2)
        if best is None or sse < best[0] - 1e-12:
            best = (sse, energy[split - 1], energy[split], below.mean(), above.mean())
    return None if best is None else best[1:]


def fit_threshold(energy, ccd, n_bootstrap: int = 2000, seed: int = 0) -> ThresholdEstimate:
    """Change-point estimate of the interfacial-energy threshold from (energy, CCD) pairs.

    Pairs with a NaN are dropped. The split with the least squared error of two constant CCD levels
    wins; bootstrap resampling of the pairs gives the spread of its midpoint.

    Parameters
    ----------
    energy : array_like
        Interfacial energy of each cell, meV/Å².
    ccd : array_like
        CCD of each cell, mA/cm² (one number per cell).
    n_bootstrap : int
        Bootstrap resamples.
    seed : int
        Seed of the resampling.

    Returns
    -------
    ThresholdEstimate
        The estimate.

    Raises
    ------
    ValueError
        If fewer than two cells with different interfacial energies are left.
    """
    energy, ccd = np.asarray(energy, dtype=float), np.asarray(ccd, dtype=float)
    keep = ~(np.isnan(energy) | np.isnan(ccd))
    energy, ccd = energy[keep], ccd[keep]
    split = _best_split(energy, ccd)
    if split is None:
        raise ValueError("a threshold needs at least two cells with different interfacial energies")
    low, high, ccd_below, ccd_above = split
    rng = np.random.default_rng(seed)
    midpoints = []
    for _ in range(n_bootstrap):
        sample = rng.integers(0, len(energy), len(energy))
        resampled = _best_split(energy[sample], ccd[sample])
        if resampled is not None:
            midpoints.append((resampled[0] + resampled[1]) / 2)
    band = np.percentile(midpoints, [2.5, 97.5]) if midpoints else (np.nan, np.nan)
    return ThresholdEstimate((low + high) / 2, low, high, band[0], band[1], len(energy), ccd_below, ccd_above)


def threshold_from_cells(cell_features) -> dict[str, float]:
    """Change-point threshold on the X/underlayer bilayer cells with a CCD (the paper's Fig. 7e population).

    A censored CCD enters as one number (:func:`lithioscreen.censored.representative_value`: the
    bound of "> 5.0", the midpoint of an interval).

    Parameters
    ----------
    cell_features : pandas.DataFrame
        The training table with its descriptors: ``underlayer``, ``outcome``, ``ccd_lower_ma_cm2``,
        ``ccd_upper_ma_cm2`` and ``interfacial_energy_mev_per_a2``.

    Returns
    -------
    dict of str to float
        :meth:`ThresholdEstimate.as_dict`.

    Raises
    ------
    ValueError
        If fewer than two bilayer cells with different interfacial energies have a CCD.
    """
    bilayers = cell_features[(cell_features["underlayer"] != "none") & (cell_features["outcome"] == "ccd")]
    lower = bilayers["ccd_lower_ma_cm2"].to_numpy(float)
    upper = bilayers["ccd_upper_ma_cm2"].to_numpy(float)
    from lithioscreen.censored import representative_value

    estimate = fit_threshold(bilayers["interfacial_energy_mev_per_a2"], representative_value(lower, upper))
    return estimate.as_dict()

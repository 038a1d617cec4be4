"""Which cell to build next: untested candidates ranked by an acquisition function.

:func:`lithioscreen.candidates.candidate_pool` lists the stacks nobody has built yet: every element of the phase-data
table (and, with ``alloys``, every binary alloy of them on a composition grid) at a few overlayer
thicknesses on the standard underlayer, minus every stack already in ``cells.csv`` and minus
the underlayer's own element. :func:`suggest` predicts each with the champion
(:func:`lithioscreen.ranking.rank_candidates`: feasibility, mean, σ including the interfacial-energy
σ, interfacial energy and its source, training-domain flag), keeps only the stacks the
feasibility model says can work (never an infeasible one; unknown ones only on request), scores
them with an acquisition function
(:mod:`lithioscreen.acquisition`) and says why: the mean and σ, the chance to beat the best
measured CCD, the interfacial energy, and the closest tested cell in the model's descriptor
space (z-scored by the spread of the tested cells).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lithioscreen import config
from lithioscreen.acquisition import (
    DEFAULT_KAPPA,
    DEFAULT_XI,
    Incumbent,
    acquisition,
    best_measured_ccd,
    probability_of_improvement,
)
from lithioscreen.candidates import CANDIDATE_COLUMNS
from lithioscreen.models.champion import Champion
from lithioscreen.models.prediction import CCD_COLUMNS, ENERGY_COLUMNS, FEASIBILITY_COLUMNS
from lithioscreen.ranking import rank_candidates

DOMAIN_MODES = ("first", "only", "ignore")

SUGGEST_COLUMNS = [
    "rank",
    *CANDIDATE_COLUMNS,
    "strategy",
    "acquisition",
    *FEASIBILITY_COLUMNS,
    *CCD_COLUMNS,
    "probability_of_improvement",
    "best_measured_ccd_ma_cm2",
    *ENERGY_COLUMNS,
    "above_threshold",
    "li_x_miscibility",
    "in_training_domain",
    "closest_tested_cell",
    "closest_tested_candidate",
    "closest_tested_distance",
    "reason",
]


def _descriptors(frame: pd.DataFrame) -> np.ndarray:
    """The descriptors a tested cell is compared on: interfacial energy, Li-X mixing enthalpy, log thickness."""
    return np.column_stack(
        [
            frame["interfacial_energy_mev_per_a2"].to_numpy(float),
            frame["li_x_mixing_enthalpy_ev_per_atom"].to_numpy(float),
            np.log10(frame["overlayer_nm"].to_numpy(float)),
        ]
    )


def closest_tested(candidates: pd.DataFrame, tested: pd.DataFrame) -> pd.DataFrame:
    """For each candidate, the nearest tested cell in descriptor space.

    Each descriptor (interfacial energy, Li-X mixing enthalpy, log10 overlayer thickness) is scaled
    by its standard deviation over the tested cells, so the distance is in "spreads of the tested
    cells"; descriptors that are NaN for either side are left out.

    Parameters
    ----------
    candidates : pandas.DataFrame
        A rank table (:func:`lithioscreen.ranking.rank_candidates` output).
    tested : pandas.DataFrame
        The rank table of the tested cells, with a ``cell_id`` column; not empty.

    Returns
    -------
    pandas.DataFrame
        One row per candidate (index from 0): ``closest_tested_cell``, ``closest_tested_candidate``
        (``W 30 nm/Mg``) and ``closest_tested_distance`` (dimensionless).
    """
    a, b = _descriptors(candidates), _descriptors(tested)
    scale = np.nanstd(b, axis=0)
    scale = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
    difference = (a[:, None, :] - b[None, :, :]) / scale
    # a descriptor unknown on either side is left out, and the distance scaled up to all of them,
    # so that not knowing a descriptor never makes a candidate look closer
    compared = np.sum(~np.isnan(difference), axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        distance = np.sqrt(np.nansum(np.square(difference), axis=2) * difference.shape[2] / compared)
    distance = np.where(compared > 0, distance, np.inf)
    nearest = np.argmin(distance, axis=1)
    return pd.DataFrame(
        {
            "closest_tested_cell": tested["cell_id"].to_numpy()[nearest],
            "closest_tested_candidate": [
                f"{c} {o:g} nm/{u}"
                for c, o, u in tested[["candidate", "overlayer_nm", "underlayer"]].to_numpy()[nearest]
            ],
            "closest_tested_distance": distance[np.arange(len(a)), nearest],
        }
    )


def _reason(row, strategy: str, incumbent: Incumbent, kappa: float) -> str:
    score = {
        "ei": f"expected gain {row.acquisition:.2f} mA/cm² over the best measured {incumbent.describe()}",
        "ucb": f"optimistic CCD μ + {kappa:g}σ = {row.acquisition:.2f} mA/cm²",
        "explore": f"uncertainty σ = {row.acquisition:.2f} mA/cm² (what the model knows least)",
    }[strategy]
    energy = (
        "interfacial energy unknown"
        if np.isnan(row.interfacial_energy_mev_per_a2)
        else f"γ(Li/X) {row.interfacial_energy_mev_per_a2:.0f} ± {row.interfacial_energy_std_mev_per_a2:.0f} meV/Å² ({row.interfacial_energy_source})"
    )
    feasibility = "feasible" if row.feasible is True else "feasibility unknown"
    if row.feasible is True and row.feasibility_probability < 1:
        feasibility += (
            f" but untested thickness (P ≈ {row.feasibility_probability:.0%} under a log-uniform critical thickness)"
        )
    domain = "" if row.in_training_domain else "; OUTSIDE the tested range (extrapolation)"
    return (
        f"{score}; predicted {row.predicted_ccd_ma_cm2:.2f} ± {row.predicted_ccd_std:.2f} mA/cm², "
        f"P(beats {incumbent.ccd_ma_cm2:g}) = {row.probability_of_improvement:.0%}; {energy}; {feasibility}; "
        f"closest tested: {row.closest_tested_candidate} (distance {row.closest_tested_distance:.2f}){domain}"
    )


def suggest(
    champion: Champion,
    cells: pd.DataFrame,
    pool: pd.DataFrame,
    strategy: str = "ei",
    n: int | None = 10,
    kappa: float = DEFAULT_KAPPA,
    xi: float = DEFAULT_XI,
    threshold_mev_per_a2: float = config.DEFAULT_THRESHOLD_MEV_PER_A2,
    domain: str = "first",
    include_unknown: bool = False,
) -> pd.DataFrame:
    """Rank the untested ``pool`` by the acquisition ``strategy``; the best ``n``.

    Only stacks the feasibility model judges feasible are scored (with ``include_unknown`` also
    those whose feasibility is unknown), and only those with a predicted CCD. Ties in the
    acquisition value go to the higher mean, then the smaller σ, then the name.

    Parameters
    ----------
    champion : Champion
        The exported champion.
    cells : pandas.DataFrame
        The validated ``cells.csv`` table; the incumbent (:func:`lithioscreen.acquisition.best_measured_ccd`)
        and the closest tested cells come from its cells with a CCD.
    pool : pandas.DataFrame
        The untested candidates (:func:`lithioscreen.candidates.candidate_pool`).
    strategy : {"ei", "ucb", "explore"}
        The acquisition function (:func:`lithioscreen.acquisition.acquisition`).
    n : int or None
        How many to return; None: all scored.
    kappa : float
        UCB's weight of σ.
    xi : float
        EI's margin, mA/cm².
    threshold_mev_per_a2 : float
        Interfacial energies at or above this are flagged, meV/Å².
    domain : {"first", "only", "ignore"}
        ``first`` ranks candidates inside the training domain before extrapolations (as ``rank``
        does: an acquisition value computed from an extrapolated mean and σ is no basis for building
        a cell), ``only`` drops extrapolations, ``ignore`` ranks by the acquisition value alone.
    include_unknown : bool
        Also score stacks whose feasibility is unknown.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SUGGEST_COLUMNS`, best first, ``reason`` in words. ``attrs["incumbent"]`` is
        the :class:`~lithioscreen.acquisition.Incumbent`; ``attrs["n_not_scored"]`` counts the pool's
        stacks left out as infeasible, unknown or without a prediction.

    Raises
    ------
    ValueError
        For an empty pool, an unknown ``domain`` or strategy, no cell with a CCD, or no candidate
        left to score.
    """
    from lithioscreen.data import ccd_cells

    if pool.empty:
        raise ValueError("every candidate of the pool has been tested already")
    if domain not in DOMAIN_MODES:
        raise ValueError(f"domain must be one of {', '.join(DOMAIN_MODES)}, got {domain!r}")
    measured = ccd_cells(cells)
    incumbent = best_measured_ccd(measured)
    ranked = rank_candidates(pool, champion, threshold_mev_per_a2)
    feasible = ranked["feasible"].map(lambda value: value is True or (include_unknown and value is None)).to_numpy(bool)
    scored = ranked[feasible & ranked["predicted_ccd_ma_cm2"].notna().to_numpy()].reset_index(drop=True)
    if domain == "only":
        scored = scored[scored["in_training_domain"]].reset_index(drop=True)
    n_left_out = len(ranked) - len(scored)
    if scored.empty:
        raise ValueError(
            "no untested candidate is feasible"
            + (" and inside the training domain" if domain == "only" else "")
            + " with a predicted CCD"
        )
    tested = rank_candidates(measured[CANDIDATE_COLUMNS], champion, threshold_mev_per_a2)
    tested = tested.merge(
        measured[[*CANDIDATE_COLUMNS, "cell_id"]].drop_duplicates(CANDIDATE_COLUMNS), on=CANDIDATE_COLUMNS
    )
    mean = scored["predicted_ccd_ma_cm2"].to_numpy(float)
    std = scored["predicted_ccd_std"].to_numpy(float)
    table = scored.drop(columns=["rank"]).assign(
        strategy=strategy,
        acquisition=acquisition(strategy, mean, std, incumbent.ccd_ma_cm2, kappa, xi),
        probability_of_improvement=probability_of_improvement(mean, std, incumbent.ccd_ma_cm2, xi),
        best_measured_ccd_ma_cm2=incumbent.ccd_ma_cm2,
    )
    table = pd.concat([table.reset_index(drop=True), closest_tested(table, tested)], axis=1)
    # highest acquisition first (in-domain candidates first unless domain="ignore");
    # ties: higher mean, then smaller σ, then name (deterministic)
    keys = [table["candidate"].to_numpy(), std, -mean, -table["acquisition"].to_numpy(float)]
    if domain == "first":
        keys.append(~table["in_training_domain"].to_numpy(bool))
    order = np.lexsort(keys)
    table = table.iloc[order].reset_index(drop=True)
    if n is not None:
        table = table.head(n)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    table["reason"] = [_reason(row, strategy, incumbent, kappa) for row in table.itertuples()]
    table.attrs["incumbent"] = incumbent
    table.attrs["n_not_scored"] = n_left_out
    return table[SUGGEST_COLUMNS]

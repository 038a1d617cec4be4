"""Ranking candidate overlayers with the champion model.

Each candidate gets the champion's prediction table row
(:meth:`lithioscreen.models.prediction.CCDScreeningModel.predict_table`: feasibility and its
reason, predicted CCD ± σ, the measurement where the stack was tested, the Li/X interfacial energy
with its source, the threshold flag, the Li-X phase-diagram facts, the training-domain flag).
:func:`order_ranking` puts feasible stacks first (inside the training domain before
extrapolations), then stacks whose feasibility is unknown, then infeasible ones; within each, by
predicted CCD (ties: the smaller uncertainty first, then the higher interfacial energy).
``limitations`` says in words what the numbers rest on.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from lithioscreen import config
from lithioscreen.features.pipeline import DEFAULT_CHUNK_ROWS
from lithioscreen.models.champion import Champion
from lithioscreen.models.prediction import PREDICTION_COLUMNS

RANK_COLUMNS = ["rank", *PREDICTION_COLUMNS]


def rank_candidates(
    candidates: pd.DataFrame,
    champion: Champion,
    threshold_mev_per_a2: float = config.DEFAULT_THRESHOLD_MEV_PER_A2,
) -> pd.DataFrame:
    """Predict, describe and rank ``candidates`` in one go.

    Parameters
    ----------
    candidates : pandas.DataFrame
        A validated candidate table (:mod:`lithioscreen.candidates`).
    champion : Champion
        The exported champion (:func:`lithioscreen.models.champion.load_champion`).
    threshold_mev_per_a2 : float
        Interfacial energies at or above this are flagged, meV/Å².

    Returns
    -------
    pandas.DataFrame
        Columns :data:`RANK_COLUMNS`, best first (:func:`order_ranking`).
    """
    return order_ranking(describe_candidates(candidates, champion, threshold_mev_per_a2))


def describe_candidates(
    candidates: pd.DataFrame,
    champion: Champion,
    threshold_mev_per_a2: float = config.DEFAULT_THRESHOLD_MEV_PER_A2,
) -> pd.DataFrame:
    """The champion's prediction table of every candidate, in the input order (no ``rank`` yet).

    Large screens call this chunk by chunk (:func:`rank_screen`).

    Parameters
    ----------
    candidates : pandas.DataFrame
        A validated candidate table.
    champion : Champion
        The exported champion.
    threshold_mev_per_a2 : float
        Interfacial energies at or above this are flagged, meV/Å².

    Returns
    -------
    pandas.DataFrame
        :meth:`lithioscreen.models.prediction.CCDScreeningModel.predict_table`: one row per
        candidate, the prediction columns.
    """
    return champion.model.predict_table(candidates, threshold_mev_per_a2)


def feasibility_class(feasible) -> np.ndarray:
    """The sort class of each stack's feasibility: feasible first, then unknown, then infeasible.

    Parameters
    ----------
    feasible : iterable
        True, False or None per stack.

    Returns
    -------
    numpy.ndarray
        0 for feasible, 1 for unknown (None), 2 for infeasible.
    """
    from lithioscreen.models.feasibility import feasibility_masks

    feasible_, infeasible, _ = feasibility_masks(feasible)
    return np.where(feasible_, 0, np.where(infeasible, 2, 1))


def order_ranking(table: pd.DataFrame) -> pd.DataFrame:
    """Sort described candidates and number them: ``rank`` 1 is the best.

    The order is the one of the module docstring: feasible, inside the training domain, a
    predicted CCD (highest first), the smaller σ, the higher interfacial energy; ties by the stack
    (candidate, overlayer thickness, underlayer), so the order does not depend on chunking.

    Parameters
    ----------
    table : pandas.DataFrame
        Prediction rows (:func:`describe_candidates`), possibly from several chunks.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`RANK_COLUMNS`, index from 0.
    """
    # compared to 1e-9: the last bits of a prediction depend on the batch it was computed in
    mean = np.round(table["predicted_ccd_ma_cm2"].to_numpy(float), 9)
    std = np.round(table["predicted_ccd_std"].to_numpy(float), 9)
    order = np.lexsort(
        (
            # last, so that chunks merged in any order rank the same: the stack itself
            table["underlayer_nm"].to_numpy(float),
            table["underlayer"].to_numpy(dtype=str),
            table["overlayer_nm"].to_numpy(float),
            table["candidate"].to_numpy(dtype=str),
            -np.round(table["interfacial_energy_mev_per_a2"].fillna(-np.inf).to_numpy(), 9),
            np.nan_to_num(std, nan=np.inf),
            -np.nan_to_num(mean, nan=-np.inf),
            np.isnan(mean),
            # an extrapolated mean is no basis for building a cell: the training domain first
            ~table["in_training_domain"].to_numpy(dtype=bool),
            feasibility_class(table["feasible"]),
        )
    )
    table = table.iloc[order].reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table[RANK_COLUMNS]


def limitations(champion: Champion) -> list[str]:
    """Plain-language limits of the model, printed under every ranking.

    Parameters
    ----------
    champion : Champion
        The exported champion; its metadata and its fitted feasibility and domain are read.

    Returns
    -------
    list of str
        One sentence or short paragraph per limit.
    """
    meta = champion.metadata
    model = champion.model
    metrics = meta.get("cv_metrics", {})
    nested = meta.get("nested_cv_metrics", {})
    tested = ", ".join(meta.get("training_candidates", []))
    baseline = meta.get("all_models_cv", {}).get("constant_baseline", {})
    lines = [
        f"Model '{meta.get('model')}' trained on {meta.get('n_cells')} measured bilayer cells ({meta.get('n_censored')} censored: "
        f"'> x' or interval CCDs) of overlayers {tested}, and {meta.get('n_failed_stacks', 0)} failed stacks (feasibility).",
        f"Leave-one-overlayer-out: NLPD {metrics.get('nlpd', float('nan')):.2f} (constant baseline "
        f"{baseline.get('nlpd', float('nan')):.2f}), interval MAE {metrics.get('mae', float('nan')):.2f} mA/cm²; nested CV of the model "
        f"selection: NLPD {nested.get('nlpd', float('nan')):.2f}. So few cells cannot rank close candidates: read σ.",
        model.feasibility_.describe(),
        model.domain_description() + " Rows with in_training_domain = False are extrapolations.",
        model.featurizer_.named_transformers["interfacial_energy"].describe(),
    ]
    threshold = meta.get("data_threshold", {})
    if threshold:
        lines.append(
            f"The measured X/Mg cells place the interfacial-energy threshold between {threshold['lower_mev_per_a2']:.1f} and "
            f"{threshold['upper_mev_per_a2']:.1f} meV/Å² (paper: ~100)."
        )
    return lines


def rank_screen(
    candidates: pd.DataFrame,
    champion,
    threshold_mev_per_a2: float = config.DEFAULT_THRESHOLD_MEV_PER_A2,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """:func:`rank_candidates` in chunks, so that the descriptors of a large screen are never all in memory.

    Parameters
    ----------
    candidates : pandas.DataFrame
        A validated candidate table (not empty).
    champion : Champion
        The exported champion.
    threshold_mev_per_a2 : float
        Interfacial energies at or above this are flagged, meV/Å².
    chunk_rows : int
        Candidates per chunk.
    progress : callable or None
        Called as ``progress(done, total)`` after each chunk; None: silent.

    Returns
    -------
    pandas.DataFrame
        As :func:`rank_candidates`.
    """
    total = len(candidates)
    parts = []
    for start in range(0, total, chunk_rows):
        chunk = candidates.iloc[start : start + chunk_rows]
        parts.append(describe_candidates(chunk, champion, threshold_mev_per_a2))
        if progress is not None:
            progress(min(start + chunk_rows, total), total)
    return order_ranking(pd.concat(parts, ignore_index=True))

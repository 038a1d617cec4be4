"""Ranking candidate overlayers with the champion model.

Each candidate gets its predicted CCD (mA/cm²) with a standard deviation, its Li/X interfacial
energy with the source of that number, the threshold flag and the Li-X phase-diagram facts. The
ranking puts candidates inside the training domain first (every model feature within the range
of the tested cells), then orders by predicted CCD (ties: the smaller uncertainty first, then the
higher interfacial energy). ``limitations`` says in words what the numbers rest on.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lithioscreen import config
from lithioscreen.candidates import CANDIDATE_COLUMNS, make_candidates
from lithioscreen.models.prediction import predict_ccd
from lithioscreen.models.threshold import above_threshold
from lithioscreen.tracking.export import Champion

RANK_COLUMNS = [
    "rank",
    "candidate",
    "overlayer_nm",
    "underlayer",
    "underlayer_nm",
    "predicted_ccd_ma_cm2",
    "predicted_ccd_std",
    "interfacial_energy_mev_per_a2",
    "interfacial_energy_std_mev_per_a2",
    "interfacial_energy_source",
    "above_threshold",
    "li_x_miscibility",
    "in_training_domain",
    "li_compounds",
    "li_compound_count",
    "li_solubility_in_x_at_pct",
    "li_x_mixing_enthalpy_ev_per_atom",
]


def default_candidates(
    phase_data: pd.DataFrame,
    overlayer_nm: float = config.DEFAULT_OVERLAYER_NM,
    underlayer: str = config.DEFAULT_UNDERLAYER,
    underlayer_nm: float = config.DEFAULT_UNDERLAYER_NM,
) -> pd.DataFrame:
    """Every element of the phase-data table as an overlayer on the given stack."""
    return make_candidates(phase_data["element"].tolist(), overlayer_nm, underlayer, underlayer_nm)


def rank_candidates(
    candidates: pd.DataFrame,
    champion: Champion,
    threshold_mev_per_a2: float = config.DEFAULT_THRESHOLD_MEV_PER_A2,
) -> pd.DataFrame:
    """Predict, describe and rank ``candidates`` (a validated candidate table)."""
    return order_ranking(describe_candidates(candidates, champion, threshold_mev_per_a2))


def describe_candidates(
    candidates: pd.DataFrame,
    champion: Champion,
    threshold_mev_per_a2: float = config.DEFAULT_THRESHOLD_MEV_PER_A2,
) -> pd.DataFrame:
    """Predictions and descriptors of every candidate, in the input order (no ``rank`` yet).

    Everything is computed for all rows at once; :func:`order_ranking` sorts. Large screens call
    this chunk by chunk (:mod:`lithioscreen.screening`).
    """
    model = champion.model
    prediction = predict_ccd(model, candidates)
    features = prediction.features
    phase = model.named_steps["features"].named_transformers["phase_diagram"]
    frame = candidates[CANDIDATE_COLUMNS].reset_index(drop=True)
    return frame.assign(
        predicted_ccd_ma_cm2=prediction.mean,
        predicted_ccd_std=prediction.std,
        interfacial_energy_mev_per_a2=features["interfacial_energy_mev_per_a2"].to_numpy(),
        interfacial_energy_std_mev_per_a2=features["interfacial_energy_std_mev_per_a2"].to_numpy(),
        interfacial_energy_source=features["interfacial_energy_source"].to_numpy(),
        above_threshold=above_threshold(features["interfacial_energy_mev_per_a2"], threshold_mev_per_a2),
        li_x_miscibility=phase.miscibilities(frame),
        in_training_domain=in_training_domain(features, champion.metadata.get("training_feature_ranges", {})),
        li_compounds=phase.compounds_of(frame["candidate"].tolist()),
        li_compound_count=features["li_x_compound_count"].to_numpy(),
        li_solubility_in_x_at_pct=features["li_solubility_in_x_at_pct"].to_numpy(),
        li_x_mixing_enthalpy_ev_per_atom=features["li_x_mixing_enthalpy_ev_per_atom"].to_numpy(),
    )


def order_ranking(table: pd.DataFrame) -> pd.DataFrame:
    """Sort described candidates and number them: ``rank`` 1 is the best."""
    # Candidates inside the training domain first: an extrapolated mean is no basis for building a cell.
    order = np.lexsort(
        (
            -table["interfacial_energy_mev_per_a2"].fillna(-np.inf).to_numpy(),
            table["predicted_ccd_std"].to_numpy(),
            -table["predicted_ccd_ma_cm2"].to_numpy(),
            ~table["in_training_domain"].to_numpy(dtype=bool),
        )
    )
    table = table.iloc[order].reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table[RANK_COLUMNS]


def in_training_domain(features: pd.DataFrame, ranges: dict[str, list[float]]) -> np.ndarray:
    """True where every model feature lies within the range spanned by the training cells."""
    inside = np.ones(len(features), dtype=bool)
    for column, (low, high) in ranges.items():
        values = features[column].to_numpy(dtype=float)
        inside &= (values >= low) & (values <= high)
    return inside


def limitations(champion: Champion) -> list[str]:
    """Plain-language limits of the model, printed under every ranking."""
    meta = champion.metadata
    metrics = meta.get("cv_metrics", {})
    tested = ", ".join(meta.get("training_candidates", []))
    threshold = meta.get("data_threshold", {})
    lines = [
        f"Model '{meta.get('model')}' trained on {meta.get('n_cells')} measured cells "
        f"({meta.get('n_censored')} censored: '> x' or interval CCDs) of overlayers {tested}.",
        f"Leave-one-overlayer-out error: MAE {metrics.get('mae', float('nan')):.2f}, RMSE {metrics.get('rmse', float('nan')):.2f} mA/cm²; "
        f"{100 * metrics.get('coverage_2sigma', float('nan')):.0f}% of held-out cells within 2σ.",
        "Rows with in_training_domain = False lie outside the range of the tested cells: extrapolations. "
        "Interfacial energies marked 'surrogate' or 'mlip:*' (interatomic potential) are estimates, not DFT; their σ is in the "
        "CCD std. The sources may not share one scale (README, interfacial energies): compare across sources with care.",
        "The bilayer concept needs an overlayer that does not alloy with Li; every tested overlayer is Li-immiscible, "
        "so predictions for compound-forming or Li-dissolving metals (li_x_miscibility) are least reliable.",
    ]
    if threshold:
        lines.append(
            f"The measured X/Mg cells place the interfacial-energy threshold between {threshold['lower_mev_per_a2']:.1f} and "
            f"{threshold['upper_mev_per_a2']:.1f} meV/Å² (paper: ~100)."
        )
    return lines

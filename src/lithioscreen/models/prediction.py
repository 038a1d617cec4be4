"""CCD predictions whose uncertainty includes that of the interfacial energy.

A model's own standard deviation says how sure it is given its inputs. But the main input, the
Li/X interfacial energy, is itself an estimate for most metals (``surrogate``, with its own σ).
:func:`predict_ccd` propagates that: it predicts again with the interfacial energy moved by ±σ
and adds half the spread, in quadrature, to the model's standard deviation (first-order
propagation, exact for a locally linear model). DFT values have σ = 0 and add nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lithioscreen.candidates import CANDIDATE_COLUMNS

ENERGY = "interfacial_energy_mev_per_a2"
ENERGY_STD = "interfacial_energy_std_mev_per_a2"


@dataclass
class CCDPrediction:
    mean: np.ndarray  # mA/cm²
    std: np.ndarray  # total: model and interfacial-energy uncertainty in quadrature
    model_std: np.ndarray
    interfacial_energy_std_contribution: np.ndarray
    features: pd.DataFrame  # the descriptor table the model saw


def predict_ccd(model, candidates: pd.DataFrame) -> CCDPrediction:
    """Predict with a fitted lithioscreen pipeline (steps: features, preprocess, regressor)."""
    features = model.named_steps["features"].transform(candidates[CANDIDATE_COLUMNS])
    head = model[1:]  # everything after featurization
    mean, model_std = head.predict(features, return_std=True)
    energy_std = np.nan_to_num(features[ENERGY_STD].to_numpy(dtype=float))
    propagated = np.zeros_like(mean)
    if np.any(energy_std > 0):
        up, down = features.copy(), features.copy()
        up[ENERGY] = features[ENERGY] + energy_std
        down[ENERGY] = features[ENERGY] - energy_std
        propagated = np.abs(head.predict(up) - head.predict(down)) / 2
    return CCDPrediction(
        mean=np.asarray(mean, dtype=float),
        std=np.sqrt(np.square(model_std) + np.square(propagated)),
        model_std=np.asarray(model_std, dtype=float),
        interfacial_energy_std_contribution=propagated,
        features=features,
    )

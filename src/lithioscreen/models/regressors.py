"""CCD regressors that return a prediction and its standard deviation.

Every model is a scikit-learn Pipeline that starts from the raw candidate table, so that a fitted
model needs nothing but candidates (``candidate``, ``overlayer_nm``, ``underlayer``,
``underlayer_nm``) to predict; ``predict(X, return_std=True)`` gives (mean, std) in mA/cm².

    candidates -> descriptors (lithioscreen.features) -> model features -> impute/scale
               -> IntervalCensoredRegressor(regressor)

The models see four descriptors, not the 150 available: with six measured cells more inputs
would only be memorised. They are the interfacial energy (the paper's descriptor), the Miedema
Li-X mixing enthalpy (lithiophobicity), the overlayer thickness (log) and whether a lithiophilic
underlayer is present. Li solubility and compound counts are shown to users but not fitted: they
are unknown for some metals and carry the same signal as the mixing enthalpy on the tested ones.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestRegressor
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel
from sklearn.impute import SimpleImputer
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import BayesianRidge
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from lithioscreen.censored import IntervalCensoredRegressor
from lithioscreen.features import make_featurizer

MODEL_FEATURES = [
    "interfacial_energy_mev_per_a2",
    "li_x_mixing_enthalpy_ev_per_atom",
    "overlayer_log10_nm",
    "underlayer_present",
]
PHYSICS_FEATURES = ["interfacial_energy_mev_per_a2"]


class ForestWithSpread(RandomForestRegressor):
    """A random forest whose uncertainty is the spread (std) of its trees' predictions."""

    def predict(self, X, return_std: bool = False):
        mean = super().predict(X)
        if not return_std:
            return mean
        per_tree = np.stack([tree.predict(np.asarray(X, dtype=np.float32)) for tree in self.estimators_])
        return mean, per_tree.std(axis=0)


class MonotoneBaseline(RegressorMixin, BaseEstimator):
    """Physics baseline: CCD as a non-decreasing function of the interfacial energy (isotonic fit).

    Uses the first column of X. Its uncertainty is the leave-one-out RMSE of the same isotonic
    fit on the training cells (one number for all predictions), floored at ``min_std``.
    """

    def __init__(self, min_std: float = 0.1):
        self.min_std = min_std

    def fit(self, X, y):
        x = np.asarray(X, dtype=float)[:, 0]
        y = np.asarray(y, dtype=float)
        self.isotonic_ = IsotonicRegression(increasing=True, out_of_bounds="clip").fit(x, y)
        residuals = []
        for left_out in range(len(x)):
            keep = np.arange(len(x)) != left_out
            if keep.sum() >= 2:
                fold = IsotonicRegression(increasing=True, out_of_bounds="clip").fit(x[keep], y[keep])
                residuals.append(fold.predict(x[[left_out]])[0] - y[left_out])
        rmse = float(np.sqrt(np.mean(np.square(residuals)))) if residuals else 0.0
        self.std_ = max(rmse, self.min_std)
        return self

    def predict(self, X, return_std: bool = False):
        check_is_fitted(self, "isotonic_")
        mean = self.isotonic_.predict(np.asarray(X, dtype=float)[:, 0])
        return (mean, np.full_like(mean, self.std_)) if return_std else mean


def _preprocess(columns: list[str]) -> ColumnTransformer:
    return ColumnTransformer(
        [("numeric", make_pipeline(SimpleImputer(strategy="median", keep_empty_features=True), StandardScaler()), columns)],
        remainder="drop",
    )


def make_model(
    regressor,
    columns: list[str] = MODEL_FEATURES,
    phase_data: pd.DataFrame | None = None,
    interfacial_data: pd.DataFrame | None = None,
) -> Pipeline:
    """candidates -> descriptors -> selected columns -> censored-target regressor."""
    return Pipeline(
        [
            ("features", make_featurizer(phase_data, interfacial_data, include_magpie=False)),
            ("preprocess", _preprocess(list(columns))),
            ("regressor", IntervalCensoredRegressor(regressor)),
        ]
    )


def make_models(phase_data: pd.DataFrame | None = None, interfacial_data: pd.DataFrame | None = None) -> dict[str, Pipeline]:
    """Every model compared by ``lithioscreen train``, by name."""
    # Censored targets are imputed at the model's own prediction, which leaves no residual on
    # those cells: without a floor the fitted noise collapses and the std becomes overconfident.
    # The GP noise is kept at or above 1% of the target variance, and the Bayesian ridge gets a
    # weak Gamma prior on its noise precision centred near a 0.3 mA/cm² noise.
    kernel = ConstantKernel(1.0, (1e-2, 1e2)) * RBF(length_scale=1.0, length_scale_bounds=(1e-1, 1e2)) + WhiteKernel(
        0.05, (1e-2, 1.0)
    )
    regressors = {
        "gaussian_process": (GaussianProcessRegressor(kernel, normalize_y=True, n_restarts_optimizer=2, random_state=0), MODEL_FEATURES),
        "random_forest": (ForestWithSpread(n_estimators=100, min_samples_leaf=1, random_state=0), MODEL_FEATURES),
        "bayesian_ridge": (BayesianRidge(alpha_1=1.0, alpha_2=0.1), MODEL_FEATURES),
        "physics_monotone": (MonotoneBaseline(), PHYSICS_FEATURES),
    }
    return {
        name: make_model(regressor, columns, phase_data, interfacial_data)
        for name, (regressor, columns) in regressors.items()
    }

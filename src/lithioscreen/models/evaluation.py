"""Cross-validation of CCD models on a handful of cells, censoring-aware.

Splits are leave-one-overlayer-out (``LeaveOneGroupOut`` grouped by the overlayer composition): a
model never sees another cell of the same metal when predicting one. With one cell per metal this
is leave-one-out. Every metric is computed on held-out predictions only.

Metrics (all in mA/cm² unless stated):

* ``mae`` / ``rmse``: of :func:`lithioscreen.censored.interval_error`, i.e. zero when the
  prediction falls inside the measured interval ("> 5.0" is met by any prediction above 5.0);
* ``spearman``: rank correlation of predictions with the measured values (interval midpoints,
  bounds for open intervals);
* ``threshold_accuracy``: fraction of cells put on the right side of the CCD target (default
  3.0 mA/cm²), counting only cells whose measured interval lies wholly on one side;
* ``coverage_2sigma``: fraction of cells whose measured interval is within 2 predicted std;
* ``mean_std``: the mean predicted standard deviation (model and interfacial-energy uncertainty,
  see :mod:`lithioscreen.models.prediction`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import LeaveOneGroupOut

from lithioscreen import config
from lithioscreen.candidates import CANDIDATE_COLUMNS
from lithioscreen.censored import interval_error, representative_value
from lithioscreen.models.prediction import predict_ccd


@dataclass
class CrossValidationResult:
    predictions: pd.DataFrame  # cell_id, candidate, lower, upper, predicted mean, std, error
    metrics: dict[str, float]


def targets(cells: pd.DataFrame) -> np.ndarray:
    """The (n, 2) interval target of training cells (see ``lithioscreen.data.training_cells``)."""
    return cells[["ccd_lower_ma_cm2", "ccd_upper_ma_cm2"]].to_numpy(dtype=float)


def ccd_metrics(mean, std, lower, upper, ccd_target_ma_cm2: float = config.DEFAULT_CCD_TARGET_MA_CM2) -> dict[str, float]:
    mean, std, lower, upper = (np.asarray(a, dtype=float) for a in (mean, std, lower, upper))
    errors = interval_error(mean, lower, upper)
    measured = representative_value(lower, upper)
    from scipy.stats import spearmanr  # scipy.stats takes ~0.5 s to import; only CV needs it

    spearman = spearmanr(mean, measured).statistic if len(mean) > 2 and np.ptp(mean) > 0 else np.nan
    decided = (lower >= ccd_target_ma_cm2) | (upper < ccd_target_ma_cm2)
    accuracy = (
        float(np.mean((mean[decided] >= ccd_target_ma_cm2) == (lower[decided] >= ccd_target_ma_cm2)))
        if decided.any()
        else np.nan
    )
    return {
        "mae": float(np.mean(errors)),
        "rmse": float(np.sqrt(np.mean(errors**2))),
        "spearman": float(spearman),
        "threshold_accuracy": accuracy,
        "coverage_2sigma": float(np.mean(errors <= 2 * std)),
        "mean_std": float(np.mean(std)),
        "n_cells": float(len(mean)),
        "n_censored": float(np.sum(lower != upper)),
    }


def cross_validate(model, cells: pd.DataFrame, ccd_target_ma_cm2: float = config.DEFAULT_CCD_TARGET_MA_CM2) -> CrossValidationResult:
    """Leave-one-overlayer-out predictions and metrics for ``model`` on the training ``cells``."""
    X = cells[CANDIDATE_COLUMNS]
    y = targets(cells)
    groups = cells["candidate"].to_numpy()
    mean = np.full(len(cells), np.nan)
    std = np.full(len(cells), np.nan)
    for train, test in LeaveOneGroupOut().split(X, y, groups):
        with warnings.catch_warnings():
            # the GP's noise floor is deliberate (see regressors.make_models); its bound warning is noise
            warnings.simplefilter("ignore", ConvergenceWarning)
            fitted = clone(model).fit(X.iloc[train], y[train])
        prediction = predict_ccd(fitted, X.iloc[test])
        mean[test], std[test] = prediction.mean, prediction.std
    predictions = cells[["cell_id", "candidate", "ccd_lower_ma_cm2", "ccd_upper_ma_cm2"]].assign(
        predicted_ccd_ma_cm2=mean,
        predicted_ccd_std=std,
        interval_error_ma_cm2=interval_error(mean, y[:, 0], y[:, 1]),
    )
    return CrossValidationResult(predictions, ccd_metrics(mean, std, y[:, 0], y[:, 1], ccd_target_ma_cm2))


def best_model_name(results: dict[str, CrossValidationResult]) -> str:
    """Lowest cross-validated MAE; ties broken by RMSE, then by name for determinism."""
    return min(results, key=lambda name: (results[name].metrics["mae"], results[name].metrics["rmse"], name))

"""Feasibility, CCD regressors with uncertainty, their validation, and the interfacial-energy threshold.

Names are imported on first use (PEP 562), so that loading a fitted model (what ranking needs)
does not pull in scipy.stats.
"""

from importlib import import_module

_EXPORTS = {
    "BASELINE_MODEL": "regressors",
    "BayesianCensoredRegressor": "regressors",
    "BilayerFeasibility": "feasibility",
    "CCDScreeningModel": "prediction",
    "CrossValidationResult": "evaluation",
    "DEFAULT_MODEL": "regressors",
    "PREDICTION_COLUMNS": "prediction",
    "above_threshold": "threshold",
    "cross_validate": "evaluation",
    "fit_threshold": "threshold",
    "make_model": "prediction",
    "make_models": "prediction",
    "nested_cross_validate": "evaluation",
    "select_model": "evaluation",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(f"lithioscreen.models.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'lithioscreen.models' has no attribute {name!r}")

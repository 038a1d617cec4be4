"""CCD regressors with uncertainty, their cross-validation, and the interfacial-energy threshold.

Names are imported on first use (PEP 562), so that ``lithioscreen.models.prediction`` (what
ranking needs) does not pull in scipy.stats and scikit-learn's model zoo.
"""

from importlib import import_module

_EXPORTS = {
    "MODEL_FEATURES": "regressors",
    "CCDPrediction": "prediction",
    "CrossValidationResult": "evaluation",
    "above_threshold": "threshold",
    "best_model_name": "evaluation",
    "cross_validate": "evaluation",
    "fit_threshold": "threshold",
    "make_model": "regressors",
    "make_models": "regressors",
    "predict_ccd": "prediction",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(f"lithioscreen.models.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'lithioscreen.models' has no attribute {name!r}")

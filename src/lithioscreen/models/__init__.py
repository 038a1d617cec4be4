"""CCD regressors with uncertainty, their cross-validation, and the interfacial-energy threshold."""

from lithioscreen.models.evaluation import CrossValidationResult, best_model_name, cross_validate
from lithioscreen.models.prediction import CCDPrediction, predict_ccd
from lithioscreen.models.regressors import MODEL_FEATURES, make_model, make_models
from lithioscreen.models.threshold import above_threshold, fit_threshold

__all__ = [
    "MODEL_FEATURES",
    "CCDPrediction",
    "CrossValidationResult",
    "above_threshold",
    "best_model_name",
    "cross_validate",
    "fit_threshold",
    "make_model",
    "make_models",
    "predict_ccd",
]

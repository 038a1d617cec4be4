"""The registered CCD model as MLflow serves it: candidates in, predicted CCD with σ out.

This file is an MLflow "model from code": ``mlflow.pyfunc.log_model(python_model=<this file>)``
copies it into the model, and loading the model runs it, which ends with
``mlflow.models.set_model(CCDCandidateModel())``. The model's artifacts are the fitted
lithioscreen pipeline (pickle) and a small JSON with the threshold and the training domain
(see :mod:`lithioscreen.tracking.serving`, which logs it).

Input: a DataFrame with ``candidate`` (composition strings such as ``W`` or ``Cr0.5W0.5``) and
optional ``overlayer_nm``, ``underlayer``, ``underlayer_nm`` (missing columns or empty cells take
the paper's stack: 30 nm on 200 nm Mg). Output, one row per input row, in input order:

    candidate, overlayer_nm, underlayer, underlayer_nm   the validated stack
    predicted_ccd_ma_cm2, predicted_ccd_std              mA/cm², σ includes the interfacial-energy σ
    interfacial_energy_mev_per_a2, interfacial_energy_std_mev_per_a2, interfacial_energy_source
    above_threshold                                      interfacial energy ≥ threshold (meV/Å²)
    in_training_domain                                   every model feature within the tested range

A bad value raises ``MlflowException`` with ``INVALID_PARAMETER_VALUE`` naming the row and the
value, which MLflow's scoring server answers with HTTP 400: so do more than
:data:`MAX_ROWS_PER_REQUEST` rows, a thickness outside 0.1 nm-100 µm or that is not a number (a
boolean is not 1 nm), and a threshold that is not finite or outside ±1000 meV/Å².
"""

import json
import pickle

import mlflow
import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE

OUTPUT_COLUMNS = [
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
    "in_training_domain",
]
OPTIONAL_COLUMNS = ("overlayer_nm", "underlayer", "underlayer_nm")
#: Rows per predict call (one HTTP request): 500,000 rows gave a 187 MB reply. 10,000 rows take
#: about 2 s and a 4 MB reply; split larger screens, or rank them with ``lithioscreen rank``.
MAX_ROWS_PER_REQUEST = 10_000


def _bad_input(message: str) -> MlflowException:
    return MlflowException(message, error_code=INVALID_PARAMETER_VALUE)


def _check_size(model_input: pd.DataFrame) -> None:
    if len(model_input) > MAX_ROWS_PER_REQUEST:
        raise _bad_input(f"input: {len(model_input):,} rows; at most {MAX_ROWS_PER_REQUEST:,} per request (split the request)")


def _threshold(params, default: float) -> float:
    """The ``threshold_mev_per_a2`` parameter, checked like ``rank --threshold``."""
    from lithioscreen.candidates import CandidateError, check_threshold

    try:
        return check_threshold((params or {}).get("threshold_mev_per_a2", default))
    except CandidateError as error:
        raise _bad_input(f"params: {error}") from None


def _fill_defaults(frame: pd.DataFrame) -> pd.DataFrame:
    """Missing optional columns, and empty cells in them, take the paper's stack."""
    from lithioscreen import config

    defaults = {
        "overlayer_nm": config.DEFAULT_OVERLAYER_NM,
        "underlayer": config.DEFAULT_UNDERLAYER,
        "underlayer_nm": config.DEFAULT_UNDERLAYER_NM,
    }
    frame = frame.copy()
    for column, default in defaults.items():
        if column not in frame.columns:
            frame[column] = default
        else:
            frame[column] = frame[column].astype(object).where(frame[column].notna(), default)
    return frame


class CCDCandidateModel(mlflow.pyfunc.PythonModel):
    """Validates and featurizes candidates, then predicts with the fitted lithioscreen pipeline."""

    def load_context(self, context):
        with open(context.artifacts["pipeline"], "rb") as handle:
            self.pipeline = pickle.load(handle)
        with open(context.artifacts["metadata"], encoding="utf-8") as handle:
            self.metadata = json.load(handle)

    def predict(self, context, model_input: pd.DataFrame, params=None):
        from lithioscreen.candidates import CandidateError, validate_candidates
        from lithioscreen.models.prediction import predict_ccd
        from lithioscreen.models.threshold import above_threshold
        from lithioscreen.ranking import in_training_domain

        if not isinstance(model_input, pd.DataFrame):
            model_input = pd.DataFrame(model_input)
        _check_size(model_input)
        threshold = _threshold(params, self.metadata["threshold_mev_per_a2"])
        if "candidate" in model_input.columns:
            model_input = model_input.assign(candidate=model_input["candidate"].astype(object).where(model_input["candidate"].notna(), ""))
        try:
            candidates = validate_candidates(_fill_defaults(model_input), source="input")
        except CandidateError as error:
            raise _bad_input(str(error)) from None
        prediction = predict_ccd(self.pipeline, candidates)
        features = prediction.features
        energy = features["interfacial_energy_mev_per_a2"].to_numpy(dtype=float)
        return candidates.assign(
            predicted_ccd_ma_cm2=prediction.mean,
            predicted_ccd_std=prediction.std,
            interfacial_energy_mev_per_a2=energy,
            interfacial_energy_std_mev_per_a2=features["interfacial_energy_std_mev_per_a2"].to_numpy(dtype=float),
            interfacial_energy_source=features["interfacial_energy_source"].astype(str).to_numpy(),
            above_threshold=np.asarray(above_threshold(energy, threshold), dtype=bool),
            in_training_domain=in_training_domain(features, self.metadata.get("training_feature_ranges", {})),
        )[OUTPUT_COLUMNS]


mlflow.models.set_model(CCDCandidateModel())

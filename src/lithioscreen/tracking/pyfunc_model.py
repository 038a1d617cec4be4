"""The registered CCD model as MLflow serves it: candidates in, predicted CCD with σ out.

This file is an MLflow "model from code": ``mlflow.pyfunc.log_model(python_model=<this file>)``
copies it into the model, and loading the model runs it, which ends with
``mlflow.models.set_model(CCDCandidateModel())``. The model's artifacts are the fitted
lithioscreen pipeline (pickle) and a small JSON with the threshold and the training domain
(see :mod:`lithioscreen.tracking.serving`, which logs it).

Input: a DataFrame with ``candidate`` (composition strings such as ``W`` or ``Cr0.5W0.5``) and
optional ``overlayer_nm``, ``underlayer``, ``underlayer_nm`` (missing columns or empty cells take
the paper's stack: 30 nm on 200 nm Mg). Output, one row per input row, in input order: the
prediction table of :meth:`lithioscreen.models.prediction.CCDScreeningModel.predict_table`
(without the list column ``li_compounds``):

    candidate, overlayer_nm, underlayer, underlayer_nm   the validated stack
    feasible, infeasible_reason, feasibility_probability can the bilayer work (true/false/null)
    predicted_ccd_ma_cm2, predicted_ccd_std              mA/cm² (null for infeasible stacks)
    measured_ccd_reported                                the measurement as reported, null if untested
    interfacial_energy_mev_per_a2, interfacial_energy_std_mev_per_a2, interfacial_energy_source
    above_threshold                                      interfacial energy ≥ threshold (meV/Å²)
    in_training_domain                                   inside what the tested cells cover
    li_x_miscibility, li_compound_count, li_solubility_in_x_at_pct, li_x_mixing_enthalpy_ev_per_atom, prediction_note

A bad value raises ``MlflowException`` with ``INVALID_PARAMETER_VALUE`` naming the row and the
value, which MLflow's scoring server answers with HTTP 400: so do more than
:data:`MAX_ROWS_PER_REQUEST` rows, a thickness outside 0.1 nm-100 µm or that is not a number (a
boolean is not 1 nm), and a threshold that is not finite or outside ±1000 meV/Å².
"""

import json
import pickle

import mlflow
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE

from lithioscreen.models.prediction import PREDICTION_COLUMNS

#: The served columns: the prediction table without the list-valued ``li_compounds``.
OUTPUT_COLUMNS = [column for column in PREDICTION_COLUMNS if column != "li_compounds"]
OPTIONAL_COLUMNS = ("overlayer_nm", "underlayer", "underlayer_nm")
#: Rows per predict call (one HTTP request): the reply grows with every row, so larger screens are
#: split, or ranked with ``lithioscreen rank`` (latency and throughput: ``benchmarks/serve_load.py``).
MAX_ROWS_PER_REQUEST = 10_000


def _bad_input(message: str) -> MlflowException:
    return MlflowException(message, error_code=INVALID_PARAMETER_VALUE)


def _check_size(model_input: pd.DataFrame) -> None:
    if len(model_input) > MAX_ROWS_PER_REQUEST:
        raise _bad_input(
            f"input: {len(model_input):,} rows; at most {MAX_ROWS_PER_REQUEST:,} per request (split the request)"
        )


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
        """Load the fitted pipeline (pickle) and its metadata JSON from the model's artifacts.

        Parameters
        ----------
        context : mlflow.pyfunc.PythonModelContext
            Its ``artifacts`` name the files ``pipeline`` and ``metadata``.
        """
        with open(context.artifacts["pipeline"], "rb") as handle:
            self.pipeline = pickle.load(handle)
        with open(context.artifacts["metadata"], encoding="utf-8") as handle:
            self.metadata = json.load(handle)

    def predict(self, context, model_input: pd.DataFrame, params=None):
        """Validate the candidates and return their prediction table (see the module docstring).

        Parameters
        ----------
        context : mlflow.pyfunc.PythonModelContext
            Not used.
        model_input : pandas.DataFrame
            ``candidate`` and optionally ``overlayer_nm``, ``underlayer``, ``underlayer_nm``; at most
            :data:`MAX_ROWS_PER_REQUEST` rows.
        params : dict or None
            Optional ``threshold_mev_per_a2`` (meV/Å²); default: the one logged with the model.

        Returns
        -------
        pandas.DataFrame
            One row per input row, in input order, columns :data:`OUTPUT_COLUMNS`; missing numbers
            are None (JSON null).

        Raises
        ------
        mlflow.exceptions.MlflowException
            ``INVALID_PARAMETER_VALUE`` (HTTP 400) for too many rows, a bad threshold, or a bad row.
        """
        from lithioscreen.candidates import CandidateError, validate_candidates

        if not isinstance(model_input, pd.DataFrame):
            model_input = pd.DataFrame(model_input)
        _check_size(model_input)
        threshold = _threshold(params, self.metadata["threshold_mev_per_a2"])
        if "candidate" in model_input.columns:
            model_input = model_input.assign(
                candidate=model_input["candidate"].astype(object).where(model_input["candidate"].notna(), "")
            )
        try:
            candidates = validate_candidates(_fill_defaults(model_input), source="input")
        except CandidateError as error:
            raise _bad_input(str(error)) from None
        table = self.pipeline.predict_table(candidates, threshold)[OUTPUT_COLUMNS]
        # JSON has no NaN: a number that does not exist (an infeasible stack's CCD) is served as null
        for column in table.columns:
            if table[column].dtype.kind == "f" and table[column].isna().any():
                table[column] = table[column].astype(object).where(table[column].notna(), None)
        return table


mlflow.models.set_model(CCDCandidateModel())

"""Log the champion as the pyfunc that the registry holds and ``lithioscreen serve`` serves.

:func:`log_serving_model` logs :mod:`lithioscreen.tracking.pyfunc_model` (an MLflow "model from
code") into the champion's run, with the fitted pipeline (pickle), a JSON with the threshold and
the training domain, and a copy of the ``lithioscreen`` package as ``code_paths``: the model then
loads in a fresh process from the registry alone, with the code it was trained with, e.g.
``mlflow.pyfunc.load_model("models:/lithioscreen-ccd@champion")`` or
``mlflow models serve -m models:/lithioscreen-ccd@champion --env-manager local``.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import tempfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pandas as pd

import lithioscreen
from lithioscreen import config

SERVING_MODEL_NAME = "serving_model"
PYFUNC_MODEL_FILE = Path(__file__).with_name("pyfunc_model.py")
#: What the pickled pipeline needs to load and predict (pinned to the versions it was fitted with).
RUNTIME_DISTRIBUTIONS = ("mlflow", "numpy", "pandas", "scipy", "scikit-learn", "pymatgen", "matminer")


def pip_requirements() -> list[str]:
    """The served model's requirements, pinned to the versions installed here.

    Returns
    -------
    list of str
        ``name==version`` for each of :data:`RUNTIME_DISTRIBUTIONS`; the bare name where it is not installed.
    """
    pins = []
    for distribution in RUNTIME_DISTRIBUTIONS:
        try:
            pins.append(f"{distribution}=={version(distribution)}")
        except PackageNotFoundError:
            pins.append(distribution)
    return pins


def serving_signature(threshold_mev_per_a2: float, input_example: pd.DataFrame, output_example: pd.DataFrame):
    """The served model's signature: ``candidate`` required, the stack optional; a ``threshold_mev_per_a2`` parameter.

    Parameters
    ----------
    threshold_mev_per_a2 : float
        The parameter's default, meV/Å².
    input_example : pandas.DataFrame
        Example input (used with ``output_example`` to infer the output schema).
    output_example : pandas.DataFrame
        The model's output for it.

    Returns
    -------
    mlflow.models.ModelSignature
    """
    from mlflow.models import ModelSignature, infer_signature
    from mlflow.types import ColSpec, ParamSchema, ParamSpec, Schema

    inputs = Schema(
        [
            ColSpec("string", "candidate"),
            ColSpec("double", "overlayer_nm", required=False),
            ColSpec("string", "underlayer", required=False),
            ColSpec("double", "underlayer_nm", required=False),
        ]
    )
    outputs = infer_signature(input_example, output_example).outputs
    params = ParamSchema([ParamSpec("threshold_mev_per_a2", "double", float(threshold_mev_per_a2))])
    return ModelSignature(inputs=inputs, outputs=outputs, params=params)


def serving_metadata(model_name: str, fitted_model, threshold_mev_per_a2: float, data_version: str) -> dict:
    """What the served model needs beside the pipeline (the training domain is the pipeline's own fitted state).

    Parameters
    ----------
    model_name : str
        The model's name.
    fitted_model : CCDScreeningModel
        The fitted pipeline (its ``training_candidates_`` are recorded).
    threshold_mev_per_a2 : float
        The default flag threshold, meV/Å².
    data_version : str
        The data it was trained on.

    Returns
    -------
    dict
        ``model``, ``threshold_mev_per_a2``, ``data_version``, ``training_candidates``,
        ``lithioscreen_version`` (JSON-serialisable).
    """
    return {
        "model": model_name,
        "threshold_mev_per_a2": float(threshold_mev_per_a2),
        "data_version": data_version,
        "training_candidates": list(fitted_model.training_candidates_),
        "lithioscreen_version": lithioscreen.__version__,
    }


def log_serving_model(
    fitted_pipeline,
    model_name: str,
    run_id: str | None,
    threshold_mev_per_a2: float,
    data_version: str,
    input_example: pd.DataFrame,
) -> str:
    """Log the candidate-table pyfunc of ``fitted_pipeline`` into run ``run_id``.

    The output schema is inferred by running the pyfunc's own class on ``input_example`` in this process.

    Parameters
    ----------
    fitted_pipeline : CCDScreeningModel
        The fitted champion.
    model_name : str
        Its name.
    run_id : str or None
        The run to log into; None: MLflow's active run (or a new one, as ``log_model`` does).
    threshold_mev_per_a2 : float
        The default flag threshold, meV/Å².
    data_version : str
        The data it was trained on.
    input_example : pandas.DataFrame
        A small candidate table.

    Returns
    -------
    str
        The logged model's URI.
    """
    import mlflow

    metadata = serving_metadata(model_name, fitted_pipeline, threshold_mev_per_a2, data_version)
    with tempfile.TemporaryDirectory(prefix="lithioscreen-serving-") as tmp:
        tmp = Path(tmp)
        with (tmp / "pipeline.pkl").open("wb") as handle:
            pickle.dump(fitted_pipeline, handle)
        (tmp / "metadata.json").write_text(json.dumps(metadata, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        package = tmp / "code" / "lithioscreen"
        shutil.copytree(
            Path(lithioscreen.__file__).parent, package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
        output_example = _predict_in_process(tmp, metadata, input_example)
        with mlflow.start_run(run_id=run_id) if run_id else _no_run():
            info = mlflow.pyfunc.log_model(
                name=SERVING_MODEL_NAME,
                python_model=str(PYFUNC_MODEL_FILE),
                artifacts={"pipeline": str(tmp / "pipeline.pkl"), "metadata": str(tmp / "metadata.json")},
                code_paths=[str(package)],
                signature=serving_signature(threshold_mev_per_a2, input_example, output_example),
                input_example=input_example,
                pip_requirements=pip_requirements(),
            )
    return info.model_uri


def _predict_in_process(folder: Path, metadata: dict, input_example: pd.DataFrame) -> pd.DataFrame:
    """The output for the example, from the same class the pyfunc uses (for the output schema)."""
    from types import SimpleNamespace

    from lithioscreen.tracking.pyfunc_model import CCDCandidateModel

    model = CCDCandidateModel()
    model.load_context(
        SimpleNamespace(artifacts={"pipeline": str(folder / "pipeline.pkl"), "metadata": str(folder / "metadata.json")})
    )
    return model.predict(None, input_example)


class _no_run:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


#: Model-version tag holding the URI of the scikit-learn model the pyfunc wraps (for re-evaluation).
SKLEARN_MODEL_URI_TAG = "sklearn_model_uri"


def register_serving_model(
    serving_uri: str, sklearn_model_uri: str, model_name: str, data_version: str, n_cells: int
) -> str:
    """Register the pyfunc as a new version of ``lithioscreen-ccd``, tagged with what it wraps.

    Parameters
    ----------
    serving_uri : str
        The pyfunc's model URI (:func:`log_serving_model`).
    sklearn_model_uri : str
        The scikit-learn model it wraps (tagged :data:`SKLEARN_MODEL_URI_TAG`, for re-evaluation).
    model_name : str
        The model's name (tag ``model``).
    data_version : str
        The data it was trained on (tag ``data_version``).
    n_cells : int
        Cells it was trained on (tag ``n_cells``).

    Returns
    -------
    str
        The new version number.
    """
    import mlflow

    registered = mlflow.register_model(serving_uri, config.REGISTERED_MODEL_NAME)
    client = mlflow.MlflowClient()
    tags = {
        SKLEARN_MODEL_URI_TAG: sklearn_model_uri,
        "model": model_name,
        "data_version": data_version,
        "n_cells": str(n_cells),
    }
    for key, value in tags.items():
        client.set_model_version_tag(config.REGISTERED_MODEL_NAME, str(registered.version), key, value)
    return str(registered.version)


def source_run_id(model_uri: str) -> str | None:
    """The run that logged ``models:/<model id>`` (MLflow 3 logged models).

    Parameters
    ----------
    model_uri : str
        A model URI.

    Returns
    -------
    str or None
        The source run's id; None for any URI other than ``models:/m-...``.
    """
    import mlflow

    if not model_uri.startswith("models:/m-"):
        return None
    return mlflow.get_logged_model(model_uri.removeprefix("models:/")).source_run_id


class ModelUnavailableError(ValueError):
    """A model URI that does not lead to an MLflow model; the message names it."""


def download_model(model_uri: str, tracking_uri: str) -> str:
    """The model's local folder, as ``mlflow models serve`` gets it (download from the store or the registry).

    Parameters
    ----------
    model_uri : str
        ``models:/lithioscreen-ccd@champion``, ``runs:/...``, a path, ...
    tracking_uri : str
        The tracking store (set as MLflow's current one).

    Returns
    -------
    str
        The local folder holding the ``MLmodel`` file.

    Raises
    ------
    ModelUnavailableError
        If the URI cannot be downloaded or is not an MLflow model.
    """
    import mlflow
    from mlflow.exceptions import MlflowException

    mlflow.set_tracking_uri(tracking_uri)
    try:
        local = mlflow.artifacts.download_artifacts(artifact_uri=model_uri)
    except (MlflowException, OSError, ValueError) as error:
        reason = str(getattr(error, "message", None) or error).strip().splitlines()
        raise ModelUnavailableError(
            f"{model_uri}: cannot load it ({reason[0][:300] if reason else type(error).__name__})"
        ) from None
    if not (Path(local) / "MLmodel").is_file():
        raise ModelUnavailableError(f"{model_uri}: not an MLflow model (no MLmodel file in {local})")
    return local


#: The folder of ``serving_app.py`` and ``scoring_guard.py``, which uvicorn imports as top-level modules.
SERVING_APP_DIR = Path(__file__).parent


def scoring_server_command(
    local_model_path: str, host: str, port: int, workers: int
) -> tuple[list[str], dict[str, str]]:
    """uvicorn on MLflow's scoring app behind the guard, with the environment MLflow's own ``get_cmd`` prepares.

    Parameters
    ----------
    local_model_path : str
        The downloaded model (:func:`download_model`).
    host : str
        Interface to listen on.
    port : int
        Port to listen on.
    workers : int
        uvicorn worker processes.

    Returns
    -------
    command : list of str
        The command line to run.
    env : dict of str to str
        The environment variables MLflow's command would add or change.
    """
    import sys

    from mlflow.pyfunc import scoring_server

    _, env = scoring_server.get_cmd(local_model_path, port, host, None, workers)
    mlflow_env = {key: value for key, value in env.items() if key not in os.environ or os.environ[key] != value}
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--app-dir",
        str(SERVING_APP_DIR),
        "serving_app:app",
    ]
    return command, mlflow_env

"""``lithioscreen train``: validate every model honestly, log it to MLflow, register the champion.

One parent run per training, one nested child run per model, the constant baseline included.
The parent records the data version (SHA-256 of the three data files), the data set as an
MLflow dataset input, the threshold estimate, the nested cross-validation of the model selection
(:func:`lithioscreen.models.evaluation.nested_cross_validate`) and the figures; each child records
its parameters, its leave-one-overlayer-out metrics (prefixed ``cv_``: NLPD, interval MAE/RMSE,
Spearman, 2σ coverage, the paper's CCD-order checks), held-out predictions, parity plot and the
model fitted on every cell. The champion is chosen by :func:`lithioscreen.models.select_model`
(the physics model unless another one beats its NLPD), registered as ``lithioscreen-ccd`` with
the alias ``champion`` and exported to ``models/``.

The tracking store is MLflow's default (``sqlite:///mlflow.db`` in the working directory) unless
``MLFLOW_TRACKING_URI`` or ``tracking_uri`` says otherwise.
"""

from __future__ import annotations

import os
import platform
import warnings
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning

from lithioscreen import __version__, config, data
from lithioscreen.candidates import CANDIDATE_COLUMNS
from lithioscreen.data.versions import data_version  # the same hash as data/cells_history.jsonl records
from lithioscreen.models import (
    BASELINE_MODEL,
    DEFAULT_MODEL,
    cross_validate,
    make_models,
    nested_cross_validate,
    select_model,
)
from lithioscreen.models.evaluation import SELECTION_MARGIN, CrossValidationResult, descriptor_table, regression_rows
from lithioscreen.models.regressors import DEFAULT_NOISE_STD_MA_CM2
from lithioscreen.models.threshold import threshold_from_cells
from lithioscreen.reporting import plots
from lithioscreen.tracking.export import export_champion
from lithioscreen.tracking.stores import check_tracking_uri, end_orphaned_runs, process_tags


@dataclass
class TrainingSummary:
    """What one training did (:func:`train`).

    Attributes
    ----------
    experiment_id, parent_run_id : str
        The MLflow experiment and the training's parent run.
    champion : str
        The model chosen (:func:`lithioscreen.models.select_model`).
    registered_version : str or None
        Its registry version; None when not registered.
    data_version : str
        The data trained on (:func:`lithioscreen.data.versions.data_version`).
    n_cells : int
        Cells the CCD regressor learned from (feasible bilayers with a CCD).
    metrics : dict of str to dict
        Every model's cross-validation metrics.
    threshold : dict of str to float
        The threshold the cells support (:meth:`lithioscreen.models.threshold.ThresholdEstimate.as_dict`).
    model_uris : dict of str to str
        Every model's logged scikit-learn model URI.
    serving_model_uri : str or None
        The champion's candidate-table pyfunc (what the registry holds).
    exported_to : str or None
        The exported model folder; None without export.
    nested_metrics : dict of str to float
        The nested cross-validation of the selection procedure.
    nested_choices : dict of str to str
        Held-out overlayer to the model the inner CV chose.
    order_checks : dict of str to list
        Per model, the paper's CCD-order statements on its held-out predictions.
    training_cells : pandas.DataFrame or None
        The training table exactly as trained on (the bytes behind ``data_version``), for re-evaluations.
    """

    experiment_id: str
    parent_run_id: str
    champion: str
    registered_version: str | None
    data_version: str
    n_cells: int
    metrics: dict[str, dict[str, float]]
    threshold: dict[str, float]
    model_uris: dict[str, str] = field(default_factory=dict)
    serving_model_uri: str | None = None  # the champion's candidate-table pyfunc (what the registry holds)
    exported_to: str | None = None
    nested_metrics: dict[str, float] = field(default_factory=dict)  # the selection procedure, nested leave-one-out
    nested_choices: dict[str, str] = field(default_factory=dict)  # held-out overlayer -> model the inner CV chose
    order_checks: dict[str, list] = field(
        default_factory=dict
    )  # model -> the paper's CCD-order statements on its held-out predictions
    # the cells exactly as trained on (the bytes behind data_version), for re-evaluations
    training_cells: pd.DataFrame | None = field(default=None, repr=False)

    def as_record(self) -> dict:
        """The summary as plain values (what ``train --format json`` prints); the cells table left out.

        Returns
        -------
        dict
            Every field but ``training_cells``.
        """
        return {name: value for name, value in asdict(self).items() if name != "training_cells"}


def resolve_tracking_uri(tracking_uri: str | None = None) -> str:
    """The explicit URI, else MLFLOW_TRACKING_URI, else MLflow's default: sqlite:///mlflow.db here.

    Resolved on every call rather than left to MLflow's process-wide state, so that a training
    run always goes where the caller and the environment say.

    Parameters
    ----------
    tracking_uri : str or None
        An explicit URI; None or ``""``: from the environment.

    Returns
    -------
    str
        The URI (the default one with an absolute path in the current working directory).
    """
    return tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{Path.cwd() / 'mlflow.db'}"


def _load_consistent(paths: list[Path], attempts: int = 5):
    """The three data files and the version hash of exactly the bytes that were loaded.

    ``cells add`` may replace cells.csv at any moment (atomically); hashing before and after the
    load and retrying on a mismatch guarantees that the logged data version is the trained data.
    """
    for _ in range(attempts):
        before = data_version(paths)
        loaded = data.load_cells(paths[0]), data.load_phase_data(paths[1]), data.load_interfacial_energies(paths[2])
        if data_version(paths) == before:
            return (*loaded, before)
    raise RuntimeError(f"the data in {paths[0].parent} kept changing while it was loaded ({attempts} attempts)")


def artifact_location(tracking_uri: str) -> str | None:
    """Artifacts of a new experiment in a SQLite store go beside the database file (``<dir>/mlruns``).

    MLflow's own default is ``./mlruns`` in the current directory, which scatters artifacts of a
    store in /tmp (tests, ``cells add --tracking-uri``) into whatever folder the command ran in.
    Other stores (a tracking server) keep their own artifact root.

    Parameters
    ----------
    tracking_uri : str
        The tracking URI.

    Returns
    -------
    str or None
        A ``file://`` URI of ``mlruns`` beside the database for ``sqlite:///`` stores; None otherwise.
    """
    prefix = "sqlite:///"
    if not tracking_uri.startswith(prefix):
        return None
    database = Path(tracking_uri[len(prefix) :])
    return (database.parent / "mlruns").resolve().as_uri()


def _experiment(mlflow, name: str, tracking_uri: str):
    if mlflow.get_experiment_by_name(name) is None:
        mlflow.create_experiment(name, artifact_location=artifact_location(tracking_uri))
    return mlflow.set_experiment(name)


def _log_model_run(mlflow, name: str, fitted, result: CrossValidationResult, signature, input_example) -> str:
    """Log one model's parameters, CV results and plots, and the model fitted on every cell."""
    import matplotlib.pyplot as plt

    regressor = fitted.regressor_
    mlflow.log_params(
        {
            "model": name,
            "regressor": type(regressor).__name__,
            "features": ",".join(fitted.columns_),
            "cv": "leave-one-overlayer-out over feasible bilayer cells with a CCD",
            "censoring": "interval likelihood (Bayesian, MCMC)"
            if hasattr(regressor, "draws_")
            else "interval targets, self-consistent imputation",
            "measurement_noise_std_ma_cm2": fitted.noise_std,
            **{f"regressor__{key}": str(value)[:250] for key, value in regressor.get_params(deep=False).items()},
        }
    )
    mlflow.set_tag(
        "role", "baseline" if name == BASELINE_MODEL else ("default" if name == DEFAULT_MODEL else "compared")
    )
    mlflow.log_metrics({f"cv_{key}": value for key, value in result.metrics.items() if np.isfinite(value)})
    if hasattr(regressor, "posterior_summary"):
        mlflow.log_metrics({f"posterior_{key}": value for key, value in regressor.posterior_summary().items()})
    mlflow.log_dict({"model_features": fitted.columns_, "order_checks": result.order_checks}, "features.json")
    mlflow.log_text(result.predictions.to_csv(index=False), "cv_predictions.csv")
    figure = plots.parity_plot(result.predictions, f"{name}: leave-one-overlayer-out")
    mlflow.log_figure(figure, "plots/parity.png")
    plt.close(figure)
    # pickle, not skops: skops cannot serialise lithioscreen's own estimator classes
    info = mlflow.sklearn.log_model(
        fitted,
        name="model",
        signature=signature,
        input_example=input_example,
        serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_PICKLE,
    )
    return info.model_uri


def train(
    data_dir: Path | None = None,
    tracking_uri: str | None = None,
    experiment_name: str = config.EXPERIMENT_NAME,
    models_dir: Path | None = None,
    threshold_mev_per_a2: float = config.DEFAULT_THRESHOLD_MEV_PER_A2,
    ccd_target_ma_cm2: float = config.DEFAULT_CCD_TARGET_MA_CM2,
    register: bool = True,
    export: bool = True,
) -> TrainingSummary:
    """Train, cross-validate and log every model; register and export the champion.

    The runs and what they record are described in the module docstring.

    Parameters
    ----------
    data_dir : pathlib.Path or None
        The data folder; None: :func:`lithioscreen.config.data_dir`.
    tracking_uri : str or None
        The MLflow tracking store; None: :func:`resolve_tracking_uri`.
    experiment_name : str
        The MLflow experiment (created if missing).
    models_dir : pathlib.Path or None
        Where to export the champion; None: :func:`lithioscreen.config.models_dir`.
    threshold_mev_per_a2 : float
        The flag threshold recorded with the model, meV/Å².
    ccd_target_ma_cm2 : float
        The CCD target for the figures, mA/cm².
    register : bool
        Register the champion's pyfunc as a new version and move the ``champion`` alias to it.
    export : bool
        Export the champion to ``models_dir``.

    Returns
    -------
    TrainingSummary
        What was trained, logged, registered and exported.

    Raises
    ------
    lithioscreen.data.DataValidationError
        If a data file is invalid.
    lithioscreen.tracking.stores.TrackingStoreError
        If the tracking URI cannot be used.
    RuntimeError
        If the data files keep changing while they are loaded.
    lithioscreen.config.ReadOnlyFolderError
        If exporting into the copy shipped inside the installed package.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=ConvergenceWarning)  # deliberate GP noise floor
        warnings.filterwarnings("ignore", message="The specified dataset source can be interpreted in multiple ways")
        return _train(
            data_dir,
            tracking_uri,
            experiment_name,
            models_dir,
            threshold_mev_per_a2,
            ccd_target_ma_cm2,
            register,
            export,
        )


def _train(
    data_dir, tracking_uri, experiment_name, models_dir, threshold_mev_per_a2, ccd_target_ma_cm2, register, export
) -> TrainingSummary:
    import logging

    import matplotlib.pyplot as plt
    import mlflow
    import mlflow.sklearn
    from mlflow.models import infer_signature

    # We save with pickle on purpose (see _log_model_run); MLflow warns on every model otherwise.
    logging.getLogger("mlflow.sklearn").setLevel(logging.ERROR)

    data_dir = Path(data_dir or config.data_dir())
    paths = [
        data_dir / config.CELLS_FILE,
        data_dir / config.PHASE_DATA_FILE,
        data_dir / config.INTERFACIAL_ENERGIES_FILE,
    ]
    all_cells, phase_data, interfacial_data, version = _load_consistent(paths)
    orderings_path = data_dir / config.ORDERINGS_FILE
    orderings = data.load_ccd_orderings(orderings_path) if orderings_path.exists() else None
    table = data.training_cells(all_cells)

    # registering and re-loading models draws download progress bars on stderr: noise in a CLI
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    tracking_uri = resolve_tracking_uri(tracking_uri)
    check_tracking_uri(tracking_uri)  # issue 12: foo://bar or an unreachable server fails fast, naming the URI
    mlflow.set_tracking_uri(tracking_uri)
    experiment = _experiment(mlflow, experiment_name, tracking_uri)
    end_orphaned_runs(mlflow.MlflowClient(tracking_uri), experiment.experiment_id)  # runs of a killed training: FAILED

    models = make_models(phase_data, interfacial_data)
    features = descriptor_table(next(iter(models.values())), table)
    cell_features = pd.concat([table, features.drop(columns=[c for c in features if c in table])], axis=1)
    regression = regression_rows(next(iter(models.values())), table)
    threshold = threshold_from_cells(cell_features.iloc[regression])
    input_example = table[CANDIDATE_COLUMNS].head(2)

    results: dict[str, CrossValidationResult] = {}
    model_uris: dict[str, str] = {}
    signatures = {}
    with mlflow.start_run(run_name=f"train-data-{version[:8]}", tags=process_tags()) as parent:
        mlflow.log_params(
            {
                "data_version": version,
                "n_cells": len(regression),
                "n_censored": int((table.iloc[regression]["ccd_censoring"] != "exact").sum()),
                "n_failed_stacks": int((table["outcome"] == "failed").sum()),
                "n_cells_in_file": len(all_cells),
                "threshold_mev_per_a2": threshold_mev_per_a2,
                "ccd_target_ma_cm2": ccd_target_ma_cm2,
                "default_model": DEFAULT_MODEL,
                "baseline_model": BASELINE_MODEL,
                "selection": f"lowest leave-one-out NLPD; the default unless beaten by more than {SELECTION_MARGIN} nats per cell",
                "measurement_noise_std_ma_cm2": DEFAULT_NOISE_STD_MA_CM2,
                "lithioscreen_version": __version__,
                "python": platform.python_version(),
            }
        )
        for path in paths + ([orderings_path] if orderings is not None else []):
            mlflow.set_tag(f"sha256.{path.name}", data.file_sha256(path))
        dataset = mlflow.data.from_pandas(all_cells, source=str(paths[0]), name=config.CELLS_FILE, digest=version[:16])
        mlflow.log_input(dataset, context="training")
        mlflow.log_metrics({f"data_threshold_{key}": value for key, value in threshold.items() if np.isfinite(value)})
        figure = plots.interfacial_energy_plot(
            cell_features[cell_features["outcome"] == "ccd"], threshold_mev_per_a2, threshold
        )
        mlflow.log_figure(figure, "plots/interfacial_energy_vs_ccd.png")
        plt.close(figure)
        mlflow.log_text(cell_features.to_csv(index=False), "training_cells.csv")

        for name, model in models.items():
            results[name] = cross_validate(model, table, orderings, features, regression)
            with mlflow.start_run(run_name=name, nested=True, tags=process_tags()):
                mlflow.log_input(dataset, context="training")
                mlflow.set_tag("data_version", version)
                fitted = model.fit(table, features=features)
                signatures[name] = infer_signature(input_example, fitted.predict(input_example))
                model_uris[name] = _log_model_run(mlflow, name, fitted, results[name], signatures[name], input_example)

        metrics = {name: result.metrics for name, result in results.items()}
        champion = select_model(metrics, DEFAULT_MODEL)
        nested = nested_cross_validate(models, table, DEFAULT_MODEL, orderings)
        mlflow.set_tag("champion", champion)
        mlflow.log_metrics(
            {f"champion_cv_{key}": value for key, value in metrics[champion].items() if np.isfinite(value)}
        )
        mlflow.log_metrics({f"nested_cv_{key}": value for key, value in nested.metrics.items() if np.isfinite(value)})
        mlflow.log_text(nested.predictions.to_csv(index=False), "nested_cv_predictions.csv")
        comparison = pd.DataFrame(metrics).T.reset_index(names="model")
        mlflow.log_text(comparison.to_csv(index=False), "model_comparison.csv")
        mlflow.log_dict({name: result.order_checks for name, result in results.items()}, "order_checks.json")

    # the registry holds the candidate-table pyfunc (tracking/serving.py), logged into the champion's run;
    # it is logged even when this call does not register it, so that a promotion can register it later
    from lithioscreen.tracking.serving import log_serving_model, register_serving_model, source_run_id

    serving_uri = log_serving_model(
        models[champion], champion, source_run_id(model_uris[champion]), threshold_mev_per_a2, version, input_example
    )
    registered_version = None
    if register:
        registered_version = register_serving_model(
            serving_uri, model_uris[champion], champion, version, len(regression)
        )
        mlflow.MlflowClient().set_registered_model_alias(
            config.REGISTERED_MODEL_NAME, config.CHAMPION_ALIAS, registered_version
        )

    from lithioscreen.reporting import log_training_figures

    log_training_figures(
        parent.info.run_id,
        models[champion],
        champion,
        table,
        phase_data,
        results[champion].predictions,
        threshold_mev_per_a2,
        ccd_target_ma_cm2,
    )

    exported = None
    if export:
        metadata = {
            "model": champion,
            "registered_model": config.REGISTERED_MODEL_NAME if register else None,
            "registered_version": registered_version,
            "parent_run_id": parent.info.run_id,
            "model_uri": model_uris[champion],
            "tracking_uri": mlflow.get_tracking_uri(),
            "data_version": version,
            "n_cells": len(regression),
            "n_censored": int((table.iloc[regression]["ccd_censoring"] != "exact").sum()),
            "n_failed_stacks": int((table["outcome"] == "failed").sum()),
            "training_candidates": sorted(table.iloc[regression]["candidate"].unique().tolist()),
            "cv_metrics": metrics[champion],
            "all_models_cv": {
                name: {key: metrics[name][key] for key in ("nlpd", "mae", "rmse", "spearman")} for name in metrics
            },
            "nested_cv_metrics": nested.metrics,
            "nested_cv_choices": nested.chosen,
            "order_checks": results[champion].order_checks,
            "threshold_mev_per_a2": threshold_mev_per_a2,
            "data_threshold": threshold,
            "ccd_target_ma_cm2": ccd_target_ma_cm2,
            "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "lithioscreen_version": __version__,
        }
        exported = str(export_champion(models[champion], metadata, models_dir, signatures[champion], input_example))

    return TrainingSummary(
        experiment_id=experiment.experiment_id,
        parent_run_id=parent.info.run_id,
        champion=champion,
        registered_version=registered_version,
        data_version=version,
        n_cells=len(regression),
        metrics=metrics,
        threshold=threshold,
        model_uris=model_uris,
        serving_model_uri=serving_uri,
        exported_to=exported,
        nested_metrics=nested.metrics,
        nested_choices=nested.chosen,
        order_checks={name: result.order_checks for name, result in results.items()},
        training_cells=table,
    )

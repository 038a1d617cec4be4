"""Retraining on a new data version, and the rule that decides whether the champion changes.

:func:`retrain_and_promote` trains every model in a new MLflow run (:func:`lithioscreen.tracking.
training.train`, which logs the data version and the number of cells), then compares the new
run's best model with the **current champion re-evaluated on the new data**: the champion's
model (unfitted clone, same hyperparameters) is cross-validated with the same
leave-one-overlayer-out splits on the same cells. Scores are compared on the held-out NLPD (the
score models are selected on), ties on the interval MAE. A champion of an earlier model format
(before the feasibility model) cannot be re-evaluated and is replaced, with the reason recorded.

* new score at least as good: the new model is registered as a new version of
  ``lithioscreen-ccd``, the ``champion`` alias moves to it, and ``models/`` is re-exported;
* otherwise: the new version is registered **without** the alias, ``models/`` is left as it
  is, and the decision says why (both scores, on which data version).

The current champion is the registry's ``champion`` version; a store without one (a fresh clone
has only the exported ``models/``) falls back to the exported champion; with neither, the new
model is promoted. The decision is recorded as tags on the new run and on the model version.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from lithioscreen import config
from lithioscreen.models.champion import METADATA_FILENAME, install_export, models_lock
from lithioscreen.tracking.serving import SKLEARN_MODEL_URI_TAG, register_serving_model

#: Scores closer than this count as equal (NLPD in nats per cell, MAE in mA/cm²).
SCORE_TOLERANCE = 1e-9
#: How long a retraining waits for another one on the same models folder, seconds.
PROMOTION_LOCK_TIMEOUT_S = 3600.0


@dataclass
class CurrentChampion:
    """The champion a retraining must beat.

    Attributes
    ----------
    model : object
        The fitted model; it is cloned (unfitted) for re-evaluation.
    name : str
        Its model name (``physics_monotone``), or ``unknown``.
    source : str
        ``registry`` or ``models_dir``.
    version : str or None
        Its registry version, where known.
    data_version : str or None
        The data it was trained on, where known.
    """

    model: object  # the fitted pipeline; it is cloned (unfitted) for re-evaluation
    name: str  # model name, e.g. bayesian_ridge
    source: str  # "registry" or "models_dir"
    version: str | None = None  # registry version, when from the registry
    data_version: str | None = None  # the data it was trained on


@dataclass
class PromotionDecision:
    """What :func:`retrain_and_promote` decided, and why.

    Attributes
    ----------
    promoted : bool
        Whether the new model became the champion.
    reason : str
        Why, with both scores.
    new_model : str
        The new run's best model.
    new_version : str or None
        Its registry version.
    new_metrics : dict of str to float
        Its cross-validation metrics.
    data_version : str
        The data it was trained on.
    n_cells : int
        Cells it was trained on.
    parent_run_id : str
        The training's MLflow parent run.
    champion_before : dict or None
        ``model``, ``source``, ``version``, ``data_version`` of the champion compared with; None
        if there was none (or one of an earlier format).
    champion_before_metrics : dict of str to float or None
        That champion's metrics, re-evaluated on the new data.
    exported_to : str or None
        The model folder written, when promoted.
    all_models_metrics : dict of str to dict
        Every model's cross-validation metrics in the new run.
    """

    promoted: bool
    reason: str
    new_model: str
    new_version: str | None
    new_metrics: dict[str, float]
    data_version: str
    n_cells: int
    parent_run_id: str
    champion_before: dict | None = None  # name, source, version, data_version
    champion_before_metrics: dict[str, float] | None = None  # re-evaluated on the new data
    exported_to: str | None = None
    all_models_metrics: dict[str, dict[str, float]] = field(default_factory=dict)


def at_least_as_good(new: dict[str, float], old: dict[str, float], tolerance: float = SCORE_TOLERANCE) -> bool:
    """Whether ``new`` scores no worse than ``old``: NLPD first, interval MAE on a tie; lower is better.

    Parameters
    ----------
    new, old : dict of str to float
        Cross-validation metrics with ``nlpd`` and ``mae``.
    tolerance : float
        Differences within this count as ties.

    Returns
    -------
    bool
    """
    if new["nlpd"] < old["nlpd"] - tolerance:
        return True
    if new["nlpd"] > old["nlpd"] + tolerance:
        return False
    return new["mae"] <= old["mae"] + tolerance


def current_champion(tracking_uri: str, models_dir: Path) -> CurrentChampion | None:
    """The registry's champion, else the exported one in ``models_dir``, else None.

    The registry's champion counts only if the scikit-learn model it is tagged with can still be
    loaded; otherwise the exported pickle is used.

    Parameters
    ----------
    tracking_uri : str
        The MLflow tracking store (also set as MLflow's current one when the registry has a champion).
    models_dir : pathlib.Path
        The models folder with the exported champion.

    Returns
    -------
    CurrentChampion or None
        None when there is neither.
    """
    import mlflow
    import mlflow.sklearn
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    client = MlflowClient(tracking_uri)
    try:
        version = client.get_model_version_by_alias(config.REGISTERED_MODEL_NAME, config.CHAMPION_ALIAS)
    except MlflowException:
        version = None
    if version is not None:
        name = version.tags.get("model")
        data = version.tags.get("data_version")
        if not name and version.run_id:
            run = client.get_run(version.run_id)
            name = run.data.params.get("model")
            data = data or run.data.tags.get("data_version")
        mlflow.set_tracking_uri(tracking_uri)
        # the registered version is the candidate-table pyfunc; the scikit-learn model it wraps is tagged on it
        sklearn_uri = version.tags.get(SKLEARN_MODEL_URI_TAG)
        if sklearn_uri:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    model = mlflow.sklearn.load_model(sklearn_uri)
                return CurrentChampion(model, name or "unknown", "registry", str(version.version), data)
            except MlflowException:
                pass  # its run's artifacts are gone: fall back to the exported pickle
    from lithioscreen.models.champion import NoChampionError, load_champion

    try:
        exported = load_champion(models_dir)
    except NoChampionError:
        return None
    meta = exported.metadata
    return CurrentChampion(
        exported.model,
        meta.get("model", "unknown"),
        "models_dir",
        str(version.version) if version is not None else meta.get("registered_version"),
        meta.get("data_version"),
    )


def _install_export(staging: Path, models_dir: Path, metadata_update: dict) -> Path:
    """Move a complete export from ``staging`` into ``models_dir`` (the old one is replaced only then)."""
    metadata_file = staging / METADATA_FILENAME
    metadata = json.loads(metadata_file.read_text()) | metadata_update
    metadata_file.write_text(json.dumps(metadata, indent=2, sort_keys=True) + "\n")
    return install_export(staging, models_dir)


def retrain_and_promote(
    data_dir: Path | None = None,
    tracking_uri: str | None = None,
    models_dir: Path | None = None,
    **train_options,
) -> PromotionDecision:
    """Train every model on ``data_dir`` in a new MLflow run; promote the best only if it beats the champion.

    The rule and what is recorded are in the module docstring. The new version is registered either
    way; only a promotion moves the ``champion`` alias and re-exports ``models_dir``.

    Parameters
    ----------
    data_dir : pathlib.Path or None
        The data folder; None: :func:`lithioscreen.config.data_dir`.
    tracking_uri : str or None
        The MLflow tracking store; None: as :func:`lithioscreen.tracking.training.resolve_tracking_uri`.
    models_dir : pathlib.Path or None
        The models folder; None: :func:`lithioscreen.config.models_dir`.
    **train_options
        ``experiment_name``, ``threshold_mev_per_a2``, ``ccd_target_ma_cm2``: passed on to
        :func:`lithioscreen.tracking.training.train` (same defaults).

    Returns
    -------
    PromotionDecision
        The decision and the scores behind it.

    Raises
    ------
    lithioscreen.config.ReadOnlyFolderError
        If ``models_dir`` is the copy shipped inside the installed package.
    lithioscreen.tracking.stores.TrackingStoreError
        If the tracking URI cannot be used.
    TimeoutError
        If another retraining holds the models folder's lock for too long.
    """
    from lithioscreen.tracking.stores import check_tracking_uri
    from lithioscreen.tracking.training import resolve_tracking_uri

    data_dir = Path(data_dir or config.data_dir())
    models_dir = config.writable(Path(models_dir or config.models_dir()), "the exported champion")
    models_dir.mkdir(parents=True, exist_ok=True)
    # One retraining at a time per models folder: a second one compares with the first one's outcome.
    # The lock (models/.promotion.lock) is also held by every export; holding it, the staging folders
    # of a retraining or export that was killed are cleaned up first (models.champion.recover_staging).
    tracking_uri = resolve_tracking_uri(tracking_uri)
    check_tracking_uri(tracking_uri)
    with models_lock(models_dir, PROMOTION_LOCK_TIMEOUT_S):
        return _retrain_and_promote(data_dir, tracking_uri, models_dir, train_options)


def _retrain_and_promote(data_dir, tracking_uri, models_dir, train_options: dict) -> PromotionDecision:
    import mlflow
    from mlflow import MlflowClient
    from sklearn.base import clone

    from lithioscreen.models import CCDScreeningModel, cross_validate
    from lithioscreen.tracking.training import train

    before = current_champion(tracking_uri, models_dir)
    staging = Path(tempfile.mkdtemp(prefix=".candidate-", dir=models_dir))
    try:
        summary = train(data_dir, tracking_uri, models_dir=staging, register=False, export=True, **train_options)
        new_metrics = summary.metrics[summary.champion]
        before_metrics = None
        if before is None:
            promoted = True
            reason = f"no current champion (neither a '{config.CHAMPION_ALIAS}' alias in the registry nor an export in {models_dir})"
        elif not isinstance(before.model, CCDScreeningModel):
            promoted = True
            reason = (
                f"the current champion ({before.name}, {before.source}) is of an earlier model format without the feasibility "
                "model and cannot be re-evaluated on the same terms; replaced"
            )
            before = None
        else:
            # the very cells the new model was trained on: a `cells add` landing meanwhile changes nothing here
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                before_metrics = cross_validate(clone(before.model), summary.training_cells).metrics
            promoted = at_least_as_good(new_metrics, before_metrics)
            if before.source == "registry":
                label = f"{before.name} v{before.version} (registry alias '{config.CHAMPION_ALIAS}')"
            else:
                label = f"{before.name} exported in {models_dir} (no '{config.CHAMPION_ALIAS}' alias in this store)"
            comparison = (
                f"new best {summary.champion}: CV NLPD {new_metrics['nlpd']:.3f}, interval MAE {new_metrics['mae']:.3f} mA/cm²; "
                f"current champion {label} re-evaluated with the same leave-one-overlayer-out CV on the same "
                f"{summary.n_cells} cells (data {summary.data_version[:12]}): NLPD {before_metrics['nlpd']:.3f}, MAE {before_metrics['mae']:.3f}"
            )
            reason = (
                "promoted: at least as good as the current champion. "
                if promoted
                else "not promoted: worse than the current champion. "
            ) + comparison

        mlflow.set_tracking_uri(tracking_uri)
        client = MlflowClient(tracking_uri)
        version = register_serving_model(
            summary.serving_model_uri,
            summary.model_uris[summary.champion],
            summary.champion,
            summary.data_version,
            summary.n_cells,
        )
        tags = {
            "cv_mae": f"{new_metrics['mae']:.6g}",
            "promoted": str(promoted).lower(),
            "promotion_reason": reason[:5000],
        }
        for key, value in tags.items():
            client.set_model_version_tag(config.REGISTERED_MODEL_NAME, version, key, value)
        client.set_tag(summary.parent_run_id, "promotion.promoted", str(promoted).lower())
        client.set_tag(summary.parent_run_id, "promotion.reason", reason[:5000])
        client.set_tag(summary.parent_run_id, "promotion.registered_version", version)
        if before is not None:
            label = (
                f"{before.name} v{before.version}" if before.version else f"{before.name} (exported in {models_dir})"
            )
            client.set_tag(summary.parent_run_id, "promotion.champion_before", label)
            for key in ("nlpd", "mae", "rmse"):
                client.log_metric(summary.parent_run_id, f"champion_before_reevaluated_cv_{key}", before_metrics[key])

        exported = None
        if promoted:
            client.set_registered_model_alias(config.REGISTERED_MODEL_NAME, config.CHAMPION_ALIAS, version)
            exported = str(
                _install_export(
                    staging,
                    models_dir,
                    {
                        "registered_model": config.REGISTERED_MODEL_NAME,
                        "registered_version": version,
                        "promotion_reason": reason,
                    },
                )
            )
    finally:
        shutil.rmtree(staging, ignore_errors=True)

    return PromotionDecision(
        promoted=promoted,
        reason=reason,
        new_model=summary.champion,
        new_version=version,
        new_metrics=new_metrics,
        data_version=summary.data_version,
        n_cells=summary.n_cells,
        parent_run_id=summary.parent_run_id,
        champion_before=None
        if before is None
        else {
            "model": before.name,
            "source": before.source,
            "version": before.version,
            "data_version": before.data_version,
        },
        champion_before_metrics=before_metrics,
        exported_to=exported,
        all_models_metrics=summary.metrics,
    )

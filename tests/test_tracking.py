"""End-to-end: train into a temporary MLflow store; the runs, registry and export are real."""

import json

import pandas as pd
import pytest

from lithioscreen import config

pytestmark = pytest.mark.slow


def test_runs_metrics_and_dataset_are_logged(trained):
    from mlflow import MlflowClient

    summary = trained["summary"]
    client = MlflowClient(trained["tracking_uri"])
    parent = client.get_run(summary.parent_run_id)
    assert parent.data.params["data_version"] == summary.data_version
    assert parent.data.params["n_cells"] == "5" and parent.data.params["n_failed_stacks"] == "2"
    assert {"nested_cv_nlpd", "nested_cv_mae", "champion_cv_nlpd"} <= set(parent.data.metrics)
    assert parent.inputs.dataset_inputs and parent.inputs.dataset_inputs[0].dataset.name == "cells.csv"
    children = client.search_runs([summary.experiment_id], f"tags.mlflow.parentRunId = '{summary.parent_run_id}'")
    assert {run.info.run_name for run in children} == {
        "physics_monotone",
        "censored_linear",
        "constant_baseline",
        "bayesian_ridge_imputation",
    }
    assert {run.info.run_name: run.data.tags["role"] for run in children}["constant_baseline"] == "baseline"
    for run in children:
        assert {"cv_nlpd", "cv_mae", "cv_rmse", "cv_spearman", "cv_coverage_2sigma", "cv_order_checks_passed"} <= set(
            run.data.metrics
        )
        artifacts = {a.path for a in client.list_artifacts(run.info.run_id)} | {
            a.path for a in client.list_artifacts(run.info.run_id, "plots")
        }
        assert {"plots/parity.png", "features.json", "cv_predictions.csv"} <= artifacts
    assert "plots/interfacial_energy_vs_ccd.png" in {a.path for a in client.list_artifacts(parent.info.run_id, "plots")}


def test_champion_is_registered_with_alias_and_loads_from_the_registry(trained):
    import mlflow
    from mlflow import MlflowClient

    client = MlflowClient(trained["tracking_uri"])
    version = client.get_model_version_by_alias(config.REGISTERED_MODEL_NAME, config.CHAMPION_ALIAS)
    assert str(version.version) == trained["summary"].registered_version
    mlflow.set_tracking_uri(trained["tracking_uri"])
    model = mlflow.pyfunc.load_model(f"models:/{config.REGISTERED_MODEL_NAME}@{config.CHAMPION_ALIAS}")
    frame = pd.DataFrame(
        {
            "candidate": ["W", "Mg", "W"],
            "overlayer_nm": [30.0, 200.0, 200.0],
            "underlayer": ["Mg", "none", "Mg"],
            "underlayer_nm": [200.0, 0.0, 200.0],
        }
    )
    prediction = model.predict(frame)  # the candidate-table pyfunc (tests/test_serving.py)
    ccd = prediction["predicted_ccd_ma_cm2"].to_numpy()
    assert ccd.shape == (3,) and ccd[0] > ccd[1] and ccd[2] is None  # an infeasible stack has no CCD: null
    assert prediction["feasible"].tolist() == [True, True, False] and "200 nm" in prediction["infeasible_reason"][2]


def test_champion_is_chosen_by_the_selection_rule_and_is_exported(trained):
    from lithioscreen.models import DEFAULT_MODEL, select_model

    summary = trained["summary"]
    best = select_model(summary.metrics, DEFAULT_MODEL)
    assert summary.champion == best and best != "bayesian_ridge_imputation"
    assert summary.nested_metrics["n_cells"] == 5 and set(summary.nested_choices) == {"W", "Cr", "Mo", "Ti", "Zr"}
    metadata = json.loads((trained["models_dir"] / "champion.json").read_text())
    assert metadata["model"] == best and metadata["data_version"] == summary.data_version
    assert "constant_baseline" in metadata["all_models_cv"] and "nested_cv_metrics" in metadata
    assert (trained["models_dir"] / "lithioscreen-ccd" / "MLmodel").exists()


def test_threshold_supported_by_the_data(trained):
    threshold = trained["summary"].threshold
    # the step falls between the paper's two groups: Mo, Ti, Zr (CCD 3.2-4.8) below, Cr and W above
    from lithioscreen.candidates import make_candidates
    from lithioscreen.features import InterfacialEnergyFeaturizer

    metals = ["W", "Cr", "Mo", "Ti", "Zr"]
    energy = dict(
        zip(
            metals,
            InterfacialEnergyFeaturizer().fit().transform(make_candidates(metals))["interfacial_energy_mev_per_a2"],
        )
    )
    assert threshold["lower_mev_per_a2"] == pytest.approx(max(energy[m] for m in ("Mo", "Ti", "Zr")))
    assert threshold["upper_mev_per_a2"] == pytest.approx(min(energy["W"], energy["Cr"]))
    assert threshold["ccd_above_ma_cm2"] > threshold["ccd_below_ma_cm2"]

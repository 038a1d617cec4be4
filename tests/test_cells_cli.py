"""The weekly loop end to end: `cells add` retrains in a new MLflow run and promotes (or not).

Both scenarios start from a copy of the session's trained store (registry: v1 @champion, trained on
the paper's six cells) and add SYNTHETIC TEST ROWS to a copy of data/; nothing shipped is touched.
"""

from __future__ import annotations

import json
import shutil

import pytest
from cells_helpers import new_row, write_cells
from typer.testing import CliRunner

from lithioscreen import config
from lithioscreen.candidates import make_candidates
from lithioscreen.cli import app
from lithioscreen.data import load_cells
from lithioscreen.data.intake import add_cells
from lithioscreen.data.versions import read_history
from lithioscreen.models.champion import load_champion
from lithioscreen.tracking.promotion import at_least_as_good

runner = CliRunner()
REPO_DATA = config.PROJECT_ROOT / "data"


def test_promotion_rule_compares_nlpd_then_mae():
    assert at_least_as_good({"nlpd": 1.4, "mae": 9.0}, {"nlpd": 1.5, "mae": 1.0})
    assert at_least_as_good({"nlpd": 1.5, "mae": 1.0}, {"nlpd": 1.5, "mae": 1.0})  # a tie promotes
    assert not at_least_as_good({"nlpd": 1.5, "mae": 1.1}, {"nlpd": 1.5, "mae": 1.0})
    assert not at_least_as_good({"nlpd": 1.6, "mae": 0.1}, {"nlpd": 1.5, "mae": 1.0})


def _predict(champion, candidates):
    table = champion.model.predict_table(candidates)
    return table["predicted_ccd_ma_cm2"].to_numpy(), table["predicted_ccd_std"].to_numpy()


def _copy_trained_state(trained, root):
    """data/, the MLflow store and models/ as the session's training left them, in ``root``."""
    shutil.copytree(REPO_DATA, root / "data")
    shutil.copy(trained["root"] / "mlflow.db", root / "mlflow.db")
    shutil.copytree(trained["models_dir"], root / "models")
    return f"sqlite:///{root / 'mlflow.db'}"


def _files(folder):
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.fixture(scope="module")
def weekly(trained, tmp_path_factory):
    """Add a synthetic Nb/Mg cell with a high exact CCD (5.0, at the top of the measured range) and retrain."""
    root = tmp_path_factory.mktemp("weekly")
    uri = _copy_trained_state(trained, root)
    nb = make_candidates(["Nb"])
    before = _predict(load_champion(root / "models"), nb)
    new_file = write_cells(root / "nb.csv", [new_row("synthetic-nb30-mg200")])
    # issue 12: what a retraining killed with kill -9 leaves behind; the next one must clean it up
    from test_tracking_stores import killed_training_runs

    orphans = killed_training_runs(uri, root, "weekly-loop-test")
    (root / "models" / ".candidate-killed" / "lithioscreen-ccd").mkdir(parents=True)
    (root / "models" / ".retired-killed").mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)  # artifacts of the new experiment land in root/mlruns
        patch.setenv("MLFLOW_TRACKING_URI", uri)  # restored afterwards (mlflow.set_tracking_uri exports it)
        result = runner.invoke(
            app,
            [
                "cells",
                "add",
                str(new_file),
                "--data-dir",
                str(root / "data"),
                "--tracking-uri",
                uri,
                "--models-dir",
                str(root / "models"),
                "--experiment",
                "weekly-loop-test",
                "--format",
                "json",
            ],
        )
    assert result.exit_code == 0, result.output
    return {
        "root": root,
        "uri": uri,
        "report": json.loads(result.stdout),
        "before": before,
        "nb": nb,
        "orphans": orphans,
    }


@pytest.mark.slow
def test_add_retrains_in_a_new_run_with_the_data_version_of_the_history(weekly):
    from mlflow import MlflowClient

    report, root = weekly["report"], weekly["root"]
    assert report["added"] == ["synthetic-nb30-mg200"] and report["trained"] is True
    history = read_history(root / "data")
    assert [e.kind for e in history] == ["snapshot", "append"]
    promotion = report["promotion"]
    run = MlflowClient(weekly["uri"]).get_run(promotion["parent_run_id"])
    assert (
        run.data.params["data_version"]
        == report["data_version"]
        == history[-1].data_version
        == promotion["data_version"]
    )
    assert (
        run.data.params["n_cells"] == "6" and promotion["n_cells"] == 6
    )  # five bilayers of the paper and the new Nb cell
    assert run.data.tags["promotion.promoted"] == str(promotion["promoted"]).lower()
    assert "champion_before_reevaluated_cv_nlpd" in run.data.metrics and "nested_cv_nlpd" in run.data.metrics
    children = MlflowClient(weekly["uri"]).search_runs(
        [run.info.experiment_id], f"tags.mlflow.parentRunId = '{run.info.run_id}'"
    )
    assert len(children) == len(promotion["all_models_metrics"]) == 4
    assert {child.data.tags["role"] for child in children} == {"default", "baseline", "compared"}


@pytest.mark.slow
def test_champion_moves_only_with_a_score_at_least_as_good(weekly):
    from mlflow import MlflowClient

    promotion, root = weekly["report"]["promotion"], weekly["root"]
    client = MlflowClient(weekly["uri"])
    alias = client.get_model_version_by_alias(config.REGISTERED_MODEL_NAME, config.CHAMPION_ALIAS)
    new_version = client.get_model_version(config.REGISTERED_MODEL_NAME, promotion["new_version"])
    assert promotion["champion_before"]["version"] == "1" and promotion["new_version"] == "2"
    # the new champion and the re-evaluated v1 are the same kind of model on the same data: promoted unless worse
    assert (promotion["promoted"] is True) == (
        promotion["new_metrics"]["nlpd"] <= promotion["champion_before_metrics"]["nlpd"] + 1e-9
    )
    assert promotion["promoted"] is True and "promoted: at least as good" in promotion["reason"]
    assert str(alias.version) == promotion["new_version"] and new_version.tags["promoted"] == "true"
    metadata = json.loads((root / "models" / "champion.json").read_text())
    assert metadata["data_version"] == promotion["data_version"] and metadata["registered_version"] == "2"
    assert "Nb" in metadata["training_candidates"] and metadata["n_cells"] == 6
    # the staging folders of the killed retraining are gone; the lock sits inside models/, nothing beside it
    assert [path.name for path in (root / "models").glob(".*")] == [".promotion.lock"]
    assert not (root / ".models.promotion.lock").exists()


@pytest.mark.slow
def test_runs_of_a_killed_training_end_as_failed_when_the_next_training_starts(weekly):
    from mlflow import MlflowClient

    client = MlflowClient(weekly["uri"])
    assert [client.get_run(run_id).info.status for run_id in weekly["orphans"]] == ["FAILED", "FAILED"]
    parent = client.get_run(weekly["report"]["promotion"]["parent_run_id"])
    assert parent.info.status == "FINISHED" and parent.data.tags["lithioscreen.pid"].isdigit()


@pytest.mark.slow
def test_a_new_result_moves_the_prediction_toward_it_and_shrinks_its_uncertainty(weekly):
    (before_mean, before_std) = weekly["before"]
    champion = load_champion(weekly["root"] / "models")
    after_mean, after_std = _predict(champion, weekly["nb"])
    measured = 5.0
    assert abs(after_mean[0] - measured) < abs(before_mean[0] - measured)
    assert after_std[0] < before_std[0]
    row = champion.model.predict_table(weekly["nb"]).iloc[0]
    assert (
        row["measured_ccd_reported"] == "5.0"
        and abs(row["predicted_ccd_ma_cm2"] - measured) <= 2 * row["predicted_ccd_std"]
    )


@pytest.mark.slow
def test_suggest_after_the_addition_no_longer_offers_the_tested_stack(weekly):
    root = weekly["root"]
    result = runner.invoke(
        app,
        [
            "suggest",
            "--n",
            "200",
            "--format",
            "json",
            "--data-dir",
            str(root / "data"),
            "--models-dir",
            str(root / "models"),
        ],
    )
    assert result.exit_code == 0, result.output
    offered = {(row["candidate"], row["overlayer_nm"]) for row in json.loads(result.stdout)}
    assert ("Nb", 30.0) not in offered and ("Nb", 50.0) in offered
    history = runner.invoke(app, ["cells", "history", "--verify", "--data-dir", str(root / "data"), "--format", "json"])
    assert [v["verified"] for v in json.loads(history.stdout)] == [True, True]


class _ZeroCCD:
    """A deliberately bad regressor: predicts 0 ± 0.1 mA/cm² whatever the cells say."""

    def get_params(self, deep=True):
        return {}

    def set_params(self, **params):
        return self

    def fit(self, X, y):
        return self

    def predict(self, X, return_std=False):
        import numpy as np

        mean = np.zeros(len(X))
        return (mean, np.full(len(X), 0.1)) if return_std else mean


@pytest.mark.slow
def test_a_worse_model_is_registered_without_the_alias_and_models_stay(trained, tmp_path, monkeypatch):
    """Only a deliberately bad model (a constant CCD with a prior pinned near 0 mA/cm²) is trained: it must not become champion."""
    from mlflow import MlflowClient

    from lithioscreen.models import make_model
    from lithioscreen.tracking import training

    uri = _copy_trained_state(trained, tmp_path)
    models_before = _files(tmp_path / "models")
    monkeypatch.setattr(
        training,
        "make_models",
        lambda phase_data=None, interfacial_data=None: {
            "constant_zero": make_model(_ZeroCCD(), phase_data=phase_data, interfacial_data=interfacial_data)
        },
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    new_file = write_cells(tmp_path / "ta.csv", [new_row("synthetic-ta30-mg200", overlayer="Ta")])
    result = runner.invoke(
        app,
        [
            "cells",
            "add",
            str(new_file),
            "--data-dir",
            str(tmp_path / "data"),
            "--tracking-uri",
            uri,
            "--models-dir",
            str(tmp_path / "models"),
            "--experiment",
            "worse-model-test",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "champion kept" in result.stdout and "not promoted: worse than the current champion" in result.stdout
    assert "models/ unchanged" in result.stdout

    client = MlflowClient(uri)
    alias = client.get_model_version_by_alias(config.REGISTERED_MODEL_NAME, config.CHAMPION_ALIAS)
    assert str(alias.version) == "1"  # still the session's champion
    registered = client.get_model_version(config.REGISTERED_MODEL_NAME, "2")
    assert registered.tags["model"] == "constant_zero" and registered.tags["promoted"] == "false"
    assert not registered.aliases
    assert _files(tmp_path / "models") == models_before  # byte for byte
    assert "synthetic-ta30-mg200" in set(
        load_cells(tmp_path / "data" / config.CELLS_FILE)["cell_id"]
    )  # the data did land


@pytest.mark.slow
def test_old_champion_is_re_evaluated_on_the_cells_the_new_model_was_trained_on(trained, tmp_path, monkeypatch):
    """A `cells add` landing between training and the re-evaluation of the old champion does not
    change the comparison: both are scored on the same cells (those behind the run's data version)."""
    import lithioscreen.models as models
    from lithioscreen.tracking import promotion, training

    uri = _copy_trained_state(trained, tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    every_model = training.make_models
    monkeypatch.setattr(
        training,
        "make_models",
        lambda *args, **kwargs: {"physics_monotone": every_model(*args, **kwargs)["physics_monotone"]},
    )
    real_train, real_cross_validate = training.train, models.cross_validate
    trained_on, re_evaluated_on = [], []

    def train_then_a_cell_arrives(*args, **kwargs):
        summary = real_train(*args, **kwargs)
        trained_on.append(set(summary.training_cells["cell_id"]))
        add_cells(write_cells(tmp_path / "late.csv", [new_row("synthetic-late-nb30-mg200")]), tmp_path / "data")
        return summary

    def recording_cross_validate(model, cells, *args, **kwargs):
        re_evaluated_on.append(set(cells["cell_id"]))
        return real_cross_validate(model, cells, *args, **kwargs)

    monkeypatch.setattr(training, "train", train_then_a_cell_arrives)
    monkeypatch.setattr(models, "cross_validate", recording_cross_validate)
    decision = promotion.retrain_and_promote(
        tmp_path / "data", uri, tmp_path / "models", experiment_name="late-cell-test"
    )
    assert "synthetic-late-nb30-mg200" in set(load_cells(tmp_path / "data" / config.CELLS_FILE)["cell_id"])
    assert re_evaluated_on == trained_on and "synthetic-late-nb30-mg200" not in re_evaluated_on[0]
    assert decision.n_cells == 5  # the regression cells among them: the five bilayers of the paper


# --------------------------------------------------------------------------- issue 12


def test_a_cell_id_with_rich_markup_is_added_listed_and_shown_in_the_history(data_copy, tmp_path):
    """An id with '[/]' was written, then `cells add` crashed (MarkupError) and so did every later `cells list`/`history`."""
    new_file = write_cells(tmp_path / "new.csv", [new_row("synthetic-[/]-[red]x")])
    added = runner.invoke(app, ["cells", "add", str(new_file), "--no-train", "--data-dir", str(data_copy)])
    assert added.exit_code == 0, added.output
    assert "synthetic-[/]-[red]x" in added.stderr and "synthetic-[/]-[red]x" in added.stdout
    for command in (["cells", "list"], ["cells", "history"], ["cells", "history", "--verify"]):
        result = runner.invoke(app, [*command, "--data-dir", str(data_copy)])
        assert result.exit_code == 0, (command, result.output)
        assert "synthetic-[/]-[red]x" in result.stdout
    history = runner.invoke(app, ["cells", "history", "--data-dir", str(data_copy), "--format", "json"])
    assert json.loads(history.stdout)[-1]["cell_ids_added"] == ["synthetic-[/]-[red]x"]


def test_cells_add_refuses_an_unusable_tracking_store_before_adding_anything(data_copy, tmp_path):
    new_file = write_cells(tmp_path / "new.csv", [new_row("synthetic-nb30-mg200")])
    before = (data_copy / config.CELLS_FILE).read_bytes()
    result = runner.invoke(
        app, ["cells", "add", str(new_file), "--data-dir", str(data_copy), "--tracking-uri", "foo://bar"]
    )
    assert result.exit_code == 2 and "nothing was added" in result.stderr and "foo://bar" in result.stderr
    assert (data_copy / config.CELLS_FILE).read_bytes() == before


def test_cells_list_csv_neutralises_formulas_but_keeps_negative_numbers(data_copy, tmp_path):
    import csv
    import io

    row = new_row(
        "synthetic-formula",
        temperature_c="-8.1",
        notes='=HYPERLINK("http://example.invalid","click")',
        current_collector="@Cu",
    )
    added = runner.invoke(
        app, ["cells", "add", str(write_cells(tmp_path / "new.csv", [row])), "--no-train", "--data-dir", str(data_copy)]
    )
    assert added.exit_code == 0, added.output
    listed = runner.invoke(app, ["cells", "list", "--data-dir", str(data_copy), "--format", "csv"])
    rows = {r["cell_id"]: r for r in csv.DictReader(io.StringIO(listed.stdout))}
    cell = rows["synthetic-formula"]
    assert cell["notes"].startswith("'=HYPERLINK") and cell["current_collector"] == "'@Cu"
    assert cell["temperature_c"] == "-8.1"  # a number stays a number

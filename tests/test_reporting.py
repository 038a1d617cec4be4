"""Figures: `lithioscreen report` writes them, training logs them to MLflow."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from typer.testing import CliRunner

from lithioscreen.cli import app
from lithioscreen.reporting.figures import FIGURE_NAMES, interfacial_energy_sources_plot, ranking_plot

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _ranking() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "rank": [1, 2, 3],
            "candidate": ["W", "Nb", "Au"],
            "overlayer_nm": [30.0] * 3,
            "underlayer": ["Mg"] * 3,
            "underlayer_nm": [200.0] * 3,
            "predicted_ccd_ma_cm2": [5.0, 4.6, 1.9],
            "predicted_ccd_std": [0.3, 0.3, 1.0],
            "interfacial_energy_mev_per_a2": [100.0, 81.3, 16.0],
            "interfacial_energy_std_mev_per_a2": [8.5, 9.2, 32.0],
            "interfacial_energy_source": [
                "mlip:committee+calibrated",
                "surrogate+calibrated",
                "interpolated:mlip:committee+calibrated",
            ],
            "above_threshold": [True, False, False],
            "in_training_domain": [True, True, False],
            "feasible": [True, True, False],
        }
    )


def test_ranking_plot_shows_every_candidate_in_rank_order_with_units():
    figure = ranking_plot(_ranking(), 100.0)
    ax = figure.axes[0]
    labels = [tick.get_text() for tick in ax.get_yticklabels()]
    top_down = [label.split(" ")[0] for _, label in sorted(zip(ax.get_yticks(), labels), reverse=True)]
    assert top_down == ["W", "Nb", "Au"]  # best on top
    assert "mA cm" in ax.get_xlabel() and "30 nm overlayer on 200 nm Mg" in ax.get_title()
    plt.close(figure)


def test_interfacial_energy_plot_colours_each_source_and_counts_them():
    figure = interfacial_energy_sources_plot(_ranking(), 100.0)
    legend = [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    assert {
        "mlip:committee+calibrated (1)",
        "surrogate+calibrated (1)",
        "interpolated:mlip:committee+calibrated (1)",
    } <= set(legend)
    assert "meV" in figure.axes[0].get_xlabel()
    plt.close(figure)


@pytest.mark.slow
def test_report_command_writes_the_figures_of_the_shipped_champion(tmp_path):
    out = tmp_path / "figures"
    result = CliRunner().invoke(app, ["report", "--out", str(out)])
    assert result.exit_code == 0, result.output
    for name in FIGURE_NAMES:
        path = out / f"{name}.png"
        assert path.read_bytes()[:8] == PNG_MAGIC and path.stat().st_size > 20_000, name
        assert str(path) in result.output


def test_report_without_a_champion_is_a_clean_error(tmp_path):
    result = CliRunner().invoke(
        app, ["report", "--out", str(tmp_path / "out"), "--models-dir", str(tmp_path / "empty")]
    )
    assert result.exit_code == 2
    assert "no trained model" in result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_training_logs_the_report_figures(trained):
    from mlflow import MlflowClient

    client = MlflowClient(trained["tracking_uri"])
    logged = {artifact.path for artifact in client.list_artifacts(trained["summary"].parent_run_id, "report")}
    assert logged == {f"report/{name}.png" for name in FIGURE_NAMES}


def test_mlip_sources_share_a_colour_but_not_a_marker():
    from lithioscreen.reporting.plots import source_color, source_markers

    markers = source_markers(["mlip:committee+calibrated", "mlip:chgnet", "mlip:sevennet", "surrogate+calibrated"])
    mlip = ["mlip:committee+calibrated", "mlip:chgnet", "mlip:sevennet"]
    assert len({source_color(source) for source in mlip}) == 1
    assert len({markers[source] for source in mlip}) == 3
    kinds = ["mlip:committee+calibrated", "surrogate+calibrated", "interpolated:surrogate+calibrated", "unavailable"]
    assert len({source_color(source) for source in kinds}) == len(kinds)


@pytest.mark.parametrize("make", ["file", "file as parent"])
def test_report_out_that_is_not_a_folder_is_a_one_line_error(tmp_path, make):
    existing = tmp_path / "figures.png"
    existing.write_bytes(b"not a folder")
    out = existing if make == "file" else existing / "sub"
    result = CliRunner().invoke(app, ["report", "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert result.stderr.strip() == f"error: --out {out}: {existing} exists and is not a folder"
    assert existing.read_bytes() == b"not a folder"

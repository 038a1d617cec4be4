"""Figures a battery researcher expects, from the champion and the shipped data (matplotlib, Agg).

* ``interfacial_energy_vs_ccd.png``: measured CCD vs Li/X interfacial energy with the threshold
  (the paper's Fig. 7e with the project's values; censored CCDs as intervals and arrows);
* ``predicted_vs_measured_ccd.png``: held-out (leave-one-overlayer-out) predictions of the
  champion against the measured CCD intervals, with ±1σ bars;
* ``candidate_ranking.png``: every candidate's predicted CCD ± 1σ, in ranking order;
* ``interfacial_energy_by_source.png``: every candidate's interfacial energy ± 1σ, coloured by
  where the number comes from (DFT / MLIP / surrogate), one marker per potential among the MLIP values.

:func:`report_figures` makes them from a champion; :func:`write_report` (``lithioscreen report``)
loads the exported champion and the data and writes PNGs; training logs the same figures to MLflow.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from lithioscreen import config
from lithioscreen.reporting.plots import interfacial_energy_plot, parity_plot, source_color, source_markers

FIGURE_NAMES = (
    "interfacial_energy_vs_ccd",
    "predicted_vs_measured_ccd",
    "candidate_ranking",
    "interfacial_energy_by_source",
)


@dataclass
class ReportInputs:
    """Everything the figures show; see :func:`report_inputs`.

    Attributes
    ----------
    model_name : str
        The champion's model name, for titles.
    cell_features : pandas.DataFrame
        Training cells with a CCD, with their descriptors and CCD intervals.
    cv_predictions : pandas.DataFrame
        Held-out predictions of the champion (:func:`lithioscreen.models.evaluation.cross_validate`).
    ranking : pandas.DataFrame
        :func:`lithioscreen.ranking.rank_candidates` over the default candidates.
    threshold_mev_per_a2 : float
        The flag threshold, meV/Å².
    threshold_estimate : dict
        The threshold the cells support (:func:`lithioscreen.models.threshold.threshold_from_cells`).
    ccd_target_ma_cm2 : float
        The CCD target line, mA/cm².
    """

    model_name: str
    cell_features: pd.DataFrame  # training cells with their descriptors and CCD intervals
    cv_predictions: pd.DataFrame  # held-out predictions of the champion (evaluation.cross_validate)
    ranking: pd.DataFrame  # ranking.rank_candidates over every candidate
    threshold_mev_per_a2: float
    threshold_estimate: dict
    ccd_target_ma_cm2: float = config.DEFAULT_CCD_TARGET_MA_CM2


def ranking_plot(
    ranking: pd.DataFrame,
    threshold_mev_per_a2: float,
    ccd_target_ma_cm2: float = config.DEFAULT_CCD_TARGET_MA_CM2,
    title: str = "",
) -> plt.Figure:
    """Predicted CCD ± 1σ of every candidate with a prediction, best first; extrapolations in grey.

    Infeasible stacks and stacks without a prediction have no CCD and are left out (the title counts them).

    Parameters
    ----------
    ranking : pandas.DataFrame
        A rank table (:func:`lithioscreen.ranking.rank_candidates`).
    threshold_mev_per_a2 : float
        The flag threshold, meV/Å² (filled markers at or above it).
    ccd_target_ma_cm2 : float
        The dotted target line, mA/cm².
    title : str
        The title; ``""``: one naming the stack and the rows left out.

    Returns
    -------
    matplotlib.figure.Figure
        Close it with ``plt.close``.
    """
    table = ranking.sort_values("rank")
    left_out = int(table["predicted_ccd_ma_cm2"].isna().sum())
    table = table[table["predicted_ccd_ma_cm2"].notna()]
    n = len(table)
    y = np.arange(n)[::-1]
    fig, ax = plt.subplots(figsize=(6.4, 1.2 + 0.2 * n), dpi=130)
    inside = table["in_training_domain"].to_numpy(bool)
    flagged = table["above_threshold"].to_numpy(bool)
    mean = table["predicted_ccd_ma_cm2"].to_numpy(float)
    std = table["predicted_ccd_std"].to_numpy(float)
    for mask, color in ((inside, "tab:blue"), (~inside, "tab:grey")):
        ax.errorbar(mean[mask], y[mask], xerr=std[mask], fmt="none", ecolor=color, capsize=2, lw=1)
        ax.scatter(mean[mask & flagged], y[mask & flagged], marker="D", color=color, s=22, zorder=3)
        ax.scatter(
            mean[mask & ~flagged], y[mask & ~flagged], marker="o", facecolor="white", edgecolor=color, s=22, zorder=3
        )
    labels = [
        f"{row.candidate} ({row.overlayer_nm:g} nm on {row.underlayer if row.underlayer != 'none' else 'nothing'})"
        if n <= 12
        else str(row.candidate)
        for row in table.itertuples()
    ]
    ax.set_yticks(y, labels, fontsize=7 if n > 20 else 8)
    ax.set_ylim(-0.8, n - 0.2)
    ax.axvline(ccd_target_ma_cm2, color="black", ls=":", lw=1)
    ax.set_xlabel("predicted Li plating CCD (mA cm$^{-2}$, ±1σ incl. interfacial-energy σ)")
    stack = ""
    if table["overlayer_nm"].nunique() == 1 and table["underlayer"].nunique() == 1:
        first = table.iloc[0]
        stack = f": {first.overlayer_nm:g} nm overlayer on " + (
            "no underlayer" if first.underlayer == "none" else f"{first.underlayer_nm:g} nm {first.underlayer}"
        )
    note = f" ({left_out} infeasible or without a prediction not shown)" if left_out else ""
    ax.set_title(title or f"Candidate ranking{stack}{note}", fontsize=10)
    handles = [
        Line2D([], [], marker="D", color="tab:blue", ls="none", label=f"γ ≥ {threshold_mev_per_a2:g} meV Å$^{{-2}}$"),
        Line2D(
            [],
            [],
            marker="o",
            mfc="white",
            color="tab:blue",
            ls="none",
            label=f"γ < {threshold_mev_per_a2:g} meV Å$^{{-2}}$",
        ),
        Line2D([], [], color="tab:grey", marker="o", ls="-", label="outside training domain (extrapolated)"),
        Line2D([], [], color="black", ls=":", label=f"CCD target {ccd_target_ma_cm2:g} mA cm$^{{-2}}$"),
    ]
    ax.legend(handles=handles, fontsize=7, loc="lower right", framealpha=0.9)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def interfacial_energy_sources_plot(ranking: pd.DataFrame, threshold_mev_per_a2: float) -> plt.Figure:
    """Interfacial energy ± 1σ of every candidate, highest first, coloured by its source.

    Parameters
    ----------
    ranking : pandas.DataFrame
        A rank table; one point per distinct candidate (the first row of each).
    threshold_mev_per_a2 : float
        The threshold line, meV/Å².

    Returns
    -------
    matplotlib.figure.Figure
        Close it with ``plt.close``.
    """
    table = ranking.drop_duplicates("candidate").sort_values(
        "interfacial_energy_mev_per_a2", ascending=False, na_position="last"
    )
    n = len(table)
    y = np.arange(n)[::-1]
    fig, ax = plt.subplots(figsize=(6.4, 1.2 + 0.2 * n), dpi=130)
    energy = table["interfacial_energy_mev_per_a2"].to_numpy(float)
    std = np.nan_to_num(table["interfacial_energy_std_mev_per_a2"].to_numpy(float))
    sources = table["interfacial_energy_source"].astype(str).to_numpy()
    # colour: the kind of number (DFT, MLIP, surrogate); marker: which potential, among the MLIP ones
    markers = source_markers(sorted(set(sources)))
    for source in markers:
        mask = sources == source
        ax.errorbar(
            energy[mask],
            y[mask],
            xerr=std[mask],
            fmt=markers[source],
            ms=4,
            color=source_color(source),
            capsize=2,
            lw=1,
            label=f"{source} ({mask.sum()})",
        )
    ax.axvline(
        threshold_mev_per_a2,
        color="crimson",
        ls="--",
        lw=1.2,
        label=f"threshold {threshold_mev_per_a2:g} meV Å$^{{-2}}$",
    )
    ax.set_yticks(y, table["candidate"].astype(str), fontsize=7 if n > 20 else 8)
    ax.set_ylim(-0.8, n - 0.2)
    ax.set_xlabel("Li/X interfacial energy γ (meV Å$^{-2}$, ±1σ)")
    ax.set_title("Interfacial energy of every candidate, by source of the number", fontsize=10)
    ax.legend(fontsize=7, loc="lower right", title="source (count)", title_fontsize=7, framealpha=0.9)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def report_figures(inputs: ReportInputs) -> dict[str, plt.Figure]:
    """The four figures, by file stem (close them with ``plt.close``).

    Parameters
    ----------
    inputs : ReportInputs
        What they show.

    Returns
    -------
    dict of str to matplotlib.figure.Figure
        By the names in :data:`FIGURE_NAMES`.
    """
    return {
        "interfacial_energy_vs_ccd": interfacial_energy_plot(
            inputs.cell_features, inputs.threshold_mev_per_a2, inputs.threshold_estimate
        ),
        "predicted_vs_measured_ccd": parity_plot(
            inputs.cv_predictions, f"{inputs.model_name} (champion)\nheld-out predictions, leave-one-overlayer-out CV"
        ),
        "candidate_ranking": ranking_plot(inputs.ranking, inputs.threshold_mev_per_a2, inputs.ccd_target_ma_cm2),
        "interfacial_energy_by_source": interfacial_energy_sources_plot(inputs.ranking, inputs.threshold_mev_per_a2),
    }


def report_inputs(
    champion,
    cells: pd.DataFrame,
    phase_data: pd.DataFrame,
    cv_predictions: pd.DataFrame,
    threshold_mev_per_a2: float = config.DEFAULT_THRESHOLD_MEV_PER_A2,
    ccd_target_ma_cm2: float = config.DEFAULT_CCD_TARGET_MA_CM2,
) -> ReportInputs:
    """Descriptors of the cells with a CCD, the threshold fit and the default ranking, for a champion.

    Parameters
    ----------
    champion : Champion
        A champion whose model is fitted (its featurizer describes the cells).
    cells : pandas.DataFrame
        The training table (:func:`lithioscreen.data.training_cells`).
    phase_data : pandas.DataFrame
        The phase-data table; every element in it is ranked on the paper's stack.
    cv_predictions : pandas.DataFrame
        The champion's held-out predictions.
    threshold_mev_per_a2 : float
        The flag threshold, meV/Å².
    ccd_target_ma_cm2 : float
        The CCD target, mA/cm².

    Returns
    -------
    ReportInputs
        Ready for :func:`report_figures`.
    """
    from lithioscreen.candidates import CANDIDATE_COLUMNS, default_candidates
    from lithioscreen.data import ccd_cells
    from lithioscreen.models.threshold import threshold_from_cells
    from lithioscreen.ranking import rank_candidates

    measured = ccd_cells(cells)
    features = champion.model.featurizer_.transform(measured[CANDIDATE_COLUMNS])
    cell_features = pd.concat(
        [
            measured.reset_index(drop=True),
            features.drop(columns=[c for c in features if c in measured]).reset_index(drop=True),
        ],
        axis=1,
    )
    return ReportInputs(
        model_name=str(champion.metadata.get("model", "champion")),
        cell_features=cell_features,
        cv_predictions=cv_predictions,
        ranking=rank_candidates(default_candidates(phase_data), champion, threshold_mev_per_a2),
        threshold_mev_per_a2=threshold_mev_per_a2,
        threshold_estimate=threshold_from_cells(cell_features),
        ccd_target_ma_cm2=ccd_target_ma_cm2,
    )


class ReportOutputError(ValueError):
    """The output folder cannot be used; the message names it."""


def check_output_dir(out_dir: Path) -> None:
    """Check, before any work is done, that ``out_dir`` is a folder or can be created.

    Parameters
    ----------
    out_dir : pathlib.Path
        The output folder; it may not exist yet.

    Raises
    ------
    ReportOutputError
        If it, or its nearest existing parent, is not a folder or is not writable.
    """
    out_dir = Path(out_dir)
    existing = next((parent for parent in (out_dir, *out_dir.parents) if parent.exists()), None)
    if existing is not None and not existing.is_dir():
        raise ReportOutputError(f"{out_dir}: {existing} exists and is not a folder")
    if existing is not None and not os.access(existing, os.W_OK):
        raise ReportOutputError(f"{out_dir}: {existing} is not writable")


def write_report(
    out_dir: Path,
    models_dir: Path | None = None,
    data_dir: Path | None = None,
    threshold_mev_per_a2: float = config.DEFAULT_THRESHOLD_MEV_PER_A2,
) -> list[Path]:
    """Load the exported champion and the data, re-run the champion's cross-validation, write the PNGs.

    The held-out predictions are recomputed (leave-one-overlayer-out with the champion's model
    definition), so the report needs no tracking store.

    Parameters
    ----------
    out_dir : pathlib.Path
        The output folder; created if missing.
    models_dir : pathlib.Path or None
        The exported champion's folder; None: :func:`lithioscreen.config.models_dir`.
    data_dir : pathlib.Path or None
        The data folder (cells and phase data); None: :func:`lithioscreen.config.data_dir`.
    threshold_mev_per_a2 : float
        The flag threshold, meV/Å².

    Returns
    -------
    list of pathlib.Path
        The PNG files written, one per name in :data:`FIGURE_NAMES`.

    Raises
    ------
    ReportOutputError
        If ``out_dir`` cannot be used.
    lithioscreen.models.champion.NoChampionError
        If there is no exported champion.
    lithioscreen.data.DataValidationError
        If a data file is invalid.
    """
    from sklearn.base import clone

    from lithioscreen.data import load_cells, load_phase_data, training_cells
    from lithioscreen.models import cross_validate
    from lithioscreen.models.champion import load_champion

    check_output_dir(out_dir)
    champion = load_champion(models_dir)
    data_dir = Path(data_dir or config.data_dir())
    cells = training_cells(load_cells(data_dir / config.CELLS_FILE))
    phase_data = load_phase_data(data_dir / config.PHASE_DATA_FILE)
    ccd_target = float(champion.metadata.get("ccd_target_ma_cm2", config.DEFAULT_CCD_TARGET_MA_CM2))
    cv = cross_validate(clone(champion.model), cells)
    inputs = report_inputs(champion, cells, phase_data, cv.predictions, threshold_mev_per_a2, ccd_target)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for stem, figure in report_figures(inputs).items():
        path = out_dir / f"{stem}.png"
        figure.savefig(path)
        plt.close(figure)
        written.append(path)
    return written


def log_report_figures(run_id: str, inputs: ReportInputs, artifact_dir: str = "report") -> None:
    """Log the four figures as PNG artifacts of ``run_id`` (the training's parent run).

    Parameters
    ----------
    run_id : str
        The MLflow run, in the current tracking store.
    inputs : ReportInputs
        What the figures show.
    artifact_dir : str
        The artifact folder within the run.
    """
    from mlflow import MlflowClient

    client = MlflowClient()
    for stem, figure in report_figures(inputs).items():
        client.log_figure(run_id, figure, f"{artifact_dir}/{stem}.png")
        plt.close(figure)


def log_training_figures(
    run_id: str,
    fitted_model,
    model_name: str,
    cells: pd.DataFrame,
    phase_data: pd.DataFrame,
    cv_predictions: pd.DataFrame,
    threshold_mev_per_a2: float,
    ccd_target_ma_cm2: float,
) -> None:
    """What training calls: the report figures of the freshly fitted champion, on the parent run.

    Parameters
    ----------
    run_id : str
        The parent run.
    fitted_model : CCDScreeningModel
        The champion, fitted on every cell.
    model_name : str
        Its name.
    cells, phase_data, cv_predictions, threshold_mev_per_a2, ccd_target_ma_cm2
        Passed on to :func:`report_inputs`, which describes them.
    """
    from lithioscreen.models.champion import Champion

    champion = Champion(model=fitted_model, metadata={"model": model_name})
    inputs = report_inputs(champion, cells, phase_data, cv_predictions, threshold_mev_per_a2, ccd_target_ma_cm2)
    log_report_figures(run_id, inputs)

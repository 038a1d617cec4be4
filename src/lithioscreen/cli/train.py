"""`lithioscreen train`: cross-validate, log to MLflow, register and export the champion."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from lithioscreen import config
from lithioscreen.cli.common import (
    DataDir,
    Experiment,
    Format,
    ModelsDir,
    OutputFormat,
    Threshold,
    TrackingUri,
    app,
    checked_threshold,
    fail,
    json_ready,
    print_frame,
    say,
    stderr,
)


@app.command()
def train(
    data_dir: DataDir = None,
    tracking_uri: TrackingUri = None,
    experiment: Experiment = config.EXPERIMENT_NAME,
    models_dir: ModelsDir = None,
    threshold: Threshold = config.DEFAULT_THRESHOLD_MEV_PER_A2,
    ccd_target: Annotated[
        float, typer.Option(help="CCD target drawn in the ranking figure, mA/cm².")
    ] = config.DEFAULT_CCD_TARGET_MA_CM2,
    output: Format = OutputFormat.table,
) -> None:
    """Cross-validate every model, log them to MLflow, register and export the champion."""
    import pandas as pd

    from lithioscreen.data import DataValidationError
    from lithioscreen.tracking.stores import TrackingStoreError
    from lithioscreen.tracking.training import train as run_training

    threshold = checked_threshold(threshold)
    if not 0 < ccd_target <= 100:  # NaN fails too
        fail(f"--ccd-target {ccd_target:g} mA/cm² must lie above 0 and at most 100")
    try:
        with stderr.status("training and cross-validating models ..."):
            summary = run_training(data_dir, tracking_uri, experiment, models_dir, threshold, ccd_target)
    except (DataValidationError, TrackingStoreError) as error:
        fail(str(error))
    frame = pd.DataFrame(summary.metrics).T.reset_index(names="model")
    frame["champion"] = frame["model"] == summary.champion
    if output is OutputFormat.json:
        sys.stdout.write(json.dumps(json_ready(summary.as_record()), indent=2) + "\n")
        return
    print_frame(
        frame,
        output,
        title=f"Leave-one-overlayer-out CV on {summary.n_cells} cells (data {summary.data_version[:12]})",
        float_digits=3,
    )
    threshold_fit = summary.threshold
    say(
        stderr,
        f"champion: {summary.champion} -> {config.REGISTERED_MODEL_NAME} v{summary.registered_version} @{config.CHAMPION_ALIAS}; "
        f"exported to {summary.exported_to}\n"
        f"threshold supported by the X/Mg cells: {threshold_fit['lower_mev_per_a2']:.1f}-{threshold_fit['upper_mev_per_a2']:.1f} meV/Å² "
        f"(bootstrap 95%: {threshold_fit['bootstrap_low_mev_per_a2']:.1f}-{threshold_fit['bootstrap_high_mev_per_a2']:.1f})",
    )

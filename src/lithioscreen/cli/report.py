"""`lithioscreen report`: the figures (PNG) of the exported champion and the shipped data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lithioscreen import config
from lithioscreen.cli.common import (
    DataDir,
    ModelsDir,
    Threshold,
    app,
    fail,
    say,
    stdout,
)


@app.command()
def report(
    out: Annotated[Path, typer.Option("--out", help="Folder for the PNG figures.")] = Path("reports/figures"),
    models_dir: ModelsDir = None,
    data_dir: DataDir = None,
    threshold: Threshold = config.DEFAULT_THRESHOLD_MEV_PER_A2,
) -> None:
    """Write the figures: CCD vs interfacial energy (Fig. 7e), held-out predicted vs measured CCD,
    the candidate ranking with uncertainty, every candidate's interfacial energy by source."""
    from lithioscreen.cli.common import checked_threshold
    from lithioscreen.data import DataValidationError
    from lithioscreen.models.champion import NoChampionError
    from lithioscreen.reporting import write_report
    from lithioscreen.reporting.figures import ReportOutputError

    threshold = checked_threshold(threshold)
    try:
        written = write_report(out, models_dir, data_dir, threshold)
    except ReportOutputError as error:
        fail(f"--out {error}")
    except (NoChampionError, DataValidationError, KeyError) as error:
        fail(str(error))
    for path in written:
        say(stdout, str(path))

"""The ``lithioscreen`` command: parse, call the library, print.

Output formats: ``table`` (rich, for people), ``json`` and ``csv`` (for programs). With json and
csv, stdout carries only the data; tables of limits, progress and logs go to stderr. Bad input
(unknown element, unparsable composition, negative thickness, invalid data file) prints a short
error naming the bad value and exits with code 2.
"""

from __future__ import annotations

import dataclasses
import json
import math
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from lithioscreen import config

app = typer.Typer(
    help="Screen protective overlayer metals for anode-less all-solid-state Li batteries.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Rich falls back to 80 columns when stdout is not a terminal; tables are wider than that.
stdout = Console(width=None if sys.stdout.isatty() else 160)
stderr = Console(stderr=True, width=None if sys.stderr.isatty() else 160)


class OutputFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


CandidatesArg = Annotated[Optional[list[str]], typer.Argument(help="Overlayer compositions, e.g. W Nb Cr0.5W0.5.", show_default=False)]
CandidatesFile = Annotated[Optional[Path], typer.Option("--candidates", help="CSV with a 'candidate' column (optional: overlayer_nm, underlayer, underlayer_nm).")]
OverlayerNm = Annotated[float, typer.Option(help="Overlayer thickness, nm.")]
Underlayer = Annotated[str, typer.Option(help="Element beneath the overlayer, or 'none'.")]
UnderlayerNm = Annotated[float, typer.Option(help="Underlayer thickness, nm.")]
Format = Annotated[OutputFormat, typer.Option("--format", help="table, json or csv.")]


def fail(message: str) -> None:
    stderr.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code=2)


def _candidate_table(candidates, candidates_file, overlayer_nm, underlayer, underlayer_nm):
    from lithioscreen.candidates import CandidateError, make_candidates, read_candidates_file
    from lithioscreen.data import DataValidationError

    try:
        if candidates_file is not None:
            return read_candidates_file(candidates_file)
        if candidates:
            return make_candidates(candidates, overlayer_nm, underlayer, underlayer_nm)
        from lithioscreen.data import load_phase_data
        from lithioscreen.ranking import default_candidates

        return default_candidates(load_phase_data(), overlayer_nm, underlayer, underlayer_nm)
    except (CandidateError, DataValidationError) as error:
        fail(str(error))


def _json_ready(value):
    """Plain JSON values: NaN and infinities become null, numpy scalars Python numbers."""
    if isinstance(value, dict):
        return {key: _json_ready(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return _json_ready(value.item())
    return value


def _print_frame(frame, output: OutputFormat, title: str, float_digits: int = 2, columns: list[str] | None = None) -> None:
    if output is OutputFormat.json:
        records = [{key: _json_ready(value) for key, value in row.items()} for row in frame.to_dict("records")]
        sys.stdout.write(json.dumps(records, indent=2) + "\n")
    elif output is OutputFormat.csv:
        csv_frame = frame.copy()
        for column in csv_frame.columns:
            if csv_frame[column].map(lambda v: isinstance(v, list)).any():
                csv_frame[column] = csv_frame[column].map(lambda v: ";".join(v) if isinstance(v, list) else "")
        sys.stdout.write(csv_frame.to_csv(index=False))
    else:
        table = Table(title=title, header_style="bold")
        shown = columns or list(frame.columns)
        for column in shown:
            table.add_column(column, overflow="fold")
        for row in frame[shown].itertuples(index=False):
            table.add_row(*(_cell(value, float_digits) for value in row))
        stdout.print(table)


def _plus_minus(mean: float, std: float, digits: int) -> str:
    return "unknown" if math.isnan(mean) else f"{mean:.{digits}f} ± {std:.{digits}f}"


def _rank_display(ranked):
    """The ranking as people read it: value ± σ, the stack in one column."""
    import pandas as pd

    def stack(row) -> str:
        beneath = "no underlayer" if row.underlayer == "none" else f"{row.underlayer} {row.underlayer_nm:g} nm"
        return f"{row.overlayer_nm:g} nm on {beneath}"

    return pd.DataFrame(
        {
            "#": ranked["rank"],
            "candidate": ranked["candidate"],
            "stack": [stack(row) for row in ranked.itertuples()],
            "CCD mA/cm²": [_plus_minus(m, s, 2) for m, s in zip(ranked["predicted_ccd_ma_cm2"], ranked["predicted_ccd_std"])],
            "γ(Li/X) meV/Å²": [
                _plus_minus(m, s, 1) for m, s in zip(ranked["interfacial_energy_mev_per_a2"], ranked["interfacial_energy_std_mev_per_a2"])
            ],
            "γ source": ranked["interfacial_energy_source"],
            "≥ threshold": ranked["above_threshold"].map({True: "yes", False: "no"}),
            "Li-X": ranked["li_x_miscibility"],
            "in domain": ranked["in_training_domain"].map({True: "yes", False: "no"}),
        }
    )


def _cell(value, digits: int) -> str:
    if isinstance(value, list):
        return ", ".join(value) if value else "none"
    if value is None:
        return "unknown"
    if isinstance(value, float):
        return "unknown" if math.isnan(value) else f"{value:.{digits}f}"
    if hasattr(value, "item"):
        return _cell(value.item(), digits)
    return str(value)


@app.command()
def rank(
    candidates: CandidatesArg = None,
    candidates_file: CandidatesFile = None,
    overlayer_nm: OverlayerNm = config.DEFAULT_OVERLAYER_NM,
    underlayer: Underlayer = config.DEFAULT_UNDERLAYER,
    underlayer_nm: UnderlayerNm = config.DEFAULT_UNDERLAYER_NM,
    top: Annotated[Optional[int], typer.Option(help="Show only the best N.", min=1)] = None,
    threshold: Annotated[float, typer.Option(help="Interfacial-energy threshold for the flag, meV/Å².")] = config.DEFAULT_THRESHOLD_MEV_PER_A2,
    models_dir: Annotated[Optional[Path], typer.Option(help="Folder with the exported champion.")] = None,
    output: Format = OutputFormat.table,
) -> None:
    """Rank candidate overlayers by predicted CCD (default: every metal in the phase data, 30 nm on 200 nm Mg)."""
    from lithioscreen.data import DataValidationError
    from lithioscreen.ranking import limitations, rank_candidates
    from lithioscreen.tracking.export import NoChampionError, load_champion

    table = _candidate_table(candidates, candidates_file, overlayer_nm, underlayer, underlayer_nm)
    try:
        champion = load_champion(models_dir)
    except NoChampionError as error:
        fail(str(error))
    try:
        ranked = rank_candidates(table, champion, threshold)
    except DataValidationError as error:
        fail(str(error))
    if top is not None:
        ranked = ranked.head(top)
    if output is OutputFormat.table:
        _print_frame(_rank_display(ranked), output, title=f"Overlayers ranked by predicted CCD (flag: interfacial energy ≥ {threshold:g} meV/Å²)")
    else:
        _print_frame(ranked, output, title="")
    for line in limitations(champion):
        stderr.print(f"[dim]{line}[/]", highlight=False)


@app.command()
def features(
    candidates: CandidatesArg = None,
    candidates_file: CandidatesFile = None,
    overlayer_nm: OverlayerNm = config.DEFAULT_OVERLAYER_NM,
    underlayer: Underlayer = config.DEFAULT_UNDERLAYER,
    underlayer_nm: UnderlayerNm = config.DEFAULT_UNDERLAYER_NM,
    magpie: Annotated[bool, typer.Option(help="Include the 132 Magpie composition descriptors.")] = True,
    output: Format = OutputFormat.table,
) -> None:
    """The descriptor table, one row per candidate."""
    import pandas as pd

    from lithioscreen.data import DataValidationError
    from lithioscreen.features import make_featurizer

    table = _candidate_table(candidates, candidates_file, overlayer_nm, underlayer, underlayer_nm)
    try:
        described = make_featurizer(include_magpie=magpie).fit(table).transform(table)
    except DataValidationError as error:
        fail(str(error))
    described = described.drop(columns=[column for column in described.columns if column in table.columns])
    frame = pd.concat([table.reset_index(drop=True), described.reset_index(drop=True)], axis=1)
    if output is OutputFormat.table:
        # one row per descriptor reads better than 20 narrow columns
        if magpie:
            frame = frame[[column for column in frame.columns if not column.startswith("magpie_")]]
            stderr.print("[dim]132 Magpie columns hidden in the table; use --format csv or json to see them.[/]")
        labels = [f"{row.candidate} ({row.overlayer_nm:g} nm / {row.underlayer})" for row in frame.itertuples()]
        transposed = frame.drop(columns=["candidate"]).T
        transposed.columns = labels
        _print_frame(transposed.reset_index(names="descriptor"), output, title="Descriptors", float_digits=3)
        return
    _print_frame(frame, output, title="Descriptors")


@app.command()
def train(
    data_dir: Annotated[Optional[Path], typer.Option(help="Folder with cells.csv and the other data files.")] = None,
    tracking_uri: Annotated[Optional[str], typer.Option(help="MLflow tracking URI (default: MLFLOW_TRACKING_URI or sqlite:///mlflow.db).")] = None,
    experiment: Annotated[str, typer.Option(help="MLflow experiment name.")] = config.EXPERIMENT_NAME,
    models_dir: Annotated[Optional[Path], typer.Option(help="Where to export the champion.")] = None,
    threshold: Annotated[float, typer.Option(help="Interfacial-energy threshold, meV/Å².")] = config.DEFAULT_THRESHOLD_MEV_PER_A2,
    ccd_target: Annotated[float, typer.Option(help="CCD target for threshold accuracy, mA/cm².")] = config.DEFAULT_CCD_TARGET_MA_CM2,
    output: Format = OutputFormat.table,
) -> None:
    """Cross-validate every model, log them to MLflow, register and export the champion."""
    import pandas as pd

    from lithioscreen.data import DataValidationError
    from lithioscreen.tracking.training import train as run_training

    try:
        with stderr.status("training and cross-validating models ..."):
            summary = run_training(data_dir, tracking_uri, experiment, models_dir, threshold, ccd_target)
    except DataValidationError as error:
        fail(str(error))
    frame = pd.DataFrame(summary.metrics).T.reset_index(names="model")
    frame["champion"] = frame["model"] == summary.champion
    if output is OutputFormat.json:
        sys.stdout.write(json.dumps(_json_ready(dataclasses.asdict(summary)), indent=2) + "\n")
        return
    _print_frame(frame, output, title=f"Leave-one-overlayer-out CV on {summary.n_cells} cells (data {summary.data_version[:12]})", float_digits=3)
    threshold_fit = summary.threshold
    stderr.print(
        f"champion: {summary.champion} -> {config.REGISTERED_MODEL_NAME} v{summary.registered_version} @{config.CHAMPION_ALIAS}; "
        f"exported to {summary.exported_to}\n"
        f"threshold supported by the X/Mg cells: {threshold_fit['lower_mev_per_a2']:.1f}-{threshold_fit['upper_mev_per_a2']:.1f} meV/Å² "
        f"(bootstrap 95%: {threshold_fit['bootstrap_low_mev_per_a2']:.1f}-{threshold_fit['bootstrap_high_mev_per_a2']:.1f})",
        highlight=False,
    )


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    main()

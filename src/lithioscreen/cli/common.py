"""What every ``lithioscreen`` command shares: the Typer app, output formats, option types, errors.

Output formats: ``table`` (rich, for people), ``json`` and ``csv`` (for programs). With json and
csv, stdout carries only the data; tables of limits, progress and logs go to stderr. Bad input
(unknown element, unparsable composition, negative thickness, invalid data file) prints a short
error naming the bad value and exits with code 2.
"""

from __future__ import annotations

import json
import math
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table


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


def candidate_table(candidates, candidates_file, overlayer_nm, underlayer, underlayer_nm):
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


def json_ready(value):
    """Plain JSON values: NaN and infinities become null, numpy scalars Python numbers."""
    if isinstance(value, dict):
        return {key: json_ready(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return json_ready(value.item())
    return value


def print_frame(frame, output: OutputFormat, title: str, float_digits: int = 2, columns: list[str] | None = None) -> None:
    if output is OutputFormat.json:
        records = [{key: json_ready(value) for key, value in row.items()} for row in frame.to_dict("records")]
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
            table.add_row(*(cell(value, float_digits) for value in row))
        stdout.print(table)


def plus_minus(mean: float, std: float, digits: int) -> str:
    return "-" if math.isnan(mean) else f"{mean:.{digits}f} ± {std:.{digits}f}"


def cell(value, digits: int) -> str:
    if isinstance(value, list):
        return ", ".join(value) if value else "none"
    if value is None:
        return "unknown"
    if isinstance(value, float):
        return "unknown" if math.isnan(value) else f"{value:.{digits}f}"
    if hasattr(value, "item"):
        return cell(value.item(), digits)
    return str(value)

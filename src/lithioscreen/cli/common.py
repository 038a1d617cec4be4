"""What every ``lithioscreen`` command shares: the Typer app, output formats, option types, errors.

Output formats: ``table`` (rich, for people), ``json`` and ``csv`` (for programs). With json and
csv, stdout carries only the data; tables of limits, progress and logs go to stderr. Bad input
(unknown element, unparsable composition, negative thickness, invalid data file) prints a short
error naming the bad value and exits with code 2.

Every value that reaches rich is shown literally: table cells, headers and titles are ``Text``,
messages go through :func:`say` or :func:`fail`, so ``[/]`` or ``[red]`` in a candidate, a cell
id or a path is printed as written and never parsed as markup (a ``MarkupError`` otherwise).

CSV output is safe to open in a spreadsheet: a text cell starting with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return (a formula to Excel or LibreOffice) is written with a leading ``'``;
numbers stay numbers (:func:`spreadsheet_safe`).
"""

from __future__ import annotations

import json
import math
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

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
    """``--format``: ``table`` (rich, for people), ``json`` or ``csv`` (for programs; data alone on stdout)."""

    table = "table"
    json = "json"
    csv = "csv"


CandidatesArg = Annotated[
    list[str] | None, typer.Argument(help="Overlayer compositions, e.g. W Nb Cr0.5W0.5.", show_default=False)
]
CandidatesFile = Annotated[
    Path | None,
    typer.Option(
        "--candidates", help="CSV with a 'candidate' column (optional: overlayer_nm, underlayer, underlayer_nm)."
    ),
]


class AlloyOrder(str, Enum):
    """``--alloys``: alloys of two (``binary``) or three (``ternary``) elements."""

    binary = "binary"
    ternary = "ternary"


OverlayerNm = Annotated[float, typer.Option(help="Overlayer thickness, nm.")]
Thicknesses = Annotated[
    list[float] | None,
    typer.Option("--thickness", help="Overlayer thickness to screen, nm; repeat the option for several."),
]
Underlayer = Annotated[str, typer.Option(help="Element beneath the overlayer, or 'none'.")]
UnderlayerNm = Annotated[float, typer.Option(help="Underlayer thickness, nm.")]
Format = Annotated[OutputFormat, typer.Option("--format", help="table, json or csv.")]
DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Project folder with cells.csv and the other data files (default: LITHIOSCREEN_DATA_DIR, the checkout's data/, or the shipped copy).",
    ),
]
ModelsDir = Annotated[
    Path | None,
    typer.Option(
        "--models-dir",
        help="Folder with the exported champion (default: LITHIOSCREEN_MODELS_DIR, the checkout's models/, or the shipped copy).",
    ),
]
TrackingUri = Annotated[
    str | None,
    typer.Option("--tracking-uri", help="MLflow tracking URI (default: MLFLOW_TRACKING_URI or sqlite:///mlflow.db)."),
]
Experiment = Annotated[str, typer.Option("--experiment", help="MLflow experiment name.")]
Threshold = Annotated[float, typer.Option("--threshold", help="Interfacial-energy threshold for the flag, meV/Å².")]


MaxCandidates = Annotated[
    int,
    typer.Option(
        "--max-candidates",
        min=1,
        help="Refuse screens (grids, candidate files) above this many candidates; each ranked row costs about 1.5 KB of memory.",
    ),
]


def say(console: Console, message: str, style: str | None = None) -> None:
    """Print ``message`` literally (no rich markup: user values may contain brackets).

    Parameters
    ----------
    console : rich.console.Console
        :data:`stdout` or :data:`stderr`.
    message : str
        The text.
    style : str or None
        A rich style for the whole message (``"yellow"``); None: plain.
    """
    console.print(Text(str(message), style=style or ""), highlight=False, soft_wrap=True)


#: The library names a parameter in backticks (``raise the cap (`max_candidates`)``); the CLI shows its
#: flag: the name in kebab case (``--max-candidates``) unless listed here.
FLAGS = {
    "max_area_a2": "--max-area",
    "supercell_rank": "--supercell",
    "max_stderr_mev_per_a2": "--max-stderr",
    "version": "--protocol-version",
}


def as_flags(message: str) -> str:
    """A library message with its parameter names replaced by the CLI's flags.

    Parameters
    ----------
    message : str
        A message naming parameters in backticks (`` `max_candidates` ``).

    Returns
    -------
    str
        The message with ``--max-candidates`` in place of `` `max_candidates` `` (:data:`FLAGS` for
        the exceptions), and so on.
    """
    import re

    def flag(match: re.Match) -> str:
        name = match.group(1)
        return FLAGS.get(name, "--" + name.replace("_", "-"))

    return re.sub(r"`([a-z][a-z0-9_]*)`", flag, message)


def fail(message: str) -> None:
    """The one-line error of bad input: ``error: <message>`` on stderr, exit code 2.

    Parameters
    ----------
    message : str
        What is wrong; parameter names are shown as flags (:func:`as_flags`).

    Raises
    ------
    typer.Exit
        Always, with code 2.
    """
    stderr.print(Text.assemble(("error:", "bold red"), " ", as_flags(str(message))), highlight=False, soft_wrap=True)
    raise typer.Exit(code=2)


def checked_threshold(value: float) -> float:
    """``--threshold`` within the physical range (NaN, ±inf, -1e9 are exit 2).

    Returns the value (meV/Å²) checked by :func:`lithioscreen.candidates.check_threshold`; exits
    with code 2 (after :func:`fail`) for a value outside the range.
    """
    from lithioscreen.candidates import CandidateError, check_threshold

    try:
        return check_threshold(value)
    except CandidateError as error:
        fail(f"--threshold: {error}")


def candidate_table(candidates, candidates_file, overlayer_nm, underlayer, underlayer_nm, max_candidates=None):
    """The candidates of a command: a ``--candidates`` file, the named ones, or every metal of the phase data.

    Parameters
    ----------
    candidates : list of str or None
        Compositions named on the command line; None or empty: every element of the phase data.
    candidates_file : pathlib.Path or None
        A ``--candidates`` CSV; it wins over ``candidates`` and keeps its own stacks.
    overlayer_nm : float or list of float
        Overlayer thickness(es), nm; with several, every candidate at each (thickness-major).
    underlayer : str
        Underlayer element, or ``none``.
    underlayer_nm : float
        Underlayer thickness, nm.
    max_candidates : int or None
        Row cap of a candidates file; None: :data:`lithioscreen.candidates.DEFAULT_MAX_CANDIDATES`.

    Returns
    -------
    pandas.DataFrame
        The validated candidate table.

    Raises
    ------
    typer.Exit
        Code 2 (after :func:`fail`) on bad input.
    """
    import pandas as pd

    from lithioscreen.candidates import DEFAULT_MAX_CANDIDATES, CandidateError, make_candidates, read_candidates_file
    from lithioscreen.data import DataValidationError

    thicknesses = overlayer_nm if isinstance(overlayer_nm, list | tuple) else [overlayer_nm]
    try:
        if candidates_file is not None:
            return read_candidates_file(candidates_file, max_rows=max_candidates or DEFAULT_MAX_CANDIDATES)
        if not candidates:
            from lithioscreen.data import load_phase_data

            candidates = load_phase_data()["element"].tolist()
        tables = [make_candidates(candidates, thickness, underlayer, underlayer_nm) for thickness in thicknesses]
        return pd.concat(tables, ignore_index=True)
    except (CandidateError, DataValidationError) as error:
        fail(str(error))


def json_ready(value):
    """Plain JSON values: NaN and infinities become null, numpy scalars Python numbers.

    Parameters
    ----------
    value : object
        A value, or dicts, lists and tuples of values (converted recursively).

    Returns
    -------
    object
        The same structure with tuples as lists, ready for :func:`json.dumps`.
    """
    if isinstance(value, dict):
        return {key: json_ready(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return json_ready(value.item())
    return value


#: What a spreadsheet reads as the start of a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value):
    """A text cell that a spreadsheet would run as a formula gets a leading ``'``; anything else is unchanged.

    Parameters
    ----------
    value : object
        A cell.

    Returns
    -------
    object
        ``"'" + value`` for a string starting with one of :data:`FORMULA_STARTS`, else ``value``.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_ready(frame):
    """The frame as CSV cells: lists joined with ``;``, text cells :func:`spreadsheet_safe`, numbers untouched.

    Parameters
    ----------
    frame : pandas.DataFrame
        A result table.

    Returns
    -------
    pandas.DataFrame
        A copy, headers made spreadsheet-safe too.
    """
    csv_frame = frame.copy()
    csv_frame.columns = [spreadsheet_safe(str(column)) for column in csv_frame.columns]
    for position in range(csv_frame.shape[1]):
        values = csv_frame.iloc[:, position]
        if values.dtype != object:
            continue  # numbers and booleans stay as they are (-8.1 is a number, not a formula)
        if values.map(lambda v: isinstance(v, list)).any():
            values = values.map(lambda v: ";".join(v) if isinstance(v, list) else "")
        csv_frame.iloc[:, position] = values.map(spreadsheet_safe)
    return csv_frame


def _json_records(frame) -> list[dict]:
    return [{key: json_ready(value) for key, value in row.items()} for row in frame.to_dict("records")]


def print_frame(
    frame, output: OutputFormat, title: str, float_digits: int = 2, columns: list[str] | None = None
) -> None:
    """Print a result table to stdout in the chosen format.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table.
    output : OutputFormat
        ``json``: one array of records (NaN as null); ``csv``: :func:`csv_ready`; ``table``: a rich table.
    title : str
        The rich table's title (``table`` only).
    float_digits : int
        Decimals of floats in the rich table.
    columns : list of str or None
        The columns the rich table shows; None: all. json and csv always carry every column.
    """
    if output is OutputFormat.json:
        sys.stdout.write(json.dumps(_json_records(frame), indent=2) + "\n")
    elif output is OutputFormat.csv:
        sys.stdout.write(csv_ready(frame).to_csv(index=False))
    else:
        table = Table(title=Text(title) if title else None, header_style="bold")
        shown = columns or list(frame.columns)
        for column in shown:
            table.add_column(Text(str(column)), overflow="fold")
        for row in frame[shown].itertuples(index=False):
            table.add_row(*(Text(cell(value, float_digits)) for value in row))
        stdout.print(table)


class FrameWriter:
    """Writes a table chunk by chunk to stdout as csv or json.

    The output is byte for byte what :func:`print_frame` writes for the whole table (json: one
    array; csv: one header). Call :meth:`close` at the end.

    Parameters
    ----------
    output : OutputFormat
        ``csv`` or ``json``.

    Raises
    ------
    ValueError
        For ``table``.
    """

    def __init__(self, output: OutputFormat):
        if output is OutputFormat.table:
            raise ValueError("FrameWriter writes csv or json")
        self.output, self.started = output, False

    def write(self, frame) -> None:
        """Write the next chunk and flush stdout.

        Parameters
        ----------
        frame : pandas.DataFrame
            The chunk; every chunk has the same columns.
        """
        if self.output is OutputFormat.csv:
            sys.stdout.write(csv_ready(frame).to_csv(index=False, header=not self.started))
            self.started = True
        else:
            for record in _json_records(frame):
                body = "\n".join("  " + line for line in json.dumps(record, indent=2).splitlines())
                sys.stdout.write(("[\n" if not self.started else ",\n") + body)
                self.started = True
        sys.stdout.flush()

    def close(self) -> None:
        """End the output (json: close the array, or write ``[]`` if nothing was written)."""
        if self.output is OutputFormat.json:
            sys.stdout.write("\n]\n" if self.started else "[]\n")


def plus_minus(mean: float, std: float, digits: int) -> str:
    """``mean ± std`` for a table cell.

    Parameters
    ----------
    mean, std : float
        The values (mA/cm² in the tables).
    digits : int
        Decimals.

    Returns
    -------
    str
        ``"4.21 ± 0.50"``, or ``"-"`` when ``mean`` is NaN.
    """
    return "-" if math.isnan(mean) else f"{mean:.{digits}f} ± {std:.{digits}f}"


def cell(value, digits: int) -> str:
    """A value as rich table text.

    Parameters
    ----------
    value : object
        A cell of a result table.
    digits : int
        Decimals of floats.

    Returns
    -------
    str
        Lists joined with ``, `` (``none`` if empty); None and NaN as ``unknown``; floats rounded.
    """
    if isinstance(value, list):
        return ", ".join(value) if value else "none"
    if value is None:
        return "unknown"
    if isinstance(value, float):
        return "unknown" if math.isnan(value) else f"{value:.{digits}f}"
    if hasattr(value, "item"):
        return cell(value.item(), digits)
    return str(value)

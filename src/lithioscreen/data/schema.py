"""A small declarative schema for the CSV files in ``data/``.

Each file is read as text and every cell is checked against its column's rule, so that an error
names the file, the line, the row's key and the column. All problems are collected before the
error is raised: a user fixing a file sees every bad cell at once.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from lithioscreen.validation import parse_ascii_number, regular_file_problem


@dataclass(frozen=True)
class Problem:
    """One bad cell (or row, when ``column`` is empty); ``str()`` gives the message users see.

    Attributes
    ----------
    file : str
        The file (or another source name).
    line : int
        Line number in the file; the header is line 1, 0 for the file as a whole.
    column : str
        The column, or ``""``.
    message : str
        What is wrong, naming the value.
    key : str
        The row's key (``cell_id=...``), or ``""``.
    """

    file: str
    line: int  # line number in the file; the header is line 1
    column: str
    message: str
    key: str = ""

    def __str__(self) -> str:
        where = f"{self.file}: line {self.line}"
        if self.key:
            where += f" ({self.key})"
        if self.column:
            where += f", column {self.column!r}"
        return f"{where}: {self.message}"


class DataValidationError(ValueError):
    """Raised with every problem found in a data file.

    Parameters
    ----------
    problems : sequence of Problem
        Every problem found; kept as ``problems``, and listed one per line in the message.
    """

    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        lines = [str(problem) for problem in self.problems]
        super().__init__(f"{len(lines)} problem(s):\n" + "\n".join(lines))


@dataclass(frozen=True)
class Column:
    """Rule for one column.

    Attributes
    ----------
    name : str
        The column's header.
    kind : str
        ``str``, ``float`` or ``int``; numbers must be written in ASCII digits and be finite.
    required : bool
        Empty cells are errors; otherwise they become NaN (numbers) or ``""`` (text).
    allowed : frozenset of str or None
        The permitted text values; None: any.
    minimum, maximum : float or None
        Inclusive bounds for numbers; None: unbounded.
    check : callable or None
        An extra test on non-empty text that returns an error message or None.
    unit : str
        The unit named in messages (``nm``).
    """

    name: str
    kind: str = "str"
    required: bool = False
    allowed: frozenset[str] | None = None
    minimum: float | None = None
    maximum: float | None = None
    check: Callable[[str], str | None] | None = None
    unit: str = ""


@dataclass(frozen=True)
class Schema:
    """The rules of one CSV file.

    Attributes
    ----------
    name : str
        The file's name (``cells.csv``), as messages show it.
    columns : sequence of Column
        Its columns, in file order.
    key : str or None
        The column whose value names a row in messages and must be unique; None: no key.
    row_checks : sequence of callable
        Cross-column checks on a well-typed row (a ``pandas.Series``), each returning
        ``(column, message)`` pairs for what is wrong.
    """

    name: str
    columns: Sequence[Column]
    key: str | None = None  # column whose value names a row in messages and must be unique
    row_checks: Sequence[Callable[[pd.Series], list[tuple[str, str]]]] = field(default_factory=tuple)

    @property
    def column_names(self) -> list[str]:
        """The column names, in file order.

        Returns
        -------
        list of str
        """
        return [column.name for column in self.columns]


def _parse_cell(raw: str, column: Column) -> tuple[object, str | None]:
    text = raw.strip()
    if text == "":
        if column.required:
            return None, "is empty (required)"
        return (math.nan if column.kind in {"float", "int"} else ""), None
    if column.kind == "str":
        if column.allowed is not None and text not in column.allowed:
            return None, f"{text!r} is not one of {sorted(column.allowed)}"
        if column.check is not None:
            message = column.check(text)
            if message:
                return None, message
        return text, None
    try:
        # ASCII digits only: float() would also read '３０', '٣٠' and '3_0'
        number = parse_ascii_number(text)
    except ValueError:
        if text.lower().lstrip("+-") in {"nan", "inf", "infinity"}:
            return None, f"{text!r} is not a finite number"
        unit = f" {column.unit}" if column.unit else ""
        return None, f"{text!r} is not a number{unit} (ASCII digits, e.g. 30 or 2.5e-3)"
    if not math.isfinite(number):  # 1e999
        return None, f"{text!r} is not a finite number"
    if column.kind == "int" and number != int(number):
        return None, f"{text!r} is not a whole number"
    if column.minimum is not None and number < column.minimum:
        return None, f"{number:g} is below the minimum {column.minimum:g} {column.unit}".rstrip()
    if column.maximum is not None and number > column.maximum:
        return None, f"{number:g} is above the maximum {column.maximum:g} {column.unit}".rstrip()
    return number, None


def read_raw(path: Path) -> pd.DataFrame:
    """Read a CSV as text cells, or raise DataValidationError naming the file.

    Parameters
    ----------
    path : pathlib.Path
        A UTF-8 CSV file (a BOM is allowed).

    Returns
    -------
    pandas.DataFrame
        Every cell as a string (empty cells ``""``), not validated.

    Raises
    ------
    DataValidationError
        If the file is missing, not a regular file, not UTF-8, empty, or not valid CSV.
    """
    problem = regular_file_problem(path)
    if problem and problem != "file not found":
        raise DataValidationError([Problem(str(path), 0, "", problem)])
    try:
        raw_bytes = path.read_bytes()
    except FileNotFoundError:
        raise DataValidationError([Problem(str(path), 0, "", "file not found")]) from None
    try:
        raw_bytes.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw_bytes[: error.start].count(b"\n") + 1
        raise DataValidationError([Problem(str(path), line, "", f"not UTF-8 text ({error.reason})")]) from None
    if not raw_bytes.strip():
        raise DataValidationError([Problem(str(path), 1, "", "file is empty")])
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except pd.errors.ParserError as error:
        raise DataValidationError([Problem(str(path), 0, "", f"not a valid CSV: {error}")]) from None
    frame.attrs["lines"] = _record_lines(raw_bytes.decode("utf-8-sig"))
    return frame


def _record_lines(text: str) -> list[int]:
    """The line each data record starts on (blank lines skipped, quoted line breaks followed), as pandas reads them."""
    import csv
    import io

    reader = csv.reader(io.StringIO(text, newline=""))
    lines, start, header_seen = [], 1, False
    try:
        for record in reader:
            if any(cell.strip() for cell in record):
                if header_seen:
                    lines.append(start)
                header_seen = True
            start = reader.line_num + 1
    except csv.Error:
        return []
    return lines


def validate(raw: pd.DataFrame, schema: Schema, source: str) -> pd.DataFrame:
    """Check every cell of ``raw`` (text cells) against ``schema``; return typed columns.

    Parameters
    ----------
    raw : pandas.DataFrame
        Text cells, as :func:`read_raw` returns them (its ``attrs["lines"]`` give each row's line in the
        file; without them, data row ``i`` is reported as line ``i + 2``).
    schema : Schema
        The rules.
    source : str
        The file named in the problems.

    Returns
    -------
    pandas.DataFrame
        The schema's columns only: text as ``str``, ``float`` columns as float (NaN for empty),
        ``int`` columns as pandas' nullable ``Int64``.

    Raises
    ------
    DataValidationError
        With every problem: missing columns, no data rows, bad cells, duplicate keys, failed row checks.
    """
    problems: list[Problem] = []
    missing = [name for name in schema.column_names if name not in raw.columns]
    if missing:
        problems.append(Problem(source, 1, ", ".join(missing), "missing column(s)"))
        raise DataValidationError(problems)
    if raw.empty:
        raise DataValidationError([Problem(source, 2, "", "no data rows")])

    typed: dict[str, list[object]] = {column.name: [] for column in schema.columns}
    bad_rows: set[int] = set()
    seen_keys: dict[str, int] = {}
    recorded = raw.attrs.get("lines") or []
    lines = recorded if len(recorded) == len(raw) else [index + 2 for index in range(len(raw))]
    for index, (_, row) in enumerate(raw.iterrows()):
        line = lines[index]
        key = f"{schema.key}={row[schema.key].strip()}" if schema.key else ""
        for column in schema.columns:
            value, message = _parse_cell(str(row[column.name]), column)
            if message:
                problems.append(Problem(source, line, column.name, message, key))
                bad_rows.add(index)
            typed[column.name].append(value)
        if schema.key:
            value = row[schema.key].strip()
            if value in seen_keys:
                problems.append(
                    Problem(source, line, schema.key, f"duplicate {value!r} (first on line {seen_keys[value]})", key)
                )
            else:
                seen_keys[value] = line
    frame = pd.DataFrame(typed)
    for index, row in frame.iterrows():
        if index in bad_rows:
            continue  # cross-column checks only make sense on well-typed rows
        key = f"{schema.key}={row[schema.key]}" if schema.key else ""
        for check in schema.row_checks:
            for column, message in check(row):
                problems.append(Problem(source, lines[int(index)], column, message, key))
    if problems:
        raise DataValidationError(problems)
    for column in schema.columns:
        if column.kind == "int":
            frame[column.name] = frame[column.name].astype("Float64").astype("Int64")
        elif column.kind == "float":
            frame[column.name] = frame[column.name].astype(float)
    return frame

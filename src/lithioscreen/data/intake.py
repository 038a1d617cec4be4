"""The intake of newly tested cells into ``data/cells.csv``: validation, atomic append, versioned history.

The weekly loop of the lab is: print the template, fill in one row per tested cell, and add the
file. :func:`add_cells` does that in four steps:

1. **Validate every row before touching anything** (:func:`validate_new_cells`): the encoding,
   an empty file, missing or unknown columns, and every cell against the schema of
   ``cells.csv`` (:data:`lithioscreen.data.loaders.CELLS_SCHEMA`: unknown elements and
   unparsable stacks through :mod:`lithioscreen.candidates`, types and units, negative values,
   CCDs above 100 mA/cm², thicknesses above 100 µm, NaN, censoring consistency), plus duplicate
   cell ids within the file and against the data. Every problem is collected, with file, line
   and column, and raised at once as a :class:`DataValidationError`.
2. **Lock** ``data/.cells.csv.lock`` (an exclusive OS lock through :mod:`filelock`), so that two
   additions at once are serialised; under the lock the current file is read again and the
   duplicate check repeated, so that neither addition loses or duplicates the other's rows.
3. **Write atomically**: the new content is written to a temporary file in the same folder,
   flushed and fsynced, validated again as a whole (:func:`lithioscreen.data.load_cells`),
   and moved over ``cells.csv`` with ``os.replace``; the folder is fsynced. A reader, or a
   process killed at any point, sees the old file or the new one, never a partial one.
4. **Record the version** in ``data/cells_history.jsonl``, an append-only log (one JSON object per
   line; the log itself is rewritten atomically, old lines never change). Each entry holds the
   bytes it appended (or, for a ``snapshot``, the whole file), the SHA-256 of the resulting
   ``cells.csv``, the data version (:func:`lithioscreen.data.versions.data_version`, the hash MLflow records with every
   training run), its parent's hashes, the UTC time and the cell ids added.
   :func:`lithioscreen.data.versions.reconstruct_versions` rebuilds every version from the log and checks each hash.

The log starts with a ``snapshot`` of the file as it was before the first addition. If
``cells.csv`` was changed by other means (an edit by hand, or a process killed between the data
write and the log write), the next addition first records a ``snapshot`` of that state, so that
no version that was ever used for training is lost.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from lithioscreen import config
from lithioscreen.data._files import atomic_write, exclusive_lock
from lithioscreen.data.loaders import CELLS_SCHEMA, load_cells
from lithioscreen.data.schema import DataValidationError, Problem, validate
from lithioscreen.data.versions import HISTORY_FILE, HistoryEntry, history_entry, load_cells_bytes, read_history
from lithioscreen.validation import regular_file_problem

LOCK_FILE = ".cells.csv.lock"
#: Columns a file of new cells may leave out (added after the template was first published); they are empty then.
OPTIONAL_INTAKE_COLUMNS = frozenset({"failure_mode"})
#: How long an addition waits for another one to finish, seconds.
LOCK_TIMEOUT_S = 120.0
MAX_NEW_CELLS = config.MAX_NEW_CELLS  # rows per file; ``cells add --max-rows N`` raises it
#: Two cells with the same values in these columns are the same measurement entered twice
#: (stack, CCD protocol, result); ids, sources and notes may differ. ``--allow-replicates``
#: accepts a deliberate replicate cell that gave the very same result.
REPLICATE_KEY = (
    "overlayer",
    "overlayer_nm",
    "underlayer",
    "underlayer_nm",
    "current_collector",
    "solid_electrolyte",
    "counter_electrode",
    "temperature_c",
    "stack_pressure_mpa",
    "ccd_start_ma_cm2",
    "ccd_step_ma_cm2",
    "ccd_stripping_ma_cm2",
    "ccd_capacity_mah_cm2",
    "ccd_censoring",
    "ccd_lower_ma_cm2",
    "ccd_upper_ma_cm2",
)


def cells_template(example: bool = False) -> str:
    """The header of ``cells.csv`` (and, with ``example``, one filled-in example row to overwrite).

    Parameters
    ----------
    example : bool
        Add one example row (a Nb/Mg cell, "> 5.0") whose ``notes`` say to replace every value.

    Returns
    -------
    str
        CSV text, ``\\n`` line endings.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CELLS_SCHEMA.column_names)
    if example:
        row = {
            "cell_id": "lab-2026-w48-nb30-mg200-01",
            "overlayer": "Nb",
            "overlayer_nm": "30",
            "underlayer": "Mg",
            "underlayer_nm": "200",
            "current_collector": "SUS",
            "solid_electrolyte": "Li6PS5Cl",
            "counter_electrode": "Li",
            "temperature_c": "25",
            "stack_pressure_mpa": "",
            "ccd_start_ma_cm2": "1.0",
            "ccd_step_ma_cm2": "0.1",
            "ccd_stripping_ma_cm2": "1.0",
            "ccd_capacity_mah_cm2": "1.0",
            "ccd_reported": "> 5.0",
            "ccd_censoring": "lower_bound",
            "failure_mode": "",
            "ccd_lower_ma_cm2": "5.0",
            "ccd_upper_ma_cm2": "",
            "ccd_source_figure": "lab notebook 12, p. 34",
            "ccd_value_origin": "measured_here",
            "first_cycle_ce_pct": "",
            "ce_source_figure": "",
            "ce_value_origin": "",
            "doi": "lab:notebook-12/p34",
            "notes": "EXAMPLE ROW: replace every value with your cell's (censoring: exact | lower_bound | interval | not_measured | failed, with failure_mode li_plated_on_overlayer | short_circuit_at_start | other)",
        }
        writer.writerow([row[name] for name in CELLS_SCHEMA.column_names])
    return buffer.getvalue()


@dataclass
class NewCells:
    """A validated file of new cells: typed rows, and their text in ``cells.csv`` column order.

    Attributes
    ----------
    source : str
        The file's path.
    frame : pandas.DataFrame
        The typed rows, as :func:`lithioscreen.data.load_cells` returns them.
    rows : list of list of str
        The stripped text cells, in the column order of the ``cells.csv`` schema.
    lines : list of int
        The line each row starts on in the file.
    """

    source: str
    frame: pd.DataFrame  # typed, as load_cells returns
    rows: list[list[str]]  # stripped text cells, in CELLS_SCHEMA column order
    lines: list[int]  # line of each row in the source file

    @property
    def cell_ids(self) -> list[str]:
        """The new cells' ids.

        Returns
        -------
        list of str
            In file order.
        """
        return [str(value) for value in self.frame["cell_id"]]


def _read_csv_text(path: Path, max_rows: int | None = MAX_NEW_CELLS) -> tuple[list[str], list[list[str]], list[int]]:
    """Header, rows and the line each row starts on; DataValidationError for unreadable files
    and for more than ``max_rows`` rows (None: no cap)."""
    source = str(path)
    problem = regular_file_problem(path)  # before opening: a FIFO would block the open forever
    if problem:
        raise DataValidationError([Problem(source, 0, "", problem)])
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataValidationError([Problem(source, 0, "", "file not found")]) from None
    except IsADirectoryError:
        raise DataValidationError([Problem(source, 0, "", "is a folder, not a CSV file")]) from None
    except OSError as error:
        raise DataValidationError([Problem(source, 0, "", f"cannot read: {error.strerror or error}")]) from None
    if not raw.strip():
        raise DataValidationError(
            [Problem(source, 1, "", "file is empty (print the header with `lithioscreen cells template`)")]
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise DataValidationError(
            [
                Problem(
                    source,
                    line,
                    "",
                    f"not UTF-8 text (byte {raw[error.start]:#04x} at offset {error.start}: {error.reason}); save the file as UTF-8 CSV",
                )
            ]
        ) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise DataValidationError([Problem(source, line, "", "contains a NUL byte: not a text CSV file")])
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header: list[str] | None = None
    rows: list[list[str]] = []
    lines: list[int] = []
    problems: list[Problem] = []
    try:
        start = 1
        for record in reader:
            if header is None:
                header = [name.strip() for name in record]
            elif any(value.strip() for value in record):  # blank lines are skipped, as pandas does
                if max_rows is not None and len(rows) >= max_rows:
                    raise DataValidationError(
                        [
                            Problem(
                                source,
                                start,
                                "",
                                f"more than {max_rows:,} new cells in one file; split it, or raise the cap (`max_rows`)",
                            )
                        ]
                    )
                rows.append(record)
                lines.append(start)
            start = reader.line_num + 1
    except csv.Error as error:
        problems.append(Problem(source, reader.line_num, "", f"not a valid CSV: {error}"))
    if header is None or not any(header):
        problems.append(Problem(source, 1, "", "no header line"))
    if problems:
        raise DataValidationError(problems)
    return header, rows, lines


def validate_new_cells(
    path: Path | str,
    existing: pd.DataFrame | None = None,
    max_rows: int | None = MAX_NEW_CELLS,
    allow_replicates: bool = False,
) -> NewCells:
    """Check a CSV of new cells against the ``cells.csv`` schema, the existing cells and each other.

    Unless ``allow_replicates``, rows that repeat another cell's stack, protocol and result
    (:data:`REPLICATE_KEY`) are refused too. Every problem (file, line, column, message) is
    collected; any problem raises :class:`DataValidationError` listing all of them.

    Parameters
    ----------
    path : pathlib.Path or str
        The UTF-8 CSV of new cells (a BOM is allowed; blank lines are skipped). Columns in any
        order; only :data:`OPTIONAL_INTAKE_COLUMNS` may be left out.
    existing : pandas.DataFrame or None
        The current ``cells.csv`` (:func:`lithioscreen.data.load_cells`) to check ids and
        replicates against; None: check the file on its own.
    max_rows : int or None
        More data rows than this are refused; None: no cap.
    allow_replicates : bool
        Accept rows that repeat another cell's stack, protocol and result.

    Returns
    -------
    NewCells
        The validated rows.

    Raises
    ------
    DataValidationError
        With every problem found.
    """
    path = Path(path)
    source = str(path)
    header, rows, lines = _read_csv_text(path, max_rows)
    problems: list[Problem] = []
    expected = CELLS_SCHEMA.column_names
    seen: dict[str, int] = {}
    for position, name in enumerate(header, start=1):
        if name in seen:
            problems.append(Problem(source, 1, name, f"column appears twice (positions {seen[name]} and {position})"))
        seen.setdefault(name, position)
    unknown = [name for name in header if name not in expected]
    missing = [name for name in expected if name not in seen and name not in OPTIONAL_INTAKE_COLUMNS]
    if unknown:
        problems.append(
            Problem(
                source,
                1,
                ", ".join(repr(name) for name in unknown),
                "unknown column(s): cells.csv has no such column (wrong name or unit?); see `lithioscreen cells template`",
            )
        )
    if missing:
        problems.append(Problem(source, 1, ", ".join(missing), "missing column(s)"))
    if not rows:
        problems.append(Problem(source, 2, "", "no data rows"))
        raise DataValidationError(problems)

    width = len(header)
    index = {name: header.index(name) for name in expected if name in seen}
    text_rows: list[list[str]] = []
    for record, line in zip(rows, lines):
        if len(record) != width:
            problems.append(
                Problem(
                    source, line, "", f"has {len(record)} fields, the header has {width} (a stray or missing comma?)"
                )
            )
        text_rows.append(
            [record[index[name]].strip() if name in index and index[name] < len(record) else "" for name in expected]
        )

    raw = pd.DataFrame(text_rows, columns=expected, dtype=str)
    try:
        frame = validate(raw, CELLS_SCHEMA, source=source)
    except DataValidationError as error:
        frame = None
        for problem in error.problems:
            if problem.column in missing:
                continue  # already reported once as a missing column, not once per row
            row_index = problem.line - 2
            line = lines[row_index] if 0 <= row_index < len(lines) else problem.line
            problems.append(Problem(problem.file, line, problem.column, problem.message, problem.key))
    if existing is not None:
        problems.extend(_duplicates_against(existing, raw["cell_id"].tolist(), lines, source))
    if frame is not None and not allow_replicates:
        problems.extend(_replicates(frame, lines, source, existing))
    if problems:
        raise DataValidationError(problems)
    assert frame is not None
    return NewCells(source=source, frame=frame, rows=text_rows, lines=lines)


def _replicate_keys(frame: pd.DataFrame) -> list[tuple]:
    """One key per row: :data:`REPLICATE_KEY` with compositions in one spelling, numbers to 6 digits, text case- and space-folded."""
    from lithioscreen.candidates import CandidateError, parse_overlayer

    formulas: dict[str, str] = {}

    def formula(text: str) -> str:
        if text not in formulas:
            try:
                formulas[text] = parse_overlayer(text).formula
            except CandidateError:
                formulas[text] = text
        return formulas[text]

    def normal(column: str, value) -> str:
        if column == "overlayer":
            return formula(str(value))
        if isinstance(value, float) or hasattr(value, "dtype"):
            number = float(value)
            return "" if number != number else f"{number:.6g}"
        return " ".join(str(value).split()).casefold()

    return [tuple(normal(column, row[column]) for column in REPLICATE_KEY) for row in frame.to_dict("records")]


def _replicates(frame: pd.DataFrame, lines: list[int], source: str, existing: pd.DataFrame | None) -> list[Problem]:
    """New rows that repeat an existing cell, or an earlier new row, in stack, CCD protocol and result."""
    seen: dict[tuple, str] = {}
    if existing is not None and len(existing):
        where = existing.attrs.get("source_path", config.CELLS_FILE)
        for position, (key, cell_id) in enumerate(zip(_replicate_keys(existing), existing["cell_id"])):
            seen.setdefault(key, f"{cell_id!r} in {where} (line {position + 2})")
    problems = []
    for key, cell_id, line in zip(_replicate_keys(frame), frame["cell_id"], lines):
        if key in seen:
            problems.append(
                Problem(
                    source,
                    line,
                    "",
                    f"same stack, CCD protocol and result as {seen[key]}: the same cell entered twice? "
                    "(a deliberate replicate with the very same result: `allow_replicates`)",
                    f"cell_id={cell_id}",
                )
            )
        else:
            seen[key] = f"{cell_id!r} (line {line})"
    return problems


def _duplicates_against(existing: pd.DataFrame, cell_ids: list[str], lines: list[int], source: str) -> list[Problem]:
    where = existing.attrs.get("source_path", config.CELLS_FILE)
    known = {str(cell_id): position + 2 for position, cell_id in enumerate(existing["cell_id"])}
    return [
        Problem(
            source,
            line,
            "cell_id",
            f"duplicate {cell_id!r}: already in {where} (line {known[cell_id]})",
            f"cell_id={cell_id}",
        )
        for cell_id, line in zip(cell_ids, lines)
        if cell_id in known
    ]


def data_lock(data_dir: Path, timeout_s: float = LOCK_TIMEOUT_S):
    """The lock every change of ``data_dir/cells.csv`` and its history takes.

    Parameters
    ----------
    data_dir : pathlib.Path
        The data folder; the lock file is ``data_dir/.cells.csv.lock``.
    timeout_s : float
        How long to wait for another addition, seconds.

    Returns
    -------
    contextlib.AbstractContextManager
        Use as ``with data_lock(folder): ...`` (:func:`lithioscreen.data._files.exclusive_lock`).
    """
    return exclusive_lock(Path(data_dir) / LOCK_FILE, timeout_s, "another `cells add`")


def _remove_stale_temp_files(data_dir: Path) -> None:
    """Temp files of writers killed before their rename (only ever removed under the lock)."""
    for name in (config.CELLS_FILE, HISTORY_FILE):
        for stale in data_dir.glob(f".{name}.*.tmp"):
            stale.unlink(missing_ok=True)


@dataclass
class AddResult:
    """What :func:`add_cells` did.

    Attributes
    ----------
    cell_ids : list of str
        The cells added, in file order.
    version : HistoryEntry
        The new version of ``cells.csv``.
    previous : HistoryEntry
        The version it was appended to.
    cells_path, history_path : str
        The files written.
    snapshots_recorded : list of HistoryEntry
        Snapshots recorded first (the file before the first addition, or after a change by other means).
    """

    cell_ids: list[str]
    version: HistoryEntry  # the new version
    previous: HistoryEntry  # the version it was appended to
    cells_path: str
    history_path: str
    snapshots_recorded: list[HistoryEntry] = field(default_factory=list)

    @property
    def data_version(self) -> str:
        """The data version of the new state (:func:`lithioscreen.data.versions.data_version`).

        Returns
        -------
        str
            SHA-256 hex digest.
        """
        return self.version.data_version


def _csv_text(rows: list[list[str]], newline: str) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=newline).writerows(rows)
    return buffer.getvalue()


def _in_file_order(new: NewCells, header: list[str], target: str) -> list[list[str]]:
    """The new rows in the column order of the existing ``cells.csv`` (an older file may lack an optional column)."""
    names = CELLS_SCHEMA.column_names
    problems = [
        Problem(
            new.source, line, name, f"{target} has no {name!r} column (an older format): add the column to it first"
        )
        for row, line in zip(new.rows, new.lines)
        for name, value in zip(names, row)
        if value and name not in header
    ]
    if problems:
        raise DataValidationError(problems)
    return [[dict(zip(names, row)).get(name, "") for name in header] for row in new.rows]


def add_cells(
    path: Path | str,
    data_dir: Path | str | None = None,
    lock_timeout_s: float = LOCK_TIMEOUT_S,
    max_rows: int | None = MAX_NEW_CELLS,
    allow_replicates: bool = False,
) -> AddResult:
    """Validate the new cells in ``path`` and append them to ``data_dir/cells.csv`` atomically.

    The steps, the lock and the history are described in the module docstring.

    Parameters
    ----------
    path : pathlib.Path or str
        The CSV of new cells (:func:`validate_new_cells`).
    data_dir : pathlib.Path or str or None
        The data folder holding ``cells.csv``; None: :func:`lithioscreen.config.data_dir`.
    lock_timeout_s : float
        How long to wait for another addition, seconds.
    max_rows, allow_replicates
        As for :func:`validate_new_cells`.

    Returns
    -------
    AddResult
        The cells added and the versions recorded.

    Raises
    ------
    DataValidationError
        Nothing written: a row of ``path`` or the current ``cells.csv`` is invalid, a cell id already
        exists, a row repeats a cell (unless ``allow_replicates``), or ``path`` has too many rows.
    TimeoutError
        If another addition holds the lock for longer than ``lock_timeout_s``.
    lithioscreen.config.ReadOnlyFolderError
        If ``data_dir`` is the copy shipped inside the installed package.
    """
    data_dir = Path(data_dir or config.data_dir())
    cells_path = data_dir / config.CELLS_FILE
    history_path = data_dir / HISTORY_FILE
    # Everything is checked once before the lock (so that a bad file leaves no trace at all) ...
    new = validate_new_cells(path, load_cells(cells_path), max_rows, allow_replicates)
    with data_lock(data_dir, lock_timeout_s):
        _remove_stale_temp_files(data_dir)
        # ... and the ids (and replicates) again under it: another addition may have landed in between.
        old_content = cells_path.read_bytes()
        current = load_cells(cells_path)
        duplicates = _duplicates_against(current, new.cell_ids, new.lines, new.source)
        if not allow_replicates:
            duplicates += _replicates(new.frame, new.lines, new.source, current)
        if duplicates:
            raise DataValidationError(duplicates)

        history = read_history(data_dir)
        old_sha = hashlib.sha256(old_content).hexdigest()
        recorded: list[HistoryEntry] = []
        last = history[-1] if history else None
        if last is None or last.cells_sha256 != old_sha:
            reason = (
                "initial version, recorded before the first `cells add`"
                if last is None
                else "cells.csv changed outside `cells add` (edited by hand, or an addition was interrupted before its history entry)"
            )
            last = history_entry(
                len(history) + 1, "snapshot", old_content, old_content.decode("utf-8"), data_dir, last, source=reason
            )
            recorded.append(last)

        newline = "\r\n" if b"\r\n" in old_content else "\n"
        rows = _in_file_order(new, load_cells_bytes(old_content).columns.tolist(), str(cells_path))
        appended = ("" if old_content.endswith(b"\n") or not old_content else newline) + _csv_text(rows, newline)
        new_content = old_content + appended.encode("utf-8")
        atomic_write(cells_path, new_content, check=load_cells)

        version = history_entry(
            last.seq + 1,
            "append",
            new_content,
            appended,
            data_dir,
            last,
            cell_ids_added=new.cell_ids,
            source=Path(path).name,
        )
        old_log = history_path.read_bytes() if history_path.exists() else b""
        if old_log and not old_log.endswith(b"\n"):
            old_log += b"\n"
        lines = "".join(entry.to_json() + "\n" for entry in [*recorded, version])
        atomic_write(history_path, old_log + lines.encode("utf-8"))
    return AddResult(
        cell_ids=new.cell_ids,
        version=version,
        previous=last,
        cells_path=str(cells_path),
        history_path=str(history_path),
        snapshots_recorded=recorded,
    )

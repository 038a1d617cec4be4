"""Adding newly tested cells to ``data/cells.csv``: validation, atomic append, versioned history.

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
   ``cells.csv``, the data version (:func:`data_version`, the hash MLflow records with every
   training run), its parent's hashes, the UTC time and the cell ids added.
   :func:`reconstruct_versions` rebuilds every version from the log and checks each hash.

The log starts with a ``snapshot`` of the file as it was before the first addition. If
``cells.csv`` was changed by other means (an edit by hand, or a process killed between the data
write and the log write), the next addition first records a ``snapshot`` of that state, so that
no version that was ever used for training is lost.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from lithioscreen import config
from lithioscreen.data.loaders import CELLS_SCHEMA, file_sha256, load_cells
from lithioscreen.data.schema import DataValidationError, Problem, validate
from lithioscreen.validation import regular_file_problem

__all__ = [
    "AddResult",
    "HISTORY_FILE",
    "HistoryEntry",
    "LOCK_FILE",
    "add_cells",
    "cells_template",
    "current_version",
    "data_version",
    "data_version_from_hashes",
    "read_history",
    "reconstruct_versions",
    "validate_new_cells",
]

HISTORY_FILE = "cells_history.jsonl"
LOCK_FILE = ".cells.csv.lock"
#: The files whose hashes make up the data version, in this order.
VERSIONED_FILES = (config.CELLS_FILE, config.PHASE_DATA_FILE, config.INTERFACIAL_ENERGIES_FILE)
#: Columns a file of new cells may leave out (added after the template was first published); they are empty then.
OPTIONAL_INTAKE_COLUMNS = frozenset({"failure_mode"})
#: How long an addition waits for another one to finish, seconds.
LOCK_TIMEOUT_S = 120.0
MAX_NEW_CELLS = config.MAX_NEW_CELLS  # rows per file; ``cells add --max-rows N`` raises it
#: Two cells with the same values in these columns are the same measurement entered twice
#: (stack, CCD protocol, result); ids, sources and notes may differ. ``--allow-replicates``
#: accepts a deliberate replicate cell that gave the very same result.
REPLICATE_KEY = (
    "overlayer", "overlayer_nm", "underlayer", "underlayer_nm", "current_collector", "solid_electrolyte", "counter_electrode",
    "temperature_c", "stack_pressure_mpa", "ccd_start_ma_cm2", "ccd_step_ma_cm2", "ccd_stripping_ma_cm2", "ccd_capacity_mah_cm2",
    "ccd_censoring", "ccd_lower_ma_cm2", "ccd_upper_ma_cm2",
)


# --------------------------------------------------------------------------- data version


def data_version_from_hashes(hashes: Iterable[tuple[str, str]]) -> str:
    """SHA-256 over ``name:sha256`` lines, in the given order (see :func:`data_version`)."""
    digest = hashlib.sha256()
    for name, sha in hashes:
        digest.update(f"{name}:{sha}\n".encode())
    return digest.hexdigest()


def data_version(paths: Iterable[Path]) -> str:
    """One hash for the data set: SHA-256 over the files' own SHA-256 hashes, in a fixed order.

    This is the ``data_version`` every MLflow training run records, and the one
    ``cells_history.jsonl`` records for every version of ``cells.csv``.
    """
    return data_version_from_hashes((Path(path).name, file_sha256(path)) for path in paths)


def versioned_paths(data_dir: Path) -> list[Path]:
    return [Path(data_dir) / name for name in VERSIONED_FILES]


# --------------------------------------------------------------------------- template


def cells_template(example: bool = False) -> str:
    """The header of ``cells.csv`` (and, with ``example``, one filled-in example row to overwrite)."""
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


# --------------------------------------------------------------------------- validation


@dataclass
class NewCells:
    """A validated file of new cells: typed rows, and their text in ``cells.csv`` column order."""

    source: str
    frame: pd.DataFrame  # typed, as load_cells returns
    rows: list[list[str]]  # stripped text cells, in CELLS_SCHEMA column order
    lines: list[int]  # line of each row in the source file

    @property
    def cell_ids(self) -> list[str]:
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
        raise DataValidationError([Problem(source, 1, "", "file is empty (print the header with `lithioscreen cells template`)")])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise DataValidationError(
            [Problem(source, line, "", f"not UTF-8 text (byte {raw[error.start]:#04x} at offset {error.start}: {error.reason}); save the file as UTF-8 CSV")]
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
                        [Problem(source, start, "", f"more than {max_rows:,} new cells in one file; split it, or raise the cap with --max-rows")]
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
    path: Path | str, existing: pd.DataFrame | None = None, max_rows: int | None = MAX_NEW_CELLS, allow_replicates: bool = False
) -> NewCells:
    """Check a CSV of new cells against the ``cells.csv`` schema, the existing cell ids and (unless
    ``allow_replicates``) rows that repeat another cell's stack, protocol and result.

    Every problem (file, line, column, message) is collected; any problem raises
    :class:`DataValidationError` listing all of them.
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
            Problem(source, 1, ", ".join(repr(name) for name in unknown), "unknown column(s): cells.csv has no such column (wrong name or unit?); see `lithioscreen cells template`")
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
            problems.append(Problem(source, line, "", f"has {len(record)} fields, the header has {width} (a stray or missing comma?)"))
        text_rows.append([record[index[name]].strip() if name in index and index[name] < len(record) else "" for name in expected])

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
                    source, line, "", f"same stack, CCD protocol and result as {seen[key]}: the same cell entered twice? "
                    "(a deliberate replicate with the very same result: --allow-replicates)", f"cell_id={cell_id}",
                )
            )
        else:
            seen[key] = f"{cell_id!r} (line {line})"
    return problems


def _duplicates_against(existing: pd.DataFrame, cell_ids: list[str], lines: list[int], source: str) -> list[Problem]:
    where = existing.attrs.get("source_path", config.CELLS_FILE)
    known = {str(cell_id): position + 2 for position, cell_id in enumerate(existing["cell_id"])}
    return [
        Problem(source, line, "cell_id", f"duplicate {cell_id!r}: already in {where} (line {known[cell_id]})", f"cell_id={cell_id}")
        for cell_id, line in zip(cell_ids, lines)
        if cell_id in known
    ]


# --------------------------------------------------------------------------- history


@dataclass
class HistoryEntry:
    """One version of ``cells.csv``: ``snapshot`` (the whole file) or ``append`` (rows added)."""

    seq: int
    kind: str  # "snapshot" | "append"
    created_utc: str
    cells_sha256: str
    data_version: str  # as MLflow records it: cells.csv plus the phase and interfacial-energy files
    file_hashes: dict[str, str]  # name -> sha256 of every versioned file at this version
    n_rows: int  # cells in the file at this version
    text: str  # the whole file (snapshot) or the appended bytes (append), UTF-8
    parent_cells_sha256: str | None = None
    parent_data_version: str | None = None
    cell_ids_added: list[str] = field(default_factory=list)
    source: str = ""  # the added file, or why a snapshot was taken

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)


def read_history(data_dir: Path | str | None = None) -> list[HistoryEntry]:
    """Every recorded version, oldest first (empty before the first addition)."""
    path = Path(data_dir or config.data_dir()) / HISTORY_FILE
    if not path.exists():
        return []
    entries = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entries.append(HistoryEntry(**json.loads(line)))
        except (json.JSONDecodeError, TypeError) as error:
            raise DataValidationError([Problem(str(path), number, "", f"not a history entry: {error}")]) from None
    return entries


@dataclass
class ReconstructedVersion:
    entry: HistoryEntry
    content: bytes  # cells.csv at this version

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


class HistoryError(ValueError):
    """The history log does not reproduce the hashes it records."""


def reconstruct_versions(data_dir: Path | str | None = None) -> Iterator[ReconstructedVersion]:
    """Rebuild ``cells.csv`` at every recorded version, checking each hash and parent link.

    Raises :class:`HistoryError` at the first version whose content does not hash to what the
    log says, whose parent is not the version before it, or whose data version does not follow
    from its file hashes.
    """
    content = b""
    previous: HistoryEntry | None = None
    for entry in read_history(data_dir):
        if entry.kind == "snapshot":
            content = entry.text.encode("utf-8")
        elif entry.kind == "append":
            if previous is None:
                raise HistoryError(f"version {entry.seq}: an append with no version before it")
            content = content + entry.text.encode("utf-8")
        else:
            raise HistoryError(f"version {entry.seq}: unknown kind {entry.kind!r}")
        if previous is not None and entry.parent_cells_sha256 != previous.cells_sha256:
            raise HistoryError(f"version {entry.seq}: parent {entry.parent_cells_sha256} is not version {previous.seq} ({previous.cells_sha256})")
        version = ReconstructedVersion(entry, content)
        if version.sha256 != entry.cells_sha256:
            raise HistoryError(f"version {entry.seq}: reconstructed cells.csv hashes to {version.sha256}, the log says {entry.cells_sha256}")
        if entry.file_hashes.get(config.CELLS_FILE) != entry.cells_sha256:
            raise HistoryError(f"version {entry.seq}: file_hashes disagree with cells_sha256")
        expected = data_version_from_hashes((name, entry.file_hashes[name]) for name in VERSIONED_FILES)
        if expected != entry.data_version:
            raise HistoryError(f"version {entry.seq}: data version {entry.data_version} does not follow from its file hashes ({expected})")
        yield version
        previous = entry


def _now_utc() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


# --------------------------------------------------------------------------- atomic writes and the lock


@contextmanager
def exclusive_lock(lock_path: Path, timeout_s: float, holder: str = "another process") -> Iterator[None]:
    """An exclusive lock on ``lock_path`` (:mod:`filelock`: an OS lock, POSIX or Windows), waiting up to
    ``timeout_s``; the OS releases it when the process dies, so a killed writer never blocks the next."""
    from filelock import FileLock, Timeout

    lock_path = Path(lock_path)
    config.writable(lock_path.parent, lock_path.name)
    lock = FileLock(lock_path, is_singleton=False)
    try:
        lock.acquire(timeout=timeout_s, poll_interval=0.05)
    except Timeout:
        raise TimeoutError(f"{lock_path}: {holder} has held the lock for over {timeout_s:g} s") from None
    try:
        yield
    finally:
        lock.release()


def data_lock(data_dir: Path, timeout_s: float = LOCK_TIMEOUT_S):
    """The lock every change of ``data_dir/cells.csv`` and its history takes."""
    return exclusive_lock(Path(data_dir) / LOCK_FILE, timeout_s, "another `cells add`")


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_fd(fd: int, content: bytes) -> None:
    view = memoryview(content)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def atomic_write(path: Path, content: bytes, check=None) -> None:
    """Replace ``path`` by ``content``: temp file in the same folder, fsync, ``check(temp)``, rename, fsync folder."""
    path = Path(path)
    config.writable(path.parent, f"{path.name}")
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    temp = Path(temp_name)
    try:
        try:
            _write_fd(fd, content)
            os.fsync(fd)
        finally:
            os.close(fd)
        # mkstemp creates 0600; keep the old file's mode, or the usual mode for a new file
        os.chmod(temp, path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~_umask())
        if check is not None:
            check(temp)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _remove_stale_temp_files(data_dir: Path) -> None:
    """Temp files of writers killed before their rename (only ever removed under the lock)."""
    for name in (config.CELLS_FILE, HISTORY_FILE):
        for stale in data_dir.glob(f".{name}.*.tmp"):
            stale.unlink(missing_ok=True)


# --------------------------------------------------------------------------- adding cells


@dataclass
class AddResult:
    cell_ids: list[str]
    version: HistoryEntry  # the new version
    previous: HistoryEntry  # the version it was appended to
    cells_path: str
    history_path: str
    snapshots_recorded: list[HistoryEntry] = field(default_factory=list)

    @property
    def data_version(self) -> str:
        return self.version.data_version


def _csv_text(rows: list[list[str]], newline: str) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=newline).writerows(rows)
    return buffer.getvalue()


def _file_hashes(data_dir: Path, cells_content: bytes) -> dict[str, str]:
    hashes = {config.CELLS_FILE: hashlib.sha256(cells_content).hexdigest()}
    for name in VERSIONED_FILES[1:]:
        hashes[name] = file_sha256(data_dir / name)
    return hashes


def _entry(seq: int, kind: str, content: bytes, text: str, data_dir: Path, parent: HistoryEntry | None, **extra) -> HistoryEntry:
    hashes = _file_hashes(data_dir, content)
    return HistoryEntry(
        seq=seq,
        kind=kind,
        created_utc=_now_utc(),
        cells_sha256=hashes[config.CELLS_FILE],
        data_version=data_version_from_hashes((name, hashes[name]) for name in VERSIONED_FILES),
        file_hashes=hashes,
        n_rows=len(load_cells_bytes(content)),
        text=text,
        parent_cells_sha256=parent.cells_sha256 if parent else None,
        parent_data_version=parent.data_version if parent else None,
        **extra,
    )


def _in_file_order(new: "NewCells", header: list[str], target: str) -> list[list[str]]:
    """The new rows in the column order of the existing ``cells.csv`` (an older file may lack an optional column)."""
    names = CELLS_SCHEMA.column_names
    problems = [
        Problem(new.source, line, name, f"{target} has no {name!r} column (an older format): add the column to it first")
        for row, line in zip(new.rows, new.lines)
        for name, value in zip(names, row)
        if value and name not in header
    ]
    if problems:
        raise DataValidationError(problems)
    return [[dict(zip(names, row)).get(name, "") for name in header] for row in new.rows]


def load_cells_bytes(content: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(content), dtype=str, keep_default_na=False, encoding="utf-8-sig")


def add_cells(
    path: Path | str,
    data_dir: Path | str | None = None,
    lock_timeout_s: float = LOCK_TIMEOUT_S,
    max_rows: int | None = MAX_NEW_CELLS,
    allow_replicates: bool = False,
) -> AddResult:
    """Validate the new cells in ``path`` and append them to ``data_dir/cells.csv`` atomically.

    Raises :class:`DataValidationError` (nothing written) if any row of ``path`` or the current
    ``cells.csv`` is invalid, if a cell id already exists, if a row repeats a cell (stack,
    protocol and result; unless ``allow_replicates``) or if ``path`` has more than ``max_rows`` rows.
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
            last = _entry(len(history) + 1, "snapshot", old_content, old_content.decode("utf-8"), data_dir, last, source=reason)
            recorded.append(last)

        newline = "\r\n" if b"\r\n" in old_content else "\n"
        rows = _in_file_order(new, load_cells_bytes(old_content).columns.tolist(), str(cells_path))
        appended = ("" if old_content.endswith(b"\n") or not old_content else newline) + _csv_text(rows, newline)
        new_content = old_content + appended.encode("utf-8")
        atomic_write(cells_path, new_content, check=load_cells)

        version = _entry(
            last.seq + 1, "append", new_content, appended, data_dir, last,
            cell_ids_added=new.cell_ids, source=Path(path).name,
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


def current_version(data_dir: Path | str | None = None) -> dict[str, object]:
    """The data version of the files as they are now, and whether the history records it."""
    data_dir = Path(data_dir or config.data_dir())
    content = (data_dir / config.CELLS_FILE).read_bytes()
    hashes = _file_hashes(data_dir, content)
    history = read_history(data_dir)
    recorded = [entry.seq for entry in history if entry.cells_sha256 == hashes[config.CELLS_FILE]]
    return {
        "cells_sha256": hashes[config.CELLS_FILE],
        "data_version": data_version_from_hashes((name, hashes[name]) for name in VERSIONED_FILES),
        "in_history": bool(recorded) and recorded[-1] == (history[-1].seq if history else None),
        "history_seq": recorded[-1] if recorded else None,
        "n_rows": len(load_cells_bytes(content)),
    }

"""Data versions and the history of ``cells.csv``.

The **data version** is one hash for the data set: SHA-256 over the SHA-256 of ``cells.csv``, the
phase data and the interfacial energies, in a fixed order (:func:`data_version`). MLflow records
it with every training run, and ``data/cells_history.jsonl`` with every version of ``cells.csv``:
an append-only log (one JSON object per line; old lines never change) whose entries hold the
bytes appended (or, for a ``snapshot``, the whole file), the SHA-256 of the resulting file, the
data version, the parent's hashes, the UTC time and the cell ids added.
:func:`reconstruct_versions` rebuilds every version from the log and checks each hash.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from lithioscreen import config
from lithioscreen.data.loaders import file_sha256
from lithioscreen.data.schema import DataValidationError, Problem

HISTORY_FILE = "cells_history.jsonl"
#: The files whose hashes make up the data version, in this order.
VERSIONED_FILES = (config.CELLS_FILE, config.PHASE_DATA_FILE, config.INTERFACIAL_ENERGIES_FILE)


def data_version_from_hashes(hashes: Iterable[tuple[str, str]]) -> str:
    """SHA-256 over ``name:sha256`` lines, in the given order (see :func:`data_version`).

    Parameters
    ----------
    hashes : iterable of tuple of (str, str)
        ``(file name, SHA-256 hex digest)`` pairs.

    Returns
    -------
    str
        Hex digest.
    """
    digest = hashlib.sha256()
    for name, sha in hashes:
        digest.update(f"{name}:{sha}\n".encode())
    return digest.hexdigest()


def data_version(paths: Iterable[Path]) -> str:
    """One hash for the data set: SHA-256 over the files' own SHA-256 hashes, in a fixed order.

    This is the ``data_version`` every MLflow training run records, and the one
    ``cells_history.jsonl`` records for every version of ``cells.csv``.

    Parameters
    ----------
    paths : iterable of pathlib.Path
        The files, in order (:func:`versioned_paths`); only their names and contents count.

    Returns
    -------
    str
        Hex digest.
    """
    return data_version_from_hashes((Path(path).name, file_sha256(path)) for path in paths)


def versioned_paths(data_dir: Path) -> list[Path]:
    """The files whose hashes make up the data version, in :data:`VERSIONED_FILES` order.

    Parameters
    ----------
    data_dir : pathlib.Path
        The data folder.

    Returns
    -------
    list of pathlib.Path
        ``cells.csv``, the phase data and the interfacial energies in ``data_dir``.
    """
    return [Path(data_dir) / name for name in VERSIONED_FILES]


@dataclass
class HistoryEntry:
    """One version of ``cells.csv``: ``snapshot`` (the whole file) or ``append`` (rows added).

    One line of ``cells_history.jsonl``.

    Attributes
    ----------
    seq : int
        Version number, from 1.
    kind : str
        ``snapshot`` or ``append``.
    created_utc : str
        ISO 8601 time, UTC.
    cells_sha256 : str
        SHA-256 of ``cells.csv`` at this version.
    data_version : str
        As MLflow records it (:func:`data_version`): ``cells.csv`` plus the phase and
        interfacial-energy files.
    file_hashes : dict of str to str
        SHA-256 of every versioned file at this version, by file name.
    n_rows : int
        Cells in the file at this version.
    text : str
        The whole file (snapshot) or the appended text (append).
    parent_cells_sha256, parent_data_version : str or None
        The previous version's hashes; None for the first.
    cell_ids_added : list of str
        The cells an append added.
    source : str
        The added file's name, or why a snapshot was taken.
    """

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
        """The entry as one line of ``cells_history.jsonl``.

        Returns
        -------
        str
            JSON, keys sorted, non-ASCII kept, no newline.
        """
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)


def read_history(data_dir: Path | str | None = None) -> list[HistoryEntry]:
    """Every recorded version, oldest first (empty before the first addition).

    Parameters
    ----------
    data_dir : pathlib.Path or str or None
        The data folder that holds ``cells_history.jsonl``
        (None: :func:`lithioscreen.config.data_dir`).

    Returns
    -------
    list of HistoryEntry
        Empty if there is no ``cells_history.jsonl``.

    Raises
    ------
    DataValidationError
        For a line that is not a history entry.
    """
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
    """``cells.csv`` at one recorded version, rebuilt from the history.

    Attributes
    ----------
    entry : HistoryEntry
        The version.
    content : bytes
        The file's bytes at that version.
    """

    entry: HistoryEntry
    content: bytes  # cells.csv at this version

    @property
    def sha256(self) -> str:
        """SHA-256 of :attr:`content`.

        Returns
        -------
        str
            Hex digest.
        """
        return hashlib.sha256(self.content).hexdigest()


class HistoryError(ValueError):
    """The history log does not reproduce the hashes it records."""


def reconstruct_versions(data_dir: Path | str | None = None) -> Iterator[ReconstructedVersion]:
    """Rebuild ``cells.csv`` at every recorded version, checking each hash and parent link.

    Parameters
    ----------
    data_dir : pathlib.Path or str or None
        Where ``cells_history.jsonl`` lies (as for :func:`read_history`).

    Yields
    ------
    ReconstructedVersion
        Each version, oldest first, after its checks passed.

    Raises
    ------
    HistoryError
        At the first version whose content does not hash to what the log says, whose parent is not
        the version before it, or whose data version does not follow from its file hashes.
    DataValidationError
        For a line of the log that is not a history entry.
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
            raise HistoryError(
                f"version {entry.seq}: parent {entry.parent_cells_sha256} is not version {previous.seq} ({previous.cells_sha256})"
            )
        version = ReconstructedVersion(entry, content)
        if version.sha256 != entry.cells_sha256:
            raise HistoryError(
                f"version {entry.seq}: reconstructed cells.csv hashes to {version.sha256}, the log says {entry.cells_sha256}"
            )
        if entry.file_hashes.get(config.CELLS_FILE) != entry.cells_sha256:
            raise HistoryError(f"version {entry.seq}: file_hashes disagree with cells_sha256")
        expected = data_version_from_hashes((name, entry.file_hashes[name]) for name in VERSIONED_FILES)
        if expected != entry.data_version:
            raise HistoryError(
                f"version {entry.seq}: data version {entry.data_version} does not follow from its file hashes ({expected})"
            )
        yield version
        previous = entry


def _now_utc() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _file_hashes(data_dir: Path, cells_content: bytes) -> dict[str, str]:
    hashes = {config.CELLS_FILE: hashlib.sha256(cells_content).hexdigest()}
    for name in VERSIONED_FILES[1:]:
        hashes[name] = file_sha256(data_dir / name)
    return hashes


def history_entry(
    seq: int, kind: str, content: bytes, text: str, data_dir: Path, parent: HistoryEntry | None, **extra
) -> HistoryEntry:
    """A new history entry for ``cells.csv`` as it is in ``content``, after ``parent``.

    Parameters
    ----------
    seq : int
        The entry's number (one more than the parent's).
    kind : {"snapshot", "append"}
    content : bytes
        The whole ``cells.csv`` at this version.
    text : str
        What the entry stores: the whole file (snapshot) or the bytes appended (append).
    data_dir : Path
        The data folder (for the hashes of the other versioned files).
    parent : HistoryEntry or None
    **extra
        ``cell_ids_added``, ``source``.

    Returns
    -------
    HistoryEntry
    """
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


def load_cells_bytes(content: bytes) -> pd.DataFrame:
    """A version of ``cells.csv`` as text cells, not validated.

    Parameters
    ----------
    content : bytes
        The file's bytes (UTF-8, a BOM allowed).

    Returns
    -------
    pandas.DataFrame
        Every cell as a string.
    """
    return pd.read_csv(io.BytesIO(content), dtype=str, keep_default_na=False, encoding="utf-8-sig")


def current_version(data_dir: Path | str | None = None) -> dict[str, object]:
    """The data version of the files as they are now, and whether the history records it.

    Parameters
    ----------
    data_dir : pathlib.Path or str or None
        The data folder; None: :func:`lithioscreen.config.data_dir`.

    Returns
    -------
    dict
        ``cells_sha256``, ``data_version``, ``in_history`` (``cells.csv`` is the history's latest
        version), ``history_seq`` (the latest version with this ``cells.csv``, or None) and
        ``n_rows``.
    """
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

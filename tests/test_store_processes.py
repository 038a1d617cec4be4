"""`cells add` across processes: killed mid-write, and several additions at once.

Each scenario runs real ``python`` processes on a copy of data/. The kill tests pause the writer
at a chosen point (a wrapper installed by the child script, no hook in the library), then
SIGKILL it: nothing can run after that, no ``finally``, no cleanup.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from cells_helpers import new_row, write_cells

from lithioscreen import config
from lithioscreen.data import load_cells
from lithioscreen.data.intake import add_cells
from lithioscreen.data.versions import HISTORY_FILE, current_version, read_history, reconstruct_versions

pytestmark = pytest.mark.slow  # real processes, killed mid-write or writing at once

PAUSE_IN_DATA_WRITE = """
    # write half of the new cells.csv into the temp file, then stop there
    def partial(fd, content):
        os.write(fd, content[: len(content) // 2])
        os.fsync(fd)
        signal_and_wait()
    _files._write_fd = partial
"""

PAUSE_BEFORE_HISTORY_WRITE = """
    # let cells.csv be replaced, then stop before the history log is written
    real = intake.atomic_write
    def stop_at_history(path, content, check=None):
        if Path(path).name == intake.HISTORY_FILE:
            signal_and_wait()
        return real(path, content, check)
    intake.atomic_write = stop_at_history
"""

SLOW_CRITICAL_SECTION = """
    # widen the critical section so that the additions overlap
    real = intake.atomic_write
    def slow(path, content, check=None):
        time.sleep(0.3)
        return real(path, content, check)
    intake.atomic_write = slow
"""


def _child(tmp_path: Path, body: str) -> Path:
    script = tmp_path / "child.py"
    script.write_text(
        textwrap.dedent(
            """
            import os, sys, time
            from pathlib import Path
            from lithioscreen.data import _files, intake

            new_file, data_dir, flag_dir = (Path(a) for a in sys.argv[1:4])

            def signal_and_wait():
                (flag_dir / f"paused-{os.getpid()}").touch()
                time.sleep(600)
            """
        )
        + textwrap.dedent(body)
        + textwrap.dedent(
            """
            (flag_dir / f"ready-{os.getpid()}").touch()
            while not (flag_dir / "go").exists():
                time.sleep(0.01)
            intake.add_cells(new_file, data_dir)
            """
        )
    )
    return script


def _start(script: Path, new_file: Path, data_dir: Path, flags: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(script), str(new_file), str(data_dir), str(flags)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=os.environ.copy(),
    )


def _wait_for(flags: Path, prefix: str, count: int, processes, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while len(list(flags.glob(f"{prefix}-*"))) < count:
        for process in processes:
            if process.poll() is not None and process.returncode != 0:
                raise AssertionError(process.stderr.read().decode())
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {count} '{prefix}' flags")
        time.sleep(0.02)


def _kill_at(pause: str, data_dir: Path, tmp_path: Path, cell_id: str) -> None:
    flags = tmp_path / f"flags-{cell_id}"
    flags.mkdir()
    new_file = write_cells(tmp_path / f"{cell_id}.csv", [new_row(cell_id)])
    process = _start(_child(tmp_path, pause), new_file, data_dir, flags)
    try:
        _wait_for(flags, "ready", 1, [process])
        (flags / "go").touch()
        _wait_for(flags, "paused", 1, [process])
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL


def test_killed_while_writing_leaves_the_old_file(data_copy, tmp_path):
    cells = data_copy / config.CELLS_FILE
    add_cells(write_cells(tmp_path / "first.csv", [new_row("synthetic-first")]), data_copy)
    before, history_before = cells.read_bytes(), (data_copy / HISTORY_FILE).read_bytes()

    _kill_at(PAUSE_IN_DATA_WRITE, data_copy, tmp_path, "synthetic-killed")

    partial = list(data_copy.glob(f".{config.CELLS_FILE}.*.tmp"))
    assert len(partial) == 1 and 0 < partial[0].stat().st_size < len(before)  # it was killed mid-write
    assert cells.read_bytes() == before and (data_copy / HISTORY_FILE).read_bytes() == history_before
    assert len(load_cells(cells)) == 9
    # the next addition proceeds (the lock died with the process) and removes the stale temp file
    add_cells(write_cells(tmp_path / "next.csv", [new_row("synthetic-next")]), data_copy)
    assert not list(data_copy.glob(".*.tmp"))
    assert [e.kind for e in read_history(data_copy)] == ["snapshot", "append", "append"]
    assert "synthetic-killed" not in set(load_cells(cells)["cell_id"])
    assert len(list(reconstruct_versions(data_copy))) == 3


def test_killed_between_data_and_history_keeps_the_new_file_and_recovers_the_history(data_copy, tmp_path):
    cells = data_copy / config.CELLS_FILE
    add_cells(write_cells(tmp_path / "first.csv", [new_row("synthetic-first")]), data_copy)
    before = cells.read_bytes()

    _kill_at(PAUSE_BEFORE_HISTORY_WRITE, data_copy, tmp_path, "synthetic-killed")

    after = cells.read_bytes()
    assert after.startswith(before) and b"synthetic-killed" in after  # the complete new version, not a partial one
    assert len(load_cells(cells)) == 10
    assert not current_version(data_copy)["in_history"]
    result = add_cells(write_cells(tmp_path / "next.csv", [new_row("synthetic-next")]), data_copy)
    assert [e.kind for e in read_history(data_copy)] == ["snapshot", "append", "snapshot", "append"]
    assert result.snapshots_recorded and result.snapshots_recorded[0].cells_sha256 == hashlib.sha256(after).hexdigest()
    assert [v.content for v in reconstruct_versions(data_copy)][2] == after


@pytest.mark.parametrize("n_processes", [4])
def test_concurrent_additions_all_land_once(data_copy, tmp_path, n_processes):
    flags = tmp_path / "flags"
    flags.mkdir()
    script = _child(tmp_path, SLOW_CRITICAL_SECTION)
    ids = [f"synthetic-concurrent-{index}" for index in range(n_processes)]
    processes = [
        _start(
            script,
            write_cells(tmp_path / f"{cell_id}.csv", [new_row(cell_id), new_row(cell_id + "-b", overlayer="Ta")]),
            data_copy,
            flags,
        )
        for cell_id in ids
    ]
    try:
        _wait_for(flags, "ready", n_processes, processes)
        (flags / "go").touch()  # all start adding at once
        for process in processes:
            process.wait(timeout=120)
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
    for process in processes:
        assert process.returncode == 0, process.stderr.read().decode()

    cells = load_cells(data_copy / config.CELLS_FILE)
    added = [cell_id for cell_id in cells["cell_id"] if cell_id.startswith("synthetic-concurrent")]
    assert sorted(added) == sorted(ids + [cell_id + "-b" for cell_id in ids])  # every row, none twice
    history = read_history(data_copy)
    assert [e.kind for e in history] == ["snapshot"] + ["append"] * n_processes
    assert sorted(cell_id for e in history[1:] for cell_id in e.cell_ids_added) == sorted(added)
    assert all(e.parent_cells_sha256 == p.cells_sha256 for p, e in zip(history, history[1:]))
    versions = list(reconstruct_versions(data_copy))
    assert versions[-1].content == (data_copy / config.CELLS_FILE).read_bytes()

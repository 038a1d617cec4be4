"""Safe file writes and locks: what every writer of ``data/`` and ``models/`` uses.

* :func:`atomic_write`: the new content goes to a temporary file in the same folder, is flushed and
  fsynced, optionally checked, and moved over the old file with ``os.replace``; the folder is
  fsynced. A reader, or a process killed at any point, sees the old file or the new one.
* :func:`exclusive_lock`: an OS lock through :mod:`filelock` (POSIX and Windows), released by the
  OS when the holder dies.

Neither writes into an installed package (:func:`lithioscreen.config.writable`).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lithioscreen import config


@contextmanager
def exclusive_lock(lock_path: Path, timeout_s: float, holder: str = "another process") -> Iterator[None]:
    """An exclusive lock on ``lock_path``, held for the ``with`` block.

    :mod:`filelock`: an OS lock, POSIX or Windows; the OS releases it when the process dies, so a
    killed writer never blocks the next.

    Parameters
    ----------
    lock_path : pathlib.Path
        The lock file (created if missing; its folder must exist).
    timeout_s : float
        How long to wait for the lock, seconds.
    holder : str
        Who holds it, for the error message.

    Yields
    ------
    None
        While the lock is held.

    Raises
    ------
    TimeoutError
        If the lock is not free within ``timeout_s``.
    lithioscreen.config.ReadOnlyFolderError
        If the lock file would lie inside the installed package.
    """
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


def _fsync_dir(folder: Path) -> None:
    if os.name == "nt":  # folders cannot be opened there; NTFS journals the rename itself
        return
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
    """Replace ``path`` by ``content``: temp file in the same folder, fsync, ``check(temp)``, rename, fsync folder.

    The old file's permission bits are kept (a new file gets ``0o666`` less the umask). On any error
    the temporary file is removed and ``path`` is left as it was.

    Parameters
    ----------
    path : pathlib.Path
        The file to replace or create; its folder must exist.
    content : bytes
        The new content.
    check : callable or None
        Called with the temporary file's path before the rename; whatever it raises aborts the write.

    Raises
    ------
    lithioscreen.config.ReadOnlyFolderError
        If ``path`` lies inside the installed package.
    """
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

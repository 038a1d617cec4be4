"""The MLflow tracking store before a training uses it: is the URI usable, and did a training die in it?

:func:`check_tracking_uri` refuses a URI MLflow has no store for (``foo://bar``) and probes a
tracking server (``http(s)://``) once, with a :data:`PROBE_TIMEOUT_S` timeout, so that an
unreachable server is an error naming the URI within seconds instead of MLflow's retries (7, with
back-off, minutes in all). :data:`HTTP_DEFAULTS` bounds those retries for the calls that follow.

:func:`end_orphaned_runs`: every run a training starts carries :func:`process_tags` (pid, host,
process start time). A run still RUNNING whose process is gone (``kill -9`` during a training)
is ended as FAILED when the next training starts in the same experiment. Runs started on another
host, or without these tags, are left alone: their process cannot be checked from here.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from urllib.parse import urlsplit

#: Seconds to wait for a tracking server to answer the probe.
PROBE_TIMEOUT_S = 10.0
#: MLflow's HTTP client settings for a training (unless the environment sets them): 2 retries,
#: 30 s per request, instead of 7 retries and 120 s.
HTTP_DEFAULTS = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2", "MLFLOW_HTTP_REQUEST_TIMEOUT": "30"}
#: URI schemes MLflow 3 has a tracking store for (SQLAlchemy's ``dialect+driver`` counts by dialect).
TRACKING_SCHEMES = frozenset(
    {"", "file", "sqlite", "postgresql", "mysql", "mssql", "http", "https", "databricks", "databricks-uc", "uc"}
)

PID_TAG = "lithioscreen.pid"
HOST_TAG = "lithioscreen.host"
START_TAG = "lithioscreen.process_start"


class TrackingStoreError(ValueError):
    """A tracking URI that cannot be used; the message names it."""


def check_tracking_uri(uri: str, timeout_s: float = PROBE_TIMEOUT_S) -> None:
    """Raise :class:`TrackingStoreError` for an unsupported scheme or an unreachable tracking server.

    Also sets :data:`HTTP_DEFAULTS` in ``os.environ`` where the environment does not set them.

    Parameters
    ----------
    uri : str
        The tracking URI; an ``http(s)://`` server is probed once at ``/health`` (any HTTP answer will do).
    timeout_s : float
        How long the probe waits, seconds.

    Raises
    ------
    TrackingStoreError
        For a scheme MLflow has no tracking store for, or a server that does not answer.
    """
    scheme = urlsplit(uri).scheme.lower()
    if len(scheme) == 1 and os.name == "nt":  # C:\path
        scheme = ""
    if scheme.split("+")[0] not in TRACKING_SCHEMES:
        raise TrackingStoreError(
            f"tracking URI {uri!r}: MLflow has no tracking store for scheme {scheme!r} "
            f"(use sqlite:///path.db, file:///folder, postgresql://..., http(s)://host:port)"
        )
    for name, value in HTTP_DEFAULTS.items():
        os.environ.setdefault(name, value)
    if scheme in {"http", "https"}:
        import requests

        try:
            requests.get(uri.rstrip("/") + "/health", timeout=timeout_s)
        except requests.Timeout:
            reason = "no answer"
        except requests.ConnectionError as error:
            reason = (
                "connection refused"
                if "refused" in str(error).lower()
                else "cannot connect (host unreachable or unknown?)"
            )
        except requests.RequestException as error:
            reason = type(error).__name__
        else:
            return  # any HTTP answer: the server is there (MLflow reports its own errors)
        raise TrackingStoreError(f"tracking server {uri} did not answer within {timeout_s:g} s: {reason}")


def _process_start(pid: int) -> str:
    """The start time of process ``pid`` in clock ticks since boot (Linux ``/proc``), or '' where unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[1].split()[19]  # field 22 (starttime); the name in (...) may hold spaces


def process_tags() -> dict[str, str]:
    """Tags that name the process running a training run.

    Returns
    -------
    dict of str to str
        The pid, the host name and the process start time (clock ticks since boot; ``""`` where
        ``/proc`` is not available).
    """
    pid = os.getpid()
    return {PID_TAG: str(pid), HOST_TAG: socket.gethostname(), START_TAG: _process_start(pid)}


def _alive(pid: int, start: str) -> bool:
    if os.name == "nt":  # os.kill(pid, 0) would terminate the process there: assume it lives
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process: it exists
    # the pid may have been reused by a later process
    return not start or _process_start(pid) in ("", start)


def end_orphaned_runs(client, experiment_id: str) -> list[str]:
    """End as FAILED the RUNNING runs of ``experiment_id`` started by a process of this host that is gone.

    A process counts as gone when its pid does not exist, or now belongs to a process that started
    at another time. Each run ended is tagged ``lithioscreen.ended_by``.

    Parameters
    ----------
    client : mlflow.MlflowClient
        A client of the tracking store.
    experiment_id : str
        The experiment (at most 1,000 RUNNING runs are looked at).

    Returns
    -------
    list of str
        The ids of the runs ended.
    """
    host = socket.gethostname()
    ended = []
    runs = client.search_runs([experiment_id], "attributes.status = 'RUNNING'", max_results=1000)
    for run in runs:
        tags = run.data.tags
        if tags.get(HOST_TAG) != host or not tags.get(PID_TAG, "").isdigit():
            continue
        if _alive(int(tags[PID_TAG]), tags.get(START_TAG, "")):
            continue
        client.set_tag(
            run.info.run_id, "lithioscreen.ended_by", f"end_orphaned_runs: process {tags[PID_TAG]} on {host} is gone"
        )
        client.set_terminated(run.info.run_id, status="FAILED")
        ended.append(run.info.run_id)
    return ended

"""The tracking store before a training: usable URIs, a quick probe, and runs left RUNNING by a killed training."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import lithioscreen
from lithioscreen.tracking.stores import (
    HOST_TAG,
    PID_TAG,
    PROBE_TIMEOUT_S,
    START_TAG,
    TrackingStoreError,
    check_tracking_uri,
    end_orphaned_runs,
    process_tags,
)

SRC = str(Path(lithioscreen.__file__).resolve().parents[1])


@pytest.mark.parametrize("uri", ["foo://bar", "s3://bucket/mlflow", "ftp://host/x"])
def test_a_scheme_mlflow_has_no_store_for_is_refused(uri):
    with pytest.raises(TrackingStoreError, match="no tracking store for scheme"):
        check_tracking_uri(uri)


@pytest.mark.parametrize(
    "uri", ["sqlite:////tmp/x.db", "file:///tmp/mlruns", "mlruns", "postgresql+psycopg://u:p@h/db"]
)
def test_local_and_database_stores_pass_without_a_connection(uri):
    check_tracking_uri(uri)


def test_an_unreachable_server_fails_within_the_probe_timeout():
    start = time.monotonic()
    with pytest.raises(TrackingStoreError, match=r"http://127\.0\.0\.1:9 did not answer"):
        check_tracking_uri("http://127.0.0.1:9")
    assert time.monotonic() - start < PROBE_TIMEOUT_S + 5


def test_a_silent_server_fails_after_the_timeout():
    import socket

    with socket.socket() as listener:  # accepts connections, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(5)
        start = time.monotonic()
        with pytest.raises(TrackingStoreError, match="no answer"):
            check_tracking_uri(f"http://127.0.0.1:{listener.getsockname()[1]}", timeout_s=1.0)
        assert time.monotonic() - start < 10


def test_process_tags_name_this_process():
    tags = process_tags()
    assert tags[PID_TAG] == str(os.getpid()) and tags[HOST_TAG]
    if Path("/proc/self/stat").exists():
        assert tags[START_TAG].isdigit()


_KILLED_RUN = """
import os, signal, mlflow
from lithioscreen.tracking.stores import process_tags
mlflow.set_tracking_uri({uri!r})
mlflow.set_experiment({experiment!r})
with mlflow.start_run(tags=process_tags()) as parent:
    with mlflow.start_run(nested=True, tags=process_tags()) as child:
        print(parent.info.run_id, child.info.run_id, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)  # kill -9 in the middle of a training
"""


def killed_training_runs(uri: str, cwd: Path, experiment: str = "orphans") -> list[str]:
    """Run ids of a parent and child run whose process was killed with SIGKILL (they stay RUNNING)."""
    env = {**os.environ, "PYTHONPATH": SRC, "MLFLOW_TRACKING_URI": uri}
    done = subprocess.run(
        [sys.executable, "-c", _KILLED_RUN.format(uri=uri, experiment=experiment)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=300,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]
    return done.stdout.split()


@pytest.mark.slow
def test_runs_of_a_killed_training_are_ended_as_failed(tmp_path):
    from mlflow import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    orphans = killed_training_runs(uri, tmp_path)
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("orphans").experiment_id
    assert [client.get_run(run_id).info.status for run_id in orphans] == ["RUNNING", "RUNNING"]
    # a run of a live process (this one), one of another host, and one without tags stay as they are
    alive = client.create_run(experiment, tags=process_tags()).info.run_id
    elsewhere = client.create_run(experiment, tags={**process_tags(), HOST_TAG: "another-host"}).info.run_id
    untagged = client.create_run(experiment).info.run_id
    # a reused pid: this process's pid, but the recorded start is another process's
    reused = (
        client.create_run(experiment, tags={**process_tags(), START_TAG: "1"}).info.run_id
        if process_tags()[START_TAG]
        else None
    )

    ended = end_orphaned_runs(client, experiment)
    assert set(ended) == set(orphans) | ({reused} if reused else set())
    assert [client.get_run(run_id).info.status for run_id in orphans] == ["FAILED", "FAILED"]
    assert all(client.get_run(run_id).info.status == "RUNNING" for run_id in (alive, elsewhere, untagged))
    assert end_orphaned_runs(client, experiment) == []  # once

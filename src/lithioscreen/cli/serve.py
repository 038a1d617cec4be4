"""`lithioscreen serve` and `lithioscreen ui`: MLflow's model server and MLflow's UI on the project's store.

Both replace this process with the server, so stopping them (Ctrl-C, SIGTERM) stops it directly.
``serve`` does what ``mlflow models serve --env-manager local`` does (download the model, run
uvicorn on MLflow's scoring app, ``mlflow.pyfunc.scoring_server``), with that app wrapped in
:mod:`lithioscreen.tracking.scoring_guard`, which answers the requests MLflow would answer with 500
(no Content-Type, JSON nested 100k deep) or read wrongly (NaN, ``true`` as a thickness), and caps
the body size. ``ui`` runs ``mlflow ui``. The tracking store is resolved as ``lithioscreen train``
resolves it: ``--tracking-uri``, else ``MLFLOW_TRACKING_URI``, else ``sqlite:///mlflow.db`` in the
working directory.

Neither server has authentication: both listen on 127.0.0.1 unless ``--host`` says otherwise,
and a warning is printed when it does.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from lithioscreen import config
from lithioscreen.cli.common import (
    TrackingUri,
    app,
    fail,
    say,
    stderr,
)

Host = Annotated[str, typer.Option(help="Interface to listen on (127.0.0.1: this machine only).")]


def _tracking_store(tracking_uri: str | None) -> str:
    """The resolved tracking URI; a SQLite store must already exist (no empty mlflow.db is created)."""
    uri = _resolved(tracking_uri)
    if uri.startswith("sqlite:///"):
        path = Path(uri.removeprefix("sqlite:///"))
        if not path.is_absolute():
            path = Path.cwd() / path
        if not path.exists():
            fail(f"no MLflow tracking store at {path} (run `lithioscreen train` first, or pass --tracking-uri)")
    return uri


def _resolved(tracking_uri: str | None) -> str:
    """The tracking URI as ``train`` resolves it; exit 2 for a scheme MLflow has no store for, or an unreachable server."""
    from lithioscreen.tracking.stores import TrackingStoreError, check_tracking_uri
    from lithioscreen.tracking.training import resolve_tracking_uri

    uri = resolve_tracking_uri(tracking_uri)
    try:
        check_tracking_uri(uri)
    except TrackingStoreError as error:
        fail(str(error))
    return uri


def is_loopback(host: str) -> bool:
    """Whether ``host`` is an address only this machine can reach (127.0.0.0/8, ::1, localhost).

    Parameters
    ----------
    host : str
        The ``--host`` value; an IPv6 address may be bracketed.

    Returns
    -------
    bool
        False for host names other than ``localhost`` and for ``0.0.0.0``: other machines may reach them.
    """
    import ipaddress

    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name or 0.0.0.0: other machines may reach it


def _warn_if_exposed(host: str, port: int, what: str) -> None:
    if not is_loopback(host):
        say(
            stderr,
            f"warning: {what} has no authentication; listening on {host}:{port}, anyone who can reach this address can use it "
            "(the default, 127.0.0.1, is this machine only).",
            "bold yellow",
        )


def _exec(
    command: list[str],
    tracking_uri: str,
    defaults: dict[str, str] | None = None,
    extra_env: dict[str, str] | None = None,
) -> None:
    # MLflow starts uvicorn/gunicorn by name: find this environment's scripts even when it is not activated
    scripts = str(Path(sys.executable).parent)
    env = {
        **(defaults or {}),
        **os.environ,
        **(extra_env or {}),
        "MLFLOW_TRACKING_URI": tracking_uri,
        "PATH": os.pathsep.join([scripts, os.environ.get("PATH", "")]),
    }
    say(stderr, f"{' '.join(command[1:])}  (MLFLOW_TRACKING_URI={tracking_uri})", "dim")
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, command, env)


def _exec_mlflow(arguments: list[str], tracking_uri: str, defaults: dict[str, str] | None = None) -> None:
    _exec([sys.executable, "-m", "mlflow", *arguments], tracking_uri, defaults)


@app.command()
def serve(
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 5001,
    host: Host = "127.0.0.1",
    model_uri: Annotated[str | None, typer.Option(help="Model to serve (default: the registered champion).")] = None,
    tracking_uri: TrackingUri = None,
    workers: Annotated[int, typer.Option(help="Server worker processes.", min=1)] = 1,
) -> None:
    """Serve the champion over HTTP with MLflow's model server (POST /invocations, GET /ping).

    Request body: {"dataframe_records": [{"candidate": "W"}, {"candidate": "Nb", "overlayer_nm": 20}]}
    (or "dataframe_split"); bad candidates are answered with HTTP 400 naming the row and value.
    No authentication: keep --host on loopback unless the network is trusted.
    """
    from lithioscreen.tracking.serving import ModelUnavailableError, download_model

    model = model_uri or f"models:/{config.REGISTERED_MODEL_NAME}@{config.CHAMPION_ALIAS}"
    # a model folder on disk needs no tracking store; models:/ and runs:/ URIs do
    uri = _tracking_store(tracking_uri) if model.startswith(("models:/", "runs:/")) else _resolved(tracking_uri)
    if model_uri is None:
        from mlflow import MlflowClient
        from mlflow.exceptions import MlflowException

        try:
            MlflowClient(uri).get_model_version_by_alias(config.REGISTERED_MODEL_NAME, config.CHAMPION_ALIAS)
        except MlflowException:
            fail(f"no model {model} in the registry at {uri} (run `lithioscreen train` first)")
    try:
        local_path = download_model(model, uri)
    except ModelUnavailableError as error:
        fail(f"--model-uri {error}")
    _warn_if_exposed(host, port, "serve")
    from lithioscreen.tracking.serving import scoring_server_command

    command, env = scoring_server_command(local_path, host, port, workers)
    _exec(command, uri, extra_env=env)


@app.command()
def ui(
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 5000,
    host: Host = "127.0.0.1",
    tracking_uri: TrackingUri = None,
    workers: Annotated[int, typer.Option(help="Server worker processes (MLflow's own default is 4).", min=1)] = 1,
) -> None:
    """MLflow's UI on the project's tracking store: compare the models' CV metrics, plots and runs.

    Open http://HOST:PORT/#/experiments, pick lithioscreen-ccd, "Training runs", expand the
    training run, tick the model runs and press "Compare".
    """
    uri = _tracking_store(tracking_uri)
    _warn_if_exposed(host, port, "the MLflow UI")
    # MLflow's background job runners (GenAI judges, six processes) are of no use here; the environment may turn them on
    _exec_mlflow(
        ["ui", "--backend-store-uri", uri, "--host", host, "--port", str(port), "--workers", str(workers)],
        uri,
        defaults={"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"},
    )

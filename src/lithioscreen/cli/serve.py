"""`lithioscreen serve` and `lithioscreen ui`: MLflow's model server and MLflow's UI on the project's store.

Both replace this process with MLflow's own command (``mlflow models serve --env-manager local``,
``mlflow ui``), so stopping them (Ctrl-C, SIGTERM) stops MLflow directly. The tracking store is
resolved as ``lithioscreen train`` resolves it: ``--tracking-uri``, else ``MLFLOW_TRACKING_URI``,
else ``sqlite:///mlflow.db`` in the working directory.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from lithioscreen import config
from lithioscreen.cli.common import app, fail, stderr

TrackingUri = Annotated[Optional[str], typer.Option(help="MLflow tracking URI (default: MLFLOW_TRACKING_URI or sqlite:///mlflow.db).")]
Host = Annotated[str, typer.Option(help="Interface to listen on (127.0.0.1: this machine only).")]


def _tracking_store(tracking_uri: str | None) -> str:
    """The resolved tracking URI; a SQLite store must already exist (no empty mlflow.db is created)."""
    from lithioscreen.tracking.training import resolve_tracking_uri

    uri = resolve_tracking_uri(tracking_uri)
    if uri.startswith("sqlite:///"):
        path = Path(uri.removeprefix("sqlite:///"))
        if not path.is_absolute():
            path = Path.cwd() / path
        if not path.exists():
            fail(f"no MLflow tracking store at {path} (run `lithioscreen train` first, or pass --tracking-uri)")
    return uri


def _resolved(tracking_uri: str | None) -> str:
    from lithioscreen.tracking.training import resolve_tracking_uri

    return resolve_tracking_uri(tracking_uri)


def _exec_mlflow(arguments: list[str], tracking_uri: str, defaults: dict[str, str] | None = None) -> None:
    # MLflow starts uvicorn/gunicorn by name: find this environment's scripts even when it is not activated
    scripts = str(Path(sys.executable).parent)
    env = {**(defaults or {}), **os.environ, "MLFLOW_TRACKING_URI": tracking_uri, "PATH": os.pathsep.join([scripts, os.environ.get("PATH", "")])}
    command = [sys.executable, "-m", "mlflow", *arguments]
    stderr.print(f"[dim]{' '.join(command[1:])}  (MLFLOW_TRACKING_URI={tracking_uri})[/]", highlight=False, soft_wrap=True)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, command, env)


@app.command()
def serve(
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 5001,
    host: Host = "127.0.0.1",
    model_uri: Annotated[Optional[str], typer.Option(help="Model to serve (default: the registered champion).")] = None,
    tracking_uri: TrackingUri = None,
    workers: Annotated[int, typer.Option(help="Server worker processes.", min=1)] = 1,
) -> None:
    """Serve the champion over HTTP with MLflow's model server (POST /invocations, GET /ping).

    Request body: {"dataframe_records": [{"candidate": "W"}, {"candidate": "Nb", "overlayer_nm": 20}]}
    (or "dataframe_split"); bad candidates are answered with HTTP 400 naming the row and value.
    """
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
    _exec_mlflow(
        ["models", "serve", "-m", model, "--env-manager", "local", "--host", host, "--port", str(port), "--workers", str(workers)],
        uri,
    )


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
    # MLflow's background job runners (GenAI judges, six processes) are of no use here; the environment may turn them on
    _exec_mlflow(
        ["ui", "--backend-store-uri", uri, "--host", host, "--port", str(port), "--workers", str(workers)],
        uri,
        defaults={"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"},
    )

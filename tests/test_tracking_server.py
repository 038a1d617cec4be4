"""Training against a real MLflow tracking server over HTTP (MLFLOW_TRACKING_URI=http://...).

The server's backend store is a SQLite file by default; set LITHIOSCREEN_TEST_BACKEND_URI to a
PostgreSQL URI (``postgresql://user:pw@host/db``, needs the ``postgres`` extra) to run the same
test against PostgreSQL.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.request

import pandas as pd
import pytest

from lithioscreen import config

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def tracking_server(tmp_path):
    port = _free_port()
    backend = os.environ.get("LITHIOSCREEN_TEST_BACKEND_URI", f"sqlite:///{tmp_path / 'server.db'}")
    command = [
        sys.executable,
        "-m",
        "mlflow",
        "server",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--backend-store-uri",
        backend,
        "--artifacts-destination",
        str(tmp_path / "artifacts"),
        "--workers",
        "1",
    ]
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                if urllib.request.urlopen(f"{url}/health", timeout=1).status == 200:
                    break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail(f"mlflow server did not start: {(tmp_path / 'server.log').read_text()[-2000:]}")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def test_train_against_a_tracking_server(tracking_server, tmp_path, monkeypatch):
    import mlflow
    from mlflow import MlflowClient

    from lithioscreen.tracking.training import train

    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking_server)
    mlflow.set_tracking_uri(tracking_server)
    summary = train(models_dir=tmp_path / "models")
    client = MlflowClient(tracking_server)
    version = client.get_model_version_by_alias(config.REGISTERED_MODEL_NAME, config.CHAMPION_ALIAS)
    assert str(version.version) == summary.registered_version
    model = mlflow.pyfunc.load_model(f"models:/{config.REGISTERED_MODEL_NAME}@{config.CHAMPION_ALIAS}")
    frame = pd.DataFrame({"candidate": ["W"], "overlayer_nm": [30.0], "underlayer": ["Mg"], "underlayer_nm": [200.0]})
    assert (
        model.predict(frame)["predicted_ccd_ma_cm2"].iloc[0] > 3
    )  # the candidate-table pyfunc (tests/test_serving.py)

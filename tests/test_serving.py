"""The registered champion as a pyfunc: fresh-process loading from the registry, and the real HTTP server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pandas as pd
import pytest
from servers import free_port, running_server

from lithioscreen import config

pytestmark = pytest.mark.slow

CHAMPION_URI = f"models:/{config.REGISTERED_MODEL_NAME}@{config.CHAMPION_ALIAS}"
OUTPUT_COLUMNS = {
    "predicted_ccd_ma_cm2",
    "predicted_ccd_std",
    "interfacial_energy_mev_per_a2",
    "interfacial_energy_source",
    "above_threshold",
}


def _env(tracking_uri: str) -> dict[str, str]:
    return {**os.environ, "MLFLOW_TRACKING_URI": tracking_uri}


def test_champion_loads_from_the_registry_alone_in_a_fresh_process(trained, tmp_path):
    script = textwrap.dedent(
        f"""
        import json, mlflow, pandas as pd
        model = mlflow.pyfunc.load_model({CHAMPION_URI!r})
        frame = pd.DataFrame({{"candidate": ["W", "Mg", "Nb", "Cr0.5W0.5"],
                               "overlayer_nm": [30.0, 200.0, None, 30.0],
                               "underlayer": ["Mg", "none", None, "Mg"]}})
        out = model.predict(frame)
        print(json.dumps({{"columns": list(out.columns), "records": out.to_dict("records"),
                           "params": str(model.metadata.get_params_schema())}}))
        """
    )
    # a working directory without the repository, and only the tracking URI to go by
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=_env(trained["tracking_uri"]),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert OUTPUT_COLUMNS <= set(answer["columns"])
    rows = {row["candidate"]: row for row in answer["records"]}
    assert list(rows) == ["W", "Mg", "Nb", "Cr0.5W0.5"]  # input order kept
    # W/Mg (measured > 5.0) above bare Mg (1.3); every prediction has a positive σ
    assert rows["W"]["predicted_ccd_ma_cm2"] > rows["Mg"]["predicted_ccd_ma_cm2"] + 1.0
    assert all(row["predicted_ccd_std"] > 0 for row in rows.values())
    # missing stack values take the paper's 30 nm on 200 nm Mg
    assert (rows["Nb"]["overlayer_nm"], rows["Nb"]["underlayer"], rows["Nb"]["underlayer_nm"]) == (30.0, "Mg", 200.0)
    assert rows["Mg"]["underlayer"] == "none" and rows["Mg"]["underlayer_nm"] == 0.0
    for row in rows.values():  # the flag is γ ≥ the threshold (100 meV/Å² by default)
        assert row["above_threshold"] is (row["interfacial_energy_mev_per_a2"] >= 100)
    assert rows["W"]["interfacial_energy_mev_per_a2"] > rows["Mg"]["interfacial_energy_mev_per_a2"]
    assert rows["Nb"]["interfacial_energy_source"] == "mlip:committee+calibrated"
    assert "threshold_mev_per_a2" in answer["params"]


def test_registered_pyfunc_matches_the_exported_champion(trained, champion):
    """Same pipeline behind the registry and behind `rank`: same numbers."""
    import mlflow

    from lithioscreen.candidates import make_candidates
    from lithioscreen.ranking import rank_candidates

    mlflow.set_tracking_uri(trained["tracking_uri"])
    model = mlflow.pyfunc.load_model(CHAMPION_URI)
    candidates = make_candidates(["W", "Ti", "Au", "Nb"])
    served = model.predict(candidates).set_index("candidate")
    ranked = rank_candidates(candidates, champion).set_index("candidate")
    for column in [
        "predicted_ccd_ma_cm2",
        "predicted_ccd_std",
        "interfacial_energy_mev_per_a2",
        "feasible",
        "measured_ccd_reported",
    ]:
        pd.testing.assert_series_equal(
            served[column], ranked.loc[served.index, column], check_names=False, check_dtype=False
        )
    assert served.loc["Au", "feasible"] is False and served.loc["Au", "predicted_ccd_ma_cm2"] is None  # null in JSON
    assert (served["above_threshold"] == ranked.loc[served.index, "above_threshold"]).all()


@pytest.mark.parametrize(
    ("frame", "named"),
    [
        ({"candidate": ["W", "Xx"]}, ["row 2", "Xx"]),
        ({"candidate": [""]}, ["row 1", "empty"]),
        ({"candidate": ["W"], "overlayer_nm": [-3.0]}, ["row 1", "overlayer_nm", "-3"]),
        ({"candidate": ["Li"]}, ["row 1", "Li"]),
    ],
)
def test_pyfunc_rejects_bad_candidates_naming_row_and_value(trained, frame, named):
    import mlflow
    from mlflow.exceptions import MlflowException

    mlflow.set_tracking_uri(trained["tracking_uri"])
    model = mlflow.pyfunc.load_model(CHAMPION_URI)
    with pytest.raises(MlflowException) as raised:
        model.predict(pd.DataFrame(frame))
    assert raised.value.error_code == "INVALID_PARAMETER_VALUE"
    for text in named:
        assert text in raised.value.message


@pytest.fixture(scope="module")
def server(trained, tmp_path_factory):
    """`lithioscreen serve` on a free loopback port (MLflow's model server); killed afterwards."""
    port = free_port()
    log = tmp_path_factory.mktemp("serve") / "server.log"
    command = [
        sys.executable,
        "-m",
        "lithioscreen.cli",
        "serve",
        "--port",
        str(port),
        "--tracking-uri",
        trained["tracking_uri"],
    ]
    with running_server(command, f"http://127.0.0.1:{port}/ping", log, env=_env(trained["tracking_uri"])) as url:
        yield url.removesuffix("/ping")


def _post(base: str, body, content_type: str = "application/json"):
    import requests

    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return requests.post(f"{base}/invocations", data=data, headers={"Content-Type": content_type}, timeout=60)


def test_server_predicts_valid_candidates(server):
    split = _post(
        server, {"dataframe_split": {"columns": ["candidate", "overlayer_nm"], "data": [["W", 30.0], ["Mg", 200.0]]}}
    )
    assert split.status_code == 200, split.text
    rows = split.json()["predictions"]
    assert [row["candidate"] for row in rows] == ["W", "Mg"]
    assert rows[0]["predicted_ccd_ma_cm2"] > rows[1]["predicted_ccd_ma_cm2"]
    assert OUTPUT_COLUMNS <= set(rows[0])

    records = _post(
        server, {"dataframe_records": [{"candidate": "Nb"}, {"candidate": "Cr0.5W0.5", "underlayer": "none"}]}
    )
    assert records.status_code == 200, records.text
    rows = records.json()["predictions"]
    assert rows[0]["underlayer"] == "Mg" and rows[1]["underlayer"] == "none" and rows[1]["underlayer_nm"] == 0.0
    assert rows[0]["feasible"] is True and rows[0]["predicted_ccd_std"] > 0 and rows[0]["measured_ccd_reported"] is None
    assert (
        rows[1]["feasible"] is False
        and rows[1]["predicted_ccd_ma_cm2"] is None
        and "lithiophilic" in rows[1]["infeasible_reason"]
    )


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"dataframe_records": [{"candidate": "W"}, {"candidate": "Qz"}]}, ["row 2", "Qz"]),
        ({"dataframe_records": [{"candidate": ""}]}, ["empty candidate"]),
        ({"dataframe_records": [{"candidate": "W", "overlayer_nm": -5}]}, ["overlayer_nm", "-5"]),
        ({"dataframe_records": [{"overlayer_nm": 30}]}, ["candidate"]),
        ('{"dataframe_records": [{"candidate": "W"}', ["Invalid input", "JSON"]),
        ({"instances_of_nothing": [1]}, ["dataframe_split"]),
    ],
)
def test_server_answers_bad_requests_with_4xx_naming_the_value(server, body, named):
    answer = _post(server, body)
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.text)
    message = answer.json()["message"]
    for text in named:
        assert text.lower() in message.lower(), message
    # and it keeps serving
    again = _post(server, {"dataframe_records": [{"candidate": "Mo"}]})
    assert again.status_code == 200 and again.json()["predictions"][0]["candidate"] == "Mo"


def test_serve_without_a_tracking_store_fails_cleanly(tmp_path):
    from typer.testing import CliRunner

    from lithioscreen.cli import app

    result = CliRunner().invoke(app, ["serve", "--tracking-uri", f"sqlite:///{tmp_path / 'absent.db'}"])
    assert result.exit_code == 2
    assert "no MLflow tracking store" in result.output
    assert not (tmp_path / "absent.db").exists()


# --------------------------------------------------------------------------- issue 12: hostile requests


def _post_raw(base: str, data: bytes, headers: dict):
    import requests

    return requests.post(f"{base}/invocations", data=data, headers=headers, timeout=120)


@pytest.mark.parametrize(
    ("data", "headers", "status", "named"),
    [
        (b'{"dataframe_records": [{"candidate": "W"}]}', {"Content-Type": ""}, 415, "Content-Type"),  # was 500
        (b"[" * 100_000 + b"]" * 100_000, {"Content-Type": "application/json"}, 400, "nested too deep"),  # was 500
        (
            b'{"dataframe_records": [{"candidate": "W", "overlayer_nm": NaN}]}',
            {"Content-Type": "application/json"},
            400,
            "NaN",
        ),  # was 30 nm
        (
            b'{"dataframe_records": [{"candidate": "W", "overlayer_nm": true}]}',
            {"Content-Type": "application/json"},
            400,
            "row 1: overlayer_nm true",
        ),  # was 1 nm
        (b"candidate,overlayer_nm\nW,nan\n", {"Content-Type": "text/csv"}, 400, "row 1: overlayer_nm 'nan'"),
        (
            b'{"dataframe_records": [{"candidate": "W", "overlayer_nm": 1e-300}]}',
            {"Content-Type": "application/json"},
            400,
            "below 0.1 nm",
        ),
        (
            b'{"dataframe_records": [{"candidate": "W"}], "params": {"threshold_mev_per_a2": -1e9}}',
            {"Content-Type": "application/json"},
            400,
            "threshold",
        ),
        (
            json.dumps({"dataframe_records": [{"candidate": "W"}] * 10_001}).encode(),
            {"Content-Type": "application/json"},
            413,
            "10,001 rows",
        ),
        (
            json.dumps({"dataframe_records": [{"candidate": "W"}] * 500_000}).encode(),
            {"Content-Type": "application/json"},
            413,
            "request body above",
        ),  # was a 187 MB reply
        (
            b'{"dataframe_records": [{"candidate": "W1e308Cr1e308"}]}',
            {"Content-Type": "application/json"},
            400,
            "do not normalise",
        ),
    ],
)
def test_server_answers_hostile_requests_with_4xx_and_keeps_serving(server, data, headers, status, named):
    import requests

    answer = (
        _post_raw(server, data, headers)
        if headers.get("Content-Type")
        else requests.post(f"{server}/invocations", data=data, headers={"Content-Type": None}, timeout=60)
    )
    assert answer.status_code == status, (answer.status_code, answer.text[:500])
    assert named.lower() in answer.json()["message"].lower(), answer.text[:500]
    again = _post(server, {"dataframe_records": [{"candidate": "Mo"}]})
    assert again.status_code == 200 and again.json()["predictions"][0]["candidate"] == "Mo"


def test_pyfunc_caps_rows_and_refuses_booleans_and_bad_thresholds(trained):
    import mlflow
    from mlflow.exceptions import MlflowException

    from lithioscreen.tracking.pyfunc_model import MAX_ROWS_PER_REQUEST

    mlflow.set_tracking_uri(trained["tracking_uri"])
    model = mlflow.pyfunc.load_model(CHAMPION_URI)
    python_model = model.unwrap_python_model()  # the schema enforcement of predict() turns True into 1.0 first
    cases = [
        (pd.DataFrame({"candidate": ["W"] * (MAX_ROWS_PER_REQUEST + 1)}), None, f"at most {MAX_ROWS_PER_REQUEST:,}"),
        (
            pd.DataFrame({"candidate": ["W", "Nb"], "overlayer_nm": [30.0, True]}, dtype=object),
            None,
            "row 2: overlayer_nm True is not a number",
        ),
        (pd.DataFrame({"candidate": ["W"]}), {"threshold_mev_per_a2": float("nan")}, "not a finite number"),
    ]
    for frame, params, fragment in cases:
        with pytest.raises(MlflowException) as raised:
            python_model.predict(None, frame, params)
        assert raised.value.error_code == "INVALID_PARAMETER_VALUE" and fragment in raised.value.message


def test_serve_with_a_missing_model_uri_is_a_one_line_error(trained, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from lithioscreen.cli import app
    from lithioscreen.cli import serve as serve_module

    def no_exec(executable, argv, env):  # a server must not start (it would replace the test process)
        raise AssertionError(f"the server was started: {argv}")

    monkeypatch.setattr(serve_module.os, "execve", no_exec)

    for model_uri in (str(tmp_path / "absent"), "models:/no-such-model/1", "runs:/0123456789abcdef/model"):
        result = CliRunner().invoke(app, ["serve", "--model-uri", model_uri, "--tracking-uri", trained["tracking_uri"]])
        assert result.exit_code == 2, (model_uri, result.output)
        assert (
            result.stderr.startswith(f"error: --model-uri {model_uri}") and len(result.stderr.strip().splitlines()) == 1
        )


@pytest.mark.parametrize(
    "host, loopback",
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("192.168.1.5", False),
        ("::", False),
        ("myhost", False),
    ],
)
def test_loopback_addresses(host, loopback):
    from lithioscreen.cli.serve import is_loopback

    assert is_loopback(host) is loopback


@pytest.mark.parametrize("command", ["serve", "ui"])
def test_a_non_loopback_host_prints_a_warning(trained, monkeypatch, command):
    """Neither server has authentication; the README says so, and the CLI warns when --host leaves loopback."""
    from typer.testing import CliRunner

    from lithioscreen.cli import app
    from lithioscreen.cli import serve as serve_module

    started = []

    def no_exec(executable, argv, env):
        started.append(argv)
        raise SystemExit(0)

    monkeypatch.setattr(serve_module.os, "execve", no_exec)
    for host, warned in (("0.0.0.0", True), ("127.0.0.1", False)):
        result = CliRunner().invoke(app, [command, "--host", host, "--tracking-uri", trained["tracking_uri"]])
        assert result.exit_code == 0, result.output
        assert ("no authentication" in result.stderr) is warned
    assert len(started) == 2 and any("--host" in arg or arg == "0.0.0.0" for arg in started[0])
    if command == "serve":  # MLflow's scoring app behind the guard, not `mlflow models serve`
        assert started[0][-1] == "serving_app:app" and started[0][1:3] == ["-m", "uvicorn"]

"""The registered champion as a pyfunc: fresh-process loading from the registry, and the real HTTP server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pandas as pd
import pytest

from lithioscreen import config
from servers import free_port, running_server

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
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=_env(trained["tracking_uri"]), capture_output=True, text=True, timeout=300)
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
    assert rows["W"]["above_threshold"] is True and rows["Mg"]["above_threshold"] is False
    assert rows["Nb"]["interfacial_energy_source"] == "surrogate"
    assert "threshold_mev_per_a2" in answer["params"]


def test_registered_pyfunc_matches_the_exported_champion(trained, champion):
    """Same pipeline behind the registry and behind `rank`: same numbers."""
    import mlflow

    from lithioscreen.ranking import rank_candidates
    from lithioscreen.candidates import make_candidates

    mlflow.set_tracking_uri(trained["tracking_uri"])
    model = mlflow.pyfunc.load_model(CHAMPION_URI)
    candidates = make_candidates(["W", "Ti", "Au", "Nb"])
    served = model.predict(candidates).set_index("candidate")
    ranked = rank_candidates(candidates, champion).set_index("candidate")
    for column in ["predicted_ccd_ma_cm2", "predicted_ccd_std", "interfacial_energy_mev_per_a2", "feasible", "measured_ccd_reported"]:
        pd.testing.assert_series_equal(served[column], ranked.loc[served.index, column], check_names=False, check_dtype=False)
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
    command = [sys.executable, "-m", "lithioscreen.cli", "serve", "--port", str(port), "--tracking-uri", trained["tracking_uri"]]
    with running_server(command, f"http://127.0.0.1:{port}/ping", log, env=_env(trained["tracking_uri"])) as url:
        yield url.removesuffix("/ping")


def _post(base: str, body, content_type: str = "application/json"):
    import requests

    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return requests.post(f"{base}/invocations", data=data, headers={"Content-Type": content_type}, timeout=60)


def test_server_predicts_valid_candidates(server):
    split = _post(server, {"dataframe_split": {"columns": ["candidate", "overlayer_nm"], "data": [["W", 30.0], ["Mg", 200.0]]}})
    assert split.status_code == 200, split.text
    rows = split.json()["predictions"]
    assert [row["candidate"] for row in rows] == ["W", "Mg"]
    assert rows[0]["predicted_ccd_ma_cm2"] > rows[1]["predicted_ccd_ma_cm2"]
    assert OUTPUT_COLUMNS <= set(rows[0])

    records = _post(server, {"dataframe_records": [{"candidate": "Nb"}, {"candidate": "Cr0.5W0.5", "underlayer": "none"}]})
    assert records.status_code == 200, records.text
    rows = records.json()["predictions"]
    assert rows[0]["underlayer"] == "Mg" and rows[1]["underlayer"] == "none" and rows[1]["underlayer_nm"] == 0.0
    assert rows[0]["feasible"] is True and rows[0]["predicted_ccd_std"] > 0 and rows[0]["measured_ccd_reported"] is None
    assert rows[1]["feasible"] is False and rows[1]["predicted_ccd_ma_cm2"] is None and "lithiophilic" in rows[1]["infeasible_reason"]


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

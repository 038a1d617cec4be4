"""A wheel-installed lithioscreen works outside the repository and never writes into site-packages.

The wheel is built from this checkout and installed (``--no-deps``) into a fresh virtual
environment whose only link to this one is a ``.pth`` line naming this environment's
site-packages, for the dependencies: the checkout's ``src/``, ``data/`` and ``models/`` are out of
reach, so whatever the tool reads comes from the wheel.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from cells_helpers import new_row, write_cells

from lithioscreen import config

pytestmark = pytest.mark.slow


def _tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(folder)).encode() + path.read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    root = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(root / "dist"),
            str(config.PROJECT_ROOT),
        ],
        check=True,
        capture_output=True,
    )
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    (purelib / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    wheel = next((root / "dist").glob("lithioscreen-*.whl"))
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", str(wheel)], check=True, capture_output=True
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("LITHIOSCREEN_", "MLFLOW_", "PYTHONPATH"))
    }
    work = root / "empty"
    work.mkdir()

    def run(*args, check_code=0):
        result = subprocess.run(
            [str(venv / "bin" / "lithioscreen"), *args], cwd=work, env=env, capture_output=True, text=True, timeout=900
        )
        if check_code is not None:
            assert result.returncode == check_code, (args, result.stdout[-2000:], result.stderr[-2000:])
        return result

    return {"run": run, "work": work, "package": purelib / "lithioscreen", "python": python, "env": env, "root": root}


def test_the_wheel_ranks_from_the_data_and_champion_it_ships(installed):
    located = subprocess.run(
        [
            str(installed["python"]),
            "-c",
            "import lithioscreen, lithioscreen.config as c; print(lithioscreen.__file__); print(c.data_dir())",
        ],
        cwd=installed["work"],
        env=installed["env"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert str(installed["package"]) in located[0] and "shipped" in located[1]  # not the checkout
    rows = json.loads(installed["run"]("rank", "W", "Ag", "--format", "json").stdout)
    assert rows[0]["candidate"] == "W" and rows[0]["feasible"] is True and rows[1]["feasible"] is False


def test_adding_cells_and_training_happen_in_a_project_folder_and_never_in_site_packages(installed):
    run, work = installed["run"], installed["work"]
    before = _tree_digest(installed["package"])
    new_file = write_cells(work / "new.csv", [new_row("synthetic-nb30-mg200")])
    refused = run("cells", "add", str(new_file), "--no-train", check_code=2)
    assert "lithioscreen init" in refused.stderr and "Traceback" not in refused.stderr

    run("init", "project")
    data, models = work / "project" / "data", work / "project" / "models"
    assert (data / config.CELLS_FILE).is_file() and (models / "champion.json").is_file()
    run("cells", "add", str(new_file), "--no-train", "--data-dir", str(data))
    assert "synthetic-nb30-mg200" in (data / config.CELLS_FILE).read_text()
    trained = run("train", "--data-dir", str(data), "--models-dir", str(models), "--format", "json")
    assert json.loads(trained.stdout)["n_cells"] == 6  # the paper's five bilayers and the new Nb cell
    assert (work / "mlflow.db").is_file()  # MLflow's default store, in the (empty) working directory
    ranked = json.loads(run("rank", "Nb", "--models-dir", str(models), "--format", "json").stdout)
    assert ranked[0]["measured_ccd_reported"] == "5.0"
    assert _tree_digest(installed["package"]) == before  # nothing written into the installed package

"""Alloy screening grids, chunked ranking, and what the CLI imports at start-up."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from lithioscreen.candidates import CandidateError
from lithioscreen.cli import app
from lithioscreen.screening import alloy_grid, grid_candidates, grid_fractions, rank_screen

runner = CliRunner()
HEAVY = ("mlflow", "torch", "matminer.featurizers")


def test_binary_and_ternary_grids():
    binary = alloy_grid(["Cr", "W", "Mo"], "binary", 0.1)
    assert len(binary) == 3 * 9 and binary[0] == "Cr0.1W0.9" and "W0.5Mo0.5" in binary
    ternary = alloy_grid(["Cr", "W", "Mo", "Nb"], "ternary", 0.1)
    assert len(ternary) == 4 * 36 and "Cr0.8W0.1Mo0.1" in ternary
    fractions = grid_fractions(3, 0.25)
    np.testing.assert_allclose(fractions.sum(axis=1), 1.0)
    assert fractions.min() >= 0.25 and len(fractions) == 3


@pytest.mark.parametrize(
    "call, fragment",
    [
        (lambda: alloy_grid(["Cr", "W"], "binary", 0.3), "does not divide"),
        (lambda: alloy_grid(["Cr", "W"], "ternary", 0.1), "at least 3"),
        (lambda: alloy_grid(["Cr", "O"], "binary", 0.1), "not a metal"),
        (lambda: alloy_grid(["Cr", "W"], "quaternary", 0.1), "binary, ternary"),
        (lambda: grid_candidates(["CrW"], [-5.0]), "negative"),
    ],
)
def test_bad_grids_are_named(call, fragment):
    with pytest.raises(CandidateError, match=fragment):
        call()


def test_grid_table_is_composition_major():
    table = grid_candidates(["Cr0.5W0.5", "Mo0.5W0.5"], [10.0, 30.0])
    assert table["candidate"].tolist() == ["Cr0.5W0.5", "Cr0.5W0.5", "Mo0.5W0.5", "Mo0.5W0.5"]
    assert table["overlayer_nm"].tolist() == [10.0, 30.0, 10.0, 30.0]


def test_chunked_screen_equals_one_ranking():
    """Chunks of 7 rows with progress reports give the same ranking as all rows at once."""
    from lithioscreen.ranking import rank_candidates
    from lithioscreen.tracking import load_champion

    champion = load_champion()
    table = grid_candidates(alloy_grid(["Cr", "W", "Mo", "Al"], "binary", 0.25) + ["W", "Mg"], [20.0, 30.0])
    seen = []
    chunked = rank_screen(table, champion, chunk_rows=7, progress=lambda done, total: seen.append((done, total)))
    whole = rank_candidates(table, champion)
    assert seen[-1] == (len(table), len(table)) and len(seen) == -(-len(table) // 7)
    pd.testing.assert_frame_equal(chunked, whole)
    assert chunked.set_index("candidate").loc["W0.5Al0.5", "li_compounds"].iloc[0]  # Li-Al compounds listed


def test_rank_alloys_cli_streams_progress_and_writes_csv():
    result = runner.invoke(
        app, ["rank", "Cr", "W", "Mo", "--alloys", "binary", "--grid", "0.25", "--overlayer-nm-grid", "10,30", "--format", "csv"]
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("rank,candidate") and len(lines) == 1 + 3 * 3 * 2
    assert "ranking" in result.stderr and "18/18" in result.stderr


def test_rank_alloys_bad_grid_exits_2():
    result = runner.invoke(app, ["rank", "--alloys", "binary", "--grid", "0.3"])
    assert result.exit_code == 2 and "0.3" in result.stderr and result.stdout == ""


_PROBE = """
import json, sys
from lithioscreen.cli import app
try:
    app({args})
except SystemExit as exit:
    assert not exit.code, exit.code
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("mlflow", "torch") or m.startswith("matminer.featurizers"))
sys.stderr.write(json.dumps(heavy))
"""


@pytest.mark.parametrize("args", [["--help"], ["rank", "--top", "10"], ["rank", "W", "Nb", "--format", "json"]])
def test_cli_does_not_import_heavy_modules(args):
    """`lithioscreen --help` and `rank` load neither MLflow nor torch nor matminer's featurizers."""
    done = subprocess.run([sys.executable, "-c", _PROBE.format(args=repr(args))], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    imported = json.loads(done.stderr.strip().splitlines()[-1])
    assert imported == [], f"{' '.join(args)} imported {imported}"


def test_metal_list_is_pymatgens():
    from pymatgen.core import Element

    from lithioscreen.candidates import METALS_AND_METALLOIDS
    from lithioscreen.features.element_data import symbols

    assert METALS_AND_METALLOIDS == {s for s in symbols() if Element(s).is_metal or Element(s).is_metalloid}

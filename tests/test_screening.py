"""Alloy screening grids, chunked ranking, and what the CLI imports at start-up."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from lithioscreen.candidates import CandidateError, alloy_grid, grid_candidates, grid_fractions
from lithioscreen.cli import app
from lithioscreen.ranking import rank_screen

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
    from lithioscreen.models.champion import load_champion
    from lithioscreen.ranking import rank_candidates

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
        app,
        [
            "rank",
            "Cr",
            "W",
            "Mo",
            "--alloys",
            "binary",
            "--grid",
            "0.25",
            "--thickness",
            "10",
            "--thickness",
            "30",
            "--format",
            "csv",
        ],
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


@pytest.mark.slow
@pytest.mark.parametrize("args", [["--help"], ["rank", "--top", "10"], ["rank", "W", "Nb", "--format", "json"]])
def test_cli_does_not_import_heavy_modules(args):
    """`lithioscreen --help` and `rank` load neither MLflow nor torch nor matminer's featurizers."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE.format(args=repr(args))], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    imported = json.loads(done.stderr.strip().splitlines()[-1])
    assert imported == [], f"{' '.join(args)} imported {imported}"


def test_metal_list_is_pymatgens():
    from pymatgen.core import Element

    from lithioscreen.candidates import METALS_AND_METALLOIDS
    from lithioscreen.elements import symbols

    assert METALS_AND_METALLOIDS == {s for s in symbols() if Element(s).is_metal or Element(s).is_metalloid}


# --------------------------------------------------------------------------- issue 12: resource limits


@pytest.mark.parametrize(
    "alloys, step, elements", [("binary", 0.1, 5), ("binary", 0.25, 3), ("ternary", 0.1, 4), ("ternary", 0.05, 5)]
)
def test_grid_size_is_computed_without_building_the_grid(alloys, step, elements):
    from lithioscreen.candidates import grid_size

    metals = ["Cr", "W", "Mo", "Nb", "Ta"][:elements]
    assert grid_size(len(metals), alloys, step) == len(alloy_grid(metals, alloys, step))


@pytest.mark.parametrize(
    "args, fragment",
    [
        (
            ["--alloys", "ternary", "--grid", "0.01"],
            "55,689,480 candidates",
        ),  # 42 metals: built in memory it died at 5.9 GB
        (
            ["--alloys", "ternary", "--grid", "1e-300"],
            "below the finest grid, 0.001",
        ),  # looped forever, 12.9 GB after 60 s
        (["--alloys", "binary", "--grid", "0.0005"], "below the finest grid"),
        (["--alloys", "binary", "--grid", "nan"], "between 0 and 1"),
        (["--alloys", "binary", "--grid", "0.1", "--max-candidates", "100"], "--max-candidates"),
        (["--alloys", "binary", "--grid", "0.1", "--thickness", "10", "--thickness", "1e-300"], "below 0.1 nm"),
        (["--alloys", "binary", "--grid", "0.1", "--thickness", "nan"], "overlayer_nm"),
    ],
)
def test_oversized_or_meaningless_grids_exit_2_before_anything_is_built(args, fragment):
    import time

    start = time.monotonic()
    result = runner.invoke(app, ["rank", *args])
    assert result.exit_code == 2, result.output
    assert fragment in result.stderr and result.stdout == ""
    assert time.monotonic() - start < 20


def test_the_cap_counts_every_thickness_and_a_flag_raises_it():
    from lithioscreen.candidates import alloy_screen, check_grid_size

    assert check_grid_size(3, "binary", 0.25, 2, max_candidates=18) == 18
    with pytest.raises(CandidateError, match="18 candidates: above the cap of 17"):
        alloy_screen(["Cr", "W", "Mo"], "binary", 0.25, [10, 30], max_candidates=17)
    assert len(alloy_screen(["Cr", "W", "Mo"], "binary", 0.25, [10, 30], max_candidates=18)) == 18


def test_suggest_pool_size_respects_the_cap():
    from lithioscreen.candidates import check_pool_size

    # 3 elements besides Mg + C(3, 2) pairs x 3 fractions (step 0.25) = 12 compositions, at 3 thicknesses
    assert check_pool_size(["W", "Cr", "Mo", "Mg"], "Mg", 3, alloys="binary", alloy_step=0.25) == 36
    with pytest.raises(CandidateError, match="36 candidates to score"):
        check_pool_size(["W", "Cr", "Mo", "Mg"], "Mg", 3, alloys="binary", alloy_step=0.25, max_candidates=35)


def test_features_in_chunks_equal_one_table():
    from lithioscreen.features import make_featurizer
    from lithioscreen.features.pipeline import featurize_in_chunks

    table = grid_candidates(alloy_grid(["Cr", "W", "Mo"], "binary", 0.25) + ["W", "Mg"], [20.0, 30.0])
    chunks = list(featurize_in_chunks(table, include_magpie=True, chunk_rows=5))
    assert len(chunks) == -(-len(table) // 5) and all(len(chunk) <= 5 for chunk in chunks)
    whole = make_featurizer(include_magpie=True).fit(table).transform(table)
    whole = pd.concat([table, whole.drop(columns=[c for c in whole.columns if c in table.columns])], axis=1)
    pd.testing.assert_frame_equal(pd.concat(chunks, ignore_index=True), whole)


def test_features_cli_streams_a_candidates_file_in_chunks(tmp_path, monkeypatch):
    """`features --candidates` writes csv/json chunk by chunk (bounded memory), byte for byte the whole table."""
    import lithioscreen.features.pipeline as screening
    from lithioscreen.candidates import read_candidates_file
    from lithioscreen.cli.common import OutputFormat, print_frame

    path = tmp_path / "c.csv"
    path.write_text(
        "candidate,overlayer_nm\n" + "".join(f"{c},{t}\n" for c in ["W", "Cr0.5W0.5", "Nb", "Mo"] for t in (10, 30, 50))
    )
    whole = {}
    for output in ("csv", "json"):
        result = runner.invoke(app, ["features", "--candidates", str(path), "--no-magpie", "--format", output])
        assert result.exit_code == 0, result.output
        whole[output] = result.stdout
    chunk_sizes = []
    real = screening.featurize_in_chunks

    def small_chunks(table, include_magpie=True):
        for chunk in real(table, include_magpie, chunk_rows=5):
            chunk_sizes.append(len(chunk))
            yield chunk

    monkeypatch.setattr(screening, "featurize_in_chunks", small_chunks)
    for output in ("csv", "json"):
        result = runner.invoke(app, ["features", "--candidates", str(path), "--no-magpie", "--format", output])
        assert result.exit_code == 0, result.output
        assert result.stdout == whole[output]
    assert chunk_sizes == [5, 5, 2] * 2
    assert json.loads(whole["json"])[3]["candidate"] == "Cr0.5W0.5" and len(whole["csv"].splitlines()) == 13
    # and the same bytes print_frame writes for the whole table
    import contextlib
    import io

    frame = pd.concat(list(real(read_candidates_file(path), include_magpie=False)), ignore_index=True)
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        print_frame(frame, OutputFormat.json, title="")
    assert buffer.getvalue() == whole["json"]

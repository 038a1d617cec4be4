"""`suggest`: the untested candidate pool, the acquisition ranking and its reasons."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from lithioscreen.acquisition import expected_improvement, upper_confidence_bound
from lithioscreen.candidates import alloy_grid, candidate_pool, composition_key
from lithioscreen.cli import app
from lithioscreen.data import load_cells
from lithioscreen.suggest import SUGGEST_COLUMNS, suggest

runner = CliRunner()
ELEMENTS = ["W", "Cr", "Mo", "Ti", "Zr", "Mg", "Nb", "Ta", "V", "Ba"]


def test_pool_leaves_out_tested_stacks_and_the_underlayer():
    pool = candidate_pool(ELEMENTS, load_cells(), thicknesses_nm=(30, 50))
    stacks = set(zip(pool["candidate"], pool["overlayer_nm"]))
    for tested in ("W", "Cr", "Mo", "Ti", "Zr"):  # built at 30 nm on Mg 200 nm
        assert (tested, 30.0) not in stacks and (tested, 50.0) in stacks
    assert ("Nb", 30.0) in stacks and not any(candidate == "Mg" for candidate, _ in stacks)
    assert len(pool) == 2 * 9 - 5
    assert set(pool["underlayer"]) == {"Mg"} and set(pool["underlayer_nm"]) == {200.0}


def test_alloy_grid_and_composition_keys():
    grid = alloy_grid(sorted(["W", "Cr", "Mo"]), "binary", 0.25)
    assert len(grid) == 3 * 3 and "Cr0.5W0.5" in grid and "Cr0.25Mo0.75" in grid
    assert composition_key("W0.5Cr0.5") == composition_key("Cr1W1") == composition_key("Cr0.5W0.5")
    pool = candidate_pool(["W", "Cr"], load_cells(), thicknesses_nm=(30,), alloys="binary", alloy_step=0.5)
    assert sorted(pool["candidate"]) == ["Cr0.5W0.5"]  # W and Cr at 30 nm are tested
    with pytest.raises(ValueError, match="grid step"):
        alloy_grid(["W", "Cr"], "binary", 1.5)


@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["ei", "ucb", "explore"])
def test_suggestions_are_ordered_by_the_acquisition(champion, strategy):
    cells = load_cells()
    pool = candidate_pool(ELEMENTS, cells, thicknesses_nm=(30, 50))
    table = suggest(champion, cells, pool, strategy=strategy, n=None, domain="ignore")
    # Mg is the underlayer, Ba forms Li compounds: never suggested
    assert (
        list(table.columns) == SUGGEST_COLUMNS and len(table) == len(pool) - 2 and "Ba" not in set(table["candidate"])
    )
    assert table["feasible"].map(lambda value: value is True).all()
    assert np.all(np.diff(table["acquisition"].to_numpy()) <= 1e-12)
    mean, std = table["predicted_ccd_ma_cm2"].to_numpy(), table["predicted_ccd_std"].to_numpy()
    expected = {
        "ei": expected_improvement(mean, std, 5.0),  # W's "> 5.0" is the best measured CCD
        "ucb": upper_confidence_bound(mean, std, 2.0),
        "explore": std,
    }[strategy]
    np.testing.assert_allclose(table["acquisition"], expected)
    assert (table["best_measured_ccd_ma_cm2"] == 5.0).all()


@pytest.mark.slow
def test_domain_first_and_only(champion):
    cells = load_cells()
    pool = candidate_pool(ELEMENTS, cells, thicknesses_nm=(10, 30, 50))
    first = suggest(champion, cells, pool, n=None)
    inside = first["in_training_domain"].to_numpy()
    assert not inside.all()  # 10 and 50 nm were never tested
    assert not np.any(np.diff(inside.astype(int)) > 0)  # no in-domain row after an extrapolation
    if inside.any():
        only = suggest(champion, cells, pool, n=None, domain="only")
        assert only["in_training_domain"].all() and len(only) == inside.sum()
    else:
        with pytest.raises(ValueError, match="inside the training domain"):
            suggest(champion, cells, pool, n=None, domain="only")


@pytest.mark.slow
def test_reasons_name_the_closest_tested_cell(champion):
    cells = load_cells()
    table = suggest(champion, cells, candidate_pool(["W", "Nb"], cells, thicknesses_nm=(50,)), n=None).set_index(
        "candidate"
    )
    # W 50 nm differs from the tested W 30 nm only in thickness
    assert table.loc["W", "closest_tested_cell"] == "oh2024-w30-mg200"
    assert table.loc["W", "closest_tested_distance"] < table.loc["Nb", "closest_tested_distance"] + 1.0
    for _, row in table.iterrows():
        assert f"predicted {row['predicted_ccd_ma_cm2']:.2f} ± {row['predicted_ccd_std']:.2f}" in row["reason"]
        assert row["closest_tested_candidate"] in row["reason"] and row["interfacial_energy_source"] in row["reason"]


@pytest.mark.slow
def test_cli_suggest_json_csv_and_table(trained):
    models = str(trained["models_dir"])
    result = runner.invoke(app, ["suggest", "--n", "4", "--format", "json", "--models-dir", models])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == 4 and [row["rank"] for row in rows] == [1, 2, 3, 4]
    assert {
        "candidate",
        "acquisition",
        "predicted_ccd_ma_cm2",
        "predicted_ccd_std",
        "reason",
        "feasible",
        "infeasible_reason",
        "measured_ccd_reported",
    } <= set(rows[0])
    assert all(row["feasible"] is True and row["infeasible_reason"] is None for row in rows)
    assert rows[0]["acquisition"] >= rows[-1]["acquisition"] or not rows[-1]["in_training_domain"]

    alloys = runner.invoke(
        app,
        [
            "suggest",
            "--alloys",
            "binary",
            "--alloy-element",
            "W",
            "--alloy-element",
            "Cr",
            "--strategy",
            "ucb",
            "--kappa",
            "1",
            "--n",
            "100",
            "--format",
            "csv",
            "--models-dir",
            models,
        ],
    )
    assert alloys.exit_code == 0, alloys.output
    lines = alloys.stdout.strip().splitlines()
    assert lines[0].startswith("rank,candidate") and any(",Cr0.5W0.5," in line for line in lines)

    table = runner.invoke(app, ["suggest", "--n", "3", "--strategy", "explore", "--models-dir", models])
    assert (
        table.exit_code == 0 and "Next cells to build (explore" in table.stdout and "Best measured CCD" in table.stderr
    )


@pytest.mark.slow
def test_suggest_with_alloys_proposes_only_feasible_stacks(trained):
    result = runner.invoke(
        app,
        ["suggest", "--alloys", "binary", "--n", "20", "--format", "json", "--models-dir", str(trained["models_dir"])],
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == 20 and all(row["feasible"] is True for row in rows)
    assert not any("Sr" in row["candidate"] or "Ba" in row["candidate"] or "Ag" in row["candidate"] for row in rows)


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["suggest", "--strategy", "thompson"], "thompson"),
        (["suggest", "--thickness", "-5"], "negative"),
        (["suggest", "--underlayer", "Qq"], "Qq"),
        (["suggest", "--alloys", "binary", "--alloy-element", "Xx"], "Xx"),
        # issue 12: the thickness limits of cells.csv, and the candidate cap of `rank`
        (["suggest", "--thickness", "1e-300"], "below 0.1 nm"),
        (["suggest", "--thickness", "nan"], "NaN"),
        (
            ["suggest", "--alloys", "binary", "--alloy-step", "0.01", "--max-candidates", "1000"],
            "above the cap of 1,000",
        ),
        (["suggest", "--alloys", "binary", "--alloy-step", "0.03"], "does not divide 1"),
        (["suggest", "--alloys", "quaternary"], "quaternary"),
    ],
)
def test_cli_suggest_bad_input_exits_2(args, fragment):
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert fragment in result.stderr and result.stdout == ""

"""`suggest`: the untested candidate pool, the acquisition ranking and its reasons."""

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from lithioscreen.acquisition import expected_improvement, upper_confidence_bound
from lithioscreen.cli import app
from lithioscreen.data import load_cells
from lithioscreen.suggest import SUGGEST_COLUMNS, alloy_grid, candidate_pool, composition_key, suggest

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
    grid = alloy_grid(["W", "Cr", "Mo"], 0.25)
    assert len(grid) == 3 * 3 and "Cr0.5W0.5" in grid and "Cr0.25Mo0.75" in grid
    assert composition_key("W0.5Cr0.5") == composition_key("Cr1W1") == composition_key("Cr0.5W0.5")
    pool = candidate_pool(["W", "Cr"], load_cells(), thicknesses_nm=(30,), alloys=True, alloy_step=0.5)
    assert sorted(pool["candidate"]) == ["Cr0.5W0.5"]  # W and Cr at 30 nm are tested
    with pytest.raises(ValueError, match="alloy step"):
        alloy_grid(["W", "Cr"], 1.5)


@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["ei", "ucb", "explore"])
def test_suggestions_are_ordered_by_the_acquisition(champion, strategy):
    cells = load_cells()
    pool = candidate_pool(ELEMENTS, cells, thicknesses_nm=(30, 50))
    table = suggest(champion, cells, pool, strategy=strategy, n=None, domain="ignore")
    assert list(table.columns) == SUGGEST_COLUMNS and len(table) == len(pool)
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
    assert inside.any() and not inside.all()
    assert not np.any(np.diff(inside.astype(int)) > 0)  # no in-domain row after an extrapolation
    only = suggest(champion, cells, pool, n=None, domain="only")
    assert only["in_training_domain"].all() and len(only) == inside.sum()


@pytest.mark.slow
def test_reasons_name_the_closest_tested_cell(champion):
    cells = load_cells()
    table = suggest(champion, cells, candidate_pool(["W", "Nb"], cells, thicknesses_nm=(50,)), n=None).set_index("candidate")
    # W 50 nm differs from the tested W 30 nm only in thickness
    assert table.loc["W", "closest_tested_cell"] == "oh2024-w30-mg200"
    assert table.loc["W", "closest_tested_distance"] < table.loc["Nb", "closest_tested_distance"] + 1.0
    for candidate, row in table.iterrows():
        assert f"predicted {row['predicted_ccd_ma_cm2']:.2f} ± {row['predicted_ccd_std']:.2f}" in row["reason"]
        assert row["closest_tested_candidate"] in row["reason"] and row["interfacial_energy_source"] in row["reason"]


@pytest.mark.slow
def test_cli_suggest_json_csv_and_table(trained):
    models = str(trained["models_dir"])
    result = runner.invoke(app, ["suggest", "--n", "4", "--format", "json", "--models-dir", models])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == 4 and [row["rank"] for row in rows] == [1, 2, 3, 4]
    assert {"candidate", "acquisition", "predicted_ccd_ma_cm2", "predicted_ccd_std", "reason"} <= set(rows[0])
    assert rows[0]["acquisition"] >= rows[-1]["acquisition"] or not rows[-1]["in_training_domain"]

    alloys = runner.invoke(
        app, ["suggest", "--alloys", "--alloy-element", "W", "--alloy-element", "Cr", "--strategy", "ucb", "--kappa", "1",
              "--n", "100", "--format", "csv", "--models-dir", models],
    )
    assert alloys.exit_code == 0, alloys.output
    lines = alloys.stdout.strip().splitlines()
    assert lines[0].startswith("rank,candidate") and any(",Cr0.5W0.5," in line for line in lines)

    table = runner.invoke(app, ["suggest", "--n", "3", "--strategy", "explore", "--models-dir", models])
    assert table.exit_code == 0 and "Next cells to build (explore" in table.stdout and "Best measured CCD" in table.stderr


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["suggest", "--strategy", "thompson"], "thompson"),
        (["suggest", "--thickness", "-5"], "negative"),
        (["suggest", "--underlayer", "Qq"], "Qq"),
        (["suggest", "--alloys", "--alloy-element", "Xx"], "Xx"),
        # issue 12: the thickness limits of cells.csv, and the candidate cap of `rank`
        (["suggest", "--thickness", "1e-300"], "below 0.1 nm"),
        (["suggest", "--thickness", "nan"], "NaN"),
        (["suggest", "--alloys", "--alloy-step", "0.01", "--max-candidates", "1000"], "above the cap of 1,000"),
        (["suggest", "--alloys", "--alloy-step", "0.03"], "does not divide 1"),
    ],
)
def test_cli_suggest_bad_input_exits_2(args, fragment):
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert fragment in result.stderr and result.stdout == ""


@pytest.mark.parametrize("measured, sigma_shrinks", [(5.0, True), (6.0, False)])
def test_effect_of_a_new_result_on_the_model_depends_on_how_surprising_it_is(measured, sigma_shrinks):
    """A synthetic Nb 30 nm/Mg cell (SYNTHETIC, exact CCD): the mean always moves toward it; σ
    shrinks when the result agrees with the model (5.0, ~1σ above 4.64) and grows when it does not
    (6.0, ~5σ above: the model re-estimates its noise), as the README says."""
    from lithioscreen.candidates import CANDIDATE_COLUMNS, make_candidates
    from lithioscreen.data import load_interfacial_energies, load_phase_data, training_cells
    from lithioscreen.models import make_models, predict_ccd
    from lithioscreen.models.evaluation import targets

    cells = training_cells(load_cells())
    nb = make_candidates(["Nb"]).assign(cell_id="synthetic-nb30-mg200", ccd_lower_ma_cm2=measured, ccd_upper_ma_cm2=measured, ccd_censoring="exact")
    model = make_models(load_phase_data(), load_interfacial_energies())["bayesian_ridge"]
    before = predict_ccd(model.fit(cells[CANDIDATE_COLUMNS], targets(cells)), nb)
    with_nb = pd.concat([cells, nb[cells.columns]], ignore_index=True)
    after = predict_ccd(model.fit(with_nb[CANDIDATE_COLUMNS], targets(with_nb)), nb)
    assert abs(after.mean[0] - measured) < abs(before.mean[0] - measured)
    assert (after.std[0] < before.std[0]) == sigma_shrinks

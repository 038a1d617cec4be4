"""The feasibility model: the paper's failed stacks, Li-alloying overlayers, the thickness window."""

import math

import pandas as pd
import pytest

from lithioscreen.candidates import make_candidates
from lithioscreen.data import load_cells, load_phase_data, training_cells
from lithioscreen.models.feasibility import BilayerFeasibility, effective_stacks, li_affinity


@pytest.fixture(scope="module")
def table():
    return training_cells(load_cells())


@pytest.fixture(scope="module")
def feasibility(table):
    return BilayerFeasibility().fit(table)


def _assess(model, *stacks):
    frames = [make_candidates([c], t, u, un) for c, t, u, un in stacks]
    return model.assess(pd.concat(frames, ignore_index=True)).set_index(
        ["candidate", "overlayer_nm", "underlayer"], drop=False
    )


def _cell(cell_id, candidate, nm, outcome="ccd", failure="", underlayer="Mg", underlayer_nm=200.0):
    return {
        "cell_id": cell_id,
        "candidate": candidate,
        "overlayer_nm": nm,
        "underlayer": underlayer,
        "underlayer_nm": underlayer_nm,
        "outcome": outcome,
        "failure_mode": failure,
    }


def test_the_papers_failed_stacks_are_infeasible_with_their_evidence(feasibility):
    rows = _assess(feasibility, ("W", 200, "Mg", 200), ("W", 30, "none", 0), ("W", 30, "Mg", 200))
    thick = rows.loc[("W", 200.0, "Mg")]
    assert (
        thick["feasible"] is False
        and "200 nm" in thick["infeasible_reason"]
        and "oh2024-w200-mg200" in thick["infeasible_reason"]
    )
    bare = rows.loc[("W", 30.0, "none")]
    assert (
        bare["feasible"] is False
        and "lithiophilic" in bare["infeasible_reason"]
        and "oh2024-w30-nomg" in bare["infeasible_reason"]
    )
    assert rows.loc[("W", 30.0, "Mg")]["feasible"] is True


@pytest.mark.parametrize(
    "overlayer, named",
    [
        ("Ag", "Li-Ag forms compounds"),
        ("Zn", "Li-Zn"),
        ("Al", "LiAl"),
        ("Cr0.5Sr0.5", "Li-Sr"),
        ("Ni", "dissolves 3.03 at.%"),
        ("Mg0.5W0.5", "Mg dissolves"),
    ],
)
def test_overlayers_that_alloy_with_li_are_infeasible(feasibility, overlayer, named):
    row = _assess(feasibility, (overlayer, 30, "Mg", 200)).iloc[0]
    assert row["feasible"] is False and named in row["infeasible_reason"]


def test_a_lithiophobic_underlayer_is_infeasible_and_a_lithiophilic_one_is_not(feasibility):
    rows = _assess(feasibility, ("W", 30, "Cu", 200), ("W", 30, "Ti", 200), ("W", 30, "Ag", 200), ("W", 30, "Sn", 200))
    for underlayer in ("Cu", "Ti"):
        row = rows.loc[("W", 30.0, underlayer)]
        assert row["feasible"] is False and f"{underlayer} does not alloy with Li" in row["infeasible_reason"]
    for underlayer in ("Ag", "Sn"):
        assert rows.loc[("W", 30.0, underlayer)]["feasible"] is True


def test_unknown_chemistry_is_unknown_not_feasible(feasibility):
    rows = _assess(feasibility, ("Sc", 30, "Mg", 200), ("Cr0.5Re0.5", 30, "Mg", 200), ("Fr", 30, "Mg", 200))
    assert rows["feasible"].map(lambda value: value is None).all()
    assert rows["infeasible_reason"].isna().all() and rows["unknown_reason"].str.len().gt(5).all()
    assert math.isnan(rows.iloc[0]["feasibility_probability"])


def test_the_thickness_window_between_what_worked_and_what_failed(feasibility):
    assert feasibility.thickness_window_nm() == (30.0, 200.0)
    rows = _assess(
        feasibility,
        ("Nb", 10, "Mg", 200),
        ("Nb", 30, "Mg", 200),
        ("Nb", 100, "Mg", 200),
        ("Nb", 199, "Mg", 200),
        ("Nb", 200, "Mg", 200),
        ("Nb", 500, "Mg", 200),
    )
    probability = rows["feasibility_probability"].to_numpy()
    assert list(rows["feasible"]) == [True, True, True, True, False, False]
    assert probability[0] == probability[1] == 1.0 and probability[4] == probability[5] == 0.0
    assert 1 > probability[2] > probability[3] > 0  # log-uniform critical thickness between 30 and 200 nm
    assert probability[2] == pytest.approx(math.log(200 / 100) / math.log(200 / 30))


def test_new_cells_move_the_bounds_and_an_overlayers_own_cells_decide_first(table):
    extra = pd.DataFrame(
        [_cell("lab-w100", "W", 100.0), _cell("lab-nb60", "Nb", 60.0, "failed", "li_plated_on_overlayer")]
    )
    model = BilayerFeasibility().fit(pd.concat([table, extra], ignore_index=True))
    assert model.thickness_window_nm() == (100.0, 60.0)  # pooled bounds now contradict each other ...
    rows = _assess(
        model,
        ("W", 100, "Mg", 200),
        ("Nb", 60, "Mg", 200),
        ("Nb", 40, "Mg", 200),
        ("Mo", 80, "Mg", 200),
        ("Mo", 150, "Mg", 200),
    )
    assert rows.loc[("W", 100.0, "Mg")]["feasible"] is True  # W's own cell worked at 100 nm
    assert (
        rows.loc[("Nb", 60.0, "Mg")]["feasible"] is False
        and "lab-nb60" in rows.loc[("Nb", 60.0, "Mg")]["infeasible_reason"]
    )
    assert rows.loc[("Nb", 40.0, "Mg")]["feasible"] is True
    assert (
        rows.loc[("Mo", 80.0, "Mg")]["feasible"] is None
    )  # ... so a metal without its own cells is unknown in between
    assert rows.loc[("Mo", 150.0, "Mg")]["feasible"] is False


def test_an_overlayer_of_the_underlayers_element_is_one_layer():
    stacks = effective_stacks(make_candidates(["Mg", "W"], 30, "Mg", 200))
    assert stacks.loc[0, ["candidate", "overlayer_nm", "underlayer", "underlayer_nm", "architecture"]].tolist() == [
        "Mg",
        230.0,
        "none",
        0.0,
        "single_layer",
    ]
    assert "not a bilayer" in stacks.loc[0, "stack_note"]
    assert stacks.loc[1, "architecture"] == "bilayer" and stacks.loc[1, "stack_note"] == ""


def test_single_layers_need_to_be_lithiophilic(feasibility):
    rows = _assess(feasibility, ("Mg", 200, "none", 0), ("Ag", 50, "none", 0), ("Cu", 50, "none", 0))
    assert rows["feasible"].tolist() == [True, True, False]


def test_the_underlayer_rule_holds_out_of_sample_the_thickness_failure_does_not(table):
    """Leave each failed stack out: the missing Mg layer is still judged from the phase diagrams, but
    200 nm of W is only known to fail from its own cell (the paper's only thickness evidence)."""
    without_bare = BilayerFeasibility().fit(table[table["cell_id"] != "oh2024-w30-nomg"])
    assert _assess(without_bare, ("W", 30, "none", 0)).iloc[0]["feasible"] is False
    without_thick = BilayerFeasibility().fit(table[table["cell_id"] != "oh2024-w200-mg200"])
    assert _assess(without_thick, ("W", 200, "Mg", 200)).iloc[0]["feasible"] is None


def test_li_affinity_classes_follow_the_phase_table():
    affinity = li_affinity(load_phase_data())
    assert (
        affinity["W"].kind == "lithiophobic"
        and affinity["Mg"].kind == "lithiophilic"
        and affinity["Ag"].kind == "lithiophilic"
    )
    assert (
        affinity["Sc"].kind == "unknown"
        and affinity["Ni"].kind == "lithiophilic"
        and affinity["Cu"].kind == "lithiophobic"
    )

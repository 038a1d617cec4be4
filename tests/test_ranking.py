"""Ranking with a champion trained in this session, and with the one shipped in models/."""

import numpy as np
import pandas as pd
import pytest

from lithioscreen.candidates import default_candidates, validate_candidates
from lithioscreen.data import load_phase_data
from lithioscreen.models.champion import NoChampionError, load_champion
from lithioscreen.ranking import RANK_COLUMNS, limitations, rank_candidates

pytestmark = pytest.mark.slow


def _stacks():
    return validate_candidates(
        pd.DataFrame(
            {
                "candidate": ["Mg", "W", "Cr", "Mo", "Ti", "Zr"],
                "overlayer_nm": [200, 30, 30, 30, 30, 30],
                "underlayer": ["none", "Mg", "Mg", "Mg", "Mg", "Mg"],
                "underlayer_nm": [0, 200, 200, 200, 200, 200],
            }
        )
    )


def test_w_and_cr_rank_above_bare_mg(champion):
    ranked = rank_candidates(_stacks(), champion).set_index("candidate")
    assert ranked.loc["W", "rank"] < ranked.loc["Mg", "rank"]
    assert ranked.loc["Cr", "rank"] < ranked.loc["Mg", "rank"]
    assert ranked.loc["W", "predicted_ccd_ma_cm2"] > ranked.loc["Mg", "predicted_ccd_ma_cm2"]


def test_flags_at_the_papers_threshold(champion):
    ranked = rank_candidates(_stacks(), champion, threshold_mev_per_a2=100).set_index("candidate")
    energy = ranked["interfacial_energy_mev_per_a2"]
    assert (ranked["above_threshold"] == (energy >= 100)).all()
    # the paper's two groups (W, Cr: high CCD; Mo, Ti, Zr: not) separate on the calibrated scale
    low, high = energy[["Mo", "Ti", "Zr"]].max(), energy[["W", "Cr"]].min()
    assert low < high
    split = rank_candidates(_stacks(), champion, threshold_mev_per_a2=(low + high) / 2).set_index("candidate")
    assert (
        split.loc[["W", "Cr"], "above_threshold"].all() and not split.loc[["Mo", "Ti", "Zr"], "above_threshold"].any()
    )


def test_default_candidate_set_is_ranked_completely(champion):
    from lithioscreen.ranking import feasibility_class

    candidates = default_candidates(load_phase_data())
    ranked = rank_candidates(candidates, champion)
    assert list(ranked.columns) == RANK_COLUMNS
    assert sorted(ranked["rank"]) == list(range(1, len(candidates) + 1))
    predicted = ranked[ranked["predicted_ccd_ma_cm2"].notna()]
    assert (predicted["predicted_ccd_std"] > 0).all()
    # feasible stacks first, then unknown, then infeasible (which have no CCD)
    assert np.all(np.diff(feasibility_class(ranked["feasible"])) >= 0)
    infeasible = ranked[ranked["feasible"].map(lambda value: value is False)]
    assert infeasible["predicted_ccd_ma_cm2"].isna().all() and {"Al", "Ag", "Zn", "Ba", "Ca", "Si"} <= set(
        infeasible["candidate"]
    )
    # inside the training domain, ranks follow the predicted CCD
    inside = ranked[ranked["in_training_domain"]]
    assert inside["predicted_ccd_ma_cm2"].is_monotonic_decreasing
    assert ranked.set_index("candidate").loc["Al", "li_compounds"]  # Li-Al compounds are listed


def test_limitations_name_the_data(champion):
    text = " ".join(limitations(champion))
    assert "5 measured bilayer cells" in text and "extrapolation" in text and "2 failed stacks" in text
    assert "200 nm failed" in text and "constant baseline" in text


def test_shipped_model_loads_and_ranks():
    """make rank uses models/: it must load with the pinned libraries and rank sensibly."""
    shipped = load_champion()
    ranked = rank_candidates(_stacks(), shipped).set_index("candidate")
    assert ranked.loc["W", "rank"] < ranked.loc["Mg", "rank"]
    assert shipped.metadata["n_cells"] == 5 and shipped.metadata["n_failed_stacks"] == 2


def test_missing_champion(tmp_path):
    with pytest.raises(NoChampionError, match="lithioscreen train"):
        load_champion(tmp_path)

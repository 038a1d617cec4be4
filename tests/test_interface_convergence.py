"""benchmarks/interface_convergence.py: the pure helpers of the convergence report, without a potential."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from conftest import load_benchmark


@pytest.fixture(scope="module")
def convergence():
    return load_benchmark("interface_convergence")


def _linear(n_li, gamma, slope):
    return [gamma + slope * n for n in n_li]


def test_windows_of_a_linear_series_agree(convergence):
    n_li = [16, 24, 32, 40, 48]
    windows = convergence.li_thickness_windows(n_li, _linear(n_li, 70.0, 0.05), area_a2=42.6)
    assert [w["n_li"] for w in windows] == [[16, 24, 32], [24, 32, 40], [32, 40, 48]]
    assert all(w["interfacial_energy_mev_per_a2"] == pytest.approx(70.0) for w in windows)
    assert all(w["intercept_stderr_mev_per_a2"] == pytest.approx(0.0, abs=1e-9) for w in windows)


def test_a_low_thinnest_point_moves_only_the_first_window(convergence):
    n_li = [16, 24, 32, 40, 48]
    excess = _linear(n_li, 70.0, 0.0)
    excess[0] -= 20.0  # the thinnest Li slab relaxes to something else
    windows = convergence.li_thickness_windows(n_li, excess, area_a2=42.6)
    assert windows[0]["interfacial_energy_mev_per_a2"] < 60.0
    assert windows[0]["intercept_stderr_mev_per_a2"] > 1.0
    assert windows[-1]["interfacial_energy_mev_per_a2"] == pytest.approx(70.0)


def test_orientation_bests_keep_each_orientations_lowest_and_mark_equivalent_ones(convergence):
    design = SimpleNamespace(variants=[0, 1, 2])
    candidates = [SimpleNamespace(variant=v, name=f"{v}{i}") for v in range(3) for i in range(2)]
    # orientation 2 has the same lowest energy as orientation 0: symmetry-equivalent
    unrelaxed = [85.9, 87.0, 84.0, 83.6, 86.5, 85.9]
    bests = convergence._orientation_bests(design, candidates, unrelaxed)
    assert [(v, value, c.name, twin) for v, value, c, twin in bests] == [
        (0, 85.9, "00", None),
        (1, 83.6, "11", None),
        (2, 85.9, "21", 0),
    ]
    assert all(np.isfinite(value) for _, value, _, _ in bests)


def test_the_supercell_choice_is_judged_among_cells_of_rank_0s_strain(convergence):
    def cell(rank, strain, gamma, error=""):
        return {"rank": rank, "strain": strain, "interfacial_energy_mev_per_a2": gamma, "error": error}

    cells = [cell(0, 0.067, 71.1), cell(1, 0.067, None, "reconstructed"), cell(2, 0.067, 71.4)]
    assert convergence.supercell_spread_at_rank0_strain(cells) == pytest.approx(0.3)
    # a more strained rank is another interface, not another choice: it does not count
    cells = [cell(0, 0.031, 98.4), cell(1, 0.051, 94.6)]
    assert convergence.supercell_spread_at_rank0_strain(cells) is None
    cells.append(cell(2, 0.031, 90.0))
    assert convergence.supercell_spread_at_rank0_strain(cells) == pytest.approx(8.4)
    assert (
        convergence.supercell_spread_at_rank0_strain([cell(0, 0.03, None, "reconstructed"), cell(1, 0.03, 5.0)]) is None
    )

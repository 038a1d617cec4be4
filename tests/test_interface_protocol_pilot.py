"""benchmarks/interface_protocol_pilot.py: one potential's calibration under one protocol (synthetic table)."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import load_benchmark
from interface_helpers import DFT, committee_table, computed_row

from lithioscreen.interface.protocol import InterfaceSettings


@pytest.fixture(scope="module")
def pilot():
    return load_benchmark("interface_protocol_pilot")


def test_each_protocol_is_calibrated_on_its_own_rows_of_one_potential(pilot):
    v3 = InterfaceSettings(version="v3").protocol()
    # v2: chgnet exactly 0.8 x DFT, sevennet off; v3: chgnet exactly 0.5 x DFT on the references only
    table = committee_table({"chgnet": (0.0, 1.25), "sevennet": (0.0, 0.5)})
    table = pd.concat(
        [
            table,
            pd.DataFrame(
                [computed_row(name, "110", "chgnet", 0.5 * value, protocol=v3) for name, value in DFT.items()]
            ),
            pd.DataFrame([computed_row("Cr", "110", "chgnet", 999.0, protocol=v3)]),  # not a pilot material
        ],
        ignore_index=True,
    )
    materials = sorted(DFT)
    for protocol, raw_factor in ((InterfaceSettings().protocol(), 0.8), (v3, 0.5)):
        result = pilot.calibration_of(table, protocol, "chgnet", materials)
        assert {r["name"] for r in result["references"]} == set(DFT)
        for ref in result["references"]:
            assert ref["raw"] == pytest.approx(raw_factor * DFT[ref["name"]])  # chgnet's own, of that protocol
            assert ref["calibrated_loo"] == pytest.approx(ref["dft"])  # an exact proportional map
        assert result["loo_rms_mev_per_a2"] == pytest.approx(0.0, abs=1e-9)
        chain = next(c for c in result["order_checks"] if c["statement"].startswith("Cr > Mo"))
        assert "Cr missing" in chain["detail"] and chain["holds"] is None  # Cr is not a pilot material
    assert "error" in pilot.calibration_of(table, v3, "sevennet", materials)  # no sevennet rows under v3


def test_the_committee_calibration_uses_every_named_potential(pilot):
    table = committee_table({"chgnet": (0.0, 1.25), "sevennet": (0.0, 0.5)})
    result = pilot.calibration_of(table, InterfaceSettings().protocol(), ["chgnet", "sevennet"], sorted(DFT))
    for ref in result["references"]:
        assert set(ref["raw"]) == {"chgnet", "sevennet"}
        assert ref["raw"]["sevennet"] == pytest.approx(2.0 * ref["dft"])
        assert ref["calibrated_loo"] == pytest.approx(ref["dft"])


def _part(orientations, n_li=(16, 24, 32), element="Mo", plane="110"):
    """A pilot part: each orientation an exact line y = gamma + 0.1 N (plus optional noise)."""
    return {
        "element": element,
        "plane": plane,
        "calculator": "chgnet",
        "n_li": list(n_li),
        "area_a2": 40.0,
        "orientations": [
            {"variant": v, "excess_mev_per_a2": [gamma + 0.1 * n + e for n, e in zip(n_li, noise, strict=True)]}
            for v, (gamma, noise) in orientations.items()
        ],
    }


def test_without_the_film_rule_the_lowest_fitting_orientation_is_kept(pilot):
    kept = pilot.without_film_rule(_part({0: (70.0, (0, 0, 0)), 1: (40.0, (0, 0, 0))}))
    assert kept["variant"] == 1 and kept["gamma_mev_per_a2"] == pytest.approx(40.0)
    # a series too scattered for an intercept (standard error > 10 meV/Å²) drops out, however low
    kept = pilot.without_film_rule(_part({0: (70.0, (0, 0, 0)), 1: (10.0, (0, 40, 0))}))
    assert kept["variant"] == 0 and kept["gamma_mev_per_a2"] == pytest.approx(70.0)
    assert pilot.without_film_rule(_part({0: (10.0, (0, 40, 0))})) is None


def test_the_sensitivity_table_adds_one_row_per_plane_under_its_own_label(pilot):
    v3 = InterfaceSettings(version="v3").protocol()
    table = pd.DataFrame([computed_row("Mo", "110", "chgnet", 71.0, protocol=v3)])
    parts = [_part({0: (60.0, (0, 0, 0))}, plane="100"), _part({0: (50.0, (0, 0, 0))}, element="Cr")]
    out = pilot.with_values_of(table, parts, v3, pilot.NO_FILM_RULE)
    added = out[out["protocol"] == pilot.NO_FILM_RULE]
    assert len(added) == 1  # Cr has no v3 row to copy
    assert added.iloc[0]["x_plane"] == "(100)"
    assert added.iloc[0]["interfacial_energy_mev_per_a2"] == pytest.approx(60.0)
    assert len(out[out["protocol"] == v3]) == 1  # the original row is unchanged


def test_the_descriptor_is_the_highest_plane_that_has_a_value(pilot):
    planes = [
        {"material": "Cr", "v3": None},
        {"material": "Cr", "v3": 98.0},
        {"material": "Cr", "v3": 90.0},
        {"material": "Mo", "v3": None},
    ]
    assert pilot.descriptors(planes, "v3") == {"Cr": 98.0, "Mo": None}


def test_the_committee_report_takes_the_potentials_that_cover_every_material(pilot, tmp_path):
    import json

    for material, potential in (("Mo", "chgnet"), ("Ti", "chgnet"), ("Mo", "sevennet")):
        (tmp_path / f"{material}_110_{potential}.json").write_text(
            json.dumps({"element": material, "calculator": potential})
        )
    assert pilot.complete_potentials(tmp_path) == (["chgnet"], ["Mo", "Ti"])
    (tmp_path / "Ti_0001_sevennet.json").write_text(json.dumps({"element": "Ti", "calculator": "sevennet"}))
    assert pilot.complete_potentials(tmp_path) == (["chgnet", "sevennet"], ["Mo", "Ti"])
    assert pilot.complete_potentials(tmp_path / "empty") == ([], [])

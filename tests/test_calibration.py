"""The calibration of the committee to the DFT scale, on tiny synthetic tables (numpy/pandas only)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from interface_helpers import DFT, committee_table, computed_row, dft_rows

from lithioscreen.interface import calibration
from lithioscreen.interface.protocol import current_protocol


def test_exact_maps_are_recovered_and_loo_is_zero():
    table = committee_table({"chgnet": (10.0, 1.2), "sevennet": (-5.0, 0.8)})
    result = calibration.calibrate(table, map_kind="linear")
    for potential, (a, b) in {"chgnet": (10.0, 1.2), "sevennet": (-5.0, 0.8)}.items():
        assert result.maps[potential]["slope"] == pytest.approx(b) and result.maps[potential][
            "intercept"
        ] == pytest.approx(a)
        assert result.maps[potential]["n"] == 4 and result.maps[potential]["included"]
    for reference in result.references:
        assert reference["calibrated_loo"] == pytest.approx(reference["dft"], abs=1e-9)
        assert reference["calibrated"] == pytest.approx(reference["dft"], abs=1e-9)
        assert set(reference["raw"]) == {"chgnet", "sevennet"}
    assert {r["name"] for r in result.references} == set(DFT)  # Li6PS5Cl has no computed value
    assert result.calibration_std == pytest.approx(0, abs=1e-9)
    assert (
        result.per_material.loc["Mo", "plane"] == "(110)" and result.per_material.loc["Mo", "dft_mev_per_a2"] == 81.742
    )


def test_leave_one_out_matches_a_hand_refit():
    noise = {("Mo", "chgnet"): 4.0, ("Ti", "chgnet"): -3.0, ("LiF", "chgnet"): 1.0, ("Li2S", "chgnet"): 2.0}
    table = committee_table({"chgnet": (0.0, 1.0)}, noise=noise)
    result = calibration.calibrate(table, map_kind="linear")
    raw = {name: DFT[name] + noise[(name, "chgnet")] for name in DFT}
    for left_out in DFT:
        others = [n for n in DFT if n != left_out]
        b, a = np.polyfit([raw[n] for n in others], [DFT[n] for n in others], 1)
        expected = a + b * raw[left_out]
        reference = next(r for r in result.references if r["name"] == left_out)
        assert reference["calibrated_loo"] == pytest.approx(expected, abs=1e-9)
        assert reference["loo_error"] == pytest.approx(expected - DFT[left_out], abs=1e-9)
        assert result.maps["chgnet"]["loo_errors"][left_out] == pytest.approx(expected - DFT[left_out], abs=1e-9)
    errors = [r["loo_error"] for r in result.references]
    assert result.calibration_std == pytest.approx(np.sqrt(np.mean(np.square(errors))))
    assert result.maps["chgnet"]["loo_rms"] == pytest.approx(result.calibration_std)  # one potential


def test_proportional_map_and_its_leave_one_out_match_a_hand_refit():
    raw = {"Mo": 71.1, "Ti": 20.3, "LiF": 42.7, "Li2S": 21.4}
    table = committee_table({"chgnet": (0.0, 1.0)}, noise={(n, "chgnet"): raw[n] - DFT[n] for n in DFT})
    result = calibration.calibrate(table)  # proportional is the default
    x, y = np.array([raw[n] for n in DFT]), np.array([DFT[n] for n in DFT])
    assert result.map_kind == "proportional" and result.maps["chgnet"]["intercept"] == 0.0
    assert result.maps["chgnet"]["slope"] == pytest.approx(np.dot(x, y) / np.dot(x, x))
    for index, left_out in enumerate(DFT):
        keep = np.arange(len(x)) != index
        expected = np.dot(x[keep], y[keep]) / np.dot(x[keep], x[keep]) * x[index]
        reference = next(r for r in result.references if r["name"] == left_out)
        assert reference["calibrated_loo"] == pytest.approx(expected, abs=1e-9)


def test_a_map_needs_two_references_more_than_its_parameters():
    """Three references: a proportional map (one parameter) enters the committee, a line (two) does not."""
    table = committee_table({"chgnet": (0.0, 1.0)})
    three = table[table["material"] != "Li2S"]
    assert calibration.calibrate(three).maps["chgnet"]["included"]
    with pytest.raises(calibration.CalibrationError, match="4 needed for a linear map"):
        calibration.calibrate(three, map_kind="linear")
    with pytest.raises(ValueError, match="unknown calibration map"):
        calibration.calibrate(table, map_kind="spline")


def test_a_reference_can_be_pinned_to_one_plane():
    """reference_planes: that plane's value instead of the highest (the sensitivity to LiF's unstated plane)."""
    table = committee_table({"chgnet": (0.0, 1.0)})
    assert calibration.calibrate(table).maps["chgnet"]["raw"]["LiF"] == pytest.approx(DFT["LiF"])
    pinned = calibration.calibrate(table, reference_planes={"LiF": "(100)"})
    assert pinned.maps["chgnet"]["raw"]["LiF"] == pytest.approx(DFT["LiF"] - 10)  # the lower plane
    assert pinned.per_material.loc["LiF", "plane"] == "(100)" and pinned.per_material.loc["Mo", "plane"] == "(110)"
    assert pinned.calibration_std > 0  # LiF now sits off the exact map
    with pytest.raises(calibration.CalibrationError, match=r"LiF \(111\) has no computed value"):
        calibration.calibrate(table, reference_planes={"LiF": "(111)"})


def test_leave_one_out_keeps_the_map_monotone():
    """Without Mo, the other references give a decreasing line: the fold's map is flat (their mean), never decreasing."""
    raw = {"Mo": 71.1, "Ti": 20.3, "LiF": 42.7, "Li2S": 21.4}  # CHGNet's v2 values: Ti far below its DFT
    table = committee_table({"chgnet": (0.0, 1.0)}, noise={(n, "chgnet"): raw[n] - DFT[n] for n in DFT})
    result = calibration.calibrate(table, map_kind="linear")
    others = [n for n in DFT if n != "Mo"]
    assert np.polyfit([raw[n] for n in others], [DFT[n] for n in others], 1)[0] < 0
    mo = next(r for r in result.references if r["name"] == "Mo")
    assert mo["calibrated_loo"] == pytest.approx(np.mean([DFT[n] for n in others]))
    assert result.maps["chgnet"]["included"] and result.maps["chgnet"]["slope"] > 0


def test_committee_mean_spread_and_sigma():
    extra = [
        computed_row("Nb", "110", "chgnet", 60.0, stderr=1.0),
        computed_row("Nb", "110", "sevennet", 40.0, stderr=2.0),
        computed_row("Nb", "100", "chgnet", 10.0),
    ]
    maps = {"chgnet": (10.0, 1.0), "sevennet": (20.0, 1.0)}
    result = calibration.calibrate(committee_table(maps, extra=extra), map_kind="linear")
    nb = result.per_material.loc["Nb"]
    assert nb["calibrated_mev_per_a2"] == pytest.approx(np.mean([70.0, 60.0]))  # highest plane (110), both mapped
    assert nb["plane"] == "(110)" and nb["n_potentials"] == 2 and nb["potentials"] == "chgnet;sevennet"
    assert nb["committee_spread"] == pytest.approx(np.std([70.0, 60.0], ddof=1))
    assert nb["fit_stderr"] == pytest.approx(np.sqrt((1.0**2 + 2.0**2) / 2))
    assert nb["std_mev_per_a2"] == pytest.approx(
        np.sqrt(nb["committee_spread"] ** 2 + nb["calibration_std"] ** 2 + nb["fit_stderr"] ** 2)
    )
    assert result.per_material["calibrated_mev_per_a2"].is_monotonic_decreasing  # highest first
    assert np.isnan(nb["dft_mev_per_a2"])


def test_other_protocols_and_bounds_are_ignored():
    old = [
        computed_row("Mo", "110", "chgnet", 500.0, protocol="li_layers=2/3/4;x_min_a=6"),
        computed_row("Cr", "110", "chgnet", 999.0, protocol="li_layers=2/3/4"),
    ]
    result = calibration.calibrate(committee_table({"chgnet": (0.0, 1.0)}, extra=old))
    assert "Cr" not in result.per_material.index
    assert result.per_material.loc["Mo", "calibrated_mev_per_a2"] == pytest.approx(81.742)
    assert calibration.exact_references(committee_table({"chgnet": (0.0, 1.0)})) == DFT | {"Li6PS5Cl": -33.767}


def test_order_checks_report_without_clipping():
    # Zr above Ti and W(111) below LiF on the calibrated scale: reported false, the values stay
    extra = [computed_row(m, "110", "chgnet", v) for m, v in {"Cr": 120.0, "Zr": 70.0, "W": 110.0}.items()] + [
        computed_row("W", "111", "chgnet", 40.0)
    ]
    result = calibration.calibrate(committee_table({"chgnet": (0.0, 1.0)}, extra=extra))
    checks = {c["statement"]: c["holds"] for c in result.order_checks}
    assert checks["Cr > Mo > Ti > Zr (highest plane against Li(100))"] is False
    assert checks["Cr above LiF and Li2S"] is True and checks["Zr above LiF and Li2S"] is True
    assert checks["W above LiF on every plane"] is False
    assert result.per_material.loc["Zr", "calibrated_mev_per_a2"] == pytest.approx(70.0)
    w = result.per_plane[result.per_plane["material"] == "W"].set_index("plane")["committee_mev_per_a2"]
    assert w["(111)"] == pytest.approx(40.0)


def test_missing_values_give_unknown_checks():
    result = calibration.calibrate(committee_table({"chgnet": (0.0, 1.0)}))
    checks = {c["statement"]: c["holds"] for c in result.order_checks}
    assert checks["Cr > Mo > Ti > Zr (highest plane against Li(100))"] is None
    assert checks["W above LiF on every plane"] is None


def test_non_monotone_or_underdetermined_potentials_are_left_out():
    table = committee_table({"chgnet": (0.0, 1.0), "sevennet": (100.0, -1.0)})
    few = [
        computed_row("Mo", "110", "sevennet-l3i5", 70.0),
        computed_row("Ti", "110", "sevennet-l3i5", 60.0),
        computed_row("Nb", "110", "sevennet-l3i5", 60.0),
    ]
    result = calibration.calibrate(pd.concat([table, pd.DataFrame(few)], ignore_index=True), map_kind="linear")
    assert result.potentials == ["chgnet"]
    assert "not positive" in result.excluded["sevennet"] and "2 reference(s)" in result.excluded["sevennet-l3i5"]
    assert "Nb" not in result.per_material.index  # only an excluded potential computed it
    with pytest.raises(calibration.CalibrationError):
        result.apply("sevennet", 50.0)
    assert result.apply("mlip:chgnet", [50.0])[0] == pytest.approx(50.0)


def test_single_potential_spread_is_imputed():
    extra = [
        computed_row("Nb", "110", "chgnet", 60.0),
        computed_row("Nb", "110", "sevennet", 50.0),
        computed_row("Ta", "110", "chgnet", 55.0),
    ]
    result = calibration.calibrate(committee_table({"chgnet": (0.0, 1.0), "sevennet": (0.0, 1.0)}, extra=extra))
    ta = result.per_material.loc["Ta"]
    assert ta["n_potentials"] == 1 and ta["spread_imputed"]
    several = result.per_plane.loc[result.per_plane["n_potentials"] > 1, "committee_spread"]
    assert ta["committee_spread"] == pytest.approx(several.median())


def test_no_data_is_a_clear_error():
    with pytest.raises(calibration.CalibrationError, match="no computed"):
        calibration.calibrate(pd.DataFrame(dft_rows()))


def test_importable_without_ase_pymatgen_torch(tmp_path):
    blocker = tmp_path / "blocker"
    for name in ("torch", "ase", "pymatgen", "chgnet", "sevenn"):
        (blocker / name).mkdir(parents=True)
        (blocker / name / "__init__.py").write_text(f"raise ImportError('{name} is blocked for this test')\n")
    code = "import lithioscreen.interface.calibration as c, lithioscreen.interface.protocol as p; print(p.current_protocol())"
    import os

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(blocker), *sys.path])}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == current_protocol()


def test_calibrates_the_shipped_table():
    """The shipped data file calibrates (or has no current-protocol rows yet)."""
    from lithioscreen.data import load_interfacial_energies

    table = load_interfacial_energies()
    if calibration.computed_rows(table).empty:
        pytest.skip("no rows of the current protocol in data/ yet")
    result = calibration.calibrate(table)
    assert result.potentials and all(np.isfinite(result.per_material["calibrated_mev_per_a2"]))
    assert (result.per_material["std_mev_per_a2"] > 0).all()


def test_validation_report_has_the_issue_fields(tmp_path, monkeypatch):
    """benchmarks/interface_validation.py on a synthetic table: the JSON fields the issue lists."""
    import importlib.util
    import json

    from lithioscreen.config import PROJECT_ROOT

    spec = importlib.util.spec_from_file_location(
        "interface_validation", PROJECT_ROOT / "benchmarks" / "interface_validation.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    extra = [
        computed_row("Cr", "110", "chgnet", 120.0),
        computed_row("Zr", "0001", "chgnet", 50.0),
        computed_row("W", "110", "chgnet", 100.0),
        computed_row("W", "111", "chgnet", 90.0),
        computed_row("Mo", "110", "chgnet-r2scan", 44.0),  # one reference: left out, no map
    ]
    report = module.build_report(
        committee_table({"chgnet": (5.0, 1.1), "sevennet": (0.0, 0.9)}, extra=extra, noise={("Ti", "chgnet"): 5.0})
    )
    json.dumps(report)  # plain JSON
    assert {"references", "order_checks", "per_metal", "maps", "aim"} <= set(report)
    ref = report["references"][0]
    assert {"name", "plane", "dft", "raw", "committee_raw", "calibrated_loo"} <= set(ref) and set(ref["raw"]) == {
        "chgnet",
        "sevennet",
    }
    assert all({"statement", "holds"} <= set(check) for check in report["order_checks"])
    cr = next(row for row in report["per_metal"] if row["material"] == "Cr")
    assert cr["calibrated_mev_per_a2"] is not None and cr["sigma_mev_per_a2"] > 0
    sensitivity = report["reference_plane_sensitivity"]  # highest, then LiF x Li2S planes (2 x 2)
    assert sensitivity[0]["reference_planes"] == "highest" and len(sensitivity) == 5
    assert sensitivity[0]["calibration_std"] == report["calibration_std_mev_per_a2"]
    assert {"(110)", "(100)"} == {entry["reference_planes"]["LiF"] for entry in sensitivity[1:]}
    monkeypatch.setattr(module, "OUT", tmp_path / "v.json")
    module.print_report(report)  # the table prints without error
    assert "compound references" in module.markdown(report) and "chgnet-r2scan (left out" in module.markdown(report)

"""Li/X interfacial energies from interatomic potentials: build, fit, cache, CLI, batching, Dask.

The relaxing tests (marked slow) use CHGNet on a tiny Li(100)/Ni(100) sandwich (4 Ni atoms,
2-6 Li atoms) with a loose force tolerance: they check the machinery, not the physics (that is
benchmarks/interface_validation.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from lithioscreen.cli import app
from lithioscreen.data import DataValidationError, load_interfacial_energies
from lithioscreen.interface import build, fit

runner = CliRunner()
TINY = [
    *("--li-layers", "1", "--li-layers", "2", "--li-layers", "3"),
    "--x-layers",
    "2",
    "--max-area",
    "20",
    "--registry-grid",
    "2",
    "--fmax",
    "0.3",
    "--steps",
    "60",
]


# ---------------------------------------------------------------- fit


def test_fit_recovers_intercept_and_slope():
    n = np.array([16, 24, 32, 40])
    gamma, slope = 73.0, 0.25
    noise = np.array([0.05, -0.04, 0.03, -0.02])
    result = fit.fit_interfacial_energy(n, gamma + slope * n + noise, area_a2=40.0)
    assert result.interfacial_energy_mev_per_a2 == pytest.approx(gamma, abs=0.3)
    assert result.slope_mev_per_a2_per_atom == pytest.approx(slope, abs=0.02)
    assert result.strain_energy_ev_per_li == pytest.approx(slope * 2 * 40 / 1000, rel=0.1)
    assert result.r2 > 0.99 and 0 < result.intercept_stderr_mev_per_a2 < 0.5


def test_flat_series_is_accepted_despite_low_r2():
    # unstrained Li: no slope, R² is meaningless, the intercept is well defined
    result = fit.fit_interfacial_energy([10, 20, 30], [50.1, 49.9, 50.05], area_a2=30.0)
    assert result.r2 < 0.5 and result.interfacial_energy_mev_per_a2 == pytest.approx(50, abs=0.3)
    # the old rule refused this one (CHGNet Zr(0001), R² 0.06, residual RMS 1.8 > 1 meV/Å²): the new one does not
    scattered = fit.fit_interfacial_energy([20, 30, 40], [26.4, 29.6, 25.3], area_a2=50.0)
    assert scattered.r2 < 0.1 and scattered.intercept_stderr_mev_per_a2 < fit.DEFAULT_MAX_STDERR_MEV_PER_A2


def test_acceptance_rule_is_the_intercept_standard_error():
    n = [10, 20, 30]
    good = fit.fit_interfacial_energy(n, [40, 41, 46], area_a2=30.0)  # stderr 2.49
    assert good.intercept_stderr_mev_per_a2 == pytest.approx(2.494, abs=1e-3) and good.r2 < 0.95
    with pytest.raises(fit.PoorFitError, match="exceeds 2 meV"):
        fit.fit_interfacial_energy(n, [40, 41, 46], area_a2=30.0, max_stderr_mev_per_a2=2.0)
    assert fit.DEFAULT_MAX_STDERR_MEV_PER_A2 == 10.0  # documented in fit.py and the README: change both
    with pytest.raises(fit.PoorFitError, match="exceeds 10 meV"):
        fit.fit_interfacial_energy(n, [40, 52, 43], area_a2=30.0)  # one point 7 meV/Å² off the line


@pytest.mark.parametrize(
    "n, y, message",
    [
        ([10, 20, 30], [40.0, 75.0, 45.0], "intercept standard error 40.53"),
        ([10, 20], [40.0, 41.0], "distinct Li counts"),
        ([10, 10, 10], [40.0, 41.0, 42.0], "distinct Li counts"),
        ([10, 20, 30], [40.0, np.nan, 42.0], "non-finite"),
    ],
)
def test_fit_refuses_poor_series(n, y, message):
    with pytest.raises(fit.PoorFitError, match=message):
        fit.fit_interfacial_energy(n, y, area_a2=30.0)


def test_excess_energy_definition():
    # 2 interfaces of 10 Å² cost 2 * 10 * 0.05 eV = 1 eV above the bulk references
    e = fit.excess_energy_mev_per_a2(
        -100.0 - 20 * 1.9 + 1.0, n_x=10, n_li=20, x_bulk_ev_per_atom=-10.0, li_bulk_ev_per_atom=-1.9, area_a2=10.0
    )
    assert e == pytest.approx(50.0)


# ---------------------------------------------------------------- build (pymatgen only)


def test_build_series_same_x_slab_growing_li():
    series = build.build_series(
        build.reference_bulk("Li"),
        build.reference_bulk("Ni"),
        "Ni",
        "100",
        li_layers=(1, 2, 3),
        x_layers=2,
        max_area_a2=20,
    )
    assert series.x_layers == 2 and series.x_formula_units == series.n_x
    assert series.n_li == sorted(series.n_li) and len(set(series.n_li)) == 3
    assert all(atoms.get_chemical_symbols().count("Ni") == series.n_x for atoms in series.structures)
    cells = [np.asarray(atoms.cell)[:2] for atoms in series.structures]
    assert all(np.allclose(cell, cells[0]) for cell in cells)
    assert abs(series.li_strain) <= build.DEFAULT_MAX_STRAIN
    assert series.area_a2 == pytest.approx(np.linalg.norm(np.cross(*cells[0])), rel=1e-6)


def test_build_rejects_bad_input():
    with pytest.raises(build.InterfaceInputError, match="not an element"):
        build.normalize_plane("Xx", None)
    with pytest.raises(build.InterfaceInputError, match="plane"):
        build.normalize_plane("W", "0001")
    with pytest.raises(build.InterfaceInputError, match="not bcc, fcc or hcp"):
        build.crystal_structure("Mn")
    assert build.normalize_plane("Ti", "001") == "0001" and build.normalize_plane("W", None) == "110"
    assert build.normalize_plane("Ti", "(10-10)") == "10-10" and build.planes_for("Cu") == ("111", "100", "110")
    with pytest.raises(build.InterfaceInputError, match="not one of 111, 110"):
        build.normalize_plane("Li2S", "100")  # polar (Tasker III): not built
    with pytest.raises(build.InterfaceInputError, match="coherent supercell"):
        build.build_series(
            build.reference_bulk("Li"), build.reference_bulk("W"), "W", "111", max_strain=0.01, max_area_a2=30
        )


def test_protocol_string_round_trips_and_old_strings_are_refused():
    from lithioscreen.interface.protocol import InterfaceSettings, ProtocolError, current_protocol, is_current

    settings = InterfaceSettings(
        li_layers=(1, 2, 3), x_layers=4, registry_grid=2, fmax=0.3, steps=60, max_stderr_mev_per_a2=7.5
    )
    assert InterfaceSettings.from_protocol(settings.protocol()) == settings
    assert is_current(InterfaceSettings().protocol()) and not is_current(settings.protocol())
    assert current_protocol().startswith("v2;")
    with pytest.raises(ProtocolError, match="not a v2"):
        InterfaceSettings.from_protocol("li_layers=2/3/4;x_min_a=6;max_strain=0.08;max_area_a2=100;fmax=0.05;steps=300")
    with pytest.raises(ProtocolError, match="fields"):
        InterfaceSettings.from_protocol("v2;li_layers=2/3/4")


# ---------------------------------------------------------------- compounds (pymatgen only)


@pytest.mark.parametrize("name, counts, a", [("LiF", {"Li": 4, "F": 4}, 4.0263), ("Li2S", {"Li": 8, "S": 4}, 5.7158)])
def test_compound_bulks_from_their_crystal_structures(name, counts, a):
    atoms = build.reference_bulk(name)
    symbols = atoms.get_chemical_symbols()
    assert {s: symbols.count(s) for s in set(symbols)} == counts  # conventional cubic cell, stoichiometric
    np.testing.assert_allclose(atoms.cell.lengths(), [a] * 3) and np.testing.assert_allclose(
        atoms.cell.angles(), [90] * 3
    )
    assert build.material_class(name) == "sei_component" and build.is_compound(name)
    assert build.formula_unit(name) == ({"Li": 1, "F": 1} if name == "LiF" else {"Li": 2, "S": 1})
    # nearest neighbours: Li-F a/2 (rock salt), Li-S a*sqrt(3)/4 (antifluorite)
    distances = atoms.get_all_distances(mic=True)
    np.fill_diagonal(distances, np.inf)
    assert distances.min() == pytest.approx(a / 2 if name == "LiF" else a * np.sqrt(3) / 4, rel=1e-6)


@pytest.mark.parametrize("name, plane", [("LiF", "100"), ("LiF", "110"), ("Li2S", "111"), ("Li2S", "110")])
def test_compound_interfaces_keep_the_x_slab_stoichiometric(name, plane):
    design = build.InterfaceDesign(build.reference_bulk("Li"), build.reference_bulk(name), name, plane, x_layers=3)
    series = design.series((1, 2, 3))
    per_unit = build.formula_unit(name)
    units = series.x_formula_units
    assert units == int(units) > 0 and series.x_counts == {el: int(n * units) for el, n in per_unit.items()}
    for atoms, n_li in zip(series.structures, series.n_li, strict=True):
        symbols = atoms.get_chemical_symbols()
        assert (
            symbols.count("Li") == series.x_counts["Li"] + n_li
        )  # the Li slab is counted apart from the compound's Li
    assert series.n_li == sorted(series.n_li) and len(set(series.n_li)) == 3
    assert series.x_layers >= 3 and design.terminations


def test_polar_compound_terminations_are_not_built():
    # Li2S(111): pymatgen offers an S-terminated (polar, asymmetric) and the Li-S-Li (non-polar) termination
    design = build.InterfaceDesign(build.reference_bulk("Li"), build.reference_bulk("Li2S"), "Li2S", "111", x_layers=3)
    assert len(design.builder.terminations) == 2 and len(design.terminations) == 1
    assert "Li_R-3m" in str(design.terminations[0])


# ---------------------------------------------------------------- registry scan


def _ni_design(**changes):
    return build.InterfaceDesign(
        build.reference_bulk("Li"),
        build.reference_bulk("Ni"),
        "Ni",
        "100",
        **{"x_layers": 2, "max_area_a2": 20, **changes},
    )


def test_registry_scan_shifts_li_over_the_x_surface_cell():
    design = _ni_design()
    offsets = design.registry_offsets(3)
    assert len(offsets) == 9 and sorted(o[1] for o in offsets) == sorted(
        (u, v) for u in (0, 1 / 3, 2 / 3) for v in (0, 1 / 3, 2 / 3)
    )
    candidates = [c for c in design.registry_candidates(1, 3) if c.variant == 0]
    assert len(candidates) == 9 * len(design.terminations)
    base = candidates[0].atoms
    is_li = np.array(base.get_chemical_symbols()) == "Li"
    # X's surface cell in Cartesian coordinates: the supercell vectors mapped back
    x_cell = design._x_cell_to_supercell @ np.asarray(base.cell)[:2]
    for candidate in candidates[1:9]:
        atoms = candidate.atoms
        assert candidate.n_li == candidates[0].n_li and candidate.x_counts == candidates[0].x_counts
        np.testing.assert_allclose(atoms.positions[~is_li], base.positions[~is_li], atol=1e-8)  # X does not move
        shift = np.asarray(candidate.offset_x_cell) @ x_cell
        moved = (
            atoms.get_scaled_positions()[is_li]
            - np.linalg.solve(np.asarray(base.cell).T, (base.positions[is_li] + shift).T).T
        )
        np.testing.assert_allclose((moved + 0.5) % 1 - 0.5, 0, atol=1e-8)  # every Li moved by exactly that shift


@pytest.mark.slow
def test_only_the_lowest_unrelaxed_registry_is_relaxed(monkeypatch):
    from ase.calculators.lj import LennardJones

    from lithioscreen.interface import workflow

    scanned, offered, chosen, relaxed = [], [], [], []

    def fake_single_points(structures, *args, **kwargs):
        scanned.append(len(structures))
        energies = [100.0] * len(structures)
        energies[5] = 50.0  # the sixth candidate is the lowest
        return energies

    candidates_of, series_of = build.InterfaceDesign.registry_candidates, build.InterfaceDesign.series

    def spy_candidates(self, *args, **kwargs):
        offered.extend(candidates_of(self, *args, **kwargs))
        return offered

    def spy_series(self, li_layers, termination=None, offset=(0.0, 0.0), variant=0):
        chosen.append((termination, tuple(offset), variant))
        return series_of(self, li_layers, termination, offset, variant)

    class Record(workflow.Progress):
        def done(self, result):
            relaxed.append(result.key)

    monkeypatch.setattr(workflow, "single_point_energies", fake_single_points)
    monkeypatch.setattr(build.InterfaceDesign, "registry_candidates", spy_candidates)
    monkeypatch.setattr(build.InterfaceDesign, "series", spy_series)
    settings = workflow.InterfaceSettings(
        li_layers=(1, 2, 3), x_layers=2, max_area_a2=20, registry_grid=3, fmax=0.5, steps=40
    )
    (result,) = workflow.compute_interfacial_energies(
        [("Ni", "100")], LennardJones(), settings=settings, progress=Record()
    )
    expected = offered[5]
    assert scanned == [len(offered)] and result.registry_candidates == len(offered) and len(offered) % 9 == 0
    assert chosen == [
        (expected.termination, tuple(expected.offset), expected.variant)
    ]  # one series, the lowest registry
    assert (
        result.offset_x_cell == pytest.approx(list(expected.offset_x_cell))
        and result.supercell_variant == expected.variant
    )
    assert [key for key in relaxed if key[0] == "interface"] == [
        ("interface", "Ni", "100", n, expected.variant) for n in (1, 2, 3)
    ]
    assert result.registry_excess_range_mev_per_a2[0] < result.registry_excess_range_mev_per_a2[1]


def test_supercells_are_ranked_by_strain():
    design = _ni_design(max_area_a2=100)
    strains = [strain for strain, _, _ in design.candidate_matches]
    assert strains == sorted(strains) and len(strains) >= 2
    # repeats of a kept cell (same strain, a whole multiple of its area) are not new choices
    for index, (strain, area, _) in enumerate(design.candidate_matches):
        for kept, kept_area, _ in design.candidate_matches[:index]:
            assert not (round(kept, 4) == round(strain, 4) and abs(area / kept_area - round(area / kept_area)) < 0.01)
    second = _ni_design(max_area_a2=100, supercell_rank=1)
    assert abs(second.li_strain) == pytest.approx(strains[1]) and abs(design.li_strain) == pytest.approx(strains[0])
    with pytest.raises(build.InterfaceInputError, match="supercell rank 99"):
        _ni_design(supercell_rank=99)


def test_equal_strain_supercells_are_scanned_as_variants():
    # W(110): several supercells share the least strain and area (Li in other orientations); all are scanned
    design = build.InterfaceDesign(build.reference_bulk("Li"), build.reference_bulk("W"), "W", "110", x_layers=2)
    assert 1 < len(design.variants) <= build.MAX_SUPERCELL_VARIANTS
    assert len({round(abs(s), 4) for s in design._variant_strains}) == 1
    candidates = design.registry_candidates(1, 2)
    assert {c.variant for c in candidates} == set(range(len(design.variants)))
    series = design.series((1, 2, 3), candidates[-1].termination, candidates[-1].offset, candidates[-1].variant)
    assert series.supercell_variant == len(design.variants) - 1 and series.area_a2 == pytest.approx(
        design.area_a2, rel=1e-4
    )


def test_every_low_index_plane_builds():
    li = build.reference_bulk("Li")
    for metal in ("W", "Cu", "Ti"):
        for plane in build.planes_for(metal):
            design = build.InterfaceDesign(li, build.reference_bulk(metal), metal, plane, x_layers=2)
            assert design.x_layers >= 2 and abs(design.li_strain) <= build.DEFAULT_MAX_STRAIN and design.terminations
    # hcp (10-10) has two terminations (short and long interplanar spacing): both are scanned
    assert len(build.InterfaceDesign(li, build.reference_bulk("Ti"), "Ti", "10-10", x_layers=2).terminations) == 2


# ---------------------------------------------------------------- data file and featurizer


def _mlip_row(material, method="mlip:chgnet", x_plane="(110)", value=80.0, **changes):
    row = {
        "material": material,
        "material_class": "metal",
        "method": method,
        "li_plane": "(100)",
        "x_plane": x_plane,
        "value_kind": "exact",
        "interfacial_energy_mev_per_a2": value,
        "lower_mev_per_a2": value,
        "upper_mev_per_a2": value,
        "doi": "",
        "source_figure": "computed here",
        "value_origin": "computed_mlip",
        "notes": "",
        "li_strain_pct": 1.0,
        "fit_r2": 0.99,
        "intercept_stderr_mev_per_a2": 0.5,
        "software_versions": "chgnet==0.4.2",
        "protocol": "",
    }
    row.update(changes)
    return row


def _with_rows(path, rows):
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    table = pd.concat([table, pd.DataFrame(rows).astype(str).replace("nan", "")], ignore_index=True)
    table.to_csv(path, index=False)


def _drop_mlip_rows(path, *materials):
    """The data copy without the shipped interatomic-potential values of ``materials``."""
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    keep = ~(table["method"].str.startswith("mlip:") & table["material"].isin(materials))
    table[keep].to_csv(path, index=False)


def test_loader_reads_files_without_the_mlip_columns(tmp_path):
    from lithioscreen.config import PROJECT_ROOT

    table = pd.read_csv(PROJECT_ROOT / "data" / "interfacial_energies.csv", dtype=str, keep_default_na=False)
    old = table[table["method"] == "dft"].drop(
        columns=[
            c
            for c in ("li_strain_pct", "fit_r2", "intercept_stderr_mev_per_a2", "software_versions", "protocol")
            if c in table
        ]
    )
    path = tmp_path / "old.csv"
    old.to_csv(path, index=False)
    frame = load_interfacial_energies(path)
    assert len(frame) == len(old) and frame["fit_r2"].isna().all()


@pytest.mark.parametrize(
    "changes, column",
    [
        ({"fit_r2": ""}, "fit_r2"),
        ({"doi": "10.1039/d4ee03130j"}, "doi"),
        ({"value_origin": "text"}, "value_origin"),
        ({"software_versions": ""}, "software_versions"),
        ({"method": "mlp:x"}, "method"),
    ],
)
def test_loader_rejects_bad_mlip_rows(data_copy, changes, column):
    path = data_copy / "interfacial_energies.csv"
    line = len(pd.read_csv(path)) + 2  # the appended row; the header is line 1
    _with_rows(path, [_mlip_row("Nb", **changes)])
    with pytest.raises(DataValidationError) as error:
        load_interfacial_energies(path)
    assert f"line {line}, column {column!r}" in str(error.value)


def _fitted_result(element, plane="100", value=50.0):
    from lithioscreen.interface.workflow import InterfaceResult

    return InterfaceResult(
        element=element,
        plane=plane,
        calculator="chgnet",
        interfacial_energy_mev_per_a2=value,
        intercept_stderr_mev_per_a2=0.5,
        fit_r2=0.99,
        strain_energy_ev_per_li=0.001,
        li_strain=0.01,
        area_a2=20.0,
        n_x=4,
        n_li=[2, 4, 6],
        excess_mev_per_a2=[value + 1, value + 2, value + 3],
        all_converged=True,
        protocol="test",
    )


def _store_results(path, elements):
    from lithioscreen.interface import cache

    for element in elements:
        cache.write_results([_fitted_result(element)], "chgnet==test", path)


def test_rows_of_another_protocol_are_kept(data_copy):
    from lithioscreen.interface import cache
    from lithioscreen.interface.protocol import current_protocol

    path = data_copy / "interfacial_energies.csv"
    old = load_interfacial_energies(path)
    w_110 = (old["material"] == "W") & (old["method"] == "mlip:chgnet") & (old["x_plane"] == "(110)")
    old_w = old[w_110 & old["protocol"].str.startswith("li_layers=")]
    assert len(old_w) == 1  # the shipped value of the first protocol (v1 strings start with li_layers=)
    assert (w_110 & old["protocol"].str.startswith("v3;")).sum() == 1  # and a v3 value: kept too
    result = _fitted_result("W", plane="110", value=91.0)
    result.protocol = current_protocol()
    cache.write_results([result], "chgnet==test", path)
    table = load_interfacial_energies(path)
    w = table[(table["material"] == "W") & (table["method"] == "mlip:chgnet") & (table["x_plane"] == "(110)")]
    kept = w[w["protocol"] == old_w.iloc[0]["protocol"]]
    assert kept["interfacial_energy_mev_per_a2"].tolist() == [old_w.iloc[0]["interfacial_energy_mev_per_a2"]]
    assert w["protocol"].str.startswith("v3;").sum() == 1
    assert (
        cache.find_cached(table, "W", "chgnet", "110")["interfacial_energy_mev_per_a2"] == 91.0
    )  # the current protocol's
    assert (
        cache.find_cached(table, "W", "chgnet", "110", old_w.iloc[0]["protocol"])["interfacial_energy_mev_per_a2"]
        == old_w.iloc[0]["interfacial_energy_mev_per_a2"]
    )


def test_compound_rows_are_sei_components(data_copy):
    from lithioscreen.interface import cache

    result = _fitted_result("LiF", plane="100", value=40.0)
    cache.write_results([result], "chgnet==test", data_copy / "interfacial_energies.csv")
    table = load_interfacial_energies(data_copy / "interfacial_energies.csv")
    row = table[(table["material"] == "LiF") & (table["method"] == "mlip:chgnet")].iloc[0]
    assert row["material_class"] == "sei_component" and row["value_origin"] == "computed_mlip" and row["doi"] == ""


@pytest.mark.slow
def test_concurrent_writers_lose_no_rows(data_copy):
    """Four processes storing values into the same file at once: every row arrives (the lock)."""
    import multiprocessing

    path = data_copy / "interfacial_energies.csv"
    before = len(load_interfacial_energies(path))
    groups = [["Ni", "Cu", "Ag"], ["Au", "Pd", "Pt"], ["Rh", "Ir", "Co"], ["Fe", "Nb", "Ta"]]
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_store_results, args=(path, group)) for group in groups]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert [worker.exitcode for worker in workers] == [0, 0, 0, 0]
    table = load_interfacial_energies(path)
    assert len(table) == before + 12
    assert set(table[table["method"] == "mlip:chgnet"]["material"]) >= {
        element for group in groups for element in group
    }


@pytest.mark.slow
def test_each_value_is_final_before_the_next_metal_is_relaxed():
    """progress.finished gets each (metal, plane) as soon as its series is relaxed, not at the end
    (what lets `lithioscreen interface --all` store values as it goes). A cheap Lennard-Jones
    calculator stands in for the potential: the order of events is tested, not the physics."""
    from ase.calculators.lj import LennardJones

    from lithioscreen.interface import workflow

    events = []

    class Record(workflow.Progress):
        def stage(self, name, total):
            events.append(("stage", name))

        def done(self, result):
            events.append(("relaxed", result.key[1]))

        def finished(self, result):
            events.append(("finished", result.element))

    settings = workflow.InterfaceSettings(
        li_layers=(1, 2, 3), x_layers=2, max_area_a2=20, registry_grid=1, fmax=0.5, steps=40
    )
    results = workflow.compute_interfacial_energies(
        [("Ni", "100"), ("Cu", "100")], LennardJones(), settings=settings, progress=Record()
    )
    interface_events = events[events.index(("stage", "interfaces")) + 1 :]
    assert [name for _, name in interface_events] == ["Ni"] * 4 + ["Cu"] * 4, events
    assert [kind for kind, _ in interface_events] == ["relaxed"] * 3 + ["finished"] + ["relaxed"] * 3 + ["finished"]
    assert [result.element for result in results] == ["Ni", "Cu"]


# ---------------------------------------------------------------- without the mlip extra


@pytest.mark.slow
def test_ranking_and_cached_values_work_without_torch(tmp_path, data_copy):
    """Blocks torch, chgnet and sevenn in a subprocess: rank still runs, a cached value is still
    printed, and computing a new one is a clear exit-2 error naming the extra."""
    blocker = tmp_path / "blocker"
    for name in ("torch", "chgnet", "sevenn"):
        (blocker / name).mkdir(parents=True)
        (blocker / name / "__init__.py").write_text(f"raise ImportError('{name} is blocked for this test')\n")
    _drop_mlip_rows(data_copy / "interfacial_energies.csv", "Ni", "Cu")
    from lithioscreen.interface.protocol import current_protocol

    _with_rows(
        data_copy / "interfacial_energies.csv",
        [_mlip_row("Ni", x_plane="(111)", value=40.0, protocol=current_protocol())],
    )
    import lithioscreen

    # this checkout's package (the venv may hold an editable install of another one), after the blocker
    source = os.path.dirname(os.path.dirname(lithioscreen.__file__))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(blocker), source]), "LITHIOSCREEN_DATA_DIR": str(data_copy)}
    cli = [sys.executable, "-m", "lithioscreen.cli"]
    ranked = subprocess.run(
        [*cli, "rank", "W", "Nb", "--format", "json"], env=env, capture_output=True, text=True, timeout=300
    )
    assert ranked.returncode == 0, ranked.stderr
    assert {row["candidate"] for row in json.loads(ranked.stdout)} == {"W", "Nb"}
    cached = subprocess.run(
        [*cli, "interface", "Ni", "--plane", "111", "--format", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert cached.returncode == 0, cached.stderr
    assert json.loads(cached.stdout)[0]["interfacial_energy_mev_per_a2"] == 40.0
    missing = subprocess.run(
        [*cli, "interface", "Cu", "--plane", "111"], env=env, capture_output=True, text=True, timeout=300
    )
    assert missing.returncode == 2 and "pip install -e '.[mlip]'" in missing.stderr


@pytest.mark.slow
def test_interface_without_ase_prints_cached_values_and_names_the_extra(tmp_path, data_copy):
    """Without the mlip extra at all (ASE blocked too): `interface W` imported ASE to find W's plane and
    failed with a ModuleNotFoundError traceback, cached value or not."""
    import lithioscreen
    from lithioscreen.interface.protocol import current_protocol

    blocker = tmp_path / "blocker"
    for name in ("ase", "torch", "chgnet", "sevenn"):
        (blocker / name).mkdir(parents=True)
        (blocker / name / "__init__.py").write_text(
            f"raise ImportError('No module named {name} (blocked for this test)')\n"
        )
    _drop_mlip_rows(data_copy / "interfacial_energies.csv", "Ni", "Cu")
    _with_rows(
        data_copy / "interfacial_energies.csv",
        [_mlip_row("Ni", x_plane="(111)", value=40.0, protocol=current_protocol())],
    )
    src = str(Path(lithioscreen.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(blocker), src]), "LITHIOSCREEN_DATA_DIR": str(data_copy)}
    cli = [sys.executable, "-m", "lithioscreen.cli"]
    cached = subprocess.run(
        [*cli, "interface", "Ni", "--format", "json"], env=env, capture_output=True, text=True, timeout=300
    )
    assert cached.returncode == 0, cached.stderr
    assert [
        (row["x_plane"], row["interfacial_energy_mev_per_a2"], row["cached"]) for row in json.loads(cached.stdout)
    ] == [("(111)", 40.0, True)]
    for args in (["Cu"], ["Ni", "--force"], ["--all"]):
        missing = subprocess.run([*cli, "interface", *args], env=env, capture_output=True, text=True, timeout=300)
        assert missing.returncode == 2, (args, missing.stderr)
        assert (
            "'mlip' extra" in missing.stderr
            and "Traceback" not in missing.stderr
            and len(missing.stderr.strip().splitlines()) == 1
        )


# ---------------------------------------------------------------- CLI input errors


@pytest.mark.parametrize(
    "args, message",
    [
        (["Xx"], "not an element symbol"),
        (["W", "--plane", "0001"], "not one of 110, 100, 111"),
        (["Mn"], "not bcc, fcc or hcp"),
        (["LiCl"], "not an element symbol or one of the compounds"),
        ([], "or use --all"),
        (["W", "--all"], "or use --all"),
        (["W", "--calculator", "mace"], "Invalid value for '--calculator'"),
        (["W", "--calculator", "committee,mace"], "Invalid value for '--calculator'"),
        (["W", "--protocol", "li_layers=2/3/4;x_min_a=6"], "not a v2 or v3 protocol"),
        (["W", "--protocol-version", "v4"], "protocol version 'v4'"),
        (
            [
                "W",
                "--protocol",
                "v2;li_layers=2/3/4;x_layers=6;max_strain=0.08;max_area_a2=100;supercell=0;registry=6x6;gap_a=2.2;fmax=0.05;steps=300;max_stderr=10",
                "--fmax",
                "0.1",
            ],
            "--protocol fixes every setting",
        ),
        (["Li2S", "--plane", "100"], "not one of 111, 110"),
        (["W", "--device", "tpu"], "Invalid value for '--device'"),
        (["W", "--li-layers", "x"], "Invalid value for '--li-layers'"),
        (["W", "--li-layers", "2", "--li-layers", "2"], "--li-layers 2/2: the intercept needs at least two"),
        (["W", "--n-jobs", "0"], "--n-jobs must not be 0"),
        (["W", "--batch", "--dask-local", "2"], "--batch runs in one process"),
    ],
)
def test_cli_bad_input_exits_2(args, message, data_copy):
    before = (data_copy / "interfacial_energies.csv").read_text()
    result = runner.invoke(app, ["interface", *args])
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert (data_copy / "interfacial_energies.csv").read_text() == before  # nothing written


# ---------------------------------------------------------------- relaxing (CHGNet)


@pytest.mark.slow
def test_interface_cli_computes_caches_and_reuses(data_copy, monkeypatch):
    _drop_mlip_rows(data_copy / "interfacial_energies.csv", "Ni")
    result = runner.invoke(app, ["interface", "Ni", "--plane", "100", *TINY, "--format", "json"])
    assert result.exit_code == 0, result.output
    row = json.loads(result.stdout)[0]
    assert row["cached"] is False and row["method"] == "mlip:chgnet" and row["error"] == ""
    assert np.isfinite(row["interfacial_energy_mev_per_a2"]) and row["n_li"] == "2;4;6"
    table = load_interfacial_energies(data_copy / "interfacial_energies.csv")
    stored = table[(table["method"] == "mlip:chgnet") & (table["material"] == "Ni")]
    assert len(stored) == 1
    stored = stored.iloc[0]
    assert (stored["material"], stored["li_plane"], stored["x_plane"], stored["value_origin"]) == (
        "Ni",
        "(100)",
        "(100)",
        "computed_mlip",
    )
    assert stored["interfacial_energy_mev_per_a2"] == pytest.approx(row["interfacial_energy_mev_per_a2"], abs=1e-3)
    assert stored["fit_r2"] == pytest.approx(row["fit_r2"], abs=1e-4) and stored["intercept_stderr_mev_per_a2"] >= 0
    assert "chgnet==" in stored["software_versions"] and "torch==" in stored["software_versions"]
    assert "fmax=0.3" in stored["protocol"] and stored["protocol"].startswith("v2;")
    assert "registry: termination" in stored["notes"]

    # the recorded protocol reproduces the value (recomputed, compared, nothing written)
    before = (data_copy / "interfacial_energies.csv").read_text()
    check = runner.invoke(
        app, ["interface", "Ni", "--plane", "100", "--protocol", stored["protocol"], "--verify", "--format", "json"]
    )
    assert check.exit_code == 0, check.output
    checked = json.loads(check.stdout)[0]
    assert checked["reproduced"] is True and abs(checked["difference_mev_per_a2"]) <= 0.05
    assert (data_copy / "interfacial_energies.csv").read_text() == before

    from lithioscreen.interface import workflow

    def must_not_run(*args, **kwargs):
        raise AssertionError("a cached value was recomputed")

    monkeypatch.setattr(workflow, "compute_interfacial_energies", must_not_run)
    again = runner.invoke(
        app, ["interface", "Ni", "--plane", "100", "--protocol", stored["protocol"], "--format", "json"]
    )
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)[0]["cached"] is True
    # under the default protocol the value is not cached: it would be computed (must_not_run raises)
    other = runner.invoke(app, ["interface", "Ni", "--plane", "100", "--format", "json"])
    assert isinstance(other.exception, AssertionError) and "recomputed" in str(other.exception)


@pytest.mark.slow
def test_interrupted_run_keeps_the_values_it_finished(data_copy, monkeypatch):
    """A run stopped in the middle (here at Cu's first interface relaxation) has already stored Ni."""
    from lithioscreen.interface import relax

    relax_named = relax.relax_named

    def stop_at_cu(task, *args, **kwargs):
        if task.key[:2] == ("interface", "Cu"):
            raise KeyboardInterrupt
        return relax_named(task, *args, **kwargs)

    _drop_mlip_rows(data_copy / "interfacial_energies.csv", "Ni", "Cu")
    monkeypatch.setattr(relax, "relax_named", stop_at_cu)
    result = runner.invoke(app, ["interface", "Ni", "Cu", "--plane", "100", "--no-batch", *TINY])
    assert result.exit_code == 130, result.output  # what click makes of Ctrl-C
    table = load_interfacial_energies(data_copy / "interfacial_energies.csv")
    stored = set(table.loc[table["method"] == "mlip:chgnet", "material"])
    assert "Ni" in stored and "Cu" not in stored


def _tiny_tasks():
    from lithioscreen.interface.relax import RelaxTask

    series = build.build_series(
        build.reference_bulk("Li"),
        build.reference_bulk("Ni"),
        "Ni",
        "100",
        li_layers=(1, 2),
        x_layers=2,
        max_area_a2=20,
    )
    tasks = [
        RelaxTask(("interface", "Ni", "100", n), atoms, "interface", fmax=0.3, steps=12)
        for n, atoms in zip(series.li_layers, series.structures)
    ]
    bulk = build.reference_bulk("Li")
    bulk.rattle(0.05, seed=0)
    return [*tasks, RelaxTask(("bulk", "Li"), bulk, "bulk", fmax=0.3, steps=12)]


@pytest.mark.slow
def test_batched_relaxation_matches_sequential():
    from lithioscreen.interface.batch import relax_batched
    from lithioscreen.interface.calculators import make_batched_potential, make_calculator
    from lithioscreen.interface.relax import relax

    tasks = _tiny_tasks()
    calculator = make_calculator("chgnet", "cpu")
    sequential = [relax(task, calculator) for task in tasks]
    potential = make_batched_potential("chgnet", "cpu", batch_size=8)
    potential.forward_passes = 0
    batched = relax_batched(tasks, potential)
    for one, many in zip(sequential, batched, strict=True):
        assert one.key == many.key and one.steps == many.steps and one.converged == many.converged
        assert many.energy_ev == pytest.approx(one.energy_ev, abs=1e-4)
        np.testing.assert_allclose(many.atoms.positions, one.atoms.positions, atol=1e-4)
    # one forward pass per lockstep round, not one per structure and step
    assert potential.forward_passes == max(r.steps for r in batched) + 1 < sum(r.steps + 1 for r in batched)


@pytest.mark.slow
def test_dask_local_cluster_gives_the_sequential_results():
    from distributed import LocalCluster, get_task_stream

    from lithioscreen.interface.parallel import execution
    from lithioscreen.interface.workflow import run_relaxations

    tasks = _tiny_tasks()[1:]
    sequential = run_relaxations(tasks, "chgnet")
    # two in-process workers: with one, joblib would run the tasks itself (effective n_jobs 1)
    with execution(local_workers=2, processes=False) as client:
        assert isinstance(client.cluster, LocalCluster) and len(client.scheduler_info()["workers"]) == 2
        with get_task_stream(client) as stream:
            distributed = run_relaxations(tasks, "chgnet", n_jobs=-1)
    assert len(stream.data) >= len(tasks)  # the relaxations ran as Dask tasks
    assert set(distributed) == set(sequential)
    for key in sequential:
        # 1e-4 eV as for batching: torch's reductions in two worker threads may sum in another order
        assert distributed[key].energy_ev == pytest.approx(sequential[key].energy_ev, abs=1e-4)


@pytest.mark.slow
def test_chgnet_loads_without_nvidia_smi(tmp_path):
    """nvidia-ml-py3 absent: CHGNet still loads on the named device (a stub stands in for nvidia_smi)."""
    pytest.importorskip("chgnet")
    import lithioscreen

    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "nvidia_smi.py").write_text("raise ImportError('nvidia_smi is blocked for this test')\n")
    source = os.path.dirname(os.path.dirname(lithioscreen.__file__))
    code = textwrap.dedent(
        """
        import sys
        from lithioscreen.interface import build
        from lithioscreen.interface.calculators import make_calculator
        atoms = build.reference_bulk("Li")
        atoms.calc = make_calculator("chgnet", "cpu")
        print(atoms.get_potential_energy(), getattr(sys.modules["nvidia_smi"], "__lithioscreen_stub__", False))
        """
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(blocker), source])}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    energy, stub = done.stdout.split()[-2:]
    assert np.isfinite(float(energy)) and stub == "True"


@pytest.mark.slow
@pytest.mark.parametrize("name", ["chgnet", "sevennet", "sevennet-l3i5"])
def test_committee_potentials_batched_equal_single(name):
    """Every committee potential: the batched evaluator gives the ASE calculator's energy and forces."""
    pytest.importorskip("torch")
    from lithioscreen.interface.calculators import make_batched_potential, make_calculator

    series = build.build_series(
        build.reference_bulk("Li"),
        build.reference_bulk("Ni"),
        "Ni",
        "100",
        li_layers=(1, 2),
        x_layers=2,
        max_area_a2=20,
    )
    structures = [atoms.copy() for atoms in series.structures]
    batched = make_batched_potential(name, "cpu", batch_size=8).evaluate(structures)
    energies = make_batched_potential(name, "cpu", batch_size=8).energies(structures)
    calculator = make_calculator(name, "cpu")
    for atoms, result, energy in zip(structures, batched, energies, strict=True):
        atoms.calc = calculator
        assert result["energy"] == pytest.approx(atoms.get_potential_energy(), abs=1e-4)
        assert energy == pytest.approx(result["energy"], abs=1e-4)
        np.testing.assert_allclose(result["forces"], atoms.get_forces(), atol=1e-4)


# ---------------------------------------------------------------- the request (campaign)


def test_committee_expands_to_its_members_without_repeats():
    from lithioscreen.interface.calculators import COMMITTEE
    from lithioscreen.interface.campaign import expand_calculators

    assert expand_calculators(None) == ["chgnet"]
    assert expand_calculators(["sevennet", "committee"]) == ["sevennet", *[c for c in COMMITTEE if c != "sevennet"]]
    with pytest.raises(build.InterfaceInputError, match="unknown calculator 'mace'"):
        expand_calculators(["committee,mace"])


def test_settings_for_rejects_a_protocol_with_changes_and_an_unfittable_series():
    from lithioscreen.interface.campaign import settings_for
    from lithioscreen.interface.protocol import InterfaceSettings

    recorded = InterfaceSettings(fmax=0.1).protocol()
    assert settings_for(recorded) == InterfaceSettings(fmax=0.1)
    assert settings_for(None, fmax=0.1, steps=None) == InterfaceSettings(fmax=0.1)
    with pytest.raises(build.InterfaceInputError, match="`protocol` fixes every setting; drop `steps`"):
        settings_for(recorded, steps=10)
    with pytest.raises(build.InterfaceInputError, match="at least two"):
        settings_for(None, li_layers=(3, 3))


def test_plan_without_ase_lists_cached_planes_and_refuses_to_compute(monkeypatch):
    """No ASE: a crystal's planes come from the cache; a request that computes names the extra."""
    from lithioscreen.interface import campaign
    from lithioscreen.interface.protocol import InterfaceSettings

    def no_ase(material):
        raise ImportError("No module named 'ase'")

    monkeypatch.setattr(build, "planes_for", no_ase)
    settings = InterfaceSettings()
    table = pd.DataFrame(
        {
            "material": ["Ni", "Ni"],
            "method": ["mlip:chgnet", "mlip:sevennet"],
            "x_plane": ["(111)", "(100)"],
            "protocol": [settings.protocol(), "v2;another"],
        }
    )
    plan = dict(calculators=["chgnet", "sevennet"], settings=settings, table=table)
    assert campaign.plan_targets(["Ni"], "all", **plan) == [("Ni", "111")]
    with pytest.raises(campaign.MlipExtraMissingError, match=r"pip install -e '\.\[mlip\]'"):
        campaign.plan_targets(["Cu"], "all", **plan)
    with pytest.raises(campaign.MlipExtraMissingError, match="'mlip' extra"):
        campaign.plan_targets(["Ni"], "all", needs_mlip=True, **plan)


# ---------------------------------------------------------------- protocol v3: every orientation, coherent Li films


def test_registry_picks_one_per_non_equivalent_orientation():
    from types import SimpleNamespace

    from lithioscreen.interface.workflow import registry_picks

    def candidate(variant, name):
        return SimpleNamespace(variant=variant, name=name)

    scanned = [
        (86.0, candidate(0, "a")),
        (85.9, candidate(0, "b")),
        (83.6, candidate(1, "c")),
        (85.9, candidate(2, "d")),  # the same lowest as orientation 0: symmetry-equivalent
        (90.0, candidate(3, "e")),
    ]
    assert [c.name for _, c in registry_picks(scanned, every_orientation=False)] == ["c"]
    assert [c.name for _, c in registry_picks(scanned, every_orientation=True)] == ["c", "b", "e"]


def test_li_film_planes_counts_the_film_and_sees_a_reconstruction():
    li = build.reference_bulk("Li")
    design = build.InterfaceDesign(li, build.reference_bulk("W"), "W", "110", x_layers=2)
    series = design.series((1, 2, 3))
    assert [build.li_film_planes(atoms) for atoms in series.structures] == [2, 4, 6]
    atoms = series.structures[2].copy()
    film = atoms.info[build.FILM_INDICES]
    assert sorted(set(atoms.get_chemical_symbols()[i] for i in film)) == ["Li"] and len(film) == series.n_li[2]
    # the same film moved onto the periodic boundary, its lowest plane straddling it, is still 6 planes
    shifted = atoms.copy()
    scaled = shifted.get_scaled_positions()
    lowest = scaled[film, 2].min()
    scaled[film, 2] -= lowest
    in_lowest = np.asarray(film)[scaled[film, 2] < 1e-3]
    assert len(in_lowest) >= 2
    scaled[in_lowest, 2] = [(-1e-4 if k % 2 else 1e-4) for k in range(len(in_lowest))]
    shifted.set_scaled_positions(scaled % 1.0)
    assert build.li_film_planes(shifted) == 6
    assert build.li_film_kept(atoms, shifted)
    # two of its planes merged: a reconstructed film
    merged = atoms.copy()
    heights = merged.positions[film, 2]
    top = heights >= np.sort(np.unique(np.round(heights, 2)))[-2] - 0.01
    merged.positions[np.asarray(film)[top], 2] = heights[top].min()
    assert build.li_film_planes(merged) == 5 and not build.li_film_kept(atoms, merged)


def test_a_rumpled_film_is_kept_and_an_atom_changing_planes_is_not():
    li = build.reference_bulk("Li")
    design = build.InterfaceDesign(li, build.reference_bulk("W"), "W", "110", x_layers=2)
    atoms = design.series((1, 2, 3)).structures[2]
    film = np.asarray(atoms.info[build.FILM_INDICES])
    heights = atoms.positions[film, 2]
    spacing = np.diff(np.unique(np.round(heights, 2))).min()
    # every plane rumples by +-0.4 Å (more than the 0.3 Å that merges heights into one plane)
    rumpled = atoms.copy()
    rumpled.positions[film, 2] += np.where(np.arange(len(film)) % 2, 0.4, -0.4)
    assert build.li_film_planes(rumpled) > build.li_film_planes(atoms)
    assert build.li_film_kept(atoms, rumpled)
    # the whole film expands along the normal: kept
    expanded = atoms.copy()
    expanded.positions[film, 2] = heights.mean() + 1.1 * (heights - heights.mean())
    assert build.li_film_kept(atoms, expanded)
    # one atom moves into the neighbouring plane: not kept, though the plane count is unchanged
    moved = atoms.copy()
    lowest = film[np.argmin(heights)]
    moved.positions[lowest, 2] += spacing
    assert build.li_film_planes(moved) == build.li_film_planes(atoms)
    assert not build.li_film_kept(atoms, moved)


def _fake_relaxations(gamma_of_variant, reconstructed_variants, slope=0.01):
    """A stand-in for run_relaxations: bulk energies of -1 eV per atom, interface energies that give
    excess(N) = gamma + slope N for the series of each supercell variant, and a Li film collapsed
    into one plane for ``reconstructed_variants``."""
    from lithioscreen.interface import fit, relax

    def run(tasks, calculator=None, progress=None, **kwargs):
        done = {}
        for task in tasks:
            atoms = task.atoms.copy()
            energy = -float(len(atoms))
            if task.kind == "interface":
                _, _, _, _, variant = task.key
                film = atoms.info[build.FILM_INDICES]
                area = float(np.linalg.norm(np.cross(atoms.cell[0], atoms.cell[1])))
                excess = gamma_of_variant[variant] + slope * len(film)
                energy += excess * 2 * area / fit.EV_PER_A2_TO_MEV_PER_A2
                if variant in reconstructed_variants:
                    scaled = atoms.get_scaled_positions()
                    scaled[film, 2] = scaled[film[0], 2]
                    atoms.set_scaled_positions(scaled)
            result = relax.RelaxResult(task.key, energy, len(atoms), True, 1, 0.0, atoms)
            done[task.key] = result
            if progress is not None:
                progress.done(result)
        return done

    return run


@pytest.mark.parametrize("version", ["v2", "v3"])
def test_v3_relaxes_every_orientation_and_refuses_a_reconstructed_film(monkeypatch, version):
    from ase.calculators.lj import LennardJones

    from lithioscreen.interface import workflow

    offered = []
    candidates_of = build.InterfaceDesign.registry_candidates

    def spy_candidates(self, *args, **kwargs):
        offered.extend(candidates_of(self, *args, **kwargs))
        return offered

    def fake_single_points(structures, *args, **kwargs):
        # orientation v starts lower the higher v is: v2 relaxes only the last one
        return [-float(len(s)) - 0.5 * c.variant + 0.01 * (i % 3) for i, (s, c) in enumerate(zip(structures, offered))]

    monkeypatch.setattr(build.InterfaceDesign, "registry_candidates", spy_candidates)
    monkeypatch.setattr(workflow, "single_point_energies", fake_single_points)
    design = build.InterfaceDesign(build.reference_bulk("Li"), build.reference_bulk("W"), "W", "110", x_layers=2)
    variants = len(design.variants)
    assert variants >= 2
    gamma = {v: 40.0 + 10.0 * v for v in range(variants)}
    # the last orientation (lowest unrelaxed) reconstructs; the first has the lowest γ and stays coherent
    monkeypatch.setattr(workflow, "run_relaxations", _fake_relaxations(gamma, {variants - 1}))
    settings = workflow.InterfaceSettings(li_layers=(1, 2, 3), x_layers=2, registry_grid=1, version=version)
    (result,) = workflow.compute_interfacial_energies([("W", "110")], LennardJones(), settings=settings)
    assert result.protocol.startswith(f"{version};")
    if version == "v2":
        # one series, the lowest unrelaxed orientation, reconstructed or not (recorded, not refused)
        assert result.ok and result.supercell_variant == variants - 1 and not result.orientations
        assert result.interfacial_energy_mev_per_a2 == pytest.approx(gamma[variants - 1])
        assert any(before != after for before, after in result.li_film_planes)
    else:
        assert [o["variant"] for o in result.orientations] == list(range(variants))[::-1]
        assert [o["refused"] for o in result.orientations][0] == "li_reconstructed"
        assert result.ok and result.supercell_variant == 0
        assert result.interfacial_energy_mev_per_a2 == pytest.approx(gamma[0])
        assert all(before == after for before, after in result.li_film_planes)
    # and when every orientation reconstructs, v3 refuses the plane
    if version == "v3":
        monkeypatch.setattr(workflow, "run_relaxations", _fake_relaxations(gamma, set(range(variants))))
        (refused,) = workflow.compute_interfacial_energies([("W", "110")], LennardJones(), settings=settings)
        assert not refused.ok and refused.refused == "li_reconstructed" and "reconstructed" in refused.error


def test_v3_protocol_strings_round_trip_and_v2_stays_current():
    from lithioscreen.interface.protocol import InterfaceSettings, ProtocolError, current_protocol, is_current

    v3 = InterfaceSettings(version="v3")
    assert v3.protocol().startswith("v3;") and InterfaceSettings.from_protocol(v3.protocol()) == v3
    assert v3.every_orientation and not InterfaceSettings().every_orientation
    assert current_protocol().startswith("v2;") and not is_current(v3.protocol())
    with pytest.raises(ProtocolError, match="version"):
        InterfaceSettings(version="v4")

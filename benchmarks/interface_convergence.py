"""Convergence of the Li(100)/X interfacial energy with the protocol's settings (issue 15, item 1).

    python benchmarks/interface_convergence.py --metals Mo W     # compute (one process; parts cached per metal)
    python benchmarks/interface_convergence.py --metals Ti Cr    # ... a second process, side by side
    python benchmarks/interface_convergence.py --report          # combine the parts, write the JSON, print the table

For each metal's close-packed plane (Mo, W, Cr (110); Ti (0001)) with one potential (CHGNet 0.3.0
by default; convergence is a property of the protocol, so one potential is enough), with every
other setting at its default (src/lithioscreen/interface/protocol.py):

* X slab thickness: ``--layers`` atomic planes (default 4 6 8 10), each with its own registry scan;
* registry: the unrelaxed scan's lowest excess energy for grids of 2..8 shifts per direction
  (single points only), and the relaxed γ of the ``--alternatives`` (3) lowest distinct unrelaxed
  registries of the default grid (is "relax only the lowest" within 2 meV/Å² of the best relaxed one?);
* supercell: γ for the ``--alternatives`` least-strained coherent supercells (ranks 0, 1, 2).
  These parts were computed before protocol v2, which scans every equal-strain orientation of a
  rank as part of the registry. ``--supercells`` recomputes only this part under the current
  protocol (each rank with its orientation scan) and adds it to the metal's part file as
  ``supercell_current_protocol``; the report then judges the supercell choice on it.

Criterion: 2 meV/Å². Parts go to benchmarks/results/interface_convergence/<metal>_<plane>.json
as each metal finishes; --report writes benchmarks/results/interface_convergence.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
PARTS = HERE / "results" / "interface_convergence"
OUT = HERE / "results" / "interface_convergence.json"
TOLERANCE = 2.0  # meV/Å²
DEFAULT_TARGETS = {"Mo": "110", "W": "110", "Cr": "110", "Ti": "0001"}


def _fit_record(result) -> dict:
    keys = (
        "interfacial_energy_mev_per_a2",
        "intercept_stderr_mev_per_a2",
        "fit_r2",
        "n_x",
        "x_layers",
        "n_li",
        "excess_mev_per_a2",
        "area_a2",
        "li_strain",
        "termination",
        "offset_x_cell",
        "registry_candidates",
        "registry_excess_range_mev_per_a2",
        "supercell_rank",
        "all_converged",
        "steps",
        "relax_seconds",
        "registry_seconds",
        "error",
    )
    record = result.as_record()
    return {key: record[key] for key in keys}


def _relax_registry(design, candidate, settings, run_args, excess) -> dict:
    """Relax the Li thickness series of one registry candidate and fit γ (no acceptance rule)."""
    from lithioscreen.interface import fit, relax, workflow

    metal, plane = design.material, design.plane
    series = design.series(settings.li_layers, candidate.termination, candidate.offset, candidate.variant)
    tasks = [
        relax.RelaxTask(("interface", metal, plane, n), atoms, "interface", settings.fmax, settings.steps)
        for n, atoms in zip(series.li_layers, series.structures, strict=True)
    ]
    start = time.perf_counter()
    done = workflow.run_relaxations(tasks, **run_args)
    runs = [done[("interface", metal, plane, n)] for n in series.li_layers]
    ys = [excess(r.energy_ev, series.x_counts, n) for r, n in zip(runs, series.n_li, strict=True)]
    entry = {
        "offset_x_cell": list(candidate.offset_x_cell),
        "termination": candidate.termination,
        "orientation": int(candidate.variant),
        "converged": all(r.converged for r in runs),
        "excess_mev_per_a2": ys,
        "n_li": series.n_li,
        "wall_seconds": time.perf_counter() - start,
    }
    try:
        fitted = fit.fit_interfacial_energy(series.n_li, ys, series.area_a2, max_stderr_mev_per_a2=np.inf)
        entry.update(
            interfacial_energy_mev_per_a2=fitted.interfacial_energy_mev_per_a2,
            intercept_stderr_mev_per_a2=fitted.intercept_stderr_mev_per_a2,
        )
    except fit.PoorFitError as error:
        entry.update(interfacial_energy_mev_per_a2=float("nan"), error=str(error))
    return entry


def compute(
    metal: str,
    plane: str,
    calculator: str,
    layers: list[int],
    device: str,
    thickness_only: bool = False,
    alternatives: int = 3,
) -> dict:
    from lithioscreen.interface import build, fit, workflow
    from lithioscreen.interface.calculators import software_versions
    from lithioscreen.interface.protocol import InterfaceSettings

    default = InterfaceSettings()
    record = {
        "metal": metal,
        "plane": plane,
        "calculator": calculator,
        "versions": software_versions(calculator),
        "default_protocol": default.protocol(),
    }
    started = time.time()

    def run(settings):
        start = time.perf_counter()
        (result,) = workflow.compute_interfacial_energies([(metal, plane)], calculator, device, settings, batch=True)
        out = _fit_record(result)
        out["wall_seconds"] = time.perf_counter() - start
        print(
            f"  {metal}({plane}) x_layers={settings.x_layers} supercell={settings.supercell_rank}: "
            f"{out['interfacial_energy_mev_per_a2']:.2f} ± {out['intercept_stderr_mev_per_a2']:.2f} {out['error'][:80]} ({out['wall_seconds']:.0f} s)",
            flush=True,
        )
        return out

    # 1. X slab thickness
    record["thickness"] = [run(default.replace(x_layers=n)) for n in layers]

    if thickness_only:
        record.update(
            registry=None,
            supercell=None,
            started=time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(started)),
            finished=time.strftime("%Y-%m-%dT%H:%M:%S"),
        )
        return record

    # 2. registry: the grid density (single points) and relaxed γ of the 3 lowest unrelaxed registries
    run_args = dict(calculator=calculator, device=device, n_jobs=1, batch=True, batch_size=32)
    bulk = workflow._bulk(["Li", metal], calculator, run_args, default, workflow.Progress())
    li, x = bulk[("bulk", "Li")], bulk[("bulk", metal)]
    design = build.InterfaceDesign(
        li.atoms, x.atoms, metal, plane, default.x_layers, default.max_strain, default.max_area_a2, 0, default.gap_a
    )
    e_li = li.energy_ev / li.n_atoms
    e_x = x.energy_ev / x.n_atoms

    def excess(energy, counts, n_li):
        return fit.excess_energy_mev_per_a2(energy, counts.get(metal, 0), n_li, e_x, e_li, design.area_a2)

    grids = []
    for grid in (2, 3, 4, 6, 8):
        candidates = design.registry_candidates(min(default.li_layers), grid)
        energies = workflow.single_point_energies([c.atoms for c in candidates], calculator, device)
        values = [excess(e, c.x_counts, c.n_li) for e, c in zip(energies, candidates, strict=True)]
        best = int(np.argmin(values))
        grids.append(
            {
                "grid": grid,
                "n": len(values),
                "lowest_unrelaxed_mev_per_a2": float(values[best]),
                "highest_unrelaxed_mev_per_a2": float(max(values)),
                "offset_x_cell": list(candidates[best].offset_x_cell),
                "termination": candidates[best].termination,
            }
        )
        if grid == default.registry_grid:
            ranked = sorted(zip(values, range(len(values))))
            distinct = []
            for value, index in ranked:
                if all(abs(value - v) > 0.05 for v, _ in distinct):
                    distinct.append((value, index))
                if len(distinct) == alternatives:
                    break
            relaxed = []
            for rank, (value, index) in enumerate(distinct):
                entry = _relax_registry(design, candidates[index], default, run_args, excess)
                entry = {"rank": rank, "unrelaxed_mev_per_a2": float(value), **entry}
                print(
                    f"  {metal}({plane}) registry rank {rank} (unrelaxed {value:.2f}): {entry['interfacial_energy_mev_per_a2']:.2f}",
                    flush=True,
                )
                relaxed.append(entry)
    record["registry"] = {"grids": grids, "relaxed": relaxed}

    # 3. the supercell: the three least-strained (rank 0 is the default)
    ranks = [
        {"rank": r, "strain": float(s), "area_a2": float(a)}
        for r, (s, a, _) in enumerate(design.candidate_matches[:alternatives])
    ]
    supercells = []
    for entry in ranks:
        out = (
            next(t for t in record["thickness"] if t["x_layers"] == design.x_layers)
            if entry["rank"] == 0 and default.x_layers in layers
            else run(default.replace(supercell_rank=entry["rank"]))
        )
        supercells.append({**entry, **out})
    record["supercell"] = supercells
    record["started"] = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(started))
    record["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    record["machine"] = f"{platform.machine()}, {os.cpu_count()} cores (shared), torch threads {_threads()}"
    return record


def _rank0_scan(metal: str, plane: str, calculator: str, device: str):
    """Protocol defaults, the rank-0 design, its excess-energy function and the unrelaxed registry scan."""
    from lithioscreen.interface import build, fit, workflow
    from lithioscreen.interface.protocol import InterfaceSettings

    default = InterfaceSettings()
    run_args = dict(calculator=calculator, device=device, n_jobs=1, batch=True, batch_size=32)
    bulk = workflow._bulk(["Li", metal], calculator, run_args, default, workflow.Progress())
    li, x = bulk[("bulk", "Li")], bulk[("bulk", metal)]

    def design_at(rank: int):
        return build.InterfaceDesign(
            li.atoms,
            x.atoms,
            metal,
            plane,
            default.x_layers,
            default.max_strain,
            default.max_area_a2,
            rank,
            default.gap_a,
        )

    design = design_at(0)
    e_li, e_x = li.energy_ev / li.n_atoms, x.energy_ev / x.n_atoms

    def excess(energy, counts, n_li):
        return fit.excess_energy_mev_per_a2(energy, counts.get(metal, 0), n_li, e_x, e_li, design.area_a2)

    candidates = design.registry_candidates(min(default.li_layers), default.registry_grid)
    energies = workflow.single_point_energies([c.atoms for c in candidates], calculator, device)
    unrelaxed = [excess(e, c.x_counts, c.n_li) for e, c in zip(energies, candidates, strict=True)]
    return default, run_args, design_at, design, excess, candidates, unrelaxed


def _orientation_bests(design, candidates, unrelaxed) -> list[tuple[int, float, object, int | None]]:
    """(orientation, lowest unrelaxed excess, its registry, the orientation it duplicates or None) per
    rank-0 orientation; equal lowest energies mean symmetry-equivalent orientations (hcp 0001)."""
    bests = []
    for variant in range(len(design.variants)):
        value, index = min(
            (v, i) for i, (v, c) in enumerate(zip(unrelaxed, candidates, strict=True)) if c.variant == variant
        )
        twin = next((b[0] for b in bests if b[3] is None and abs(b[1] - value) < 0.01), None)
        bests.append((variant, float(value), candidates[index], twin))
    return bests


def compute_supercells(metal: str, plane: str, calculator: str, device: str, alternatives: int = 3) -> dict:
    """γ under the current protocol for supercell ranks 0..alternatives-1 (each rank's equal-strain
    orientations scanned with the registry, the lowest relaxed)."""
    from lithioscreen.interface import workflow

    default, run_args, design_at, design, excess, candidates, unrelaxed = _rank0_scan(metal, plane, calculator, device)
    # rank 0's orientations: the protocol relaxes only the lowest unrelaxed registry over all of
    # them; relax each orientation's own lowest to see whether that choice is the relaxed lowest
    orientations = []
    for variant, value, candidate, twin in _orientation_bests(design, candidates, unrelaxed):
        if twin is not None:
            first = next(o for o in orientations if o["orientation"] == twin)
            orientations.append({**first, "orientation": variant, "same_as_orientation": twin})
            continue
        entry = {"unrelaxed_mev_per_a2": value}
        entry.update(_relax_registry(design, candidate, default, run_args, excess))
        print(
            f"  {metal}({plane}) rank 0, orientation {variant}: unrelaxed {value:.2f} -> relaxed {_gamma(entry):.2f}",
            flush=True,
        )
        orientations.append(entry)
    ranks = []
    for rank, (strain, area, _) in enumerate(design.candidate_matches[:alternatives]):
        settings = default.replace(supercell_rank=rank)
        n_orientations = len(design_at(rank).variants)
        start = time.perf_counter()
        (result,) = workflow.compute_interfacial_energies([(metal, plane)], calculator, device, settings, batch=True)
        out = {"rank": rank, "strain": float(strain), "area_a2": float(area), "orientations": n_orientations}
        out.update(_fit_record(result), protocol=settings.protocol(), wall_seconds=time.perf_counter() - start)
        print(
            f"  {metal}({plane}) supercell rank {rank} ({100 * strain:.1f} %, {area:.0f} Å², {n_orientations} orientations): "
            f"{_gamma(out):.2f} ± {out['intercept_stderr_mev_per_a2']:.2f} {out['error'][:80]} ({out['wall_seconds']:.0f} s)",
            flush=True,
        )
        ranks.append(out)
    return {
        **_provenance(default.protocol(), calculator),
        "ranks": ranks,
        "rank0_orientations": orientations,
    }


def compute_supercells_v3(metal: str, plane: str, calculator: str, device: str, ranks: list[int]) -> list[dict]:
    """γ under protocol v3 (every orientation relaxed, reconstructed Li films refused) for the given
    supercell ranks: does the supercell choice converge once the reconstructed films are out?"""
    from lithioscreen.interface import workflow
    from lithioscreen.interface.protocol import InterfaceSettings

    out = []
    for rank in ranks:
        settings = InterfaceSettings(version="v3", supercell_rank=rank)
        start = time.perf_counter()
        (result,) = workflow.compute_interfacial_energies([(metal, plane)], calculator, device, settings, batch=True)
        entry = {"rank": rank, **_fit_record(result), "protocol": settings.protocol()}
        entry["strain"] = abs(float(result.li_strain))
        entry["orientations"] = result.orientations
        entry["wall_seconds"] = time.perf_counter() - start
        entry["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S")
        print(
            f"  {metal}({plane}) v3 supercell rank {rank} ({100 * entry['strain']:.1f} %, {entry['area_a2']:.0f} Å²): "
            f"{_gamma(entry):.2f} {entry['error'][:60]}; orientations "
            + "; ".join(
                f"{o['variant']}: {o['refused'] or round(o['interfacial_energy_mev_per_a2'], 2)}"
                for o in result.orientations
            )
            + f" ({entry['wall_seconds']:.0f} s)",
            flush=True,
        )
        out.append(entry)
    return out


def supercell_spread_at_rank0_strain(cells: list[dict], tolerance: float = 1e-3) -> float | None:
    """Spread (meV/Å²) of the accepted γ over the supercell ranks whose Li strain equals rank 0's
    (within ``tolerance``, a fraction), rank 0 included: the choice among equally strained cells.
    None without rank 0's value or a second accepted rank of that strain."""
    rank0 = next((c for c in cells if c["rank"] == 0 and not c["error"]), None)
    if rank0 is None:
        return None
    values = [_gamma(c) for c in cells if not c["error"] and abs(c["strain"] - rank0["strain"]) <= tolerance]
    return float(max(values) - min(values)) if len(values) > 1 else None


#: Li(100) cells of the thickness series in --li-thickness (the protocol uses the first three)
LI_THICKNESS_SERIES = (2, 3, 4, 5, 6)


def li_thickness_windows(n_li, excess, area_a2) -> list[dict]:
    """γ fitted on each window of three consecutive Li thicknesses (no acceptance rule): does the
    intercept move when the thinnest Li slab is dropped?"""
    from lithioscreen.interface import fit

    windows = []
    for first in range(len(n_li) - 2):
        xs, ys = n_li[first : first + 3], excess[first : first + 3]
        fitted = fit.fit_interfacial_energy(xs, ys, area_a2, max_stderr_mev_per_a2=np.inf)
        windows.append(
            {
                "n_li": list(xs),
                "interfacial_energy_mev_per_a2": fitted.interfacial_energy_mev_per_a2,
                "intercept_stderr_mev_per_a2": fitted.intercept_stderr_mev_per_a2,
            }
        )
    return windows


def compute_li_thickness(metal: str, plane: str, calculator: str, device: str) -> dict:
    """Each non-equivalent rank-0 orientation's best registry relaxed with 2..6 Li(100) cells: is the
    protocol's Li series (2, 3, 4 cells) thick enough, and does the orientation spread shrink with
    thicker Li?"""

    default, run_args, _, design, excess, candidates, unrelaxed = _rank0_scan(metal, plane, calculator, device)
    settings = default.replace(li_layers=LI_THICKNESS_SERIES)
    orientations = []
    for variant, value, candidate, twin in _orientation_bests(design, candidates, unrelaxed):
        if twin is not None:
            continue
        entry = {"unrelaxed_mev_per_a2": value, "li_layers": list(LI_THICKNESS_SERIES)}
        entry.update(_relax_registry(design, candidate, settings, run_args, excess))
        entry["windows"] = li_thickness_windows(entry["n_li"], entry["excess_mev_per_a2"], design.area_a2)
        print(
            f"  {metal}({plane}) orientation {variant}: excess "
            + ", ".join(f"{n}: {y:.1f}" for n, y in zip(entry["n_li"], entry["excess_mev_per_a2"], strict=True))
            + " -> windows "
            + ", ".join(
                f"{w['interfacial_energy_mev_per_a2']:.1f}±{w['intercept_stderr_mev_per_a2']:.1f}"
                for w in entry["windows"]
            ),
            flush=True,
        )
        orientations.append(entry)
    return {
        **_provenance(settings.protocol(), calculator),
        "area_a2": design.area_a2,
        "orientations": orientations,
    }


def _provenance(protocol: str, calculator: str) -> dict:
    """What a computed part records about how and where it was computed."""
    from lithioscreen.interface.calculators import software_versions

    return {
        "protocol": protocol,
        "calculator": calculator,
        "versions": software_versions(calculator),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores (shared), torch threads {_threads()}",
    }


def _threads() -> int:
    import torch

    return torch.get_num_threads()


def _gamma(entry) -> float:
    value = entry.get("interfacial_energy_mev_per_a2")
    return float("nan") if value is None else float(value)


def _report_li_thickness(part) -> dict:
    """Print the --li-thickness part; summary fields: the orientation spread per window of Li thicknesses."""
    if not part:
        return {}
    print("  Li slab thickness, each rank-0 orientation's best registry (window of Li atoms -> γ):")
    for entry in part["orientations"]:
        print(
            f"    orientation {entry['orientation']} (unrelaxed {entry['unrelaxed_mev_per_a2']:.1f}): excess "
            + ", ".join(f"{n}: {y:.1f}" for n, y in zip(entry["n_li"], entry["excess_mev_per_a2"], strict=True))
            + (" (a relaxation did not converge)" if not entry["converged"] else "")
            + "\n      windows: "
            + ", ".join(
                f"{w['n_li'][0]}-{w['n_li'][-1]}: {w['interfacial_energy_mev_per_a2']:.1f} ± {w['intercept_stderr_mev_per_a2']:.1f}"
                for w in entry["windows"]
            )
        )
    spreads = []
    for window in range(min(len(e["windows"]) for e in part["orientations"])):
        values = [e["windows"][window]["interfacial_energy_mev_per_a2"] for e in part["orientations"]]
        spreads.append(float(max(values) - min(values)))
    print("    spread over the orientations per window: " + ", ".join(f"{v:.1f}" for v in spreads))
    return {"li_thickness_orientation_spread_per_window_mev_per_a2": spreads}


#: a step of the excess energy between consecutive Li thicknesses above this is "off the line" (meV/Å²)
STEP_MEV_PER_A2 = 2.0


def li_series_shape(entries: list[dict]) -> dict:
    """Where the committee's Li series (2, 3, 4 cells) bend: the step of the excess energy from the
    thinnest to the middle slab against the step from the middle to the thickest, and how far the
    fitted intercept lies below the thickest slab's excess. ``entries``: run-record entries with
    ``n_li`` and ``excess_mev_per_a2`` (refused ones included: their series are measured too)."""
    series = [e for e in entries if len(e.get("excess_mev_per_a2") or []) == 3 and e.get("converged")]
    first = np.array([e["excess_mev_per_a2"][1] - e["excess_mev_per_a2"][0] for e in series])
    second = np.array([e["excess_mev_per_a2"][2] - e["excess_mev_per_a2"][1] for e in series])
    valued = [e for e in series if e.get("value") is not None]
    below = np.array([e["excess_mev_per_a2"][2] - e["value"] for e in valued])
    thinnest_off = (np.abs(first) > STEP_MEV_PER_A2) & (np.abs(second) <= STEP_MEV_PER_A2)
    return {
        "series": len(series),
        "step_mev_per_a2": STEP_MEV_PER_A2,
        "median_abs_step_thinnest_to_middle_mev_per_a2": float(np.median(np.abs(first))) if len(series) else None,
        "median_abs_step_middle_to_thickest_mev_per_a2": float(np.median(np.abs(second))) if len(series) else None,
        "thinnest_off_the_line": int(thinnest_off.sum()),
        "thickest_off_the_line": int((np.abs(second) > STEP_MEV_PER_A2).sum()),
        "thinnest_off_the_line_examples": [
            f"{e['material']}({e['plane']}) {e['potential']}: "
            + ", ".join(f"{y:.1f}" for y in e["excess_mev_per_a2"])
            + (f" -> {e['value']:.1f}" if e.get("value") is not None else f" ({e.get('refused') or 'no value'})")
            for e, off in zip(series, thinnest_off, strict=True)
            if off
        ],
        "intercept_below_thickest_excess_mev_per_a2": {
            "median": float(np.median(below)) if len(below) else None,
            "max": float(np.max(below)) if len(below) else None,
            "over_5": int((below > 5).sum()),
            "values": len(below),
        },
    }


def _committee_entries() -> list[dict]:
    """The latest entry per (material, plane, potential) of the committee's run records, current protocol."""
    from lithioscreen.interface.protocol import current_protocol

    latest = {}
    for path in sorted((HERE / "results" / "interface_committee").glob("run-*.json")):
        record = json.loads(path.read_text())
        if record.get("protocol") != current_protocol() or record.get("superseded"):
            continue
        for entry in record.get("entries", []):
            latest[(entry["material"], entry["plane"], entry["potential"])] = entry
    return list(latest.values())


def _report_series_shape() -> dict:
    shape = li_series_shape(_committee_entries())
    print(
        f"\nLi thickness series of the committee (protocol's 2/3/4 Li(100) cells, {shape['series']} converged series):"
        f"\n  median |step| thinnest -> middle {shape['median_abs_step_thinnest_to_middle_mev_per_a2']:.2f}, "
        f"middle -> thickest {shape['median_abs_step_middle_to_thickest_mev_per_a2']:.2f} meV/Å²"
        f"\n  thinnest slab off the line (|step| > {STEP_MEV_PER_A2:g} only there): {shape['thinnest_off_the_line']}; "
        f"thickest step > {STEP_MEV_PER_A2:g}: {shape['thickest_off_the_line']}"
    )
    for example in shape["thinnest_off_the_line_examples"]:
        print(f"    {example}")
    below = shape["intercept_below_thickest_excess_mev_per_a2"]
    print(
        f"  stored γ below the thickest slab's excess: median {below['median']:.2f}, max {below['max']:.2f}, "
        f"over 5 meV/Å² in {below['over_5']} of {below['values']}"
    )
    return shape


def report() -> int:
    from lithioscreen.interface.protocol import InterfaceSettings

    parts = sorted(PARTS.glob("*.json"))
    if not parts:
        print("no parts: run with --metals first")
        return 1
    records = [json.loads(p.read_text()) for p in parts]
    default = InterfaceSettings()
    summary = []
    print(
        f"Convergence of γ (meV/Å², {records[0]['calculator']}); criterion {TOLERANCE} meV/Å²; default protocol {default.protocol()}"
    )
    for rec in records:
        metal, plane = rec["metal"], rec["plane"]
        print(f"\n{metal}({plane})")
        print(
            "  X atomic planes:  "
            + "  ".join(
                f"{t['x_layers']}: {_gamma(t):.2f}±{t['intercept_stderr_mev_per_a2']:.2f}{'' if not t['error'] else ' (refused)'}"
                for t in rec["thickness"]
            )
        )
        finite = [t for t in rec["thickness"] if np.isfinite(_gamma(t))]
        thickest = max(finite, key=lambda t: t["x_layers"]) if finite else None
        converged_at = None
        if thickest is not None:
            for t in sorted(finite, key=lambda t: t["x_layers"]):
                if all(
                    abs(_gamma(u) - _gamma(thickest)) <= TOLERANCE for u in finite if u["x_layers"] >= t["x_layers"]
                ):
                    converged_at = t["x_layers"]
                    break
        default_entry = next((t for t in finite if t["x_layers"] == default.x_layers), None)
        default_dev = abs(_gamma(default_entry) - _gamma(thickest)) if default_entry and thickest else float("nan")
        print(
            f"  thickness converged (within {TOLERANCE} of the thickest, {thickest['x_layers'] if thickest else '-'} planes) from {converged_at} planes; default {default.x_layers}: |Δ| = {default_dev:.2f}"
        )
        if rec.get("registry") is None:
            summary.append(
                {
                    "metal": metal,
                    "plane": plane,
                    "thickness_converged_from_planes": converged_at,
                    "default_x_layers": default.x_layers,
                    "default_minus_thickest_mev_per_a2": default_dev,
                    "thickness_ok": bool(default_dev <= TOLERANCE),
                    "thickness_only": True,
                }
            )
            continue
        grids = rec["registry"]["grids"]
        print(
            "  registry grid (lowest unrelaxed excess):  "
            + "  ".join(f"{g['grid']}x{g['grid']}: {g['lowest_unrelaxed_mev_per_a2']:.2f}" for g in grids)
            + f"   (spread over the {grids[-1]['n']} shifts of the finest grid: {grids[-1]['lowest_unrelaxed_mev_per_a2']:.1f}..{grids[-1]['highest_unrelaxed_mev_per_a2']:.1f})"
        )
        relaxed = rec["registry"]["relaxed"]
        print(
            "  relaxed, three lowest unrelaxed registries:  "
            + "  ".join(f"#{r['rank']} ({r['unrelaxed_mev_per_a2']:.1f}) -> {_gamma(r):.2f}" for r in relaxed)
        )
        gammas = [_gamma(r) for r in relaxed if np.isfinite(_gamma(r))]
        registry_dev = (_gamma(relaxed[0]) - min(gammas)) if relaxed and gammas else float("nan")
        print(
            f"  relaxing only the lowest unrelaxed registry: {registry_dev:.2f} above the lowest relaxed of the three"
        )
        cells = rec["supercell"]
        print(
            "  supercells (rank: strain, area -> γ):  "
            + "  ".join(
                f"{c['rank']}: {100 * c['strain']:.1f}%, {c['area_a2']:.0f} Å² -> {_gamma(c):.2f}" for c in cells
            )
        )
        cell_values = [_gamma(c) for c in cells if np.isfinite(_gamma(c))]
        cell_spread = (max(cell_values) - min(cell_values)) if len(cell_values) > 1 else float("nan")
        print(f"  spread over the supercells: {cell_spread:.2f} (before protocol v2's orientation scan)")
        pre_v2_spread = cell_spread
        orientation_dev = float("nan")
        current = rec.get("supercell_current_protocol")
        if current is not None:
            print(
                "  supercells under the current protocol (rank: strain, area, orientations scanned -> γ):  "
                + "  ".join(
                    f"{c['rank']}: {100 * c['strain']:.1f}%, {c['area_a2']:.0f} Å², {c['orientations']} -> {_gamma(c):.2f}"
                    for c in current["ranks"]
                )
            )
            cell_values = [_gamma(c) for c in current["ranks"] if np.isfinite(_gamma(c))]
            cell_spread = (max(cell_values) - min(cell_values)) if len(cell_values) > 1 else float("nan")
            print(f"  spread over the supercells, current protocol: {cell_spread:.2f}")
            turns = current.get("rank0_orientations") or []
            if turns:
                print(
                    "  rank 0, each orientation's lowest unrelaxed registry relaxed (unrelaxed -> γ):  "
                    + "  ".join(
                        f"{t['orientation']}: {t['unrelaxed_mev_per_a2']:.1f} -> {_gamma(t):.2f}" for t in turns
                    )
                )
                pick = min(turns, key=lambda t: t["unrelaxed_mev_per_a2"])
                relaxed_values = [_gamma(t) for t in turns if np.isfinite(_gamma(t))]
                orientation_dev = _gamma(pick) - min(relaxed_values) if relaxed_values else float("nan")
                print(
                    f"  relaxing only the lowest unrelaxed orientation: {orientation_dev:.2f} above the lowest relaxed"
                )
        li_summary = _report_li_thickness(rec.get("li_thickness"))
        v3_cells = rec.get("supercell_v3") or []
        v3_spread = None
        if v3_cells:
            print(
                "  supercells under protocol v3 (rank: strain, area -> γ; orientations):  "
                + "  ".join(
                    f"{c['rank']}: {100 * c['strain']:.1f}%, {c['area_a2']:.0f} Å² -> "
                    + (f"{_gamma(c):.2f}" if not c["error"] else c["error"][:40])
                    + " ("
                    + "; ".join(
                        f"{o['variant']}: {o['refused'] or round(o['interfacial_energy_mev_per_a2'], 1)}"
                        for o in c["orientations"]
                    )
                    + ")"
                    for c in v3_cells
                )
            )
            finite = [_gamma(c) for c in v3_cells if not c["error"]]
            v3_spread = float(max(finite) - min(finite)) if len(finite) > 1 else None
            print(f"  spread over the v3 supercells: {v3_spread if v3_spread is None else round(v3_spread, 2)}")
            v3_same_strain = supercell_spread_at_rank0_strain(v3_cells)
            print(
                "  ... over those with rank 0's strain: " + ("-" if v3_same_strain is None else f"{v3_same_strain:.2f}")
            )
        else:
            v3_same_strain = None
        li_summary["supercell_v3_spread_mev_per_a2"] = v3_spread
        li_summary["supercell_v3_same_strain_spread_mev_per_a2"] = v3_same_strain
        li_summary["supercell_v3_same_strain_ok"] = (
            None if v3_same_strain is None else bool(v3_same_strain <= TOLERANCE)
        )
        li_summary["supercell_v3_ranks"] = [c["rank"] for c in v3_cells]
        summary.append(
            {
                "metal": metal,
                "plane": plane,
                **li_summary,
                "thickness_converged_from_planes": converged_at,
                "default_x_layers": default.x_layers,
                "default_minus_thickest_mev_per_a2": default_dev,
                "registry_lowest_unrelaxed_minus_best_relaxed_mev_per_a2": registry_dev,
                "supercell_spread_mev_per_a2": cell_spread,
                "supercell_spread_before_v2_mev_per_a2": pre_v2_spread,
                "supercell_judged_on": "current protocol" if current is not None else "before v2",
                "orientation_pick_minus_lowest_relaxed_mev_per_a2": orientation_dev,
                "orientation_ok": bool(orientation_dev <= TOLERANCE) if np.isfinite(orientation_dev) else None,
                "thickness_ok": bool(default_dev <= TOLERANCE),
                "registry_ok": bool(registry_dev <= TOLERANCE),
                "supercell_ok": bool(cell_spread <= TOLERANCE),
            }
        )
    series_shape = _report_series_shape()
    OUT.write_text(
        json.dumps(
            {
                "tolerance_mev_per_a2": TOLERANCE,
                "default_protocol": default.protocol(),
                "summary": summary,
                "committee_li_series_shape": series_shape,
                "records": records,
            },
            indent=1,
            default=float,
        )
    )
    print(f"\nwritten {OUT.relative_to(HERE.parent)}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--metals", nargs="+", help=f"metals to compute (planes: {DEFAULT_TARGETS})")
    parser.add_argument("--calculator", default="chgnet")
    parser.add_argument("--layers", nargs="+", type=int, default=[4, 6, 8, 10])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the machine is shared)")
    parser.add_argument("--report", action="store_true")
    parser.add_argument(
        "--thickness-only", action="store_true", help="only the X slab thickness (e.g. an open plane: --metals Cr:111)"
    )
    parser.add_argument(
        "--supercells",
        action="store_true",
        help="only the supercell ranks, under the current protocol, added to the metal's part file",
    )
    parser.add_argument(
        "--li-thickness",
        action="store_true",
        help=f"only the Li slab thickness: each rank-0 orientation with {LI_THICKNESS_SERIES} Li(100) cells",
    )
    parser.add_argument(
        "--v3-ranks",
        nargs="+",
        type=int,
        help="only these supercell ranks under protocol v3, added to the part file (merged by rank)",
    )
    parser.add_argument(
        "--alternatives", type=int, default=3, help="registries and supercells compared (the default one included)"
    )
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    if args.metals:
        import torch

        torch.set_num_threads(args.threads)
        PARTS.mkdir(parents=True, exist_ok=True)
        for metal in args.metals:
            plane = DEFAULT_TARGETS.get(metal)
            if plane is None:
                metal, _, plane = metal.partition(":")
            if args.supercells or args.li_thickness or args.v3_ranks:
                part = PARTS / f"{metal}_{plane}.json"
                record = json.loads(part.read_text()) if part.exists() else {"metal": metal, "plane": plane}
                if args.v3_ranks:
                    computed = compute_supercells_v3(metal, plane, args.calculator, args.device, args.v3_ranks)
                    record = json.loads(part.read_text()) if part.exists() else record  # another run may have added
                    kept = [e for e in record.get("supercell_v3", []) if e["rank"] not in args.v3_ranks]
                    record["supercell_v3"] = sorted(kept + computed, key=lambda e: e["rank"])
                elif args.supercells:
                    record["supercell_current_protocol"] = compute_supercells(
                        metal, plane, args.calculator, args.device, args.alternatives
                    )
                else:
                    record["li_thickness"] = compute_li_thickness(metal, plane, args.calculator, args.device)
                from lithioscreen.data._files import atomic_write

                atomic_write(part, json.dumps(record, indent=1, default=float).encode())
                continue
            record = compute(
                metal, plane, args.calculator, args.layers, args.device, args.thickness_only, args.alternatives
            )
            (PARTS / f"{metal}_{plane}.json").write_text(json.dumps(record, indent=1, default=float))
    if args.report or not args.metals:
        return report()
    return 0


if __name__ == "__main__":
    sys.exit(main())

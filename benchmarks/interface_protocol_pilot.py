"""Protocol v3 against v2 on the calibration set, with one potential (issue 15, item 1).

    python benchmarks/interface_protocol_pilot.py --materials Mo Ti      # compute (one process per group)
    python benchmarks/interface_protocol_pilot.py --materials LiF Li2S   # ... side by side
    python benchmarks/interface_protocol_pilot.py --report               # compare, write results/interface_protocol_pilot_chgnet.json, print
    python benchmarks/interface_protocol_pilot.py --potential sevennet --materials Mo:110   # one plane

v3 (src/lithioscreen/interface/protocol.py) relaxes the best registry of every non-equivalent Li
orientation, refuses series whose Li film reconstructs, and keeps the lowest accepted γ. Before the
whole table is recomputed with it (about 20 core-hours for three potentials), this pilot asks, with
CHGNet alone: which planes change, how many series the film rule refuses, and does the calibration
to the paper's DFT values (leave-one-out errors, order checks) get better or worse?

Each plane's full result (every orientation: its excess series, Li film planes before/after, γ or
refusal) goes to benchmarks/results/interface_protocol_pilot/<material>_<plane>_<potential>.json as
it finishes; accepted values are also cached in data/interfacial_energies.csv under their v3 protocol
string (not current: the ranking and the calibration still use v2).

The report also carries a sensitivity: ``v3_without_film_rule``, what v3 would keep without its Li
film rule (each orientation's series refitted from its stored excess energies), per plane, per
material and in the calibration. With parts of two potentials or more on every pilot material it
writes the committee's calibration under v2 and v3 too (interface_protocol_pilot_committee.json).
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
PARTS = HERE / "results" / "interface_protocol_pilot"
RESULTS = HERE / "results"
#: the references first (they make the calibration), then the training metals
DEFAULT_MATERIALS = ("Mo", "Ti", "LiF", "Li2S", "W", "Cr", "Zr", "Mg")


def v3_settings():
    from lithioscreen.interface.protocol import InterfaceSettings

    return InterfaceSettings(version="v3")


def compute(material: str, potential: str, planes: list[str] | None = None) -> None:
    from lithioscreen.interface import build, cache, workflow
    from lithioscreen.interface.calculators import software_versions

    settings = v3_settings()
    versions = software_versions(potential)
    for plane in planes or build.planes_for(material):
        part = PARTS / f"{material}_{build.plane_label(plane).strip('()')}_{potential}.json"
        if part.exists():
            continue
        start = time.perf_counter()
        (result,) = workflow.compute_interfacial_energies([(material, plane)], potential, settings=settings, batch=True)
        record = {
            **result.as_record(),
            "wall_seconds": time.perf_counter() - start,
            "versions": versions,
            "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores (shared), torch threads {_threads()}",
        }
        if result.ok:
            cache.write_results([result], versions)
        from lithioscreen.data._files import atomic_write

        atomic_write(part, json.dumps(record, indent=1, default=float).encode())
        value = f"{result.interfacial_energy_mev_per_a2:.2f}" if result.ok else result.refused
        print(
            f"{material}({plane}) {potential} v3: {value}; orientations "
            + "; ".join(
                f"{o['variant']}: {o['refused'] or round(o['interfacial_energy_mev_per_a2'], 2)} planes {o['li_film_planes']}"
                for o in result.orientations
            )
            + f" ({record['wall_seconds']:.0f} s)",
            flush=True,
        )


def _threads() -> int:
    import torch

    return torch.get_num_threads()


def build_report(potential: str = "chgnet") -> dict:
    """v2 against v3 for ``potential``: per plane, and the calibration of each protocol's values."""
    from lithioscreen.data import load_interfacial_energies
    from lithioscreen.interface.calibration import computed_rows
    from lithioscreen.interface.protocol import current_protocol

    table = load_interfacial_energies()
    v2, v3 = current_protocol(), v3_settings().protocol()
    parts = [json.loads(p.read_text()) for p in sorted(PARTS.glob(f"*_{potential}.json"))]
    v2_rows = computed_rows(table, v2)
    v2_rows = v2_rows[v2_rows["potential"] == potential]
    planes = []
    for part in parts:
        plane = f"({part['plane']})"
        old = v2_rows[(v2_rows["material"] == part["element"]) & (v2_rows["plane"] == plane)]
        planes.append(
            {
                "material": part["element"],
                "plane": plane,
                "v2": float(old["interfacial_energy_mev_per_a2"].iloc[0]) if len(old) else None,
                "v3": part["interfacial_energy_mev_per_a2"] if not part["error"] else None,
                "v3_refused": part["refused"],
                "v3_without_film_rule": (without_film_rule(part) or {}).get("gamma_mev_per_a2"),
                "v3_variant": part["supercell_variant"],
                "orientations": [
                    {
                        "variant": o["variant"],
                        "unrelaxed_mev_per_a2": o["unrelaxed_mev_per_a2"],
                        "gamma_mev_per_a2": None if o["refused"] else o["interfacial_energy_mev_per_a2"],
                        "refused": o["refused"],
                        "li_film_planes": o["li_film_planes"],
                    }
                    for o in part["orientations"]
                ],
                "wall_seconds": part["wall_seconds"],
            }
        )
    pilot_materials = sorted({p["material"] for p in planes})
    sensitivity = with_values_of(table, parts, v3, NO_FILM_RULE)

    return {
        "potential": potential,
        "v2_protocol": v2,
        "v3_protocol": v3,
        "materials": pilot_materials,
        "planes": planes,
        "refused_li_reconstructed": sum(
            1 for p in planes for o in p["orientations"] if o["refused"] == "li_reconstructed"
        ),
        "orientations_relaxed": sum(len(p["orientations"]) for p in planes),
        "descriptor": {
            material: {key: descriptors(planes, key)[material] for key in ("v2", "v3", "v3_without_film_rule")}
            for material in pilot_materials
        },
        "calibration": {
            **{
                version: calibration_of(table, protocol, potential, pilot_materials)
                for version, protocol in (("v2", v2), ("v3", v3))
            },
            "v3_without_film_rule": calibration_of(sensitivity, NO_FILM_RULE, potential, pilot_materials),
        },
    }


#: label of the sensitivity variant: v3's orientations, without its Li film rule
NO_FILM_RULE = "v3 without the Li film rule"


def without_film_rule(part: dict) -> dict | None:
    """What v3 would keep for one plane without rule 2: the lowest γ over the fits of all its
    orientations' thickness series (each refitted from its stored excess energies; a series whose
    intercept error is too large still drops out). None when no series fits."""
    from lithioscreen.interface.fit import PoorFitError, fit_interfacial_energy

    fits = []
    for orientation in part["orientations"]:
        try:
            fit = fit_interfacial_energy(part["n_li"], orientation["excess_mev_per_a2"], part["area_a2"])
        except PoorFitError:
            continue
        fits.append((fit.interfacial_energy_mev_per_a2, fit.intercept_stderr_mev_per_a2, orientation["variant"]))
    if not fits:
        return None
    gamma, stderr, variant = min(fits)
    return {"gamma_mev_per_a2": gamma, "stderr_mev_per_a2": stderr, "variant": variant}


def with_values_of(table, parts: list[dict], protocol: str, label: str):
    """``table`` plus one row per plane of ``parts`` under protocol ``label``, its value the
    no-film-rule γ (each row copies its material's accepted ``protocol`` row of the same potential)."""
    import pandas as pd

    rows = []
    for part in parts:
        kept = without_film_rule(part)
        if kept is None:
            continue
        same = table[
            (table["material"] == part["element"])
            & (table["method"] == f"mlip:{part['calculator']}")
            & (table["protocol"] == protocol)
        ]
        if same.empty:
            continue
        row = same.iloc[0].copy()
        value = kept["gamma_mev_per_a2"]
        row["x_plane"] = f"({part['plane']})"
        for column in ("interfacial_energy_mev_per_a2", "lower_mev_per_a2", "upper_mev_per_a2"):
            row[column] = value
        row["intercept_stderr_mev_per_a2"] = kept["stderr_mev_per_a2"]
        row["protocol"] = label
        rows.append(row)
    return pd.concat([table, pd.DataFrame(rows)], ignore_index=True)


def descriptors(planes: list[dict], key: str) -> dict[str, float | None]:
    """Per material, the highest plane value under ``key`` (the paper's rule; None when no plane has one)."""
    out: dict[str, float | None] = {}
    for p in planes:
        value = p[key]
        best = out.get(p["material"])
        out[p["material"]] = value if best is None else (best if value is None else max(best, value))
    return out


def calibration_of(table, protocol: str, potentials: str | list[str], materials: list[str]) -> dict:
    """The calibration of ``potentials`` (one, or a committee), on their rows of ``protocol`` for
    ``materials`` only (so that protocols are compared on the same materials), against the paper's
    DFT values."""
    from lithioscreen.interface.calibration import CalibrationError, calibrate

    potentials = [potentials] if isinstance(potentials, str) else list(potentials)
    computed = table["value_origin"] == "computed_mlip"
    mine = table["method"].isin([f"mlip:{p}" for p in potentials])
    mine &= table["protocol"] == protocol
    mine &= table["material"].isin(materials)
    try:
        result = calibrate(table[~computed | mine], protocol=protocol)
    except CalibrationError as error:
        return {"error": str(error)}
    errors = [r["calibrated_loo"] - r["dft"] for r in result.references]
    return {
        "references": [
            {
                "name": r["name"],
                "dft": r["dft"],
                "raw": {p: r["raw"].get(p) for p in potentials} if len(potentials) > 1 else r["raw"].get(potentials[0]),
                "calibrated_loo": r["calibrated_loo"],
            }
            for r in result.references
        ],
        "loo_rms_mev_per_a2": float(np.sqrt(np.nanmean(np.square(errors)))),
        "order_checks": result.order_checks,
    }


def complete_potentials(parts_dir: Path) -> tuple[list[str], list[str]]:
    """The potentials whose pilot parts cover every pilot material, and those materials."""
    done: dict[str, set[str]] = {}
    for path in parts_dir.glob("*.json"):
        part = json.loads(path.read_text())
        done.setdefault(part["calculator"], set()).add(part["element"])
    materials = sorted(set.union(*done.values())) if done else []
    return sorted(p for p, have in done.items() if have == set(materials)), materials


def committee_report() -> dict | None:
    """v2 against v3 for the committee of every potential with pilot parts on every pilot material
    (None with fewer than two): the calibration of each protocol on the same materials."""
    from lithioscreen.data import load_interfacial_energies
    from lithioscreen.interface.protocol import current_protocol

    potentials, materials = complete_potentials(PARTS)
    if len(potentials) < 2:
        return None
    table = load_interfacial_energies()
    protocols = (("v2", current_protocol()), ("v3", v3_settings().protocol()))
    return {
        "potentials": potentials,
        "materials": materials,
        "calibration": {
            version: calibration_of(table, protocol, potentials, materials) for version, protocol in protocols
        },
    }


def print_calibrations(calibrations: dict, who: str) -> None:
    for version, cal in calibrations.items():
        if "error" in cal:
            print(f"calibration {version} ({who}): {cal['error']}")
            continue
        refs = ", ".join(f"{r['name']} {r['calibrated_loo'] - r['dft']:+.1f}" for r in cal["references"])
        checks = ", ".join(f"{c['statement']}: {c['holds']}" for c in cal["order_checks"])
        print(f"calibration {version} ({who}): LOO errors {refs} (RMS {cal['loo_rms_mev_per_a2']:.1f}); {checks}")


def print_report(report: dict) -> None:
    print(f"Protocol v3 against v2, {report['potential']}, materials {', '.join(report['materials'])}")
    print(
        f"{'plane':<12}{'v2':>8}  {'v3':<18}{'no film rule':>12}  orientations (γ or refusal; Li film planes unrelaxed->relaxed)"
    )
    for p in report["planes"]:
        v2 = "-" if p["v2"] is None else f"{p['v2']:.1f}"
        v3 = p["v3_refused"] if p["v3"] is None else f"{p['v3']:.1f}"
        loose = "-" if p["v3_without_film_rule"] is None else f"{p['v3_without_film_rule']:.1f}"
        turns = "; ".join(
            f"{o['variant']}: {o['refused'] or round(o['gamma_mev_per_a2'], 1)} "
            + ",".join(f"{a}->{b}" for a, b in o["li_film_planes"])
            for o in p["orientations"]
        )
        print(f"{p['material'] + p['plane']:<12}{v2:>8}  {v3:<18}{loose:>12}  {turns}")
    print(
        "descriptor (highest plane) v2 / v3 / v3 without the film rule: "
        + "; ".join(
            f"{m} " + " / ".join("-" if v is None else f"{v:.1f}" for v in d.values())
            for m, d in report["descriptor"].items()
        )
    )
    print(
        f"orientations relaxed: {report['orientations_relaxed']}, refused as reconstructed: {report['refused_li_reconstructed']}"
    )
    print_calibrations(report["calibration"], report["potential"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--materials", nargs="+", help=f"compute these (default order: {' '.join(DEFAULT_MATERIALS)})")
    parser.add_argument("--potential", default="chgnet")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the machine is shared)")
    parser.add_argument("--report", action="store_true")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    if args.materials:
        import torch

        torch.set_num_threads(args.threads)
        PARTS.mkdir(parents=True, exist_ok=True)
        for material in args.materials:
            name, _, plane = material.partition(":")  # Mo:110 = only that plane
            compute(name, args.potential, [plane] if plane else None)
    if args.report or not args.materials:
        report = build_report(args.potential)
        out = RESULTS / f"interface_protocol_pilot_{args.potential}.json"
        out.write_text(json.dumps(report, indent=1, default=float))
        print_report(report)
        print(f"written {out.relative_to(HERE.parent)}")
        report = committee_report()
        if report is not None:
            out = RESULTS / "interface_protocol_pilot_committee.json"
            out.write_text(json.dumps(report, indent=1, default=float))
            print_calibrations(report["calibration"], f"committee of {', '.join(report['potentials'])}")
            print(f"written {out.relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Validation of the calibrated committee against the paper's DFT (Oh et al., EES 2024), from the cached data.

    python benchmarks/interface_validation.py             # writes benchmarks/results/interface_validation.json, prints the same
    python benchmarks/interface_validation.py --markdown  # the same file; prints the tables of docs/interface.md

Reads data/interfacial_energies.csv (rows of the current protocol only; computed by
benchmarks/run_committee.py or ``lithioscreen interface``), calibrates it
(lithioscreen.interface.calibration) and reports:

* ``references``: for each exact DFT reference (Mo, Ti, LiF, Li2S against Li(100)): name, plane
  (the committee's highest), dft, raw {potential: highest-plane raw value}, committee_raw,
  calibrated (in-sample) and calibrated_loo (every map refitted without it), loo_error;
* ``order_checks``: the paper's statements (Cr > Mo > Ti > Zr; Cr, Mo, Ti, Zr above LiF and
  Li2S; W above LiF on every plane), true/false on the calibrated scale (null: a value is missing);
* ``per_metal``: every material's calibrated value (highest plane) and σ, with its parts;
* ``maps``: per potential slope, intercept, rms, n, leave-one-out errors, raw errors vs DFT;
* ``reference_plane_sensitivity``: the paper's text does not say on which plane LiF and Li2S were
  computed (the highest plane is the rule used); the committee's leave-one-out errors with each
  compound pinned to each of its planes instead;
* ``aim``: the issue's targets (|calibrated_loo - dft| <= 15 meV/Å² for every reference; the order;
  every W plane above LiF), met or not.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
OUT = HERE / "results" / "interface_validation.json"
AIM_MEV_PER_A2 = 15.0


def _clean(value):
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, (np.floating, float)):
        return None if not np.isfinite(value) else round(float(value), 3)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def compare_map_kinds(table) -> dict:
    """Each map family's leave-one-out errors of the committee per reference, and their RMS."""
    from lithioscreen.interface.calibration import MAP_KINDS, CalibrationError, calibrate

    compared = {}
    for kind in MAP_KINDS:
        try:
            result = calibrate(table, map_kind=kind)
        except CalibrationError as error:
            compared[kind] = {"error": str(error)}
            continue
        compared[kind] = {
            "potentials": result.potentials,
            "loo_rms_per_potential": {name: fitted["loo_rms"] for name, fitted in result.maps.items()},
            "loo_errors": {r["name"]: r["loo_error"] for r in result.references},
            "calibration_std": result.calibration_std,
        }
    return compared


def reference_plane_sensitivity(table, compounds=("LiF", "Li2S")) -> list[dict]:
    """The committee's leave-one-out errors with each compound reference pinned to each of its planes.

    The first entry is the rule used (every reference at its highest plane); the others pin the
    compounds, whose plane the paper's text does not give, to one plane each.
    """
    import itertools

    from lithioscreen.interface.calibration import calibrate, computed_rows

    rows = computed_rows(table)
    planes = {name: sorted(rows.loc[rows["material"] == name, "plane"].unique()) for name in compounds}
    choices = [{}] + [
        dict(zip(compounds, combination, strict=True))
        for combination in itertools.product(*(planes[name] for name in compounds))
    ]
    results = []
    for pinned in choices:
        result = calibrate(table, reference_planes=pinned)
        results.append(
            {
                "reference_planes": pinned or "highest",
                "calibration_std": result.calibration_std,
                "loo_errors": {r["name"]: r["loo_error"] for r in result.references},
                "loo_rms_per_potential": {name: fitted["loo_rms"] for name, fitted in result.maps.items()},
            }
        )
    return results


def build_report(table) -> dict:
    from lithioscreen.interface.calibration import SOURCE_LABEL, calibrate

    result = calibrate(table)
    references = [
        {
            key: ref[key]
            for key in ("name", "plane", "dft", "raw", "committee_raw", "calibrated", "calibrated_loo", "loo_error")
        }
        for ref in result.references
    ]
    per_metal = []
    for material, row in result.per_material.iterrows():
        per_metal.append(
            {
                "material": material,
                "material_class": row["material_class"],
                "calibrated_mev_per_a2": row["calibrated_mev_per_a2"],
                "sigma_mev_per_a2": row["std_mev_per_a2"],
                "plane": row["plane"],
                "n_potentials": row["n_potentials"],
                "potentials": row["potentials"],
                "committee_spread": row["committee_spread"],
                "spread_imputed": row["spread_imputed"],
                "calibration_std": row["calibration_std"],
                "fit_stderr": row["fit_stderr"],
                "n_planes": row["n_planes"],
                "dft_mev_per_a2": row["dft_mev_per_a2"],
            }
        )
    maps = {}
    for name, fitted in result.maps.items():
        raw_errors = {
            ref: fitted["raw"][ref] - next(r["dft"] for r in result.references if r["name"] == ref)
            for ref in fitted["raw"]
            if any(r["name"] == ref for r in result.references)
        }
        maps[name] = {
            k: fitted[k]
            for k in (
                "kind",
                "slope",
                "intercept",
                "rms",
                "n",
                "references",
                "loo_errors",
                "loo_rms",
                "included",
                "reason",
            )
        } | {"raw_errors": raw_errors}
    planes = result.per_plane.drop(
        columns=[c for c in result.per_plane.columns if c.startswith("calibrated:")]
    ).to_dict(orient="records")
    loo = [r["loo_error"] for r in references if r["loo_error"] is not None and np.isfinite(r["loo_error"])]
    checks = {c["statement"]: c["holds"] for c in result.order_checks}
    aim = {
        "loo_within_15_every_reference": bool(
            len(loo) == len(references) and all(abs(e) <= AIM_MEV_PER_A2 for e in loo)
        ),
        "order_Cr_Mo_Ti_Zr": checks.get("Cr > Mo > Ti > Zr (highest plane against Li(100))"),
        "W_above_LiF_every_plane": checks.get("W above LiF on every plane"),
    }
    return _clean(
        {
            "protocol": result.protocol,
            "source_label": SOURCE_LABEL,
            "map_kind": result.map_kind,
            "potentials": result.potentials,
            "excluded_potentials": result.excluded,
            "calibration_std_mev_per_a2": result.calibration_std,
            "references": references,
            "order_checks": result.order_checks,
            "per_metal": per_metal,
            "per_plane": planes,
            "maps": maps,
            "map_kinds_compared": compare_map_kinds(table),
            "reference_plane_sensitivity": reference_plane_sensitivity(table),
            "aim": aim,
        }
    )


def print_report(report: dict) -> None:
    print(f"protocol {report['protocol']}")
    print(
        f"committee: {', '.join(report['potentials'])}"
        + (f"; left out: {report['excluded_potentials']}" if report["excluded_potentials"] else "")
    )
    formula = "slope x raw" if report["map_kind"] == "proportional" else "intercept + slope x raw"
    print(f"\nmaps ({report['map_kind']}: DFT = {formula}, least squares over the references' highest planes)")
    print(
        f"{'potential':15}{'slope':>8}{'intercept':>11}{'rms':>7}{'LOO rms':>9}{'n':>3}  raw error vs DFT / leave-one-out error per reference"
    )
    for name, m in report["maps"].items():
        per_ref = ", ".join(
            f"{ref} {m['raw_errors'].get(ref, float('nan')):+.1f}/{m['loo_errors'].get(ref, float('nan')):+.1f}"
            for ref in m["references"]
        )
        slope = "" if m["slope"] is None else f"{m['slope']:.3f}"
        intercept = "" if m["intercept"] is None else f"{m['intercept']:.1f}"
        rms = "" if m["rms"] is None else f"{m['rms']:.1f}"
        loo_rms = "" if m["loo_rms"] is None else f"{m['loo_rms']:.1f}"
        print(
            f"{name:15}{slope:>8}{intercept:>11}{rms:>7}{loo_rms:>9}{m['n']:>3}  {per_ref}{'' if m['included'] else '  (LEFT OUT: ' + m['reason'] + ')'}"
        )
    print("\nreferences (meV/Å², against Li(100))")
    names = report["potentials"]
    print(
        f"{'name':6}{'plane':8}{'DFT':>8}"
        + "".join(f"{n:>15}" for n in names)
        + f"{'committee raw':>15}{'calibrated':>12}{'LOO':>8}{'LOO - DFT':>11}"
    )
    for ref in report["references"]:
        raw = "".join(f"{ref['raw'].get(n, float('nan')):>15.1f}" for n in names)
        miss = "" if abs(ref["loo_error"]) <= AIM_MEV_PER_A2 else "  MISS"
        print(
            f"{ref['name']:6}{ref['plane']:8}{ref['dft']:>8.1f}{raw}{ref['committee_raw']:>15.1f}{ref['calibrated']:>12.1f}{ref['calibrated_loo']:>8.1f}{ref['loo_error']:>+11.1f}{miss}"
        )
    print(f"calibration error (RMS of the leave-one-out errors): {report['calibration_std_mev_per_a2']}")
    print("\nmap families compared (committee leave-one-out error per reference; the first is used)")
    for kind, compared in report["map_kinds_compared"].items():
        if "error" in compared:
            print(f"  {kind:13} no calibration: {compared['error']}")
            continue
        errors = ", ".join(f"{name} {error:+.1f}" for name, error in compared["loo_errors"].items())
        per_potential = ", ".join(
            f"{name} {rms:.1f}" for name, rms in compared["loo_rms_per_potential"].items() if rms is not None
        )
        print(
            f"  {kind:13} committee RMS {compared['calibration_std']:.1f}: {errors} ({', '.join(compared['potentials'])})"
        )
        print(f"  {'':13} per potential, leave-one-out RMS: {per_potential}")
    print("\ncompound references pinned to one plane (the text does not give it; the first row is the rule used)")
    for entry in report["reference_plane_sensitivity"]:
        print(f"  {_pinned(entry):28} {_sensitivity_errors(entry)}")
    print("\norder checks on the calibrated scale")
    for check in report["order_checks"]:
        holds = {True: "true", False: "FALSE", None: "unknown"}[check["holds"]]
        print(f"  {check['statement']:52} {holds:8} ({check['detail']})")
    print("\nper material (highest plane; σ = committee spread ⊕ calibration error ⊕ fit error)")
    print(f"{'material':9}{'plane':9}{'γ':>8}{'σ':>7}{'spread':>8}{'calib':>7}{'fit':>6}{'n':>3}  potentials{'':8}DFT")
    for row in report["per_metal"]:
        dft = "" if row["dft_mev_per_a2"] is None else f"{row['dft_mev_per_a2']:.1f}"
        imputed = "*" if row["spread_imputed"] else ""
        spread = (
            "–" if row["committee_spread"] is None else f"{row['committee_spread']:.1f}"
        )  # no plane has two potentials
        print(
            f"{row['material']:9}{row['plane']:9}{row['calibrated_mev_per_a2']:>8.1f}{row['sigma_mev_per_a2']:>7.1f}{spread:>7}{imputed:1}"
            f"{row['calibration_std']:>7.1f}{row['fit_stderr']:>6.1f}{row['n_potentials']:>3}  {row['potentials']:18}{dft}"
        )
    print("(* one potential: the spread is the median of the planes with several; – : no plane has several yet)")
    print(f"\naim: {report['aim']}")


def _pinned(entry: dict) -> str:
    pinned = entry["reference_planes"]
    return "highest planes (used)" if pinned == "highest" else ", ".join(f"{n} {p}" for n, p in pinned.items())


def _sensitivity_errors(entry: dict, rms: bool = True) -> str:
    errors = ", ".join(f"{name} {error:+.1f}" for name, error in entry["loo_errors"].items())
    per_potential = ", ".join(f"{n} {v:.1f}" for n, v in entry["loo_rms_per_potential"].items() if v is not None)
    head = f"committee RMS {entry['calibration_std']:.1f}: " if rms else ""
    return f"{head}{errors}; {per_potential}"


def markdown(report: dict) -> str:
    """The tables of docs/interface.md (references, map families, order checks, per material), in Markdown."""
    names = report["potentials"]
    lines = [
        "| reference | highest plane | DFT | "
        + " | ".join(f"{n} raw" for n in names)
        + " | calibrated | held out | held out − DFT |",
        "|---|---|---|" + "---|" * len(names) + "---|---|---|",
    ]
    for ref in report["references"]:
        raw = " | ".join("–" if ref["raw"].get(n) is None else f"{ref['raw'][n]:.1f}" for n in names)
        lines.append(
            f"| {ref['name']} | {ref['plane']} | {ref['dft']:.1f} | {raw} | {ref['calibrated']:.1f} | "
            f"{ref['calibrated_loo']:.1f} | {ref['loo_error']:+.1f} |"
        )
    lines += ["", "| map | potential | slope | intercept | held-out RMS |", "|---|---|---|---|---|"]
    for name, m in report["maps"].items():
        state = "" if m["included"] else f" (left out: {m['reason']})"
        slope, intercept, loo_rms = (
            "–" if m[key] is None else f"{m[key]:.{digits}f}"
            for key, digits in (("slope", 3), ("intercept", 1), ("loo_rms", 1))
        )  # a potential left out has no map
        lines.append(f"| {m['kind']} | {name}{state} | {slope} | {intercept} | {loo_rms} |")
    lines += [""]
    for kind, compared in report["map_kinds_compared"].items():
        if "error" in compared:
            lines.append(f"* {kind}: no calibration ({compared['error']})")
            continue
        errors = ", ".join(f"{name} {error:+.1f}" for name, error in compared["loo_errors"].items())
        lines.append(f"* {kind}: committee held-out RMS {compared['calibration_std']:.1f} ({errors})")
    lines += [
        "",
        "| compound references | committee held-out RMS | held-out error per reference; RMS per potential |",
        "|---|---|---|",
    ]
    for entry in report["reference_plane_sensitivity"]:
        lines.append(f"| {_pinned(entry)} | {entry['calibration_std']:.1f} | {_sensitivity_errors(entry, rms=False)} |")
    lines += [""]
    for check in report["order_checks"]:
        holds = {True: "holds", False: "**fails**", None: "unknown"}[check["holds"]]
        lines.append(f"* {check['statement']}: {holds} ({check['detail']})")
    lines += [
        "",
        "| material | plane | γ | σ | committee spread | potentials | planes | DFT |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in report["per_metal"]:
        dft = "" if row["dft_mev_per_a2"] is None else f"{row['dft_mev_per_a2']:.1f}"
        spread = "–" if row["committee_spread"] is None else f"{row['committee_spread']:.1f}"
        imputed = " (imputed)" if row["spread_imputed"] else ""
        lines.append(
            f"| {row['material']} | {row['plane']} | {row['calibrated_mev_per_a2']:.1f} | {row['sigma_mev_per_a2']:.1f} | "
            f"{spread}{imputed} | {row['potentials'].replace(';', ', ')} | {row['n_planes']} | {dft} |"
        )
    return "\n".join(lines)


def main() -> int:
    from lithioscreen.data import load_interfacial_energies
    from lithioscreen.interface.calibration import CalibrationError

    try:
        report = build_report(load_interfacial_energies())
    except CalibrationError as error:
        print(f"no calibration: {error}")
        return 1
    OUT.write_text(json.dumps(report, indent=1))
    if "--markdown" in sys.argv[1:]:
        print(markdown(report))
        return 0
    print_report(report)
    print(f"\nwritten {OUT.relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

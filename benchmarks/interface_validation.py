"""Validate MLIP Li(100)/X interfacial energies against the paper's DFT (Oh et al., EES 2024).

    python benchmarks/interface_validation.py                      # report on the cached values in data/
    python benchmarks/interface_validation.py --compute chgnet     # (re)compute W, Cr, Mo, Ti, Zr, store, report
    python benchmarks/interface_validation.py --compute sevennet --metals Mo Ti

What is checked (the paper's main text; its Fig. 4e-f, 7d and the ESI were not read):
* Mo 81.742 and Ti 66.799 meV/Å² on Li(100): error of each potential;
* the order Cr > Mo > Ti > Zr (highest values against Li(100));
* W above LiF (44.054 meV/Å²) on every plane computed;
* the ~100 meV/Å² threshold: Cr and W above, Mo, Ti and Zr below;
* Spearman correlation of the interfacial energy with the measured CCD of the X(30 nm)/Mg
  cells (data/cells.csv; censored CCDs enter as the midpoint of their interval, a lower bound as
  its bound, so Mo, Ti and Zr tie);
* wall time per interface (the three relaxations of a thickness series) and per run, on the device
  used, from the compute run (benchmarks/results/interface_validation_<calculator>.json).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
PAPER_EXACT = {"Mo": 81.742, "Ti": 66.799}
LIF = 44.054
THRESHOLD = 100.0
PAPER_METALS = ("W", "Cr", "Mo", "Ti", "Zr")


def compute(calculator: str, metals, device: str, batch: bool) -> None:
    from lithioscreen.interface import cache
    from lithioscreen.interface.calculators import software_versions
    from lithioscreen.interface.workflow import InterfaceSettings, Progress, compute_interfacial_energies

    class Log(Progress):
        def stage(self, name, total):
            print(f"{name}: {total} relaxations", file=sys.stderr, flush=True)

        def done(self, result):
            print(f"  {result.key} {result.n_atoms} atoms, {result.steps} steps, converged {result.converged}, {result.seconds:.0f} s", file=sys.stderr, flush=True)

        def finished(self, result):  # stored as soon as it is known
            cache.write_results([result], software_versions(calculator))

    start = time.perf_counter()
    results = compute_interfacial_energies([(m, None) for m in metals], calculator, device, InterfaceSettings(), batch=batch, progress=Log())
    wall = time.perf_counter() - start
    record = {
        "calculator": calculator,
        "device": device,
        "batched": batch,
        "machine": f"{platform.machine()}, {__import__('os').cpu_count()} cores (shared)",
        "wall_seconds": wall,
        "results": [r.as_record() for r in results],
    }
    (HERE / "results" / f"interface_validation_{calculator}.json").write_text(json.dumps(record, indent=1, default=float))


def report() -> int:
    from scipy.stats import spearmanr

    from lithioscreen.data import load_cells, load_interfacial_energies

    table = load_interfacial_energies()
    mlip = table[table["method"].str.startswith("mlip:") & table["material"].isin(PAPER_METALS) & (table["li_plane"] == "(100)")]
    if mlip.empty:
        print("no cached MLIP values for the paper's metals: run with --compute chgnet")
        return 1
    cells = load_cells()
    ccd = {}
    measured = cells[(cells["underlayer"] == "Mg") & cells["overlayer"].isin(PAPER_METALS) & (cells["ccd_censoring"] != "not_measured")]
    for _, cell in measured.iterrows():
        upper = cell["ccd_upper_ma_cm2"]
        ccd[cell["overlayer"]] = cell["ccd_lower_ma_cm2"] if np.isnan(upper) else (cell["ccd_lower_ma_cm2"] + upper) / 2
    for method, rows in mlip.groupby("method"):
        best = rows.loc[rows.groupby("material")["interfacial_energy_mev_per_a2"].idxmax()].set_index("material")
        print(f"\n== {method} ({best['software_versions'].iloc[0]}) ==")
        timing_file = HERE / "results" / f"interface_validation_{method.split(':', 1)[1]}.json"
        record = json.loads(timing_file.read_text()) if timing_file.exists() else None
        failures = {r["element"]: r["error"] for r in (record or {"results": []})["results"] if r["error"]}
        lines = []
        for metal in PAPER_METALS:
            if metal not in best.index:
                lines.append((metal, "", np.nan, np.nan, f"no value: {failures[metal]}" if metal in failures else "not computed", ""))
                continue
            row = best.loc[metal]
            value = row["interfacial_energy_mev_per_a2"]
            if metal in PAPER_EXACT:
                paper, error = f"{PAPER_EXACT[metal]:.3f}", value - PAPER_EXACT[metal]
                verdict = "within 15" if abs(error) <= 15 else "MISS (> 15)"
            else:
                paper, error = {"W": "> 100 (and > LiF 44.1)", "Cr": "> 100, > Mo", "Zr": "44.1 < Zr < 66.8"}[metal], np.nan
                ok = {"W": value > THRESHOLD, "Cr": value > THRESHOLD, "Zr": LIF < value < PAPER_EXACT["Ti"]}[metal]
                verdict = "consistent" if ok else "VIOLATES the paper's bound"
            lines.append((metal, row["x_plane"], value, row["intercept_stderr_mev_per_a2"], paper, verdict, error, row["fit_r2"], row["li_strain_pct"]))
        print(f"{'metal':6}{'X plane':9}{'MLIP':>9}{'±':>6}  {'paper DFT (meV/Å²)':24}{'error':>8}  {'R²':>6}{'Li strain %':>12}  verdict")
        for line in lines:
            if len(line) == 6:
                print(f"{line[0]:6}{'':9}{'':>9}{'':>6}  {'':24}{'':>8}  {'':>6}{'':>12}  {line[4]}")
                continue
            metal, plane, value, stderr, paper, verdict, error, r2, strain = line
            err = "" if np.isnan(error) else f"{error:+.1f}"
            print(f"{metal:6}{plane:9}{value:9.1f}{stderr:6.1f}  {paper:24}{err:>8}  {r2:6.2f}{strain:12.2f}  {verdict}")
        exact_errors = [line[6] for line in lines if len(line) > 6 and not np.isnan(line[6])]
        if exact_errors:
            print(f"RMS error vs the two exact DFT values (Mo, Ti): {np.sqrt(np.mean(np.square(exact_errors))):.1f} meV/Å²")
        values = best["interfacial_energy_mev_per_a2"]
        order = [m for m in ("Cr", "Mo", "Ti", "Zr") if m in values.index]
        if len(order) > 1:
            held = all(values[a] > values[b] for a, b in zip(order, order[1:]))
            missing = [m for m in ("Cr", "Mo", "Ti", "Zr") if m not in order]
            print(
                f"order Cr > Mo > Ti > Zr: {'holds' if held else 'does NOT hold'} among {', '.join(order)} "
                f"({' > '.join(f'{m} {values[m]:.1f}' for m in sorted(order, key=lambda m: -values[m]))})"
                + (f"; no value for {', '.join(missing)}" if missing else "")
            )
        w_rows = rows[rows["material"] == "W"]
        if not w_rows.empty:
            above = (w_rows["interfacial_energy_mev_per_a2"] > LIF).all()
            planes = ", ".join(f"{r.x_plane} {r.interfacial_energy_mev_per_a2:.1f}" for r in w_rows.itertuples())
            print(f"W above LiF ({LIF}) on every computed plane: {'yes' if above else 'NO'} ({planes})")
        sides = {m: values[m] >= THRESHOLD for m in values.index}
        expected = {"W": True, "Cr": True, "Mo": False, "Ti": False, "Zr": False}
        wrong = [m for m in sides if sides[m] != expected[m]]
        print(
            f"~100 meV/Å² threshold (Cr, W above; Mo, Ti, Zr below): {'reproduced' if not wrong else 'wrong side for ' + ', '.join(wrong)}"
            f" (among {', '.join(sides)})"
        )
        common = [m for m in values.index if m in ccd]
        if len(common) >= 3:
            rho = spearmanr([values[m] for m in common], [ccd[m] for m in common]).statistic
            print(f"Spearman(interfacial energy, measured CCD) over {', '.join(common)}: {rho:.2f}  (CCD midpoints; Mo, Ti, Zr tie)")
        if record is not None:
            per = [r["relax_seconds"] for r in record["results"] if r["relax_seconds"]]
            print(
                f"timing ({record['device']}, {'batched' if record['batched'] else 'sequential'}, {record['machine']}): "
                f"run {record['wall_seconds'] / 60:.1f} min for {len(record['results'])} interfaces + bulk; "
                + ("per interface (sum of its 3 relaxations) " + ", ".join(f"{r['element']} {r['relax_seconds']:.0f} s" for r in record["results"]) if not record["batched"] else
                   f"{record['wall_seconds'] / max(len(record['results']), 1):.0f} s per interface on average (all relaxed together)")
            )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--compute", metavar="CALCULATOR", help="compute first with chgnet or sevennet")
    parser.add_argument("--metals", nargs="+", default=list(PAPER_METALS))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--no-batch", action="store_true", help="relax one structure after another")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    if args.compute:
        compute(args.compute, args.metals, args.device, batch=not args.no_batch)
    return report()


if __name__ == "__main__":
    sys.exit(main())

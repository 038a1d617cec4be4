"""The committee run of issue 15: every (material, plane, potential) of protocol v2 that is missing.

    nohup nice -n 10 python benchmarks/run_committee.py --worker > logs/committee_w1.log 2>&1 &   # a worker (run two at most)
    python benchmarks/run_committee.py --plan        # what is done, refused, running and missing; time estimate
    python benchmarks/run_committee.py --summary     # write benchmarks/results/interface_committee.json from the run records
    python benchmarks/run_committee.py --stop        # every running worker finishes its job, then stops

Order (the issue's compute budget): the references Mo, Ti, LiF, Li2S and the training metals W,
Cr, Zr, Mg with CHGNet and SevenNet-0, then with SevenNet-l3i5 (the calibration needs only these),
then every feasible default candidate with CHGNet and SevenNet-0 (each candidate's first plane, the
close-packed one, for all of them before their other planes), then SevenNet-l3i5 for them, then
(optional, ``--extra``) CHGNet-r2SCAN for everything.

Feasible candidates (data/li_binary_phase_data.csv): metals whose Li-X diagram shows no compound and
no Li solubility above 1 at.% (``li_x_miscibility`` immiscible or unknown; Ni, with 3 at.%, is
out), with a bcc, fcc or hcp reference structure; the others are recorded as skipped with the reason
(Mn: alpha-Mn is not bcc/fcc/hcp, the surrogate covers it).

Each job is one (material, plane, potential): registry scan + the relaxed Li thickness series
(batched lockstep on the CPU) + the fit; the bulk crystals are relaxed once per worker process
and potential. A worker claims a job with an exclusive ``filelock`` on
``benchmarks/results/interface_committee/claims/<job>.lock`` (released if the worker dies), skips
jobs that are cached under the current protocol (data/interfacial_energies.csv) or were refused
under it in an earlier run record, stores each accepted value the moment it is fitted, and appends
an entry to its run record ``benchmarks/results/interface_committee/run-<start>-<pid>.json``
(rewritten atomically after every job): wall time, converged or not, refused or not and why,
package versions, start/end timestamps. So a stopped run loses at most the job in progress, and
starting a worker again computes only what is missing.

``--protocol-version v3`` runs, plans and summarises under protocol v3's defaults instead (every
Li orientation relaxed, reconstructed Li films refused; src/lithioscreen/interface/protocol.py):
the way to recompute the table before v3 becomes the default. Claims are per job, not per
protocol: do not run v2 and v3 workers at the same time.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import json
import os
import platform
import signal
import socket
import sys
import time
import traceback
import warnings
from pathlib import Path

import numpy as np
from filelock import FileLock, Timeout

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RECORDS = HERE / "results" / "interface_committee"
CLAIMS = RECORDS / "claims"
#: touched by ``--stop``; a worker that started before it was touched stops between jobs
STOP_FILE = CLAIMS / "stop"
#: the protocol-v3 pilot's results, one file per (material, plane, potential)
PILOT_PARTS = HERE / "results" / "interface_protocol_pilot"
SUMMARY = HERE / "results" / "interface_committee.json"

REFERENCES = ("Mo", "Ti", "LiF", "Li2S")
TRAINING = ("W", "Cr", "Zr", "Mg")  # Mo and Ti are references
MAX_LI_SOLUBILITY_AT_PCT = 1.0
#: rough seconds per job on one shared core (measured: see --plan), used only for the estimate
SECONDS_PER_JOB = {"chgnet": 400, "sevennet": 400, "sevennet-l3i5": 1200, "chgnet-r2scan": 400}


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def versions() -> dict[str, str]:
    out = {}
    for package in ("lithioscreen", "chgnet", "sevenn", "torch", "ase", "pymatgen", "numpy"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            out[package] = importlib.metadata.version(package)
    return out


def feasible_candidates() -> tuple[list[str], dict[str, str]]:
    """(buildable feasible metals, {excluded or skipped metal: reason}) from the phase data."""
    from lithioscreen.data import load_phase_data
    from lithioscreen.interface.build import InterfaceInputError, crystal_structure

    phase = load_phase_data()
    metals, reasons = [], {}
    for row in phase.itertuples():
        element = row.element
        if row.li_x_miscibility not in ("immiscible", "unknown"):
            reasons[element] = f"not feasible: li_x_miscibility {row.li_x_miscibility}"
            continue
        solubility = row.max_li_solubility_in_x_at_pct
        if np.isfinite(solubility) and solubility > MAX_LI_SOLUBILITY_AT_PCT:
            reasons[element] = f"not feasible: dissolves {solubility:g} at.% Li (> {MAX_LI_SOLUBILITY_AT_PCT:g})"
            continue
        try:
            crystal_structure(element)
        except InterfaceInputError as error:
            reasons[element] = f"skipped: {error}; the surrogate covers it"
            continue
        metals.append(element)
    return metals, reasons


def jobs(extra: bool = False) -> list[tuple[str, str, str]]:
    """Every (material, plane, potential) in priority order."""
    from lithioscreen.interface.build import planes_for

    first = (*REFERENCES, *TRAINING)
    candidates, _ = feasible_candidates()
    rest = [m for m in candidates if m not in first]
    order = []

    def add(materials, potentials, plane_major=False):
        for potential in potentials:
            if plane_major:  # every candidate's first plane, then every second plane, ...
                planes = {material: planes_for(material) for material in materials}
                todo = [
                    (material, planes[material][index], potential)
                    for index in range(max(map(len, planes.values()), default=0))
                    for material in materials
                    if index < len(planes[material])
                ]
            else:
                todo = [(material, plane, potential) for material in materials for plane in planes_for(material)]
            order.extend(job for job in todo if job not in order)

    add(REFERENCES, ("chgnet", "sevennet"))
    add(TRAINING, ("chgnet", "sevennet"))
    add(REFERENCES, ("sevennet-l3i5",))
    add(TRAINING, ("sevennet-l3i5",))
    # a first value for every candidate before the other planes: the ranking needs every metal on the scale
    add(rest, ("chgnet", "sevennet"), plane_major=True)
    add(rest, ("sevennet-l3i5",), plane_major=True)
    if extra:
        add([*first, *rest], ("chgnet-r2scan",))
    return order


def job_name(job) -> str:
    material, plane, potential = job
    return f"{material}_{plane}_{potential}"


def read_records() -> list[dict]:
    records = []
    for path in sorted(RECORDS.glob("run-*.json")):
        with contextlib.suppress(json.JSONDecodeError, OSError):
            records.append(json.loads(path.read_text()))
    return records


def pilot_record(protocol: str) -> dict:
    """The protocol-v3 pilot's parts (benchmarks/interface_protocol_pilot.py) as one run record: the
    same jobs under the same protocol, so a v3 worker neither recomputes nor re-refuses them."""
    entries = []
    for path in sorted(PILOT_PARTS.glob("*.json")):
        with contextlib.suppress(json.JSONDecodeError, OSError, KeyError):
            part = json.loads(path.read_text())
            if part["protocol"] != protocol:
                continue
            entries.append(
                {
                    "material": part["element"],
                    "plane": part["plane"],
                    "potential": part["calculator"],
                    "refused": part["refused"],
                    "reason": part["error"],
                    "value": None if part["error"] else part["interfacial_energy_mev_per_a2"],
                    "wall_seconds": part["wall_seconds"],
                    "finished": part["finished"],
                    "versions": part["versions"],
                }
            )
    return {"run_id": "interface_protocol_pilot", "protocol": protocol, "entries": entries}


def status(protocol: str) -> dict[tuple, dict]:
    """Per (material, plane, potential): the latest entry of any run record under ``protocol``,
    with 'cached' set when the data file holds the value."""
    from lithioscreen.data import load_interfacial_energies
    from lithioscreen.interface import cache

    out: dict[tuple, dict] = {}
    for record in [*read_records(), pilot_record(protocol)]:
        if record.get("protocol") != protocol or record.get("superseded"):
            continue
        for entry in record.get("entries", []):
            key = (entry["material"], entry["plane"], entry["potential"])
            if key not in out or entry["finished"] >= out[key]["finished"]:
                out[key] = {**entry, "run": record["run_id"]}
    table = load_interfacial_energies()
    for key in list(out) + [k for k in jobs(extra=True) if k not in out]:
        row = cache.find_cached(table, key[0], key[2], key[1], protocol)
        if row is not None:
            out.setdefault(
                key, {"material": key[0], "plane": key[1], "potential": key[2], "refused": "", "finished": ""}
            )
            out[key]["cached"] = True
            out[key]["value"] = float(row["interfacial_energy_mev_per_a2"])
    return out


@contextlib.contextmanager
def claim(job):
    """An exclusive, non-blocking lock on the job's claim file: yields True if this worker has it.

    ``filelock`` (an OS lock, released by the OS if the worker dies); who holds it is written beside
    it, in ``<job>.owner``.
    """
    CLAIMS.mkdir(parents=True, exist_ok=True)
    lock = FileLock(CLAIMS / f"{job_name(job)}.lock", timeout=0)
    try:
        lock.acquire()
    except Timeout:
        yield False
        return
    try:
        (CLAIMS / f"{job_name(job)}.owner").write_text(f"{os.getpid()} {socket.gethostname()} {now()}\n")
        yield True
    finally:
        lock.release()


def is_claimed(job) -> bool:
    """Whether a live worker holds the job's claim (tries the lock without waiting, then lets go)."""
    path = CLAIMS / f"{job_name(job)}.lock"
    if not path.exists():
        return False
    try:
        FileLock(path, timeout=0).acquire().lock.release()
    except Timeout:
        return True
    return False


class RunRecord:
    def __init__(self, protocol: str, potentials: list[str], threads: int):
        RECORDS.mkdir(parents=True, exist_ok=True)
        start = time.strftime("%Y%m%dT%H%M%S")
        self.path = RECORDS / f"run-{start}-{os.getpid()}.json"
        self.data = {
            "run_id": self.path.stem,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores (shared with other work)",
            "nice": os.nice(0),
            "torch_threads": threads,
            "device": "cpu",
            "batched": True,
            "protocol": protocol,
            "potentials": potentials,
            "versions": versions(),
            "started": now(),
            "updated": now(),
            "finished": None,
            "stopped_because": None,
            "in_progress": None,
            "entries": [],
        }
        self.write()

    def add(self, entry: dict) -> None:
        self.data["entries"].append(entry)
        self.write()

    def begin(self, job) -> None:
        """Name the job in progress (None when it has ended): a stopped run shows what it abandoned."""
        self.data["in_progress"] = None if job is None else {"job": job_name(job), "started": now()}
        self.write()

    def close(self, reason: str) -> None:
        self.data["finished"] = now()
        self.data["stopped_because"] = reason
        self.write()

    def write(self) -> None:
        from lithioscreen.data._files import atomic_write

        self.data["updated"] = now()
        atomic_write(self.path, json.dumps(self.data, indent=1, default=float).encode())


def settings_of(args):
    """The protocol settings a run uses: the defaults, of ``--protocol-version`` (v2 unless given)."""
    from lithioscreen.interface.protocol import PROTOCOL_VERSION, InterfaceSettings

    return InterfaceSettings(version=getattr(args, "protocol_version", None) or PROTOCOL_VERSION)


def run_job(job, record: RunRecord, device: str, settings=None) -> dict:
    from lithioscreen.interface import cache, workflow
    from lithioscreen.interface.build import material_class
    from lithioscreen.interface.calculators import software_versions
    from lithioscreen.interface.protocol import InterfaceSettings

    material, plane, potential = job
    settings = settings or InterfaceSettings()
    bulk_seconds = {}

    class Log(workflow.Progress):
        def stage(self, name, total):
            print(f"  [{time.strftime('%X')}] {material}({plane}) {potential}: {name} {total}", flush=True)
            self.stage_start = time.perf_counter()

        def done(self, result):
            if result.key[0] == "bulk":
                bulk_seconds[result.key[1]] = result.seconds
            print(
                f"    {result.key} {result.n_atoms} atoms, {result.steps} steps, converged {result.converged}, {result.seconds:.0f} s",
                flush=True,
            )

    started, start = now(), time.perf_counter()
    entry = {
        "material": material,
        "material_class": material_class(material),
        "plane": plane,
        "potential": potential,
        "method": f"mlip:{potential}",
        "started": started,
    }
    try:
        (result,) = workflow.compute_interfacial_energies(
            [(material, plane)], potential, device, settings, batch=True, progress=Log()
        )
    except Exception as error:  # noqa: BLE001 - recorded, the queue goes on
        entry.update(
            finished=now(),
            wall_seconds=time.perf_counter() - start,
            converged=False,
            refused="error",
            reason=f"{type(error).__name__}: {error}",
            traceback=traceback.format_exc()[-2000:],
            stored=False,
        )
        record.add(entry)
        return entry
    stored = False
    if result.ok:
        cache.write_results([result], software_versions(potential))
        stored = True
    entry.update(
        finished=now(),
        wall_seconds=time.perf_counter() - start,
        bulk_seconds=bulk_seconds,
        registry_seconds=result.registry_seconds,
        relax_seconds=result.relax_seconds,
        converged=bool(result.all_converged),
        supercell_variant=result.supercell_variant,
        supercell_variants=result.supercell_variants,
        steps=result.steps,
        refused=result.refused,
        reason=result.error,
        value=result.interfacial_energy_mev_per_a2 if result.ok else None,
        stderr=result.intercept_stderr_mev_per_a2,
        fit_r2=result.fit_r2,
        li_strain=result.li_strain,
        area_a2=result.area_a2,
        n_x=result.n_x,
        x_layers=result.x_layers,
        n_li=result.n_li,
        excess_mev_per_a2=result.excess_mev_per_a2,
        termination=result.termination,
        offset_x_cell=result.offset_x_cell,
        registry_candidates=result.registry_candidates,
        registry_excess_range_mev_per_a2=result.registry_excess_range_mev_per_a2,
        # the Li film before/after relaxation (v3 also every orientation and the film heights):
        # another film rule can be judged later from the record, without recomputing
        li_film_planes=result.li_film_planes,
        li_film_kept=result.li_film_kept,
        li_film_heights_a=result.li_film_heights_a,
        orientations=result.orientations,
        stored=stored,
        software_versions=software_versions(potential),
    )
    record.add(entry)
    return entry


class Stopped(BaseException):
    """Raised by the SIGTERM/SIGINT handler, so that the run record is closed with the reason."""

    def __init__(self, signum: int):
        super().__init__(f"signal {signal.Signals(signum).name}")
        self.signum = signum


def _raise_stopped(signum, frame):
    raise Stopped(signum)


def stop_requested(since: float) -> bool:
    """True if ``--stop`` touched the stop file after ``since`` (a time.time())."""
    try:
        return STOP_FILE.stat().st_mtime >= since
    except FileNotFoundError:
        return False


def worker(args) -> int:
    import torch

    torch.set_num_threads(args.threads)
    # a job started with `nohup ... &` from a script inherits SIGINT ignored: install both handlers
    # explicitly, so that `kill` or Ctrl-C ends the worker with its record closed and the job in
    # progress named (its value, if any, is lost; a later worker computes it again)
    previous = {signum: signal.signal(signum, _raise_stopped) for signum in (signal.SIGTERM, signal.SIGINT)}
    settings = settings_of(args)
    protocol = settings.protocol()
    todo = jobs(args.extra)
    if args.potentials:
        todo = [job for job in todo if job[2] in args.potentials]
    if args.materials:
        todo = [job for job in todo if job[0] in args.materials]
    record = RunRecord(protocol, sorted({job[2] for job in todo}), args.threads)
    print(f"[{now()}] worker {os.getpid()}: {len(todo)} jobs in the queue; record {record.path}", flush=True)
    started = time.time()
    deadline = time.monotonic() + args.hours * 3600 if args.hours else None
    reason, exit_code = "queue empty", 0
    try:
        for job in todo:
            if deadline is not None and time.monotonic() > deadline:
                reason = f"time limit of {args.hours} h"
                break
            if stop_requested(started):
                reason = f"stop file {STOP_FILE.name} (run_committee.py --stop)"
                break
            known = status(protocol).get(job)
            if known and (known.get("cached") or (known.get("refused") and not args.retry_refused)):
                continue
            with claim(job) as mine:
                if not mine:
                    continue
                known = status(protocol).get(job)  # again, under the claim: another worker may just have finished it
                if known and (known.get("cached") or (known.get("refused") and not args.retry_refused)):
                    continue
                print(f"[{now()}] {job_name(job)}", flush=True)
                record.begin(job)
                entry = run_job(job, record, args.device, settings)
                record.begin(None)
                value = "" if entry.get("value") is None else f"{entry['value']:.2f} ± {entry['stderr']:.2f}"
                print(
                    f"[{now()}] {job_name(job)} done in {entry['wall_seconds']:.0f} s: {value} {entry.get('refused', '')} {str(entry.get('reason', ''))[:200]}",
                    flush=True,
                )
    except Stopped as stop:
        reason = f"{stop}; the job in progress was abandoned"
        print(f"[{now()}] worker {os.getpid()}: {reason}", flush=True)
        exit_code = 128 + stop.signum  # what a shell reports for a process killed by that signal: 143, 130
    finally:
        record.close(reason)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return exit_code


def request_stop() -> int:
    CLAIMS.mkdir(parents=True, exist_ok=True)
    STOP_FILE.touch()
    running = [job_name(job) for job in jobs(True) if is_claimed(job)]
    print(
        f"touched {STOP_FILE}: workers stop after their job in progress"
        + (f" ({', '.join(running)})" if running else " (no job is running)")
    )
    return 0


def plan(args) -> int:
    protocol = settings_of(args).protocol()
    known = status(protocol)
    todo = jobs(True)
    running = []
    for job in todo:
        if is_claimed(job):
            running.append(job)
    done = [j for j in todo if known.get(j, {}).get("cached")]
    refused = [j for j in todo if known.get(j, {}).get("refused") and not known[j].get("cached")]
    missing = [j for j in todo if j not in done and j not in refused and j not in running]
    measured = {}
    for j, entry in known.items():
        if entry.get("wall_seconds"):
            measured.setdefault(j[2], []).append(entry["wall_seconds"])
    print(f"protocol {protocol}")
    print(
        f"{len(done)} cached, {len(refused)} refused, {len(running)} running, {len(missing)} missing (of {len(todo)} incl. the optional r2SCAN jobs)"
    )
    for name, values in sorted(measured.items()):
        print(f"  measured {name}: median {np.median(values):.0f} s per job over {len(values)}")
    _, reasons = feasible_candidates()
    print("skipped / not feasible: " + "; ".join(f"{m}: {r}" for m, r in reasons.items() if r.startswith("skipped")))
    if running:
        print("running: " + ", ".join(job_name(j) for j in running))
    for label, subset in (
        ("missing (core)", [j for j in missing if j[2] != "chgnet-r2scan"]),
        ("missing (optional r2SCAN)", [j for j in missing if j[2] == "chgnet-r2scan"]),
    ):
        seconds = sum(np.median(measured.get(j[2], [SECONDS_PER_JOB[j[2]]])) for j in subset)
        print(
            f"{label}: {len(subset)} jobs, ~{seconds / 3600:.1f} h of one core"
            + (
                ": " + ", ".join(job_name(j) for j in subset[:12]) + (" ..." if len(subset) > 12 else "")
                if subset
                else ""
            )
        )
    for job in refused:
        print(f"  refused {job_name(job)}: {known[job]['refused']}: {str(known[job].get('reason', ''))[:160]}")
    return 0


def summary(args) -> int:
    protocol = settings_of(args).protocol()
    records = read_records()
    known = status(protocol)
    _, reasons = feasible_candidates()
    entries = []
    for record in records:
        for entry in record.get("entries", []):
            entries.append(
                {
                    **{
                        k: entry.get(k)
                        for k in (
                            "material",
                            "plane",
                            "potential",
                            "started",
                            "finished",
                            "wall_seconds",
                            "registry_seconds",
                            "relax_seconds",
                            "bulk_seconds",
                            "converged",
                            "steps",
                            "refused",
                            "reason",
                            "value",
                            "stderr",
                            "stored",
                        )
                    },
                    "run": record["run_id"],
                    "protocol": record["protocol"],
                    "versions": record["versions"],
                    "superseded": bool(record.get("superseded")),
                }
            )
    totals = {}
    for entry in entries:
        if entry["protocol"] != protocol or entry["superseded"]:
            continue
        t = totals.setdefault(entry["potential"], {"jobs": 0, "stored": 0, "refused": 0, "wall_seconds": 0.0})
        t["jobs"] += 1
        t["stored"] += bool(entry["stored"])
        t["refused"] += bool(entry["refused"])
        t["wall_seconds"] += float(entry["wall_seconds"] or 0)
    out = {
        "protocol": protocol,
        "written": now(),
        "runs": [
            {
                k: r.get(k)
                for k in (
                    "run_id",
                    "pid",
                    "started",
                    "finished",
                    "stopped_because",
                    "superseded",
                    "versions",
                    "torch_threads",
                    "nice",
                    "potentials",
                    "protocol",
                )
            }
            | {"jobs": len(r.get("entries", []))}
            for r in records
        ],
        "totals_per_potential": totals,
        "total_wall_seconds": sum(t["wall_seconds"] for t in totals.values()),
        "skipped": {m: r for m, r in reasons.items() if r.startswith("skipped")},
        "not_feasible": {m: r for m, r in reasons.items() if r.startswith("not feasible")},
        "status": [
            {
                "material": k[0],
                "plane": k[1],
                "potential": k[2],
                "cached": bool(v.get("cached")),
                "refused": v.get("refused", ""),
                "value": v.get("value"),
            }
            for k, v in sorted(known.items())
        ],
        "entries": entries,
    }
    # v2 (the default) keeps its file; another protocol's summary goes beside it, e.g. interface_committee_v3.json
    version = protocol.split(";", 1)[0]
    path = SUMMARY if version == "v2" else SUMMARY.with_name(f"{SUMMARY.stem}_{version}.json")
    path.write_text(json.dumps(out, indent=1, default=float))
    print(f"written {path.relative_to(ROOT)}: {len(entries)} entries from {len(records)} runs")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--worker", action="store_true", help="compute missing jobs, in order")
    parser.add_argument("--plan", action="store_true")
    parser.add_argument("--summary", action="store_true")
    parser.add_argument("--stop", action="store_true", help="running workers stop after their job in progress")
    parser.add_argument("--extra", action="store_true", help="also the optional CHGNet-r2SCAN jobs")
    parser.add_argument("--potentials", nargs="+")
    parser.add_argument("--materials", nargs="+")
    parser.add_argument("--retry-refused", action="store_true")
    parser.add_argument("--hours", type=float, help="stop taking new jobs after this long")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--protocol-version",
        choices=["v2", "v3"],
        help="compute/plan/summarise under this protocol's defaults (default: the current one, v2)",
    )
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    os.chdir(ROOT)
    if args.worker:
        return worker(args)
    if args.summary:
        return summary(args)
    if args.stop:
        return request_stop()
    return plan(args)


if __name__ == "__main__":
    sys.exit(main())

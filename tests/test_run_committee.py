"""benchmarks/run_committee.py: the queue (order, feasible set, claims, records), without computing anything real."""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import signal

import pytest
from conftest import load_benchmark


@pytest.fixture()
def committee(tmp_path, monkeypatch):
    module = load_benchmark("run_committee")
    monkeypatch.setattr(module, "RECORDS", tmp_path / "records")
    monkeypatch.setattr(module, "CLAIMS", tmp_path / "records" / "claims")
    monkeypatch.setattr(module, "STOP_FILE", tmp_path / "records" / "claims" / "stop")
    monkeypatch.setattr(module, "PILOT_PARTS", tmp_path / "pilot")
    return module


def test_feasible_candidates_follow_the_phase_data(committee):
    pytest.importorskip("ase")
    metals, reasons = committee.feasible_candidates()
    assert set(metals) == {
        "Ti",
        "V",
        "Cr",
        "Fe",
        "Co",
        "Cu",
        "Y",
        "Zr",
        "Nb",
        "Mo",
        "La",
        "Hf",
        "Ta",
        "W",
        "Be",
        "Sc",
        "Ru",
        "Re",
        "Os",
    }
    assert (
        "dissolves 3.03 at.% Li" in reasons["Ni"]
        and "solid_solution" in reasons["Mg"]
        and "compound_forming" in reasons["Al"]
    )
    assert reasons["Mn"].startswith("skipped") and "surrogate" in reasons["Mn"]


def test_references_and_training_metals_come_first(committee):
    pytest.importorskip("ase")
    order = committee.jobs()
    first = {job[0] for job in order[:38]}
    assert first == {"Mo", "Ti", "LiF", "Li2S", "W", "Cr", "Zr", "Mg"}
    assert {job[2] for job in order[:38]} == {"chgnet", "sevennet"}
    l3i5 = [job for job in order if job[2] == "sevennet-l3i5"]
    assert {job[0] for job in l3i5[:19]} == {"Mo", "Ti", "LiF", "Li2S", "W", "Cr", "Zr", "Mg"}
    assert order.index(l3i5[18]) < order.index(("Nb", "110", "chgnet"))  # calibration set complete before candidates
    assert ("Mg", "10-10", "sevennet-l3i5") in order and not any(job[2] == "chgnet-r2scan" for job in order)
    assert any(job[2] == "chgnet-r2scan" for job in committee.jobs(extra=True))
    assert len(order) == len(set(order))


def _hold(claims_dir, name, started, release):
    from filelock import FileLock

    lock = FileLock(claims_dir / f"{name}.lock")
    lock.acquire()
    started.set()
    release.wait(30)


def test_a_claimed_job_is_not_taken_twice(committee):
    job = ("Mo", "110", "chgnet")
    committee.CLAIMS.mkdir(parents=True)
    context = multiprocessing.get_context("spawn")
    started, release = context.Event(), context.Event()
    other = context.Process(target=_hold, args=(committee.CLAIMS, committee.job_name(job), started, release))
    other.start()
    try:
        assert started.wait(30)
        assert committee.is_claimed(job)
        with committee.claim(job) as mine:
            assert mine is False
    finally:
        release.set()
        other.join(30)
    assert not committee.is_claimed(job)
    with committee.claim(job) as mine:  # released when the holder ended
        assert mine is True


def test_run_record_is_rewritten_after_every_job(committee):
    record = committee.RunRecord("v2;test", ["chgnet"], threads=1)
    record.add(
        {
            "material": "Mo",
            "plane": "110",
            "potential": "chgnet",
            "finished": committee.now(),
            "wall_seconds": 1.0,
            "refused": "",
            "value": 1.0,
        }
    )
    data = json.loads(record.path.read_text())
    assert data["entries"][0]["material"] == "Mo" and data["finished"] is None and data["versions"]
    record.close("queue empty")
    data = json.loads(record.path.read_text())
    assert data["finished"] and data["stopped_because"] == "queue empty"
    assert [r["run_id"] for r in committee.read_records()] == [record.path.stem]


def _fake_queue(committee, monkeypatch, ran, on_run=None, protocols=None):
    protocols = [] if protocols is None else protocols
    queue = [("Mo", "110", "chgnet"), ("Ti", "0001", "chgnet")]
    monkeypatch.setattr(committee, "jobs", lambda extra=False: list(queue))
    monkeypatch.setattr(committee, "status", lambda protocol: {})

    def run_job(job, record, device, settings=None):
        ran.append(job)
        if settings is not None:
            protocols.append(settings.protocol())
        if on_run is not None:
            on_run(job)
        return {"wall_seconds": 0.0, "value": 1.0, "stderr": 0.1, "refused": ""}

    monkeypatch.setattr(committee, "run_job", run_job)
    return queue


def _worker_args(**overrides):
    defaults = dict(
        threads=1, extra=False, potentials=None, materials=None, hours=None, retry_refused=False, device="cpu"
    )
    return argparse.Namespace(**{**defaults, **overrides})


def test_stop_file_ends_the_worker_between_jobs(committee, monkeypatch):
    pytest.importorskip("torch")
    ran = []
    _fake_queue(committee, monkeypatch, ran, on_run=lambda job: committee.request_stop())
    assert committee.worker(_worker_args()) == 0
    assert ran == [("Mo", "110", "chgnet")]  # the second job was not started
    (record,) = committee.read_records()
    assert "stop file" in record["stopped_because"] and record["in_progress"] is None


def test_an_old_stop_file_does_not_stop_a_new_worker(committee, monkeypatch):
    pytest.importorskip("torch")
    committee.CLAIMS.mkdir(parents=True)
    committee.STOP_FILE.touch()
    old = committee.STOP_FILE.stat().st_mtime - 60
    os.utime(committee.STOP_FILE, (old, old))
    ran = []
    queue = _fake_queue(committee, monkeypatch, ran)
    committee.worker(_worker_args())
    assert ran == queue
    assert committee.read_records()[0]["stopped_because"] == "queue empty"


def test_a_signal_closes_the_record_and_names_the_abandoned_job(committee, monkeypatch):
    pytest.importorskip("torch")
    before = signal.getsignal(signal.SIGTERM)
    ran = []
    _fake_queue(committee, monkeypatch, ran, on_run=lambda job: signal.raise_signal(signal.SIGTERM))
    assert committee.worker(_worker_args()) == 128 + signal.SIGTERM  # a scheduler sees it was stopped
    assert ran == [("Mo", "110", "chgnet")]
    (record,) = committee.read_records()
    assert record["stopped_because"].startswith("signal SIGTERM")
    assert record["in_progress"]["job"] == "Mo_110_chgnet"
    assert signal.getsignal(signal.SIGTERM) is before  # the worker's handlers are removed again


def test_a_v3_worker_runs_and_records_under_the_v3_protocol(committee, monkeypatch):
    pytest.importorskip("torch")
    ran, protocols = [], []
    _fake_queue(committee, monkeypatch, ran, protocols=protocols)
    assert committee.worker(_worker_args(protocol_version="v3")) == 0
    (record,) = committee.read_records()
    assert record["protocol"].startswith("v3;") and len(ran) == 2
    assert protocols == [record["protocol"]] * 2


def _pilot_part(committee, protocol, material="Mo", plane="100", refused="li_reconstructed"):
    committee.PILOT_PARTS.mkdir(exist_ok=True)
    part = {
        "element": material,
        "plane": plane,
        "calculator": "chgnet",
        "protocol": protocol,
        "refused": refused,
        "error": "the Li film reconstructed" if refused else "",
        "interfacial_energy_mev_per_a2": float("nan") if refused else 70.0,
        "wall_seconds": 225.0,
        "finished": "2026-12-07T21:56:56",
        "versions": "chgnet==0.4.2",
    }
    (committee.PILOT_PARTS / f"{material}_{plane}_chgnet.json").write_text(json.dumps(part))


def test_a_v3_worker_does_not_redo_what_the_pilot_refused(committee, monkeypatch):
    pytest.importorskip("torch")
    from lithioscreen.interface.protocol import InterfaceSettings

    v3 = InterfaceSettings(version="v3").protocol()
    _pilot_part(committee, v3)  # Mo(100) refused under v3
    _pilot_part(committee, InterfaceSettings().protocol(), material="Nb", plane="110")  # another protocol
    queue = [("Mo", "100", "chgnet"), ("Nb", "110", "chgnet")]
    monkeypatch.setattr(committee, "jobs", lambda extra=False: list(queue))
    known = committee.status(v3)
    assert known[("Mo", "100", "chgnet")]["refused"] == "li_reconstructed"
    assert known[("Mo", "100", "chgnet")]["run"] == "interface_protocol_pilot"
    assert ("Nb", "110", "chgnet") not in known  # the v2 part does not count under v3 (nor is Nb cached under v3)
    ran = []
    monkeypatch.setattr(
        committee, "run_job", lambda job, record, device, settings=None: ran.append(job) or {"wall_seconds": 0.0}
    )
    assert committee.worker(_worker_args(protocol_version="v3")) == 0
    assert ran == [("Nb", "110", "chgnet")]


def test_a_refused_job_keeps_its_film_record(committee, monkeypatch):
    import numpy as np

    from lithioscreen.interface import workflow

    def fake(targets, potential, device, settings, batch=True, progress=None):
        result = workflow.InterfaceResult(element="Nb", plane="110", calculator=potential)
        result.error, result.refused = "the Li film reconstructed", "li_reconstructed"
        result.li_film_planes = [[4, 5], [6, 7], [8, 9]]
        result.li_film_kept = [False, False, False]
        result.li_film_heights_a = [[[0.0, 1.7], [0.0, 0.9]]]
        result.orientations = [{"variant": 0, "refused": "li_reconstructed", "interfacial_energy_mev_per_a2": np.nan}]
        return [result]

    monkeypatch.setattr(workflow, "compute_interfacial_energies", fake)
    record = committee.RunRecord("v3;test", ["chgnet"], threads=1)
    entry = committee.run_job(("Nb", "110", "chgnet"), record, "cpu")
    assert entry["refused"] == "li_reconstructed" and entry["stored"] is False
    assert entry["li_film_heights_a"] == [[[0.0, 1.7], [0.0, 0.9]]]
    assert entry["orientations"][0]["refused"] == "li_reconstructed"
    (saved,) = json.loads(record.path.read_text())["entries"]
    assert saved["li_film_planes"] == [[4, 5], [6, 7], [8, 9]]

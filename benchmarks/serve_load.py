"""Load check of `lithioscreen serve`: many concurrent requests, throughput, p50/p99 latency, errors.

    python benchmarks/serve_load.py --url http://127.0.0.1:5001           # a server you started
    python benchmarks/serve_load.py                                      # starts `lithioscreen serve` on the
                                                                         # project store (after `make train`)
    python benchmarks/serve_load.py --train-tmp                          # trains into a temporary store first

Every request posts ``--batch`` candidates (dataframe_records) drawn from the phase-data metals
on random stacks; ``--concurrency`` threads send ``--requests`` requests in total after a short
warm-up. A request counts as an error unless it answers 200 with one prediction per candidate.
Exit code 1 when there was any error.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from servers import free_port, running_server  # noqa: E402


def make_bodies(n: int, batch: int, seed: int = 0) -> list[str]:
    from lithioscreen.data import load_phase_data

    metals = load_phase_data()["element"].tolist()
    rng = random.Random(seed)
    bodies = []
    for _ in range(n):
        records = [
            {
                "candidate": rng.choice(metals),
                "overlayer_nm": rng.choice([10.0, 20.0, 30.0, 50.0]),
                "underlayer": "Mg",
                "underlayer_nm": 200.0,
            }
            for _ in range(batch)
        ]
        bodies.append(json.dumps({"dataframe_records": records}))
    return bodies


def run_load(url: str, bodies: list[str], batch: int, concurrency: int) -> dict:
    local = threading.local()

    def one(body: str) -> tuple[float, bool]:
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        start = time.perf_counter()
        try:
            answer = session.post(
                f"{url}/invocations", data=body, headers={"Content-Type": "application/json"}, timeout=60
            )
            ok = answer.status_code == 200 and len(answer.json()["predictions"]) == batch
        except (requests.RequestException, ValueError, KeyError):
            ok = False
        return time.perf_counter() - start, ok

    for body in bodies[: min(len(bodies), 2 * concurrency)]:  # warm-up, not counted
        one(body)
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        results = list(pool.map(one, bodies))
    wall = time.perf_counter() - start
    latencies = sorted(latency for latency, _ in results)
    errors = sum(not ok for _, ok in results)
    return {
        "requests": len(results),
        "candidates_per_request": batch,
        "concurrency": concurrency,
        "wall_s": wall,
        "throughput_req_per_s": len(results) / wall,
        "throughput_candidates_per_s": len(results) * batch / wall,
        "latency_p50_ms": 1000 * statistics.quantiles(latencies, n=100)[49],
        "latency_p99_ms": 1000 * statistics.quantiles(latencies, n=100)[98],
        "latency_max_ms": 1000 * latencies[-1],
        "errors": errors,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running server (default: start `lithioscreen serve`)")
    parser.add_argument("--tracking-uri", help="store with the registered champion (default: as `lithioscreen train`)")
    parser.add_argument("--train-tmp", action="store_true", help="train into a temporary store first")
    parser.add_argument("--workers", type=int, default=1, help="server workers when this script starts the server")
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--batch", type=int, default=4, help="candidates per request")
    args = parser.parse_args()

    bodies = make_bodies(args.requests, args.batch)
    if args.url:
        report = run_load(args.url.rstrip("/"), bodies, args.batch, args.concurrency)
    else:
        with tempfile.TemporaryDirectory(prefix="serve-load-") as tmp:
            tracking_uri = args.tracking_uri
            if args.train_tmp:
                from lithioscreen.tracking.training import train

                tracking_uri = f"sqlite:///{Path(tmp) / 'mlflow.db'}"
                print(f"training into {tracking_uri} ...", file=sys.stderr)
                train(tracking_uri=tracking_uri, models_dir=Path(tmp) / "models")
            port = free_port()
            command = [
                sys.executable,
                "-m",
                "lithioscreen.cli",
                "serve",
                "--port",
                str(port),
                "--workers",
                str(args.workers),
            ]
            if tracking_uri:
                command += ["--tracking-uri", tracking_uri]
            env = {**os.environ, **({"MLFLOW_TRACKING_URI": tracking_uri} if tracking_uri else {})}
            with running_server(command, f"http://127.0.0.1:{port}/ping", Path(tmp) / "server.log", env=env) as ping:
                report = run_load(ping.removesuffix("/ping"), bodies, args.batch, args.concurrency)
        report["server_workers"] = args.workers
    report["cpu_count"] = os.cpu_count()
    print(
        f"{report['requests']} requests x {report['candidates_per_request']} candidates, {report['concurrency']} concurrent: "
        f"{report['throughput_req_per_s']:.1f} req/s ({report['throughput_candidates_per_s']:.0f} candidates/s), "
        f"p50 {report['latency_p50_ms']:.0f} ms, p99 {report['latency_p99_ms']:.0f} ms, max {report['latency_max_ms']:.0f} ms, "
        f"errors {report['errors']}"
    )
    print(json.dumps(report, indent=2))
    return 1 if report["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())

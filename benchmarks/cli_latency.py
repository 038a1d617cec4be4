"""Start-up latency of the CLI: median wall time of `lithioscreen rank --top 10` and of `lithioscreen --help`,
beside `python -c "import mlflow"` on the same machine, in the same run.

    .venv/bin/python benchmarks/cli_latency.py [--repeat 7] [--baseline OTHER/.venv/bin/lithioscreen]

Each command runs as a fresh process (what a user waits for), alternating between commands so that
load on the machine affects each alike; one untimed warm-up run each fills the OS file cache.
`python -c "import sklearn, pandas"` is the floor: unpickling the champion needs both.
"rank, CPython's default GC" runs the same command without the executable's garbage-collector
settings (``lithioscreen.cli.main``), to show what they save.
Target (issue 6): rank median <= 1.5 s. With ``--json PATH`` the figures are also written there.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def wall_time(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument(
        "--baseline",
        help="another lithioscreen executable (e.g. an older checkout's .venv/bin/lithioscreen) to time alongside",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args()
    commands = {
        "lithioscreen rank --top 10": [str(BIN / "lithioscreen"), "rank", "--top", "10"],
        "rank --top 10, CPython's default GC": [
            sys.executable,
            "-c",
            "from lithioscreen.cli import app; app()",
            "rank",
            "--top",
            "10",
        ],
        "lithioscreen --help": [str(BIN / "lithioscreen"), "--help"],
        'python -c "import mlflow"': [sys.executable, "-c", "import mlflow"],
        'python -c "import sklearn, pandas"': [sys.executable, "-c", "import sklearn.pipeline, pandas"],
    }
    if args.baseline:
        commands["baseline: rank --top 10"] = [args.baseline, "rank", "--top", "10"]
    times: dict[str, list[float]] = {name: [] for name in commands}
    for command in commands.values():
        wall_time(command)
    for _ in range(args.repeat):
        for name, command in commands.items():
            times[name].append(wall_time(command))
    load_at_end = os.getloadavg()[0]
    for name, values in times.items():
        print(
            f"{name:40s} median {statistics.median(values):6.3f} s  (min {min(values):.3f}, max {max(values):.3f}, n={len(values)})"
        )
    print(f"load average (1 min) at the end: {load_at_end:.2f}; {os.cpu_count()} CPUs")
    if args.json:
        record = {
            "machine": {
                "platform": platform.platform(),
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "load_average_1min_at_end": load_at_end,
            },
            "median_s": {name: statistics.median(values) for name, values in times.items()},
            "runs_s": times,
            "target_rank_median_s": 1.5,
        }
        args.json.write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""Cold start of `mibg dose --json`: wall time of a fresh process, run 20 times; prints the median and best.

Goal: median < 0.3 s. A figure, not a test.

    .venv/bin/python bench/bench_cold_start.py [--runs 20]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

GOAL_SECONDS = 0.3
COMMAND = [sys.executable, "-m", "mibg.cli", "dose", "--weight-kg", "22", "--mci-per-kg", "18", "--cd34-per-kg", "3e6",
           "--preparation", "draximage", "--specific-activity-ci-per-mmol", "12", "--volume-ml", "50", "--infusion-min", "120",
           "--calibration-time", "2026-12-09T09:00:00-08:00", "--administration-time", "2026-12-10T09:00:00-08:00", "--json"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    times = []
    for _ in range(args.runs):
        started = time.perf_counter()
        done = subprocess.run(COMMAND, capture_output=True, text=True, check=False)
        times.append(time.perf_counter() - started)
        if done.returncode != 0 or json.loads(done.stdout)["status"] != "ok":
            print(f"unexpected result: exit {done.returncode}: {done.stderr.strip()}", file=sys.stderr)
            return 1
    median = statistics.median(times)
    print(f"mibg dose --json cold start over {args.runs} runs: median {median:.3f} s, best {min(times):.3f} s, "
          f"worst {max(times):.3f} s (goal median < {GOAL_SECONDS} s: {'met' if median < GOAL_SECONDS else 'NOT met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

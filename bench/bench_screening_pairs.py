"""Screening throughput before and after, pair by pair: bench_screening.py of a base commit and of this checkout.

Checks the base commit out into a temporary git worktree (removed afterwards), then runs, alternately, the base's
``bench/bench_screening.py`` on the base's code and this checkout's on this code (base, new, base, new, ...), each
in a fresh process on one CPU with the same population (``--count``, ``--seed``), and prints each run's CPU-time
rate and the medians. CPU time (``time.process_time()`` inside the benchmark) does not count the time other
processes held the core, so it is the fairer figure on a shared machine; on a quiet one both agree.

    python bench/bench_screening_pairs.py --base-commit bafb73e [--pairs 5] [--count 20000]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CPU_RATE = re.compile(r"by CPU time: ([0-9,]+) patients/s")
WALL_RATE = re.compile(r"screening throughput: ([0-9,]+) patients/s")


def run(tree: Path, count: int, seed: int) -> tuple[float, float]:
    """(patients/s by CPU time, by wall clock) of one run of ``tree``'s benchmark on ``tree``'s code."""
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    done = subprocess.run([sys.executable, str(tree / "bench" / "bench_screening.py"), "--count", str(count),
                           "--seed", str(seed)], env=env, capture_output=True, text=True, check=True, timeout=600)
    cpu = CPU_RATE.search(done.stdout)
    wall = WALL_RATE.search(done.stdout)
    if cpu is None or wall is None:
        raise SystemExit(f"no rate in the output of {tree}:\n{done.stdout}\n{done.stderr}")
    return float(cpu.group(1).replace(",", "")), float(wall.group(1).replace(",", ""))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-commit", required=True, help="the commit to compare with (e.g. main before the change)")
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mibg-base-") as scratch:
        base = Path(scratch) / "base"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(base), args.base_commit],
                       check=True)
        try:
            results: dict[str, list[tuple[float, float]]] = {"base": [], "new": []}
            for pair in range(args.pairs):
                for name, tree in (("base", base), ("new", ROOT)):
                    cpu, wall = run(tree, args.count, args.seed)
                    results[name].append((cpu, wall))
                    print(f"pair {pair + 1} {name}: {cpu:,.0f} patients/s by CPU time ({wall:,.0f} by wall clock; "
                          f"load average {os.getloadavg()[0]:.1f})", flush=True)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base)], check=False)
    base_cpu = statistics.median(cpu for cpu, _ in results["base"])
    new_cpu = statistics.median(cpu for cpu, _ in results["new"])
    base_wall = statistics.median(wall for _, wall in results["base"])
    new_wall = statistics.median(wall for _, wall in results["new"])
    print(f"median by CPU time: base {base_cpu:,.0f} /s, new {new_cpu:,.0f} /s ({new_cpu / base_cpu:.1f}x); "
          f"by wall clock: base {base_wall:,.0f} /s, new {new_wall:,.0f} /s ({new_wall / base_wall:.1f}x); "
          f"goal >= 20,000 /s by CPU time: {'met' if new_cpu >= 20_000 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Before and after, pair by pair in one run: `mibg dose --json` start and the retention fits of an older commit
against this checkout (a figure, not a test).

    .venv/bin/python bench/bench_pairs.py [--before cabad41] [--rounds 7] [--curves 200]

The older commit is checked out into a temporary git worktree (removed at the end). Each round runs, in turn,
``python -c pass`` (the floor), the dose command of each side, and ``bench/bench_dosimetry.py --curves N`` of each
side (this checkout's script, each side's ``src`` first on PYTHONPATH: the script times only ``retention_fit``).
The order of the two sides alternates from round to round. Bytecode is cached for both sides (a warm-up start
writes it under a temporary PYTHONPYCACHEPREFIX), as for an installed package. Printed: medians over the rounds of
wall-clock time and of CPU time (getrusage of the children, which does not count the time other processes held
the core), and the ratios after / before. Takes about 2 minutes with the defaults on a quiet 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOSE = ["-m", "mibg.cli", "dose", "--weight-kg", "22", "--mci-per-kg", "18", "--cd34-per-kg", "3e6", "--preparation",
        "draximage", "--specific-activity-ci-per-mmol", "12", "--volume-ml", "50", "--infusion-min", "120",
        "--calibration-time", "2026-12-09T09:00:00-08:00", "--administration-time", "2026-12-10T09:00:00-08:00", "--json"]
SETS = ("mono-exponential, 5 readings", "mono-exponential, 9 readings", "bi-exponential, 10 readings")


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall-clock and CPU seconds (user + system of the child) of one run, and its output."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False, cwd=ROOT)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command[:3])}: exit {done.returncode}: {done.stderr.strip()[-500:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), done.stdout


def environment(src: Path, cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH")}
    env.update(PYTHONPATH=str(src), PYTHONPYCACHEPREFIX=str(cache))
    return env


def fit_rates(output: str) -> list[float]:
    """The fits/s of each set in bench_dosimetry's output, in the order of SETS."""
    rates = {line[:38].strip(): float(re.search(r"(\d+) fits/s", line).group(1))  # type: ignore[union-attr]
             for line in output.splitlines() if "fits/s" in line}
    return [rates[name] for name in SETS]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="cabad41", help="the older commit (default: cabad41, before issue 11)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--curves", type=int, default=200, help="curves per set of bench_dosimetry.py")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-pairs-") as scratch:
        tree = Path(scratch) / "before"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(tree), args.before], check=True)
        try:
            sides = {"before": environment(tree / "src", Path(scratch) / "pyc-before"),
                     "after": environment(ROOT / "src", Path(scratch) / "pyc-after")}
            run_rounds(args, sides)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=False)
    return 0


def run_rounds(args: argparse.Namespace, sides: dict[str, dict[str, str]]) -> None:
    python = sys.executable
    fits = [python, str(ROOT / "bench" / "bench_dosimetry.py"), "--curves", str(args.curves)]
    for env in sides.values():  # write each side's bytecode once
        timed([python, *DOSE], env)
    floor_wall, floor_cpu = [], []
    start: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in sides}
    rates: dict[str, list[list[float]]] = {name: [] for name in sides}
    for number in range(args.rounds):
        wall, cpu, _ = timed([python, "-c", "pass"], sides["after"])
        floor_wall.append(wall)
        floor_cpu.append(cpu)
        order = list(sides) if number % 2 == 0 else list(reversed(sides))
        for name in order:
            wall, cpu, _ = timed([python, *DOSE], sides[name])
            start[name][0].append(wall)
            start[name][1].append(cpu)
        for name in order:
            rates[name].append(fit_rates(timed(fits, sides[name])[2]))
        print(f"round {number + 1}/{args.rounds} done (load average {os.getloadavg()[0]:.1f})", file=sys.stderr)
    med = statistics.median
    print(f"{args.rounds} rounds, before = {args.before}, after = this checkout; medians; ratio = after / before")
    print(f"python -c pass: wall {med(floor_wall) * 1000:.1f} ms, CPU {med(floor_cpu) * 1000:.1f} ms")
    for label, index, floor in (("wall", 0, med(floor_wall)), ("CPU", 1, med(floor_cpu))):
        b, a = med(start["before"][index]), med(start["after"][index])
        print(f"mibg dose --json start, {label:4}: before {b * 1000:6.1f} ms ({b / floor:.1f}x pass), "
              f"after {a * 1000:6.1f} ms ({a / floor:.1f}x pass), ratio {a / b:.2f}")
    for i, name in enumerate(SETS):
        b, a = med(r[i] for r in rates["before"]), med(r[i] for r in rates["after"])
        print(f"retention fits, {name:30}: before {b:7.0f} fits/s, after {a:7.0f} fits/s, ratio {a / b:.2f} (wall clock)")


if __name__ == "__main__":
    sys.exit(main())

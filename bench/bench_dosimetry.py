"""Retention fits per second on synthetic curves (a benchmark that prints figures, not a timed test).

    .venv/bin/python bench/bench_dosimetry.py [--curves 3000] [--seed 1]

Three sets of curves with 5 % multiplicative noise: mono-exponential with 5 readings (the clinic's daily
schedule: mono fit only), mono-exponential with 9 readings and bi-exponential with 10 readings (both models
fitted and compared by AICc). Each curve goes through retention_fit; the first call (scipy import) is excluded.
"""

from __future__ import annotations

import argparse
import math
import random
import time
from collections import Counter
from decimal import Decimal

from mibg.core.dosimetry import Reading, retention_fit
from mibg.core.errors import InputError


def curve(rng: random.Random, times: list[float], bi: bool, noise: float = 0.05) -> list[Reading]:
    slow = rng.uniform(15, 60)
    components = [(rng.uniform(0.3, 0.7), rng.uniform(2, 8))] if bi else []
    components.append((1 - sum(a for a, _ in components), slow))
    rows = []
    for i, t in enumerate(times):
        r = sum(a * 2 ** (-(t - times[0]) / half) for a, half in components)
        if i:
            r *= math.exp(rng.gauss(0, noise))
        rows.append(Reading(Decimal(repr(t)), Decimal(f"{80 * r:.4f}")))
    return rows


def run(name: str, curves: list[list[Reading]]) -> None:
    models: Counter[str] = Counter()
    refused = 0
    start = time.perf_counter()
    for readings in curves:
        try:
            models[retention_fit(readings).model] += 1
        except InputError:
            refused += 1
    elapsed = time.perf_counter() - start
    chosen = ", ".join(f"{m} {n}" for m, n in sorted(models.items()))
    print(f"{name:38} {len(curves):6d} curves  {len(curves) / elapsed:8.0f} fits/s  "
          f"({1000 * elapsed / len(curves):.2f} ms each; {chosen}; refused {refused})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--curves", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    daily = [0.5, 24, 48, 72, 96]
    dense = [0.5, 4, 8, 24, 48, 72, 96, 120, 144]
    denser = [1, 3, 6, 10, 24, 48, 72, 96, 120, 144]
    retention_fit(curve(rng, dense, bi=True))  # import numpy and scipy outside the timing
    run("mono-exponential, 5 readings", [curve(rng, daily, bi=False) for _ in range(args.curves)])
    run("mono-exponential, 9 readings", [curve(rng, dense, bi=False) for _ in range(args.curves)])
    run("bi-exponential, 10 readings", [curve(rng, denser, bi=True) for _ in range(args.curves)])


if __name__ == "__main__":
    main()

"""Programme analytics that answer the published questions (issue 13 §6; clinical-reference §4.1: the UCSF and
NANT reports relate whole-body dose to haematological toxicity and to stem-cell rescue).

- Spearman's rank correlation between the whole-body dose and a count nadir or the days to recovery, with its 95 %
  confidence interval by Fisher's z transformation with the standard error sqrt(1.06 / (n - 3)) that Fieller,
  Hartley and Pearson (1957) give for Spearman's rho (product choice: the references name no method).
- The share of courses that needed stem-cell rescue in each whole-body-dose band (band edges are protocol data),
  with its 95 % Wilson score interval.

Statistics are computed in binary floating point (like the retention fits) and returned rounded to 0.001 as exact
decimals, each result with its n and its method in words. Too few courses give no number and say why.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

Z_95 = 1.959963984540054  # the 0.975 quantile of the standard normal distribution
FIELLER_VARIANCE = 1.06
STEP = Decimal("0.001")


def _round(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(STEP, rounding=ROUND_HALF_EVEN)


def ranks(values: Sequence[Decimal]) -> list[float]:
    """1-based ranks; tied values share the mean of their ranks."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    out = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        mean = (i + j) / 2 + 1
        for k in range(i, j + 1):
            out[order[k]] = mean
        i = j + 1
    return out


@dataclass(frozen=True, slots=True)
class Correlation:
    n: int
    rho: Decimal | None
    ci_low: Decimal | None
    ci_high: Decimal | None
    note: str  # why a figure is missing, or ""
    method: str = ("Spearman's rank correlation (ties share the mean rank); 95 % confidence interval by Fisher's z "
                   "with standard error sqrt(1.06/(n-3)) (Fieller, Hartley and Pearson 1957)")

    def text(self) -> str:
        if self.rho is None:
            return f"n = {self.n}: {self.note}"
        interval = f"95 % CI {self.ci_low} to {self.ci_high}" if self.ci_low is not None else self.note
        return f"Spearman rho = {self.rho} ({interval}; n = {self.n})"


def spearman(pairs: Sequence[tuple[Decimal, Decimal]]) -> Correlation:
    """Spearman's rho of (x, y) pairs, with its 95 % confidence interval."""
    n = len(pairs)
    if n < 3:
        return Correlation(n, None, None, None, "at least 3 courses with both values are needed")
    rx, ry = ranks([x for x, _ in pairs]), ranks([y for _, y in pairs])
    mean = (n + 1) / 2
    sxy = sum((a - mean) * (b - mean) for a, b in zip(rx, ry, strict=True))
    sxx = sum((a - mean) ** 2 for a in rx)
    syy = sum((b - mean) ** 2 for b in ry)
    if sxx == 0 or syy == 0:
        return Correlation(n, None, None, None, "every course has the same value: no rank correlation")
    rho = sxy / math.sqrt(sxx * syy)
    rho = max(-1.0, min(1.0, rho))
    if n < 4:
        return Correlation(n, _round(rho), None, None, "the confidence interval needs at least 4 courses")
    if abs(rho) == 1.0:
        return Correlation(n, _round(rho), None, None, "no confidence interval when the ranks agree perfectly")
    z = math.atanh(rho)
    half = Z_95 * math.sqrt(FIELLER_VARIANCE / (n - 3))
    return Correlation(n, _round(rho), _round(math.tanh(z - half)), _round(math.tanh(z + half)), "")


@dataclass(frozen=True, slots=True)
class BandShare:
    label: str
    low: Decimal | None  # inclusive
    high: Decimal | None  # exclusive
    courses: int
    rescued: int
    share: Decimal | None
    ci_low: Decimal | None
    ci_high: Decimal | None


def wilson(successes: int, n: int) -> tuple[Decimal, Decimal]:
    """The 95 % Wilson score interval of a proportion."""
    p = successes / n
    z2 = Z_95 * Z_95
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z_95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return _round(max(0.0, centre - half)), _round(min(1.0, centre + half))


def band_label(low: Decimal | None, high: Decimal | None, unit: str) -> str:
    if low is None:
        return f"below {high} {unit}"
    if high is None:
        return f"{low} {unit} or more"
    return f"{low} to below {high} {unit}"


def rescue_by_band(courses: Sequence[tuple[Decimal, bool]], edges: Sequence[Decimal], unit: str = "Gy") -> list[BandShare]:
    """Courses (whole-body dose, stem-cell rescue given) counted in the bands the ``edges`` make: below the first,
    between each pair (lower edge included), and the last edge or more."""
    if list(edges) != sorted(set(edges)):
        raise ValueError("band edges must be distinct and increasing")
    bounds: list[tuple[Decimal | None, Decimal | None]] = []
    previous: Decimal | None = None
    for edge in edges:
        bounds.append((previous, edge))
        previous = edge
    bounds.append((previous, None))
    out = []
    for low, high in bounds:
        inside = [rescued for dose, rescued in courses
                  if (low is None or dose >= low) and (high is None or dose < high)]
        n, k = len(inside), sum(1 for r in inside if r)
        share = (Decimal(k) / Decimal(n)).quantize(STEP, rounding=ROUND_HALF_EVEN) if n else None
        interval = wilson(k, n) if n else (None, None)
        out.append(BandShare(band_label(low, high, unit), low, high, n, k, share, *interval))
    return out


#: The module's public surface: what the other layers may import (tests/unit/test_architecture.py).
__all__ = [
    "FIELLER_VARIANCE",
    "STEP",
    "Z_95",
    "BandShare",
    "Correlation",
    "band_label",
    "ranks",
    "rescue_by_band",
    "spearman",
    "wilson",
]

"""Numbers and times as the documents print them: exact where exact, rounded only for display.

Rule (decisions.md "Units", mibg.core.units.DISPLAY_RULE): a value that has no more decimals than the
display precision is printed exactly (396 mCi, 14.652 GBq); a longer one is rounded half-to-even to
mCi 0.1, MBq 1, GBq 0.001, mCi/kg 0.01. Every document prints this rule. Activities are shown in mCi (the
protocol's unit) with MBq and GBq beside them (1 mCi = 37 MBq exactly, clinical-reference §2.3).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal

from mibg.core.times import site_time
from mibg.core.units import DISPLAY_RULE, MBQ_PER_GBQ, MBQ_PER_MCI
from mibg.reports.errors import ReportInputError

__all__ = [
    "DISPLAY_RULE",
    "activity_text",
    "as_entered",
    "exact",
    "mbq",
    "show",
    "when",
]


def exact(value: Decimal) -> str:
    """The value without exponent or trailing zeros: ``Decimal('396.0')`` -> ``396``."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def show(value: Decimal, places: int) -> str:
    """Exact when the value has at most ``places`` decimals, else rounded half-to-even to ``places``."""
    quantum = Decimal(1).scaleb(-places)
    rounded = value.quantize(quantum, rounding=ROUND_HALF_EVEN)
    if rounded == value:
        return exact(value)
    return format(rounded, "f")


def as_entered(value: Decimal) -> str:
    """A measured value with the digits it was entered with (60.0 stays 60.0); very small or large values
    in scientific notation (1.602176634E-13)."""
    if value != 0 and not Decimal("1E-4") <= abs(value) < Decimal("1E+9"):
        return str(value.normalize())
    return format(value, "f")


def mbq(mci: Decimal) -> Decimal:
    return mci * MBQ_PER_MCI


def activity_text(mci: Decimal) -> str:
    """``396 mCi (14652 MBq; 14.652 GBq)``."""
    in_mbq = mci * MBQ_PER_MCI
    return f"{show(mci, 1)} mCi ({show(in_mbq, 0)} MBq; {show(in_mbq / MBQ_PER_GBQ, 3)} GBq)"


def when(value: datetime | date | None) -> str:
    """A time as people read it, in the site's zone with its abbreviation (``2026-12-09 09:00 PST``,
    mibg.core.times.site_time); dates as YYYY-MM-DD. A time without a zone is refused."""
    if value is None:
        return "-"
    if isinstance(value, datetime) and (value.tzinfo is None or value.utcoffset() is None):
        raise ReportInputError("time", f"{value:%Y-%m-%d %H:%M} has no time zone")
    return site_time(value)

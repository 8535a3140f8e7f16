"""I-131 decay correction (clinical-reference §2.4; decisions.md Dose "Decay").

A(t) = A(t0) * exp(-lambda * dt), lambda = ln 2 / T1/2, T1/2 = 8.0207 d (ICRP-107). The exponential is
evaluated in floating point (the only place floats are used) and the factor is returned as a Decimal
rounded to 10 significant digits, far below any assay uncertainty.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from mibg.core.errors import InputError
from mibg.core.plausibility import plausible_range
from mibg.core.serial import JSON, Reader, ShapeError, dec, moment
from mibg.core.units import Activity

HOURS_PER_DAY = Decimal(24)
#: The longest span a decay correction is made over: 30 days (3.7 half-lives, factor 0.075). A calibration, an
#: assay or a residual reading this far from the administration is a typing error in the date (e.g. the wrong
#: year), and over decades the exponential overflows instead of giving a refusal. Site parameter
#: ``plausible_decay_span_days_max`` of the protocol definition.
MAX_DECAY_DAYS = plausible_range("decay_span_days").maximum


def decay_constant_per_hour(half_life_days: Decimal) -> float:
    """lambda in 1/h. For T1/2 = 8.0207 d: 3.60082e-3 /h (clinical-reference §2.4)."""
    return math.log(2) / float(half_life_days * HOURS_PER_DAY)


def hours_between(start: datetime, end: datetime) -> Decimal:
    """Signed elapsed hours from ``start`` to ``end`` (both timezone-aware)."""
    seconds = (end - start).total_seconds()
    return Decimal(str(seconds)) / Decimal(3600)


def decay_factor(elapsed_hours: Decimal, half_life_days: Decimal) -> Decimal:
    """Fraction of activity left after ``elapsed_hours`` (negative hours give a factor above 1).

    >>> decay_factor(Decimal(24), Decimal("8.0207"))
    Decimal('0.9172091185')
    """
    factor = math.exp(-decay_constant_per_hour(half_life_days) * float(elapsed_hours))
    return Decimal(f"{factor:.10g}")


@dataclass(frozen=True, slots=True)
class DecayCorrection:
    """Activity carried from one time to another, with the numbers that produced it."""

    activity_from: Activity
    time_from: datetime
    time_to: datetime
    elapsed_hours: Decimal
    half_life_days: Decimal
    factor: Decimal
    activity_to: Activity

    @property
    def formula(self) -> str:
        return (
            f"A(t2) = A(t1) x exp(-ln2 x dt / T1/2), dt = t2 - t1 = {self.elapsed_hours.quantize(Decimal('0.001'))} h: "
            f"{self.activity_from.mci} mCi x exp(-ln2 x {self.elapsed_hours.quantize(Decimal('0.001'))} h / "
            f"({self.half_life_days} d x 24 h/d)) "
            f"= {self.activity_from.mci} x {self.factor} = {self.activity_to.mci.quantize(Decimal('0.01'))} mCi"
        )

    def to_json(self) -> JSON:
        """Exact numbers as text; ``activity_to_mci`` = ``activity_from_mci`` x ``factor`` (checked on reading)."""
        return {
            "activity_from_mci": dec(self.activity_from.mci),
            "time_from": moment(self.time_from),
            "time_to": moment(self.time_to),
            "elapsed_hours": dec(self.elapsed_hours),
            "half_life_days": dec(self.half_life_days),
            "factor": dec(self.factor),
            "activity_to_mci": dec(self.activity_to.mci),
            "activity_to_mbq": dec(self.activity_to.mbq),
        }

    @classmethod
    def from_json(cls, r: Reader) -> DecayCorrection:
        start, factor = Activity(r.decimal("activity_from_mci")), r.decimal("factor")
        end = Activity(r.decimal("activity_to_mci"))
        if end.mci != start.mci * factor:
            raise ShapeError(f"{r.path}.activity_to_mci", f"{end.mci} mCi is not {start.mci} mCi x {factor}")
        r.check("activity_to_mbq", dec(end.mbq))
        time_from, time_to = r.time("time_from"), r.time("time_to")
        elapsed = r.decimal("elapsed_hours")
        if elapsed != hours_between(time_from, time_to):
            raise ShapeError(f"{r.path}.elapsed_hours", f"{elapsed} h is not the time from {time_from.isoformat()} to "
                                                         f"{time_to.isoformat()}")
        return cls(start, time_from, time_to, elapsed, r.decimal("half_life_days"), factor, end)


def decay_correct(activity: Activity, time_from: datetime, time_to: datetime, half_life_days: Decimal,
                  field: str = "time") -> DecayCorrection:
    """Carry ``activity`` measured at ``time_from`` to ``time_to`` (earlier or later).

    ``field`` names the time that is wrong when the two are more than MAX_DECAY_DAYS apart (InputError)."""
    elapsed = hours_between(time_from, time_to)
    if abs(elapsed) > MAX_DECAY_DAYS * HOURS_PER_DAY:
        days = (abs(elapsed) / HOURS_PER_DAY).quantize(Decimal(1))
        raise InputError(field, f"is {days} days from the time it is decay-corrected to; a decay correction spans "
                                f"at most {MAX_DECAY_DAYS} days: check the date")
    factor = decay_factor(elapsed, half_life_days)
    return DecayCorrection(
        activity_from=activity,
        time_from=time_from,
        time_to=time_to,
        elapsed_hours=elapsed,
        half_life_days=half_life_days,
        factor=factor,
        activity_to=Activity(activity.mci * factor),
    )


def activity_to_draw_at_calibration(
    activity_at_administration: Activity,
    calibration_time: datetime,
    administration_time: datetime,
    half_life_days: Decimal,
) -> DecayCorrection:
    """A_cal = A_adm x exp(+lambda x (t_adm - t_cal)) (clinical-reference §2.4)."""
    return decay_correct(activity_at_administration, administration_time, calibration_time, half_life_days,
                         "calibration_time")


#: The module's public surface: what the other layers may import (tests/unit/test_architecture.py).
__all__ = [
    "HOURS_PER_DAY",
    "MAX_DECAY_DAYS",
    "DecayCorrection",
    "activity_to_draw_at_calibration",
    "decay_constant_per_hour",
    "decay_correct",
    "decay_factor",
    "hours_between",
]

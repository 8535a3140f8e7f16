"""The patient's cumulative 131I-MIBG (decisions.md A14): the sum over earlier courses of the administered mCi/kg,
each at that course's weight; the protocol's lifetime maximum (60 mCi/kg, T5) counts it with the planned dose.

One course's mCi/kg = administered mCi / that course's weight, rounded UP to the step of the site parameter
``cumulative_mci_per_kg_step`` (0.001 mCi/kg), so the cumulative total is never understated: rounding to the
nearest could hide up to half a step per course from the 60 mCi/kg limit. Courses given here and courses recorded
at screening (given elsewhere) are both counted; a recorded course on the same infusion date as one given here is
the same course, counted once (the one given here, whose numbers were measured).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, Decimal

from mibg.protocol import ProtocolDefinition, load_protocol

GIVEN_HERE = "given here"
RECORDED_AT_SCREENING = "recorded at screening"


def course_mci_per_kg(administered_mci: Decimal, weight_kg: Decimal, protocol: ProtocolDefinition | None = None) -> Decimal:
    """Administered mCi / that course's weight [kg], rounded up to ``cumulative_mci_per_kg_step``.

    >>> course_mci_per_kg(Decimal("396"), Decimal("22.0"))  # 18 exactly
    Decimal('18.000')
    >>> course_mci_per_kg(Decimal("400"), Decimal("22.0"))  # 18.1818... -> up
    Decimal('18.182')
    """
    step = (protocol or load_protocol()).site("cumulative_mci_per_kg_step")
    return (administered_mci / weight_kg).quantize(step, rounding=ROUND_CEILING)


@dataclass(frozen=True, slots=True)
class PriorCourse:
    infusion_date: date
    mci_per_kg: Decimal
    weight_kg: Decimal | None
    total_mci: Decimal | None
    where: str

    @property
    def counted_mci_per_kg(self) -> Decimal:
        """What the course counts for: total mCi / weight, rounded up, when both are recorded (decisions.md A25),
        else the recorded mCi/kg."""
        if self.total_mci is None or self.weight_kg is None:
            return self.mci_per_kg
        return course_mci_per_kg(self.total_mci, self.weight_kg)


@dataclass(frozen=True, slots=True)
class CumulativeDose:
    courses: tuple[PriorCourse, ...]  # by infusion date
    mci_per_kg: Decimal
    total_mci: Decimal


def cumulative_dose(given_here: Sequence[PriorCourse], recorded: Sequence[PriorCourse]) -> CumulativeDose:
    """The courses given here plus those recorded at screening on other infusion dates, and their sums."""
    dates = {c.infusion_date for c in given_here}
    courses = sorted([*(c for c in recorded if c.infusion_date not in dates), *given_here],
                     key=lambda c: (c.infusion_date, c.where != RECORDED_AT_SCREENING))
    return CumulativeDose(
        courses=tuple(courses),
        mci_per_kg=sum((c.counted_mci_per_kg for c in courses), Decimal(0)),
        total_mci=sum((c.total_mci for c in courses if c.total_mci is not None), Decimal(0)),
    )


#: The module's public surface: what the other layers may import (tests/unit/test_architecture.py).
__all__ = [
    "GIVEN_HERE",
    "RECORDED_AT_SCREENING",
    "CumulativeDose",
    "PriorCourse",
    "course_mci_per_kg",
    "cumulative_dose",
]

"""Units: activity in mCi with MBq and GBq beside it, exact decimals, and parsing with clear errors.

1 mCi = 37 MBq exactly (1 Ci = 3.7e10 Bq; clinical-reference §2.3, decisions.md "Units").
Entered and compared values are ``Decimal``; rounding happens only for display, with the rule stated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal

from mibg.core.errors import InputError
from mibg.core.numbers import NUMBER_TEXT, parse_decimal

MBQ_PER_MCI = Decimal(37)
MBQ_PER_GBQ = Decimal(1000)
BQ_PER_MBQ = Decimal(1_000_000)

#: Display rules, stated wherever a rounded number is shown.
DISPLAY_RULE = "mCi to 0.1, MBq to 1, GBq to 0.001, mCi/kg to 0.01; half to even"

# The plausible ranges of typed values (weight, activity, ...) are site parameters of the protocol definition,
# read by mibg.core.plausibility (issue 11: every number in the protocol definition).


@dataclass(frozen=True, slots=True, order=True)
class Activity:
    """An activity of I-131. Stored in mCi (the protocol's unit) as an exact decimal.

    >>> Activity(Decimal("396")).mbq
    Decimal('14652')
    >>> Activity.from_mbq(Decimal("14652")).mci
    Decimal('396')
    """

    mci: Decimal

    @classmethod
    def from_mbq(cls, mbq: Decimal) -> Activity:
        return cls(mbq / MBQ_PER_MCI)

    @classmethod
    def from_gbq(cls, gbq: Decimal) -> Activity:
        return cls(gbq * MBQ_PER_GBQ / MBQ_PER_MCI)

    @property
    def mbq(self) -> Decimal:
        return self.mci * MBQ_PER_MCI

    @property
    def gbq(self) -> Decimal:
        return self.mbq / MBQ_PER_GBQ

    @property
    def bq(self) -> Decimal:
        return self.mbq * BQ_PER_MBQ

    def display(self) -> str:
        """``396.0 mCi (14652 MBq, 14.652 GBq)``"""
        return f"{round_mci(self.mci)} mCi ({round_mbq(self.mbq)} MBq, {round_gbq(self.gbq)} GBq)"


def _quantize(value: Decimal, exponent: str) -> Decimal:
    return value.quantize(Decimal(exponent), rounding=ROUND_HALF_EVEN)


def round_mci(value: Decimal) -> Decimal:
    return _quantize(value, "0.1")


def round_mbq(value: Decimal) -> Decimal:
    return _quantize(value, "1")


def round_gbq(value: Decimal) -> Decimal:
    return _quantize(value, "0.001")


def round_per_kg(value: Decimal) -> Decimal:
    return _quantize(value, "0.01")


def parse_weight_kg(raw: object, field: str = "weight_kg") -> Decimal:
    """A body weight in kg inside the plausible range of the protocol definition (2 to 250 kg)."""
    from mibg.core.plausibility import plausible

    return plausible("weight_kg", field, raw)


def parse_activity_mci(raw: object, field: str = "activity_mci") -> Decimal:
    """A prescribed, assayed or administered activity in mCi inside the plausible range (1 to 5000 mCi)."""
    from mibg.core.plausibility import plausible

    return plausible("activity_mci", field, raw)


def parse_date(field: str, raw: object) -> date:
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw).strip())
    except ValueError:
        raise InputError(field, f"'{raw}' is not a date in ISO 8601 form (YYYY-MM-DD)") from None


def parse_aware_datetime(field: str, raw: object) -> datetime:
    """An ISO 8601 date-time with its UTC offset; a time without an offset is refused, not guessed."""
    if isinstance(raw, datetime):
        value = raw
    else:
        text = str(raw).strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise InputError(field, f"'{raw}' is not a date-time in ISO 8601 form (e.g. 2026-03-02T09:30:00-08:00)") from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise InputError(field, f"'{raw}' has no time zone: add the UTC offset, e.g. 2026-03-02T09:30:00-08:00")
    return value


#: The module's public surface: what the other layers may import (tests/unit/test_architecture.py).
__all__ = [
    "BQ_PER_MBQ",
    "DISPLAY_RULE",
    "MBQ_PER_GBQ",
    "MBQ_PER_MCI",
    "NUMBER_TEXT",
    "Activity",
    "parse_activity_mci",
    "parse_aware_datetime",
    "parse_date",
    "parse_decimal",
    "parse_weight_kg",
    "round_gbq",
    "round_mbq",
    "round_mci",
    "round_per_kg",
]

"""Calendar arithmetic the protocol's windows need (decisions.md A4, A11, A13)."""

from __future__ import annotations

import calendar
from datetime import date


def add_months(day: date, months: int) -> date:
    """The same day-of-month ``months`` later; a month without that day uses its last day (decisions.md A11).

    >>> add_months(date(2025, 8, 31), 6)
    datetime.date(2026, 2, 28)
    """
    month_index = day.month - 1 + months
    year = day.year + month_index // 12
    month = month_index % 12 + 1
    if day.day <= 28:  # every month has the 28th: no month length to look up (screening computes thousands a second)
        return date(year, month, day.day)
    last_day = calendar.monthrange(year, month)[1]
    return date(year, month, min(day.day, last_day))


def birthday(birth_date: date, years: int) -> date:
    """The ``years``-th birthday; a 29 February birth has its birthday on 28 February in other years."""
    return add_months(birth_date, 12 * years)


def age_in_years(birth_date: date, on: date) -> int:
    """Completed calendar years on ``on``."""
    years = on.year - birth_date.year
    if birthday(birth_date, years) > on:
        years -= 1
    return years


#: The module's public surface: what the other layers may import (tests/unit/test_architecture.py).
__all__ = [
    "add_months",
    "age_in_years",
    "birthday",
]

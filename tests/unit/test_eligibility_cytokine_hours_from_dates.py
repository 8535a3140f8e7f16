"""T4 without a planned infusion start: the calendar-day margin follows the definition's hours (decisions.md A12).

The protocol record: cytokines "must be discontinued a minimum [of] 24 hours prior to MIBG therapy"; decisions.md A12:
"at least 24 hours before the infusion starts (24.0 h passes)". When only the treatment date is known, a last dose is
met only when it is certainly ``minimum_hours`` before any moment of that day: the dose may have been given at the
end of its day and the infusion may start at 00:00, so ``n`` calendar days apart guarantee ``(n - 1) x 24`` hours.
By hand: 24 h needs 2 calendar days, 48 h needs 3. Nearer than that the verdict is "unknown" and names the planned
infusion start. Each case is screened by the compiled rules (``evaluate_eligibility``), by the full evaluator
(``explain_eligibility``) and by the full evaluator alone for a definition the compiler cannot read.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from snapshots import build

from mibg.core.compiled_screening import cytokine_days_without_start
from mibg.core.eligibility import compiled_verdicts, evaluate_eligibility, explain_eligibility
from mibg.core.results import Status
from mibg.protocol import ProtocolDefinition, Quantity, load_protocol

MET, NOT_MET, UNKNOWN = Status.MET, Status.NOT_MET, Status.UNKNOWN

#: The base example's planned treatment date is 2026-12-10 (Pacific time, as every time below).
START = "2026-12-10T09:00:00-08:00"


def _with_t4(protocol: ProtocolDefinition, **params: Any) -> ProtocolDefinition:
    criteria = tuple(replace(c, params={**c.params, **params}) if c.id == "T4" else c for c in protocol.criteria)
    return replace(protocol, criteria=criteria)


def _definitions(hours: str) -> list[ProtocolDefinition]:
    """The definition with T4 at ``hours``, compiled, and the same with D1's statuses as one word (not compiled)."""
    protocol = load_protocol()
    if hours != "24":
        protocol = _with_t4(protocol, minimum_hours=Quantity(Decimal(hours), "h"))
    uncompiled = replace(protocol, criteria=tuple(replace(c, params={**c.params, "statuses": "relapsed refractory"})
                                                  if c.id == "D1" else c for c in protocol.criteria))
    assert compiled_verdicts(protocol) is not None
    assert compiled_verdicts(uncompiled) is None
    return [protocol, uncompiled]


def _t4(hours: str, last_dose_at: str, start: str | None) -> set[tuple[Status, tuple[str, ...]]]:
    """T4's (status, missing fields) by every path; one element when the paths agree."""
    snapshot = build(cytokines=[{"agent": "g_csf", "last_dose_at": last_dose_at}], planned_infusion_start=start)
    found = set()
    for protocol in _definitions(hours):
        for result in (evaluate_eligibility(snapshot, protocol), explain_eligibility(snapshot, protocol)):
            explained = result.criterion("T4")
            assert result.status_of("T4") is explained.status
            found.add((explained.status, explained.missing))
    return found


@pytest.mark.parametrize(("hours", "last_dose_at", "expected"), [
    # 24 h: two calendar days are needed. At the boundary (2 days, the dose at 23:59 of its day: 24 h 1 min before
    # 00:00 of the treatment day), just above (3 days) and just below (1 day: from 0 to 33 h, not decidable).
    ("24", "2026-12-08T23:59:00-08:00", MET),
    ("24", "2026-12-07T23:59:00-08:00", MET),
    ("24", "2026-12-09T00:00:00-08:00", UNKNOWN),
    # 48 h: three calendar days. 2026-12-08 23:00 is only 25 h before 00:00 on 2026-12-10: a fixed two-day margin
    # judged it met; it cannot be decided from the dates.
    ("48", "2026-12-07T23:59:00-08:00", MET),
    ("48", "2026-12-06T23:59:00-08:00", MET),
    ("48", "2026-12-08T23:00:00-08:00", UNKNOWN),
    ("48", "2026-12-08T00:00:00-08:00", UNKNOWN),
])
def test_a_child_without_a_planned_infusion_start_meets_t4_only_when_the_dates_alone_guarantee_the_hours(
        hours: str, last_dose_at: str, expected: Status) -> None:
    missing = ("planned_infusion_start",) if expected is UNKNOWN else ()
    assert _t4(hours, last_dose_at, None) == {(expected, missing)}


@pytest.mark.parametrize(("hours", "last_dose_at", "expected"), [
    # With the start (2026-12-10 09:00) the hours decide, to the second: exactly the minimum passes (A12: 24.0 h).
    ("24", "2026-12-09T09:00:00-08:00", MET),
    ("24", "2026-12-09T08:59:59-08:00", MET),
    ("24", "2026-12-09T09:00:01-08:00", NOT_MET),
    ("48", "2026-12-08T09:00:00-08:00", MET),
    ("48", "2026-12-08T08:59:59-08:00", MET),
    ("48", "2026-12-08T09:00:01-08:00", NOT_MET),
])
def test_with_the_planned_infusion_start_the_nurse_sees_t4_decided_by_the_hours_to_the_second(
        hours: str, last_dose_at: str, expected: Status) -> None:
    assert _t4(hours, last_dose_at, START) == {(expected, ())}


@pytest.mark.parametrize(("hours", "days"), [("24", 2), ("48", 3), ("25", 3), ("23.5", 2), ("72", 4), ("1", 2)])
def test_the_calendar_days_a_pharmacist_needs_without_a_start_time_are_the_hours_rounded_up_to_days_plus_one(
        hours: str, days: int) -> None:
    assert cytokine_days_without_start(Decimal(hours)) == days

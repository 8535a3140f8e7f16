"""At the infusion start the time-dependent criteria are checked again against the actual start (decisions.md A30)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from snapshots import build

from mibg.core.recheck import TIME_DEPENDENT, recheck_at_infusion

PST = timezone(timedelta(hours=-8))


def test_the_re_check_covers_the_washouts_the_cytokines_the_last_mibg_and_the_pregnancy_test():
    assert set(TIME_DEPENDENT) == {"T2", "T3", "T4", "T5", "X2"}


@pytest.mark.parametrize(("start", "passed"), [
    (datetime(2026, 12, 2, 7, 59, tzinfo=PST), False),  # G-CSF last given 2026-12-01 08:00: 23 h 59 min before
    (datetime(2026, 12, 2, 8, 0, tzinfo=PST), True),  # exactly 24 h: "at least 24 hours"
    (datetime(2026, 12, 2, 8, 1, tzinfo=PST), True),
])
def test_an_infusion_started_earlier_than_planned_is_checked_against_the_cytokine_24_hours(start, passed):
    recheck = recheck_at_infusion(build(), start)
    assert recheck.passed is passed
    if not passed:
        assert "T4" in recheck.message
        assert "decisions.md A30" in recheck.message


@pytest.mark.parametrize(("day", "passed"), [(14, True), (15, False), (13, True)])
def test_the_weight_must_still_be_within_7_days_at_the_actual_start(day, passed):
    # weighed 2026-12-07; 2026-12-14 is 7 days later (allowed), 2026-12-15 is 8 (A20 weight_max_age_days = 7)
    recheck = recheck_at_infusion(build(), datetime(2026, 12, day, 9, 0, tzinfo=PST))
    assert recheck.passed is passed
    assert ("weight was measured on 2026-12-07" in recheck.message) is (not passed)


def test_an_anti_tumour_therapy_within_two_weeks_of_the_actual_start_stops_the_step():
    snapshot = build(anti_tumour_therapies=[{"description": "topotecan", "last_dose_on": "2026-11-30"}])
    # planned 2026-12-10: 10 days after the last dose; T2 needs 2 weeks, so screening and the re-check both fail
    recheck = recheck_at_infusion(snapshot, datetime(2026, 12, 10, 9, 0, tzinfo=PST))
    assert not recheck.passed
    assert any(f.startswith("T2") for f in recheck.failures)
    assert recheck_at_infusion(snapshot, datetime(2026, 12, 14, 9, 0, tzinfo=PST)).passed  # 14 days: met

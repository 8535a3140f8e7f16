"""T4 for long-acting cytokines: the 24-hour rule applies to them too; within 14 days the chair reviews (A12)."""

from snapshots import criterion

from mibg.core.results import Status

INFUSION_START = "2026-12-10T09:00:00-08:00"


def test_pegfilgrastim_given_20_hours_before_the_infusion_is_not_met_not_merely_reviewed():
    # 2026-12-09 13:00 to 2026-12-10 09:00 is 20 h, under the 24 h every cytokine must meet (T4).
    result = criterion("T4", cytokines=[{"agent": "pegfilgrastim", "last_dose_at": "2026-12-09T13:00:00-08:00"}],
                       planned_infusion_start=INFUSION_START)
    assert result.status is Status.NOT_MET


def test_pegfilgrastim_given_10_days_before_the_infusion_needs_the_chair():
    # 10 days is more than 24 h but within the 14-day review window of decisions.md A12.
    result = criterion("T4", cytokines=[{"agent": "pegfilgrastim", "last_dose_at": "2026-11-30T09:00:00-08:00"}],
                       planned_infusion_start=INFUSION_START)
    assert result.status is Status.NEEDS_REVIEW


def test_pegfilgrastim_given_15_days_before_the_infusion_is_met():
    result = criterion("T4", cytokines=[{"agent": "pegfilgrastim", "last_dose_at": "2026-11-25T09:00:00-08:00"}],
                       planned_infusion_start=INFUSION_START)
    assert result.status is Status.MET

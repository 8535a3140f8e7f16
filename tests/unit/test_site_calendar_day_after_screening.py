"""After screening too, a moment's calendar day is its day at the site, whatever offset it is written in (issues 11,
14): the planned start against the treatment date, the re-check at the infusion, the administration window and the
stem-cell day. Reference values by hand, Pacific Standard Time (UTC-8) at the site:
2026-12-11T01:00Z is 2026-12-10 17:00 PST; 2026-12-10T07:59Z is 2026-12-09 23:59 PST; 2026-12-14T07:30Z is
2026-12-13 23:30 PST; 2026-12-11T07:30Z is 2026-12-10 23:30 PST.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError
from snapshots import build

from mibg.core.chronology import administration_window, stem_cell_day
from mibg.core.recheck import recheck_at_infusion

PST = timezone(timedelta(hours=-8))


@pytest.mark.parametrize("start", ["2026-12-11T01:00:00+00:00", "2026-12-10T08:00:00+00:00"])
def test_the_api_may_send_the_planned_start_in_utc_on_the_site_s_treatment_date(start: str) -> None:
    # 2026-12-10 17:00 PST and 00:00 PST: both on the planned treatment date 2026-12-10 at the site.
    assert build(planned_infusion_start=start).planned_infusion_start == datetime.fromisoformat(start)


def test_a_planned_start_in_utc_on_the_day_before_at_the_site_is_refused() -> None:
    with pytest.raises(ValidationError, match="not on planned_treatment_date"):
        build(planned_infusion_start="2026-12-10T07:59:00+00:00")  # 2026-12-09 23:59 PST


def test_dr_okafor_s_re_check_at_a_start_sent_in_utc_counts_the_weight_s_age_in_site_days() -> None:
    # Weighed 2026-12-07; the infusion starts 2026-12-14 17:00 PST (= 2026-12-15T01:00Z): 7 days, within 7.
    site = datetime(2026, 12, 14, 17, 0, tzinfo=PST)
    checks = [recheck_at_infusion(build(), moment, prescribed_weight_on=date(2026, 12, 7))
              for moment in (site, site.astimezone(UTC))]
    assert [c.weight_problem for c in checks] == ["", ""]
    assert [(r.id, r.status) for r in checks[0].results] == [(r.id, r.status) for r in checks[1].results]


@pytest.mark.parametrize(("actual", "days", "within"), [
    (datetime(2026, 12, 14, 7, 30, tzinfo=UTC), 3, True),   # 2026-12-13 23:30 PST
    (datetime(2026, 12, 14, 8, 0, tzinfo=UTC), 4, False),   # 2026-12-14 00:00 PST
])
def test_the_administration_window_counts_site_days_for_a_start_sent_in_utc(actual: datetime, days: int,
                                                                           within: bool) -> None:
    planned = datetime(2026, 12, 10, 9, 0, tzinfo=PST)
    for written in (actual, actual.astimezone(PST)):
        window = administration_window(planned.astimezone(UTC), written)
        assert (window.days_off, window.within) == (days, within)


def test_stem_cells_given_late_on_the_ninth_site_day_are_day_nine_when_sent_in_utc() -> None:
    # MIBG 2026-12-01 09:00 PST (17:00Z); stem cells 2026-12-10 23:30 PST (2026-12-11T07:30Z): day +9, before +10.
    mibg = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)
    infused = datetime(2026, 12, 11, 7, 30, tzinfo=UTC)
    for a, b in ((mibg, infused), (mibg.astimezone(PST), infused.astimezone(PST))):
        day = stem_cell_day(a, b)
        assert (day.mibg_date, day.infused_date, day.day, day.needs_reason) == (date(2026, 12, 1), date(2026, 12, 10),
                                                                                9, True)

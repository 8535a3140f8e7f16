"""The worklist places each item by the site's calendar day (issue 15): a date-only item due yesterday is overdue,
today's is due today, tomorrow's is upcoming; a timed item at 23:59 or 00:00 site time falls on the day the clock
on the ward shows, also on the 25-hour day when America/Los_Angeles leaves daylight saving (1 November 2026:
02:00 PDT becomes 01:00 PST) and on the 23-hour day it enters it (8 March 2026: 02:00 PST becomes 03:00 PDT).

Reference days by hand, from the clock on the wall in San Francisco, never from the UTC date.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.utils import timezone

from mibg.core import careplan
from mibg.web.plan import worklist
from mibg.web.plan.worklist import OVERDUE, TODAY, UPCOMING, WorklistEntry, bucket

SF = ZoneInfo("America/Los_Angeles")


def _entry(due, *, overdue=False, what="item"):
    return WorklistEntry(role="nurse", kind="lab", what=what, due=due, overdue=overdue, patient="", course_id=None,
                         url="/worklist/")


def _today(now: datetime) -> date:
    with timezone.override(SF):
        return timezone.localtime(now).date()


def _where(due, now, *, overdue=False) -> str:
    with timezone.override(SF):
        return bucket(_entry(due, overdue=overdue), _today(now))


NOON_3_DEC = datetime(2026, 12, 3, 12, 0, tzinfo=SF)


def test_nora_sees_a_date_only_lab_due_yesterday_as_overdue_not_as_due_today():
    assert _where(date(2026, 12, 2), NOON_3_DEC) == OVERDUE


def test_nora_sees_a_date_only_lab_due_today_as_due_today_and_tomorrows_as_upcoming():
    assert _where(date(2026, 12, 3), NOON_3_DEC) == TODAY
    assert _where(date(2026, 12, 4), NOON_3_DEC) == UPCOMING


def test_a_date_only_item_the_provider_calls_overdue_today_is_overdue_and_one_it_does_not_due_yesterday_is_too():
    assert _where(date(2026, 12, 3), NOON_3_DEC, overdue=True) == OVERDUE  # a signature due by a planned day passed
    assert _where(date(2026, 12, 2), NOON_3_DEC, overdue=False) == OVERDUE


def test_a_timed_item_is_overdue_when_its_grace_has_passed_and_otherwise_todays_work():
    yesterday_late = datetime(2026, 12, 2, 23, 59, tzinfo=SF)
    assert _where(yesterday_late, NOON_3_DEC, overdue=True) == OVERDUE
    assert _where(yesterday_late, NOON_3_DEC, overdue=False) == TODAY  # within the order's grace: still on time
    # A verification listed from the signature, its deadline the administration at 09:00 tomorrow: work for today.
    assert _where(datetime(2026, 12, 4, 9, 0, tzinfo=SF), NOON_3_DEC) == TODAY


def _status(due: datetime, now: datetime, grace_hours: int = 2) -> str:
    """A supportive-care due time as the worklist's provider reads it: "due" is listed today, "upcoming" is not
    listed yet, "overdue" is listed as overdue. Times are stored and compared in UTC, as the database holds them
    (Python compares two datetimes of one zone object by their wall clocks, which the repeated hour would fool)."""
    return careplan.occurrence_status(due.astimezone(UTC), timedelta(hours=grace_hours), now.astimezone(UTC), SF)


def test_a_timed_due_time_at_2359_site_time_is_todays_and_one_at_0000_is_tomorrows():
    now = datetime(2026, 12, 3, 17, 0, tzinfo=SF)  # 01:00 UTC on 4 December
    assert _status(datetime(2026, 12, 3, 23, 59, tzinfo=SF), now) == "due"
    assert _status(datetime(2026, 12, 4, 0, 0, tzinfo=SF), now) == "upcoming"
    early = datetime(2026, 12, 3, 0, 0, 30, tzinfo=SF)
    assert _status(datetime(2026, 12, 3, 0, 0, tzinfo=SF), early) == "due"


def test_on_the_25_hour_day_daylight_saving_ends_a_due_time_at_2359_pst_is_due_from_0030_pdt():
    now = datetime(2026, 11, 1, 0, 30, tzinfo=SF)  # 00:30 PDT, before the clocks go back
    assert now.utcoffset() == timedelta(hours=-7)
    late = datetime(2026, 11, 1, 23, 59, tzinfo=SF)  # 23:59 PST: 24 h 29 min after now, still the same day
    assert late.utcoffset() == timedelta(hours=-8)
    assert _status(late, now) == "due"
    assert _status(datetime(2026, 11, 2, 0, 0, tzinfo=SF), datetime(2026, 11, 1, 23, 30, tzinfo=SF)) == "upcoming"
    # 23:59 PDT on 31 October with 2 h of grace: overdue at 01:30 PST (the second 01:30), 2 h 31 min later.
    assert _status(datetime(2026, 10, 31, 23, 59, tzinfo=SF), datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=SF)) == "overdue"
    assert _status(datetime(2026, 10, 31, 23, 59, tzinfo=SF), datetime(2026, 11, 1, 1, 30, fold=0, tzinfo=SF)) == "due"


def test_on_the_23_hour_day_daylight_saving_starts_a_due_time_at_2359_pdt_is_due_from_0030_pst():
    now = datetime(2026, 3, 8, 0, 30, tzinfo=SF)  # 00:30 PST
    assert now.utcoffset() == timedelta(hours=-8)
    assert _status(datetime(2026, 3, 8, 23, 59, tzinfo=SF), now) == "due"  # 22 h 29 min later, the same day
    assert _status(datetime(2026, 3, 9, 0, 0, tzinfo=SF), datetime(2026, 3, 8, 23, 30, tzinfo=SF)) == "upcoming"
    assert _where(date(2026, 3, 7), now) == OVERDUE
    assert _where(date(2026, 3, 8), now) == TODAY
    assert _where(date(2026, 3, 9), datetime(2026, 3, 8, 23, 59, tzinfo=SF)) == UPCOMING


@pytest.mark.django_db
def test_noras_worklist_page_lists_yesterdays_lab_under_overdue_todays_under_today_and_tomorrows_under_upcoming(
        login):
    def days(ctx):
        for offset, what in ((-1, "Blood counts (yesterday)"), (0, "Blood counts (today)"),
                             (1, "Blood counts (tomorrow)")):
            yield _entry(ctx.today + timedelta(days=offset), what=what)

    worklist.register("test-lab-days", {"nurse"}, days)
    cache.clear()
    try:
        nora = login("nora")
        page = nora.get("/worklist/")
        mine = {section: [e.what for e in page.context[section] if e.what.startswith("Blood counts (")]
                for section in ("overdue", "today", "upcoming")}
        assert mine == {"overdue": ["Blood counts (yesterday)"], "today": ["Blood counts (today)"],
                        "upcoming": ["Blood counts (tomorrow)"]}
        text = page.content.decode()
        assert text.index("Blood counts (yesterday)") < text.index("Due today") < text.index("Blood counts (today)")
        assert text.index("Upcoming (") < text.index("Blood counts (tomorrow)")
        # The navigation's count and the API are "due today and overdue": tomorrow's is not in them.
        assert page.context["count"] == page.context["overdue_total"] + page.context["today_total"]
    finally:
        worklist._REGISTRY.pop("test-lab-days")
        cache.clear()

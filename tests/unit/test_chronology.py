"""The one chronology rule of a course (decisions.md A29, A31): every refusal names the field and the other time."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from mibg.core.chronology import (
    AFTER,
    Entered,
    Event,
    administration_window,
    check_not_future,
    check_times,
    shown,
    stem_cell_day,
)
from mibg.core.errors import InputError

PST = timezone(timedelta(hours=-8))
NOW = datetime(2026, 12, 10, 12, 0, tzinfo=PST)
SIGNED = datetime(2026, 12, 9, 16, 20, 40, tzinfo=PST)
VERIFIED = datetime(2026, 12, 9, 17, 5, tzinfo=PST)
ASSAYED = datetime(2026, 12, 10, 7, 30, tzinfo=PST)
BEFORE_START = {Event.SIGNATURE: SIGNED, Event.VERIFICATION: VERIFIED, Event.ASSAY: ASSAYED}


def start(at: datetime) -> tuple[Entered, ...]:
    return (Entered(Event.INFUSION_START, "started_at", at),)


def test_riley_s_assay_entered_three_days_ahead_is_refused_naming_the_field_and_the_clock():
    with pytest.raises(InputError) as error:
        check_times((Entered(Event.ASSAY, "measured_at", NOW + timedelta(days=3)),), {}, NOW)
    assert error.value.field == "measured_at"
    assert "2026-12-13 12:00 PST" in error.value.message
    assert "in the future" in error.value.message
    assert "2026-12-10 12:00 PST" in error.value.message  # the clock it conflicts with


@pytest.mark.parametrize(("ahead", "refused"), [
    (timedelta(minutes=4, seconds=59), False),  # just inside the 5 minutes of tolerance (A29)
    (timedelta(minutes=5), False),  # exactly at the tolerance: accepted
    (timedelta(minutes=5, seconds=1), True),  # just beyond it
])
def test_a_time_just_ahead_of_the_clock_is_accepted_up_to_five_minutes(ahead, refused):
    at = NOW + ahead
    if refused:
        with pytest.raises(InputError, match="in the future"):
            check_not_future("started_at", "The start", at, NOW)
    else:
        check_not_future("started_at", "The start", at, NOW)


def test_nora_s_administration_four_days_before_the_planned_date_and_before_the_signature_is_refused():
    # The case: infusion timed on 2026-12-05, the directive signed on 2026-12-09.
    with pytest.raises(InputError) as error:
        check_times(start(datetime(2026, 12, 5, 9, 0, tzinfo=PST)), BEFORE_START, NOW)
    assert error.value.field == "started_at"
    assert "2026-12-05 09:00 PST" in error.value.message
    assert "the written directive's signature (2026-12-09 16:20 PST)" in error.value.message


@pytest.mark.parametrize(("minutes", "refused"), [(-1, True), (0, False), (1, False)])
def test_the_infusion_start_against_the_signature_is_compared_to_the_minute(minutes, refused):
    # Signed at 16:20:40; the start entered as 16:20 is the same minute (product choice), 16:19 is before it.
    at = SIGNED.replace(second=0) + timedelta(minutes=minutes)
    recorded = {Event.SIGNATURE: SIGNED}
    if refused:
        with pytest.raises(InputError, match="before the written directive's signature"):
            check_times(start(at), recorded, NOW)
    else:
        check_times(start(at), recorded, NOW)


@pytest.mark.parametrize("event", [Event.VERIFICATION, Event.ASSAY])
def test_the_infusion_starts_after_the_verification_and_after_the_assay(event):
    recorded = dict(BEFORE_START)
    at = recorded[event] - timedelta(minutes=1)
    with pytest.raises(InputError) as error:
        check_times(start(at), {e: t for e, t in recorded.items() if e is event}, NOW)
    assert event.label in error.value.message
    assert shown(recorded[event]) in error.value.message
    check_times(start(recorded[event]), {e: t for e, t in recorded.items() if e is event}, NOW)  # the same minute


def test_an_infusion_that_ends_before_it_starts_names_the_end():
    entered = (Entered(Event.INFUSION_START, "started_at", datetime(2026, 12, 10, 10, 0, tzinfo=PST)),
               Entered(Event.INFUSION_END, "ended_at", datetime(2026, 12, 10, 9, 0, tzinfo=PST)))
    with pytest.raises(InputError) as error:
        check_times(entered, BEFORE_START, NOW)
    assert error.value.field == "ended_at"
    assert "Check started_at too" in error.value.message


def test_a_corrected_assay_after_an_infusion_already_recorded_is_refused_naming_the_infusion():
    recorded = {Event.INFUSION_START: datetime(2026, 12, 10, 9, 0, tzinfo=PST)}
    with pytest.raises(InputError) as error:
        check_times((Entered(Event.ASSAY, "measured_at", datetime(2026, 12, 10, 9, 1, tzinfo=PST)),), recorded, NOW)
    assert "after the start of the 131I-MIBG infusion (2026-12-10 09:00 PST), already recorded" in error.value.message
    check_times((Entered(Event.ASSAY, "measured_at", datetime(2026, 12, 10, 9, 0, tzinfo=PST)),), recorded, NOW)


@pytest.mark.parametrize(("event", "field"), [(Event.READING, "measured_at"), (Event.STEM_CELLS, "infused_at")])
def test_readings_and_stem_cells_come_after_the_mibg_infusion(event, field):
    recorded = {Event.INFUSION_START: datetime(2026, 12, 1, 9, 0, tzinfo=PST),
                Event.INFUSION_END: datetime(2026, 12, 1, 10, 40, tzinfo=PST)}
    early = datetime(2026, 12, 1, 8, 59, tzinfo=PST)
    with pytest.raises(InputError) as error:
        check_times((Entered(event, field, early),), recorded, NOW)
    assert error.value.field == field
    assert "2026-12-01 08:59 PST" in error.value.message


def test_a_corrected_infusion_start_after_the_first_reading_is_refused():
    recorded = {Event.READING: datetime(2026, 12, 1, 11, 0, tzinfo=PST)}
    with pytest.raises(InputError, match="after the exposure-rate reading"):
        check_times(start(datetime(2026, 12, 1, 11, 1, tzinfo=PST)), recorded, NOW)


def test_every_event_of_the_order_is_known_and_no_event_must_follow_itself():
    assert set(AFTER) == set(Event)
    assert all(e not in before for e, before in AFTER.items())


@pytest.mark.parametrize(("days", "within"), [(-4, False), (-3, True), (-2, True), (0, True), (2, True), (3, True),
                                              (4, False)])
def test_the_administration_window_is_plus_or_minus_three_days_of_the_planned_date(days, within):
    planned = datetime(2026, 12, 10, 9, 0, tzinfo=PST)
    # calendar days: planned 2026-12-10; actual 2026-12-10 + days, at 23:30 so the hours do not matter
    actual = datetime(2026, 12, 10, 23, 30, tzinfo=PST) + timedelta(days=days)
    window = administration_window(planned, actual)
    assert window.days_off == days
    assert window.within is within
    if not within:
        assert "+/- 3 days" in window.message
        assert "2026-12-10" in window.message


@pytest.mark.parametrize(("days", "needs_reason"), [(9, True), (10, False), (11, False), (1, True), (14, False)])
def test_stem_cells_before_day_plus_ten_need_the_treating_physician_s_reason(days, needs_reason):
    mibg = datetime(2026, 12, 1, 9, 0, tzinfo=PST)
    # day +n = the MIBG infusion's date + n days (2026-12-01 + 10 = 2026-12-11), as the planned day +14 is counted
    day = stem_cell_day(mibg, datetime(2026, 12, 1, 8, 0, tzinfo=PST) + timedelta(days=days))
    assert day.day == days
    assert day.needs_reason is needs_reason
    assert day.planned_day == 14
    assert day.earliest_day == 10

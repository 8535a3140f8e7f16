"""mibg.core.careplan: the order set and calendar of a course from the protocol's care plan (issue 13 §1-2).

Reference values by hand from the shipped definition (nct01370330.json, care_plan), each worked in a comment.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from mibg.core import careplan
from mibg.core.careplan import CourseFacts, course_plan, occurrence_status
from mibg.protocol import load_protocol, protocol_as_dict
from mibg.protocol.loader import parse_protocol
from mibg.protocol.sections import IodideBand

ZONE = ZoneInfo("America/Los_Angeles")
INFUSION = datetime(2026, 12, 10, 9, 0, tzinfo=ZONE)


def facts(**changes) -> CourseFacts:
    base = CourseFacts(infusion_at=INFUSION, infusion_actual=False, infusion_minutes=Decimal("60"),
                       weight_kg=Decimal("22"), birth_date=date(2019, 5, 2), diagnosis="neuroblastoma",
                       preparation="azedra", zone=ZONE)
    return replace(base, **changes)


def orders(**changes):
    return {o.code: o for o in course_plan(load_protocol(), facts(**changes)).orders}


def calendar(**changes):
    return course_plan(load_protocol(), facts(**changes)).calendar


def test_dr_patels_signed_plan_starts_iodide_24_hours_before_and_ends_it_10_days_after_the_infusion():
    iodide = orders()["thyroid-blockade"]
    assert iodide.start == INFUSION - timedelta(hours=24)
    assert iodide.end == INFUSION + timedelta(days=10)
    # every 24 h from day -1 to day +10 inclusive: 12 doses
    assert len(iodide.due) == 12
    assert iodide.due[-1] == INFUSION + timedelta(days=10)
    assert "iodide_hours_before" in iodide.explanation


@pytest.mark.parametrize(("weight", "mg"), [
    ("14.999", "32"),  # just below 15 kg: the first band (from 0, below 15)
    ("15", "65"),  # exactly 15 kg: the second band starts there (inclusive)
    ("69.999", "65"),  # just below 70 kg
    ("70", "130"),  # exactly 70 kg: the last band (inclusive)
])
def test_the_iodide_dose_is_the_band_of_the_weight_with_the_lower_edge_inclusive(weight, mg):
    dose = orders(weight_kg=Decimal(weight))["thyroid-blockade"].dose
    assert dose.amount == Decimal(mg)
    assert dose.status == careplan.UNCONFIRMED


def test_the_iodide_dose_says_who_confirmed_the_table_once_a_pharmacist_has():
    dose = orders(iodide_confirmed_by="Riley Chen, PharmD")["thyroid-blockade"].dose
    assert dose.status == "confirmed by Riley Chen, PharmD"


def test_a_site_table_replaces_the_shipped_one_with_its_reason_in_the_label():
    site = load_protocol().with_iodide_table((IodideBand(Decimal(0), None, Decimal("65")),), "pharmacy committee 2026-11")
    assert site.label.endswith("+site(1)")
    assert careplan.iodide_dose(site, Decimal("80"), None).amount == Decimal("65")
    with pytest.raises(ValueError, match="reason"):
        load_protocol().with_iodide_table((), " ")


@pytest.mark.parametrize(("weight", "ml"), [
    ("10", "1000"),  # 100 x 10
    ("22", "1540"),  # 100 x 10 + 50 x 10 + 20 x 2
    ("44", "1980"),  # 1000 + 500 + 20 x 24: just below the adult minimum
    ("45", "2000"),  # 1000 + 500 + 20 x 25 = 2000: exactly the adult minimum
    ("46", "2000"),  # 2020 scaled, capped at the adult 2000 mL (at least 2 L a day, clinical-reference §5.1)
])
def test_hydration_is_scaled_for_children_and_at_least_2_litres_for_adults(weight, ml):
    assert orders(weight_kg=Decimal(weight))["hydration"].dose.amount == Decimal(ml)


def test_hydration_runs_from_1_day_before_to_1_week_after_the_infusion():
    hydration = orders()["hydration"]
    assert hydration.start == INFUSION - timedelta(days=1)
    assert hydration.end == INFUSION + timedelta(days=7)
    assert len(hydration.due) == 9  # days -1 .. +7


@pytest.mark.parametrize(("birth", "ordered"), [
    (date(2020, 12, 11), True),  # 5 on the infusion day (6th birthday tomorrow): below 6
    (date(2020, 12, 10), False),  # 6th birthday on the infusion day: not below 6
    (date(2020, 12, 9), False),  # 6 years and a day
])
def test_a_bladder_catheter_is_ordered_only_below_the_sites_age(birth, ordered):
    plan = course_plan(load_protocol(), facts(birth_date=birth))
    assert ("bladder-catheter" in {o.code for o in plan.orders}) is ordered
    assert ("bladder-catheter" in {s.code for s in plan.not_ordered}) is not ordered


def test_the_antiemetic_is_due_30_minutes_before_the_infusion():
    assert orders()["antiemetic"].due == (INFUSION - timedelta(minutes=30),)


def test_blood_pressure_is_closer_for_a_pheochromocytoma_and_for_the_low_specific_activity_product():
    # 60 min infusion: every 30 min -> 0, 30, 60 = 3 checks; every 15 min -> 0, 15, ..., 60 = 5 checks
    assert len(orders()["bp-during"].due) == 3
    assert len(orders(diagnosis="pheochromocytoma")["bp-during"].due) == 5
    assert len(orders(diagnosis="paraganglioma")["bp-during"].due) == 5
    assert len(orders(preparation="draximage")["bp-during"].due) == 5
    # after: from end + 60 min to end + 4 h, hourly -> 1, 2, 3, 4 h = 4; every 30 min -> 1, 1.5, ..., 4 h = 7
    assert len(orders()["bp-after"].due) == 4
    assert len(orders(diagnosis="pheochromocytoma")["bp-after"].due) == 7


def test_the_room_survey_after_release_follows_the_signed_release():
    released = datetime(2026, 12, 13, 14, 0, tzinfo=ZONE)
    assert orders()["room-release-survey"].due == (INFUSION + timedelta(days=5),)  # planned: expected_stay_days
    assert orders(released_at=released)["room-release-survey"].due == (released,)


def test_moving_the_infusion_moves_every_order_and_calendar_entry_anchored_to_it():
    moved = INFUSION + timedelta(days=3)
    before, after = orders(), orders(infusion_at=moved)
    for code in before:
        assert after[code].start - before[code].start == timedelta(days=3), code
    stem_before = [e.start for e in calendar() if e.code == "stem-cells"]
    stem_after = [e.start for e in calendar(infusion_at=moved) if e.code == "stem-cells"]
    assert stem_before == [date(2026, 12, 24)]  # 10 December + 14 days
    assert stem_after == [date(2026, 12, 27)]


def test_the_calendar_plans_labs_twice_weekly_until_recovery():
    labs = [e.start for e in calendar() if e.code == "labs"]
    # ceil(3.5 k) for k = 1.. : days 4, 7, 11, 14, ... up to day 63 without a recovery
    assert labs[:4] == [date(2026, 12, 14), date(2026, 12, 17), date(2026, 12, 21), date(2026, 12, 24)]
    assert labs[-1] == date(2026, 12, 10) + timedelta(days=63)
    recovered = [e.start for e in calendar(recovered_on=date(2026, 12, 24)) if e.code == "labs"]
    assert recovered[-1] == date(2026, 12, 24)  # day 14: recovered that day, the last planned draw


def test_readings_are_daily_from_the_infusion_day_to_the_release_day():
    days = [e.start for e in calendar() if e.code == "reading"]
    assert days == [date(2026, 12, 10) + timedelta(days=n) for n in range(6)]  # days 0..5, release planned day 5
    released = datetime(2026, 12, 13, 11, 0, tzinfo=ZONE)
    assert [e.start for e in calendar(released_at=released) if e.code == "reading"][-1] == date(2026, 12, 13)


def test_the_response_window_is_day_35_to_63():
    window = next(e for e in calendar() if e.code == "response")
    assert (window.start, window.end) == (date(2027, 1, 14), date(2027, 2, 11))  # 10 Dec + 35, + 63


@pytest.mark.parametrize(("infusion", "earliest"), [
    (datetime(2026, 12, 10, 9, tzinfo=ZONE), date(2027, 6, 11)),  # 6 months later is 10 June: strict, so 11 June
    (datetime(2026, 8, 31, 9, tzinfo=ZONE), date(2027, 3, 1)),  # 28 Feb 2027 (no 31st) + 1 day (A11, A13)
])
def test_the_earliest_next_course_is_the_day_after_6_calendar_months(infusion, earliest):
    entry = next(e for e in calendar(infusion_at=infusion) if e.code == "next-course")
    assert entry.start == earliest


def test_screening_windows_end_on_the_treatment_date_and_start_by_the_site_windows():
    windows = {e.code: (e.start, e.end) for e in calendar() if e.code.startswith("screening-")}
    assert windows["screening-labs"] == (date(2026, 12, 3), date(2026, 12, 10))  # 7 days (A20)
    assert windows["screening-scan"] == (date(2026, 10, 29), date(2026, 12, 10))  # 42 days (A9)
    assert windows["screening-assessments"] == (date(2026, 11, 12), date(2026, 12, 10))  # 28 days (A20)


def test_a_site_change_of_a_care_parameter_moves_the_order_and_is_recorded():
    site = load_protocol().with_care_parameter("iodide_hours_before", Decimal("48"), "thyroid clinic SOP v3")
    iodide = {o.code: o for o in course_plan(site, facts()).orders}["thyroid-blockade"]
    assert iodide.start == INFUSION - timedelta(hours=48)
    assert site.amendments[-1].parameter == "care_plan.iodide_hours_before"
    with pytest.raises(ValueError, match="reason"):
        load_protocol().with_care_parameter("iodide_hours_before", Decimal("48"), "")
    with pytest.raises(KeyError):
        load_protocol().with_care_parameter("no_such_parameter", Decimal("1"), "why")


def test_the_care_plan_round_trips_through_the_export():
    definition = load_protocol()
    assert parse_protocol(protocol_as_dict(definition)) == definition


def test_every_order_and_calendar_entry_carries_its_source():
    plan = load_protocol().care_plan
    assert all(o.source.strip() for o in plan.orders)
    assert all(c.source.strip() for c in plan.calendar)
    assert all(p.source.strip() for p in plan.parameters.values())
    assert plan.iodide_table.status == "to be confirmed by the site"


def test_a_naive_infusion_time_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        facts(infusion_at=datetime(2026, 12, 10, 9, 0))


GRACE = timedelta(hours=4)
DUE = datetime(2026, 12, 9, 9, 0, tzinfo=ZONE)


@pytest.mark.parametrize(("recorded", "expected"), [
    (DUE + GRACE - timedelta(seconds=1), "done"),
    (DUE + GRACE, "done"),  # exactly at the end of the grace: on time
    (DUE + GRACE + timedelta(seconds=1), "late"),
])
def test_a_dose_recorded_after_its_grace_is_late(recorded, expected):
    assert occurrence_status(DUE, GRACE, DUE + timedelta(days=1), ZONE, recorded) == expected


@pytest.mark.parametrize(("now", "expected"), [
    (DUE - timedelta(days=1), "upcoming"),
    (DUE - timedelta(hours=1), "due"),  # the same clinic day
    (DUE + GRACE, "due"),  # exactly at the end of the grace: not yet missed
    (DUE + GRACE + timedelta(seconds=1), "overdue"),
])
def test_a_dose_not_recorded_by_the_end_of_its_grace_is_overdue(now, expected):
    assert occurrence_status(DUE, GRACE, now, ZONE) == expected


def test_a_dose_recorded_as_not_given_is_not_done():
    assert occurrence_status(DUE, GRACE, DUE, ZONE, DUE, done=False) == "not done"


def test_the_medication_check_finds_interfering_drugs_by_name_in_any_case():
    found = careplan.interfering_found(load_protocol(), "Labetalol 100 mg; ondansetron\nLINEZOLID")
    assert {d for d, _ in found} == {"labetalol", "linezolid"}
    assert careplan.interfering_found(load_protocol(), "none") == ()

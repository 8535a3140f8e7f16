"""The deadlines of event reports (issue 13 §3): 10 CFR 35.3045 and 21 CFR 312.32 clocks as protocol data.

Reference values are worked by hand from the rules as issue 13 words them (each marked UNVERIFIED against the CFR
text in the protocol data): "no later than the next calendar day after discovery", "within 15 days", "within 24
hours", "7 calendar days", "15 days", and the IRB's own timeline (site parameter, 5 calendar days by default).
The site's clock is America/Los_Angeles (PST -08:00 in winter, PDT -07:00 from 2026-03-08 02:00).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from mibg.core.errors import InputError
from mibg.core.event_reports import MEDICAL_EVENT, SAE, SaeFacts, deadline_plan, sae_facts
from mibg.protocol import load_protocol

LA = ZoneInfo("America/Los_Angeles")
PST = timezone(timedelta(hours=-8))
PDT = timezone(timedelta(hours=-7))
UTC_ = UTC


def _due(plan, code):
    return next(d for d in plan.deadlines if d.code == code).due_at


def _codes(plan):
    return {d.code for d in plan.deadlines}


def test_a_medical_event_found_on_a_thursday_afternoon_must_be_phoned_in_by_the_end_of_friday():
    # Discovered 2026-12-10 15:30 PST. Next calendar day: 2026-12-11, to 23:59:59 PST.
    plan = deadline_plan(MEDICAL_EVENT, datetime(2026, 12, 10, 15, 30, tzinfo=PST), LA, load_protocol())
    assert _due(plan, "nrc_telephone") == datetime(2026, 12, 11, 23, 59, 59, tzinfo=PST)
    # Written report within 15 days: 2026-12-10 + 15 = 2026-12-25, end of day.
    assert _due(plan, "nrc_written") == datetime(2026, 12, 25, 23, 59, 59, tzinfo=PST)
    # Referring physician and guardian: 24 h after the moment of discovery.
    assert _due(plan, "referring_physician") == datetime(2026, 12, 11, 15, 30, tzinfo=PST)
    assert _due(plan, "guardian") == datetime(2026, 12, 11, 15, 30, tzinfo=PST)
    # Soonest first: the two 24-hour notifications, then the telephone call, then the written report.
    assert [d.code for d in plan.deadlines] == ["referring_physician", "guardian", "nrc_telephone", "nrc_written"]


def test_the_telephone_deadline_is_still_met_at_its_last_second_and_overdue_one_second_later():
    plan = deadline_plan(MEDICAL_EVENT, datetime(2026, 12, 10, 15, 30, tzinfo=PST), LA, load_protocol())
    call = next(d for d in plan.deadlines if d.code == "nrc_telephone")
    assert not call.overdue(datetime(2026, 12, 11, 23, 59, 58, tzinfo=PST))  # just before
    assert not call.overdue(datetime(2026, 12, 11, 23, 59, 59, tzinfo=PST))  # at
    assert call.overdue(datetime(2026, 12, 12, 0, 0, 0, tzinfo=PST))  # just after


def test_an_event_found_a_minute_before_midnight_still_gets_the_whole_next_calendar_day():
    # 2026-12-10 23:59 PST: the next calendar day is 2026-12-11, not 2026-12-10 + 24 h.
    plan = deadline_plan(MEDICAL_EVENT, datetime(2026, 12, 10, 23, 59, tzinfo=PST), LA, load_protocol())
    assert _due(plan, "nrc_telephone") == datetime(2026, 12, 11, 23, 59, 59, tzinfo=PST)
    assert _due(plan, "referring_physician") == datetime(2026, 12, 11, 23, 59, tzinfo=PST)


def test_a_discovery_time_given_in_utc_is_counted_on_the_clinics_calendar():
    # 2026-12-11 02:00 UTC is 2026-12-10 18:00 PST: the clinic's day of discovery is the 10th.
    plan = deadline_plan(MEDICAL_EVENT, datetime(2026, 12, 11, 2, 0, tzinfo=UTC_), LA, load_protocol())
    assert _due(plan, "nrc_telephone") == datetime(2026, 12, 11, 23, 59, 59, tzinfo=PST)


def test_twenty_four_hours_across_the_spring_clock_change_are_twenty_four_real_hours():
    # 2026-03-07 12:00 PST (20:00 UTC) + 24 h = 2026-03-08 20:00 UTC = 13:00 PDT (the clocks went forward at 02:00).
    plan = deadline_plan(MEDICAL_EVENT, datetime(2026, 3, 7, 12, 0, tzinfo=PST), LA, load_protocol())
    assert _due(plan, "guardian") == datetime(2026, 3, 8, 13, 0, tzinfo=PDT)
    assert _due(plan, "nrc_telephone") == datetime(2026, 3, 8, 23, 59, 59, tzinfo=PDT)


def test_an_unexpected_fatal_suspected_reaction_runs_the_7_day_15_day_and_irb_clocks():
    facts = SaeFacts(unexpected=True, suspected=True, fatal=True, life_threatening=False)
    plan = deadline_plan(SAE, datetime(2026, 12, 1, 9, 0, tzinfo=PST), LA, load_protocol(), facts)
    assert _due(plan, "irb") == datetime(2026, 12, 6, 23, 59, 59, tzinfo=PST)  # 1 + 5 (site parameter)
    assert _due(plan, "fda_7_day") == datetime(2026, 12, 8, 23, 59, 59, tzinfo=PST)  # 1 + 7
    assert _due(plan, "fda_15_day") == datetime(2026, 12, 16, 23, 59, 59, tzinfo=PST)  # 1 + 15
    assert not plan.not_applicable


def test_an_unexpected_suspected_reaction_that_is_neither_fatal_nor_life_threatening_has_no_7_day_report():
    facts = SaeFacts(unexpected=True, suspected=True, fatal=False, life_threatening=False)
    plan = deadline_plan(SAE, datetime(2026, 12, 1, 9, 0, tzinfo=PST), LA, load_protocol(), facts)
    assert _codes(plan) == {"fda_15_day", "irb"}
    assert [(rule.code, why) for rule, why in plan.not_applicable] == [
        ("fda_7_day", "the event is neither fatal nor life-threatening")]


def test_an_expected_event_goes_to_the_irb_only():
    facts = SaeFacts(unexpected=False, suspected=True, fatal=True, life_threatening=True)
    plan = deadline_plan(SAE, datetime(2026, 12, 1, 9, 0, tzinfo=PST), LA, load_protocol(), facts)
    assert _codes(plan) == {"irb"}
    assert {why for _rule, why in plan.not_applicable} == {"the event is expected"}


def test_an_event_not_suspected_of_the_drug_goes_to_the_irb_only():
    facts = SaeFacts(unexpected=True, suspected=False, fatal=False, life_threatening=True)
    plan = deadline_plan(SAE, datetime(2026, 12, 1, 9, 0, tzinfo=PST), LA, load_protocol(), facts)
    assert _codes(plan) == {"irb"}


def test_until_expectedness_is_assessed_the_stricter_unexpected_clocks_run_and_the_page_says_so():
    facts = SaeFacts(unexpected=None, suspected=True, fatal=False, life_threatening=True)
    plan = deadline_plan(SAE, datetime(2026, 12, 1, 9, 0, tzinfo=PST), LA, load_protocol(), facts)
    assert _codes(plan) == {"fda_7_day", "fda_15_day", "irb"}
    assert any("not assessed yet" in note for note in plan.notes)


@pytest.mark.parametrize(("attribution", "suspected"), [
    ("unrelated", False), ("unlikely", False), ("possible", True), ("probable", True), ("definite", True)])
def test_attributions_possible_and_above_are_suspected_adverse_reactions(attribution, suspected):
    assert sae_facts(load_protocol(), unexpected=True, attribution=attribution, grade=3).suspected is suspected


@pytest.mark.parametrize(("grade", "fatal", "life_threatening"), [(3, False, False), (4, False, True), (5, True, False)])
def test_grade_4_reads_as_life_threatening_and_grade_5_as_fatal_until_the_physician_says_otherwise(grade, fatal, life_threatening):
    facts = sae_facts(load_protocol(), unexpected=True, attribution="probable", grade=grade)
    assert (facts.fatal, facts.life_threatening) == (fatal, life_threatening)


def test_a_physician_who_says_a_grade_4_event_was_not_life_threatening_removes_the_7_day_clock():
    facts = sae_facts(load_protocol(), unexpected=True, attribution="probable", grade=4, life_threatening=False)
    plan = deadline_plan(SAE, datetime(2026, 12, 1, 9, 0, tzinfo=PST), LA, load_protocol(), facts)
    assert "fda_7_day" not in _codes(plan)


def test_a_site_that_sets_its_irb_timeline_to_10_days_moves_the_irb_deadline_with_the_reason_recorded():
    amended = load_protocol().with_site_parameter("irb_sae_report_days", Decimal("10"), "Our IRB: 10 calendar days")
    facts = SaeFacts(unexpected=False, suspected=True, fatal=False, life_threatening=False)
    plan = deadline_plan(SAE, datetime(2026, 12, 1, 9, 0, tzinfo=PST), LA, amended, facts)
    assert _due(plan, "irb") == datetime(2026, 12, 11, 23, 59, 59, tzinfo=PST)  # 1 + 10
    assert plan.protocol_label.endswith("+site(1)")


def test_every_regulatory_clock_in_the_protocol_data_has_its_source_and_is_marked_unverified():
    kinds = load_protocol().event_reports
    assert set(kinds) == {MEDICAL_EVENT, SAE}
    for kind in kinds.values():
        for rule in kind.deadlines:
            assert rule.source.strip(), rule.code
            assert rule.verified is False, rule.code  # nobody here read the CFR text itself
            assert "UNVERIFIED" in rule.source or rule.site_parameter, rule.code
    assert "UNVERIFIED" in load_protocol().site_parameters["irb_sae_report_days"].source


def test_a_discovery_time_without_its_time_zone_is_refused_naming_the_field():
    with pytest.raises(InputError) as error:
        deadline_plan(MEDICAL_EVENT, datetime(2026, 12, 10, 15, 30), LA, load_protocol())
    assert error.value.field == "discovered_at"


def test_an_unknown_kind_of_report_is_refused_naming_the_field():
    with pytest.raises(InputError) as error:
        deadline_plan("incident", datetime(2026, 12, 10, 15, 30, tzinfo=PST), LA, load_protocol())
    assert error.value.field == "kind"

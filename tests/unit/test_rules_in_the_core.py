"""Clinical rules that lived in the web layer now live in the core, with their numbers in the protocol definition
(issue 11, item 2): the reading-validity rules, the family-instruction durations, preparation behaviour, and the
regulatory numbers in messages. Boundaries at, just below and just above each threshold.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from mibg.core.cumulative import (
    GIVEN_HERE,
    RECORDED_AT_SCREENING,
    PriorCourse,
    course_mci_per_kg,
    cumulative_dose,
)
from mibg.core.dosing import DoseRequest, plan_dose, specific_activity_field
from mibg.core.readings import Infusion, OtherReading, ReadingEntry, reading_problems
from mibg.core.release import _record_reasons, family_precautions
from mibg.core.stem_cells import stem_cell_status
from mibg.core.units import Activity
from mibg.protocol import load_protocol

PST = timezone(timedelta(hours=-8))
START = datetime(2026, 12, 1, 9, 0, tzinfo=PST)
END = START + timedelta(minutes=100)
NOW = START + timedelta(days=3)


def entry(**change):
    values = {"measured_at": END + timedelta(minutes=10), "mr_per_h": Decimal("58"), "background_mr_per_h": None,
              "before_first_void": True, "instrument_id": "Ludlum 9-3 #4471",
              "instrument_calibration_due": date(2027, 1, 1), "measured_by": "Sam Okafor, PhD"}
    return ReadingEntry(**{**values, **change})


def problems(reading, others=(), now=NOW):
    return reading_problems(reading, Infusion(START, END), list(others), now=now, local_date=lambda t: t.date(),
                            show=lambda t: t.isoformat())


def test_sams_first_reading_after_the_infusion_ends_is_accepted():
    assert problems(entry()) == {}


@pytest.mark.parametrize(("offset", "refused"), [(timedelta(seconds=-1), True), (timedelta(0), False),
                                                 (timedelta(seconds=1), False)])
def test_a_reading_is_taken_from_the_end_of_the_infusion_on(offset, refused):
    assert ("measured_at" in problems(entry(measured_at=END + offset))) == refused


@pytest.mark.parametrize(("hours", "refused"), [(2159, False), (2160, False), (2161, True)])
def test_a_reading_more_than_90_days_after_the_infusion_start_is_a_wrong_date(hours, refused):
    # plausible_reading_hours_max = 2160 h = 90 days; "now" is moved past the reading so only this rule applies.
    at = START + timedelta(hours=hours)
    found = problems(entry(measured_at=at, before_first_void=False), now=at + timedelta(days=1))
    assert ("measured_at" in found) == refused


@pytest.mark.parametrize(("rate", "refused"), [("9999.999", False), ("10000", False), ("10000.001", True)])
def test_an_exposure_rate_above_the_plausible_maximum_is_refused_naming_its_parameter(rate, refused):
    found = problems(entry(mr_per_h=Decimal(rate)))
    assert ("mr_per_h" in found) == refused
    if refused:
        assert "plausible_exposure_rate_mr_per_h_max" in found["mr_per_h"]


@pytest.mark.parametrize(("due", "refused"), [(date(2026, 12, 1), False), (date(2026, 11, 30), True)])
def test_the_survey_meter_must_be_calibrated_on_the_day_of_the_reading_10_cfr_35_61(due, refused):
    # the reading is on 2026-12-01 (local date): due that day is still calibrated, due the day before is not.
    found = problems(entry(instrument_calibration_due=due))
    assert ("instrument_calibration_due" in found) == refused


@pytest.mark.parametrize(("ahead", "refused"), [(timedelta(minutes=5), False), (timedelta(minutes=5, seconds=1), True)])
def test_a_reading_up_to_the_clock_tolerance_ahead_is_accepted_and_later_is_in_the_future(ahead, refused):
    at = END + timedelta(minutes=10)
    assert ("measured_at" in problems(entry(measured_at=at), now=at - ahead)) == refused


def test_there_is_only_one_reading_before_the_first_void_and_it_is_the_first():
    first = OtherReading(END + timedelta(minutes=10), Decimal("58"), True)
    assert "before_first_void" in problems(entry(measured_at=END + timedelta(hours=2)), [first])
    earlier = OtherReading(END + timedelta(minutes=5), Decimal("60"), False)
    assert "before_first_void" in problems(entry(), [earlier])
    later = OtherReading(END + timedelta(hours=2), Decimal("40"), False)
    assert problems(entry(), [later]) == {}
    assert "measured_at" in problems(entry(measured_at=END + timedelta(minutes=5), before_first_void=False), [first])


# ---- family instructions (10 CFR 35.75(b), clinical-reference §3.3) ---------------------------------------------


def test_the_dose_rate_at_which_the_family_precautions_end_is_1_438_mr_per_h():
    # 1 mSv = 100 mrem; 100 / (34.6 x 8.04 d x 0.25) = 100 / 69.546 = 1.43790 mR/h at 1 m
    assert f"{family_precautions(Decimal(2)).rate_at_threshold_mrem_per_h:.3f}" == "1.438"


def test_sam_releases_ava_at_2_mr_per_h_and_the_precautions_last_4_days():
    # t = 8.04 d x log2(2 / 1.43790) = 8.04 x 0.47602 = 3.827 d -> rounded up to 4 days
    precautions = family_precautions(Decimal(2))
    assert precautions.exact_days == pytest.approx(3.827, abs=0.001)
    assert precautions.days == 4


@pytest.mark.parametrize("rate", ["1.0", "1.4379"])
def test_at_or_below_the_threshold_the_precautions_last_the_minimum_one_day(rate):
    precautions = family_precautions(Decimal(rate))
    assert (precautions.days, precautions.minimum_days) == (1, 1)
    assert "at least 1" in precautions.formula


def test_a_site_that_sets_the_minimum_to_three_days_gets_three_days():
    amended = load_protocol().with_site_parameter("precaution_minimum_days", Decimal(3), "RSO policy 2027")
    assert family_precautions(Decimal("1.0"), amended).days == 3


# ---- preparations as protocol data --------------------------------------------------------------------------------


def test_each_preparations_specific_activity_goes_where_its_unit_says():
    preparations = load_protocol().preparations
    assert specific_activity_field(preparations["azedra"]) == "specific_activity_mci_per_mg"
    assert specific_activity_field(preparations["draximage"]) == "specific_activity_ci_per_mmol"


def test_the_discontinued_warning_is_the_definitions_own_words():
    plan = plan_dose(DoseRequest(weight_kg=Decimal(22), mci_per_kg=Decimal(11), preparation="azedra"))
    note = load_protocol().preparations["azedra"].discontinued_note
    assert "(2023)" in note
    assert any(note in f.message for f in plan.findings if f.rule == "R3")


def test_a_specific_activity_in_the_wrong_unit_for_draximage_is_refused_naming_the_right_field():
    from mibg.core.errors import InputError

    with pytest.raises(InputError) as refused:
        plan_dose(DoseRequest(weight_kg=Decimal(22), mci_per_kg=Decimal(11), preparation="draximage",
                              specific_activity_mci_per_mg=Decimal(2500)))
    assert refused.value.field == "specific_activity_mci_per_mg"
    assert "specific_activity_ci_per_mmol" in refused.value.message


# ---- regulatory numbers in messages come from the definition -------------------------------------------------------


def test_the_release_record_reasons_name_the_definitions_33_mci_and_0_25():
    protocol = load_protocol()
    reasons = _record_reasons(Activity(Decimal("33.1")), Decimal("0.2"), protocol)
    assert "above 33 mCi" in reasons[0]
    assert "below 0.25" in reasons[1]
    amended = protocol.with_site_parameter("federal_release_activity_mci", Decimal(30), "test of the wording")
    assert "above 30 mCi" in _record_reasons(Activity(Decimal("33.1")), Decimal("0.25"), amended)[0]


@pytest.mark.parametrize(("before", "warned"), [(timedelta(days=14), False), (timedelta(days=14, minutes=15), True)])
def test_a_calibration_more_than_14_days_from_the_administration_is_warned_about(before, warned):
    administration = datetime(2026, 12, 10, 9, 0, tzinfo=PST)
    plan = plan_dose(DoseRequest(weight_kg=Decimal(22), mci_per_kg=Decimal(11), calibration_time=administration - before,
                                 administration_time=administration))
    warnings = [f for f in plan.findings if f.rule == "DECAY" and f.severity.value == "warn"]
    assert bool(warnings) == warned
    if warned:
        assert "calibration_span_warn_days" in warnings[0].message


# ---- the cumulative mCi/kg and its rounding (decisions.md A14) -----------------------------------------------------


@pytest.mark.parametrize(("administered", "weight", "per_kg"), [
    ("396", "22.0", "18.000"),  # 396 / 22 = 18 exactly
    ("396.011", "22.0", "18.001"),  # 18.0005 rounds UP, never understated
    ("400", "22.0", "18.182"),  # 18.1818... -> 18.182
    ("264", "22.0", "12.000"),  # 12 exactly stays 12
])
def test_a_course_counts_its_administered_mci_per_kg_rounded_up_to_0_001(administered, weight, per_kg):
    assert course_mci_per_kg(Decimal(administered), Decimal(weight)) == Decimal(per_kg)


def test_ava_has_a_course_given_here_and_one_recorded_at_screening_and_the_same_date_counts_once():
    here = PriorCourse(date(2026, 6, 1), Decimal("18.000"), Decimal("22.0"), Decimal("396"), GIVEN_HERE)
    elsewhere = PriorCourse(date(2025, 9, 1), Decimal("12.5"), Decimal("20"), Decimal("250"), RECORDED_AT_SCREENING)
    same_day = PriorCourse(date(2026, 6, 1), Decimal("18"), Decimal("22"), None, RECORDED_AT_SCREENING)
    dose = cumulative_dose([here], [elsewhere, same_day])
    assert [c.where for c in dose.courses] == [RECORDED_AT_SCREENING, GIVEN_HERE]
    assert dose.mci_per_kg == Decimal("30.500")  # 12.5 + 18.000
    assert dose.total_mci == Decimal("646")  # 250 + 396


# ---- one stem-cell status for dosing and screening (clinical-reference §1.3 S1; decisions.md A15) --------------------


@pytest.mark.parametrize(("cd34", "mnc", "adequate", "optimum"), [
    ("999999", None, False, False), ("1E6", None, True, False), ("1000001", None, True, False),  # minimum 1 x 10^6
    ("2E6", None, True, False), ("2000001", None, True, True),  # optimum > 2 x 10^6
    (None, "99999999", False, False), (None, "1E8", True, False), (None, "200000001", True, True),  # marrow 1e8, 2e8
    (None, None, False, False),
])
def test_one_stem_cell_status_judges_the_stored_product_at_its_boundaries(cd34, mnc, adequate, optimum):
    status = stem_cell_status(None if cd34 is None else Decimal(cd34), None if mnc is None else Decimal(mnc))
    assert (status.adequate, status.at_optimum) == (adequate, optimum)


@pytest.mark.parametrize(("cd34", "adequate"), [("999999", False), ("1E6", True)])
def test_the_dose_planner_reads_the_same_status(cd34, adequate):
    plan = plan_dose(DoseRequest(weight_kg=Decimal(22), mci_per_kg=Decimal(11), cd34_per_kg=Decimal(cd34)))
    assert plan.stem_cells_adequate is adequate
    assert plan.stem_cells_adequate is stem_cell_status(Decimal(cd34), None).adequate

"""Release of the patient (clinical-reference §3; decisions.md "Release", "Predicted release")."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from mibg.core.dosimetry import TRAPEZOID, Reading, retention_fit
from mibg.core.release import (
    at_or_below,
    clock_time,
    dose_to_others_allows_release,
    dose_to_others_from_activity,
    dose_to_others_from_dose_rate,
    instructions_required_by_rule,
    release_assessment,
)
from mibg.core.units import Activity
from mibg.protocol import load_protocol

LN2 = math.log(2)
WORKED_EXAMPLE = [("0.5", "60.0"), ("24", "29.0"), ("48", "14.1"), ("72", "7.0"), ("96", "3.5")]


def readings(rows):
    return [Reading(Decimal(t), Decimal(r)) for t, r in rows]


def assess(rows, activity="396", **kwargs):
    return release_assessment(Activity(Decimal(activity)), retention_fit(readings(rows)), **kwargs)


def criterion(assessment, criterion_id):
    return next(c for c in assessment.criteria if c.id == criterion_id)


# ---- clinical-reference §3.4 worked examples -----------------------------------------------------------------


def test_33_mci_gives_the_table_value_of_0_505_rem():
    dose = dose_to_others_from_activity(Activity(Decimal(33)))
    assert dose.mrem / 1000 == pytest.approx(Decimal("0.505"), abs=Decimal("0.0005"))
    assert dose.msv == pytest.approx(Decimal("5.05"), abs=Decimal("0.005"))


def test_one_mci_gives_15_30_mrem_so_500_mrem_is_reached_at_32_68_mci():
    per_mci = dose_to_others_from_activity(Activity(Decimal(1))).mrem
    assert per_mci == pytest.approx(Decimal("15.30"), abs=Decimal("0.005"))
    assert Decimal(500) / per_mci == pytest.approx(Decimal("32.68"), abs=Decimal("0.005"))
    assert Decimal(100) / per_mci == pytest.approx(Decimal("6.54"), abs=Decimal("0.005"))


def test_3_5_mr_per_h_with_the_physical_half_life_gives_243_mrem():
    dose = dose_to_others_from_dose_rate(Decimal("3.5"), Decimal("8.04"))
    assert round(dose.mrem) == 243
    assert dose.msv == pytest.approx(Decimal("2.43"), abs=Decimal("0.005"))
    assert dose_to_others_allows_release(dose.msv)
    assert instructions_required_by_rule(dose.msv)


def test_3_5_mr_per_h_with_an_effective_half_life_of_one_day_gives_30_3_mrem():
    dose = dose_to_others_from_dose_rate(Decimal("3.5"), Decimal("1.0"), basis="effective half-life")
    assert dose.mrem == pytest.approx(Decimal("30.3"), abs=Decimal("0.05"))
    assert not instructions_required_by_rule(dose.msv)


def test_at_exactly_2_mrem_per_h_the_computed_dose_is_139_mrem_so_instructions_are_required():
    dose = dose_to_others_from_dose_rate(Decimal("2.0"), Decimal("8.04"))
    assert round(dose.mrem) == 139
    assert instructions_required_by_rule(dose.msv)


# ---- clinical-reference §4.4 release ---------------------------------------------------------------------------


def test_the_worked_example_meets_the_federal_dose_rate_at_72_hours_but_not_the_site_limit_at_96_hours():
    result = assess(WORKED_EXAMPLE)
    federal_rate = criterion(result, "federal_dose_rate")
    site = criterion(result, "site_dose_rate")
    assert federal_rate.first_met_h == Decimal(72)  # 7.0 <= 7 mR/h, "at or below"
    assert federal_rate.met
    assert not site.met
    assert site.first_met_h is None
    assert result.releasable_federal
    assert not result.releasable_site
    assert not result.releasable
    assert result.as_of_h == Decimal(96)


def test_the_worked_example_projects_the_site_limit_at_115_4_hours_from_the_last_two_readings():
    site = criterion(assess(WORKED_EXAMPLE), "site_dose_rate")
    assert site.projected_from_last_two_h == pytest.approx(96 + 24 * math.log2(3.5 / 2), rel=1e-9)
    assert site.projected_from_last_two_h == pytest.approx(115.4, abs=0.05)


def test_the_worked_example_retained_activity_and_caregiver_dose():
    result = assess(WORKED_EXAMPLE)
    assert result.retained.mci == Decimal(396) * Decimal("3.5") / Decimal("60.0")
    assert result.dose_to_others.mrem == Decimal("34.6") * Decimal("8.04") * Decimal("0.25") * Decimal("3.5")
    assert result.instructions_issued
    assert result.instructions_required_by_rule
    assert result.record_required
    assert "35.2075(a)(1)" in result.record_reasons[0]


def test_the_trapezoid_method_predicts_release_from_the_last_two_readings():
    retention = retention_fit(readings(WORKED_EXAMPLE), method=TRAPEZOID)
    result = release_assessment(Activity(Decimal(396)), retention)
    assert result.predicted_release_site_h == pytest.approx(115.4, abs=0.05)


# ---- predictions against the closed form ---------------------------------------------------------------------


@pytest.mark.parametrize(("half", "first_rate"), [(20.0, 60.0), (30.0, 90.0), (45.0, 25.0)])
def test_predicted_release_agrees_with_the_closed_form_for_a_mono_exponential(half, first_rate):
    t0 = 0.5
    lam = LN2 / half
    rows = [(repr(t), repr(first_rate * math.exp(-lam * (t - t0)))) for t in (t0, 24.0, 48.0, 72.0)]
    result = assess(rows, activity="400")
    for limit, c in ((2.0, criterion(result, "site_dose_rate")), (7.0, criterion(result, "federal_dose_rate"))):
        assert c.predicted_h == pytest.approx(t0 + math.log(first_rate / limit) / lam, rel=1e-6)
    activity_time = t0 + math.log(400 / 33) / lam
    assert criterion(result, "federal_activity").predicted_h == pytest.approx(activity_time, rel=1e-6)
    rate_at_5_msv = 500 / (34.6 * 8.04 * 0.25)
    dose_time = t0 + math.log(first_rate / rate_at_5_msv) / lam
    assert criterion(result, "federal_dose_to_others").predicted_h == pytest.approx(dose_time, rel=1e-6)
    assert result.predicted_release_federal_h == pytest.approx(min(activity_time, dose_time, t0 + math.log(
        first_rate / 7) / lam), rel=1e-6)


def test_a_limit_already_met_by_the_first_reading_is_predicted_at_the_first_reading():
    result = assess([("1", "5"), ("24", "2.5"), ("48", "1.25")], activity="30")
    assert criterion(result, "federal_dose_rate").predicted_h == 1.0


# ---- boundaries ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("rate", "met"), [("7", True), ("6.99", True), ("7.01", False)])
def test_the_federal_dose_rate_limit_is_at_or_below_7_mrem_per_h(rate, met):
    c = criterion(assess([("0.5", "60"), ("24", "30"), ("48", rate)]), "federal_dose_rate")
    assert c.met is met


@pytest.mark.parametrize(("rate", "met"), [("2", True), ("1.99", True), ("2.01", False)])
def test_the_site_limit_is_at_or_below_2_mrem_per_h(rate, met):
    result = assess([("0.5", "60"), ("24", "30"), ("96", rate)])
    assert criterion(result, "site_dose_rate").met is met
    assert result.releasable_site is met


@pytest.mark.parametrize(("last", "met"), [("5", True), ("4.999", True), ("5.001", False)])
def test_the_retained_activity_limit_is_at_or_below_33_mci(last, met):
    # A0 = 66 mCi, r = last / 10: retained = 66 x r = 33 mCi at 5.
    c = criterion(assess([("1", "10"), ("48", last)], activity="66"), "federal_activity")
    assert c.met is met
    assert c.value == Decimal(66) * Decimal(last) / Decimal(10)


@pytest.mark.parametrize(("dose_msv", "allowed"), [("5", True), ("4.999", True), ("5.001", False)])
def test_the_dose_to_others_limit_is_at_or_below_5_msv(dose_msv, allowed):
    assert dose_to_others_allows_release(Decimal(dose_msv)) is allowed


@pytest.mark.parametrize(("rate", "met"), [("7.18", True), ("7.19", False)])
def test_the_dose_to_others_criterion_turns_at_7_19_mrem_per_h(rate, met):
    # 34.6 x 8.04 x 0.25 x 7.18 = 499.3 mrem; x 7.19 = 500.04 mrem.
    assert criterion(assess([("0.5", "60"), ("24", "30"), ("48", rate)]), "federal_dose_to_others").met is met


@pytest.mark.parametrize(("dose_msv", "required"), [("1", False), ("0.999", False), ("1.001", True)])
def test_written_instructions_are_required_by_rule_only_above_1_msv(dose_msv, required):
    assert instructions_required_by_rule(Decimal(dose_msv)) is required


@pytest.mark.parametrize(("rate", "required"), [("1.43", False), ("1.44", True)])
def test_instructions_by_rule_turn_near_1_44_mrem_per_h_but_are_always_issued(rate, required):
    result = assess([("0.5", "60"), ("24", "30"), ("96", rate)])
    assert result.instructions_required_by_rule is required
    assert result.instructions_issued


def test_at_or_below_is_inclusive():
    assert at_or_below(Decimal(7), Decimal(7))
    assert not at_or_below(Decimal("7.000001"), Decimal(7))


def test_any_one_federal_criterion_allows_federal_release():
    # 8 mR/h is above 7 and gives 556 mrem, but A0 x r = 100 x 8/30 = 26.7 mCi <= 33.
    result = assess([("0.5", "30"), ("24", "16"), ("48", "8")], activity="100")
    assert not criterion(result, "federal_dose_rate").met
    assert not criterion(result, "federal_dose_to_others").met
    assert criterion(result, "federal_activity").met
    assert result.releasable_federal


# ---- configuration, records and findings ---------------------------------------------------------------------


def test_an_entered_site_limit_replaces_the_site_parameter_and_says_so():
    result = assess(WORKED_EXAMPLE, site_limit_mrem_per_h=Decimal("3.5"))
    assert result.site_limit_mrem_per_h == Decimal("3.5")
    assert result.releasable_site
    assert "entered" in result.site_limit_source


def test_a_site_limit_looser_than_the_federal_one_is_flagged():
    result = assess(WORKED_EXAMPLE, site_limit_mrem_per_h=Decimal(10))
    assert any(f.rule == "SITE_LIMIT" for f in result.findings)


def test_an_occupancy_below_0_25_requires_a_record():
    protocol = load_protocol().with_site_parameter("caregiver_occupancy_factor", Decimal("0.125"), "test")
    result = assess(WORKED_EXAMPLE, protocol=protocol)
    assert any("35.2075(a)(2)" in reason for reason in result.record_reasons)


def test_the_effective_half_life_dose_is_reported_with_its_record_requirement():
    result = assess(WORKED_EXAMPLE)
    effective = result.dose_to_others_effective
    assert effective.half_life_days == pytest.approx(Decimal("0.9716"), abs=Decimal("0.0001"))
    assert "35.2075(a)(3)" in effective.basis
    assert effective.mrem < result.dose_to_others.mrem


@pytest.mark.parametrize(("first", "flagged"), [("60", False), ("600", True), ("0.6", True)])
def test_a_first_reading_far_from_the_unshielded_rate_is_flagged_as_a_possible_unit_error(first, flagged):
    half = Decimal(first) / 2
    result = assess([("0.5", first), ("24", str(half)), ("48", str(half / 2))])
    assert any(f.rule == "UNITS" for f in result.findings) is flagged


def test_a_fit_that_says_the_limit_is_past_while_the_last_reading_is_above_it_is_flagged():
    # Fast early clearance, then slow: the mono-exponential fit runs below the late readings.
    result = assess([("1", "60"), ("24", "18"), ("48", "6"), ("72", "3.6"), ("96", "2.7")])
    site = criterion(result, "site_dose_rate")
    assert not site.met
    assert site.predicted_h <= 96
    assert any(f.rule == "PREDICTION" for f in result.findings)


def test_predicted_times_become_clock_times_rounded_up_to_the_minute():
    start = datetime(2026, 3, 2, 9, 30, tzinfo=timezone(timedelta(hours=-8)))
    assert clock_time(start, 1.0) == datetime(2026, 3, 2, 10, 30, tzinfo=start.tzinfo)
    assert clock_time(start, 1.001) == datetime(2026, 3, 2, 10, 31, tzinfo=start.tzinfo)


def test_the_assessment_converts_to_json_ready_data():
    import json

    data = json.loads(json.dumps(assess(WORKED_EXAMPLE).to_json()))
    assert data["releasable_now"] == {"federal": True, "site": False}
    assert float(data["dose_to_others"]["msv"]) == pytest.approx(2.434, abs=0.001)
    assert [c["id"] for c in data["criteria"]] == ["federal_activity", "federal_dose_rate", "federal_dose_to_others",
                                                   "site_dose_rate"]

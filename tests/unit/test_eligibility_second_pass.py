"""Issue 12, eligibility: the second clinical pass (decisions.md A20-A27, A35; clinical-reference §1.1-§1.4).

Base patient: examples/patients/eligible-neuroblastoma.json: Ava, female, born 2020-04-17 (6 y), 22.0 kg weighed
2026-12-07, enrolled 2026-11-26, treatment 2026-12-10, last systemic therapy 2026-11-05, MIBG scan 2026-11-18,
local ("other") radiotherapy completed 2025-06-01, a PBSC product of 1.1e8 CD34+ cells (5e6 /kg), planned 18 mCi/kg.
"""

from datetime import date
from decimal import Decimal

import pytest
from pydantic import ValidationError
from snapshots import (
    PHEO,
    build,
    chair_decision,
    criterion,
    evaluate,
    example_data,
    marrow,
    pbsc,
    prior_course,
)

from mibg.core.dosing import dose_request_from_snapshot
from mibg.core.eligibility import UNVERIFIED_DECISION, evaluate_eligibility
from mibg.core.errors import InputError
from mibg.core.results import Overall, Status

MET, NOT_MET, UNKNOWN, REVIEW = Status.MET, Status.NOT_MET, Status.UNKNOWN, Status.NEEDS_REVIEW


# ---- A21: radiotherapy to any field, surgery and 131I-MIBG count as anti-tumour therapy (T2) ---------------------


def local_radiotherapy(completed_on):
    return [{"field": "other", "completed_on": completed_on}]


def test_ava_with_a_local_radiotherapy_field_ended_10_days_before_treatment_does_not_meet_t2():
    # The case: 2026-12-10 - 2026-11-30 = 10 days < 14 (A10, A21).
    result = criterion("T2", radiotherapy=local_radiotherapy("2026-11-30"))
    assert result.status is NOT_MET
    assert "radiotherapy" in result.reason
    assert "2026-12-14" in result.reason  # first allowed day: 2026-11-30 + 14 days


@pytest.mark.parametrize(
    ("completed_on", "days", "status"),
    [("2026-11-27", 13, NOT_MET), ("2026-11-26", 14, MET), ("2026-11-25", 15, MET)],
)
def test_t2_counts_a_local_radiotherapy_field_with_the_14_day_boundary_inclusive(completed_on, days, status):
    # 2026-12-10 - 2026-11-27: 3 days to 30 November + 10 days of December = 13 days.
    assert criterion("T2", radiotherapy=local_radiotherapy(completed_on)).status is status


@pytest.mark.parametrize(("operated_on", "status"), [("2026-11-27", NOT_MET), ("2026-11-26", MET)])
def test_t2_counts_surgery_aimed_at_the_tumour(operated_on, status):
    therapies = [{"description": "resection of the primary", "last_dose_on": operated_on, "kind": "surgery"}]
    assert criterion("T2", anti_tumour_therapies=therapies).status is status


def test_t2_counts_131i_mibg_itself():
    # A prior 131I-MIBG infusion 13 days before treatment is an anti-tumour therapy 13 days ago (A21).
    result = criterion("T2", prior_mibg_courses=[prior_course("2026-11-27", "12")])
    assert result.status is NOT_MET
    assert "131I-MIBG" in result.reason


def test_t2_is_unknown_when_radiotherapy_is_not_recorded_because_it_counts_too():
    result = criterion("T2", radiotherapy=None)
    assert result.status is UNKNOWN
    assert result.missing == ("radiotherapy",)


@pytest.mark.parametrize("criterion_id", ["D3", "D5"])
@pytest.mark.parametrize(("completed_on", "status"), [("2026-11-18", UNKNOWN), ("2026-11-17", MET)])
def test_the_mibg_scan_must_follow_the_latest_radiotherapy_too(criterion_id, completed_on, status):
    # Scan 2026-11-18; a local field completed the same day is not "before" it (A9, A21: strictly after).
    assert criterion(criterion_id, radiotherapy=local_radiotherapy(completed_on)).status is status


def test_the_mibg_scan_must_follow_surgery_aimed_at_the_tumour():
    therapies = [{"description": "resection", "last_dose_on": "2026-11-20", "kind": "surgery"}]
    assert criterion("D3", anti_tumour_therapies=therapies).status is UNKNOWN


# ---- D5: "within 6 weeks of study entry": a scan after enrolment and before treatment counts -----------------------


def scan(scan_date, avid=True, evaluable=True):
    return [{"scan_date": scan_date, "avid": avid, "evaluable_disease": evaluable}]


def test_a_scan_after_enrolment_but_before_treatment_counts_for_d5_but_not_for_d3():
    # Enrolled 2026-11-26, scanned 2026-12-01, treated 2026-12-10. D3 says "prior to enrollment"; D5 "of study entry".
    assert criterion("D5", mibg_scans=scan("2026-12-01")).status is MET
    assert criterion("D3", mibg_scans=scan("2026-12-01")).status is UNKNOWN


@pytest.mark.parametrize(("scan_date", "status"), [("2026-12-09", MET), ("2026-12-10", MET), ("2026-12-11", UNKNOWN)])
def test_d5_counts_a_scan_up_to_the_treatment_date(scan_date, status):
    assert criterion("D5", mibg_scans=scan(scan_date)).status is status


@pytest.mark.parametrize(("scan_date", "status"), [("2026-12-08", MET), ("2026-12-09", MET), ("2026-12-10", UNKNOWN)])
def test_d5_counts_a_scan_at_most_42_days_after_enrolment(scan_date, status):
    # Enrolled 2026-10-28: + 42 days = 3 days of October + 30 of November + 9 of December = 2026-12-09.
    result = criterion("D5", mibg_scans=scan(scan_date), enrolment_date="2026-10-28")
    assert result.status is status


# ---- A22: progressive neuroblastoma meets D1 ------------------------------------------------------------------------


def test_neuroblastoma_recorded_as_progressive_makes_ava_eligible():
    status = example_data()["disease_status"] | {"category": "progressive"}
    assert evaluate(disease_status=status).overall is Overall.ELIGIBLE


# ---- A23: pregnancy and lactation --------------------------------------------------------------------------------


def pregnancy(**fields):
    return {"childbearing_potential": False, "assessed_on": "2026-12-07"} | fields


@pytest.mark.parametrize("field", ["pregnant", "lactating"])
def test_pregnant_or_lactating_and_not_of_childbearing_potential_is_refused_naming_both_fields(field):
    with pytest.raises(ValidationError) as error:
        build(pregnancy=pregnancy(**{field: True}))
    message = str(error.value)
    assert "pregnancy" in message
    assert field in message
    assert "childbearing_potential" in message


@pytest.mark.parametrize("field", ["pregnant", "lactating"])
def test_a_pregnant_or_lactating_teenager_is_excluded_whatever_else_is_recorded(field):
    # Even with effective contraception recorded, and with the assessment date missing (A23: "whatever else").
    data = {"childbearing_potential": True, "pregnant": False, "lactating": False, "effective_contraception": True,
            field: True}
    result = criterion("X2", pregnancy=data, birth_date="2011-05-01")
    assert result.status is NOT_MET


def test_leo_a_six_year_old_boy_needs_no_pregnancy_record_to_be_complete():
    result = evaluate(sex="male", pregnancy=None)
    assert result.criterion("X2").status is MET
    assert not result.criterion("X2").applies
    assert result.overall is Overall.ELIGIBLE


def test_a_girl_without_any_pregnancy_record_is_incomplete():
    result = criterion("X2", pregnancy=None)
    assert result.status is UNKNOWN
    assert result.missing == ("pregnancy",)


@pytest.mark.parametrize(
    ("birth_date", "age", "status"),
    [("2016-12-11", 9, MET), ("2016-12-10", 10, UNKNOWN), ("2015-12-10", 11, UNKNOWN)],
)
def test_lactation_is_asked_of_every_girl_from_10_years_even_when_not_of_childbearing_potential(birth_date, age, status):
    # Born 2016-12-10: 10 on the treatment date 2026-12-10; born 2016-12-11: still 9 (A4 calendar years).
    result = criterion("X2", pregnancy=pregnancy(), birth_date=birth_date)
    assert result.status is status
    if status is UNKNOWN:
        assert result.missing == ("pregnancy.lactating",)


@pytest.mark.parametrize(("assessed_on", "status"), [("2026-12-02", UNKNOWN), ("2026-12-03", MET), ("2026-12-04", MET)])
def test_a_ten_year_old_girl_not_lactating_is_met_when_assessed_within_7_days(assessed_on, status):
    # 2026-12-10 - 7 days = 2026-12-03 (A20: lactation within 7 days); 2026-12-02 is 8 days before.
    data = pregnancy(lactating=False, assessed_on=assessed_on)
    assert criterion("X2", pregnancy=data, birth_date="2016-12-10").status is status


def test_a_boy_of_14_needs_no_pregnancy_record_either():
    assert criterion("X2", sex="male", pregnancy=None, birth_date="2012-01-01").status is MET


# ---- A20: the weight for every per-kg figure is at most 7 days old ------------------------------------------------


@pytest.mark.parametrize(("measured_on", "status"), [("2026-12-02", UNKNOWN), ("2026-12-03", MET), ("2026-12-04", MET)])
def test_stem_cells_per_kg_use_a_weight_measured_within_7_days(measured_on, status):
    # 2026-12-10 - 7 days = 2026-12-03; a weighing of 2026-12-02 is 8 days old and is not used (A20).
    result = criterion("S1", weight_measured_on=measured_on)
    assert result.status is status
    if status is UNKNOWN:
        assert result.missing == ("weight_measured_on",)


def test_a_weight_without_a_date_is_not_used_for_stem_cells_per_kg():
    assert criterion("S1", weight_measured_on=None).status is UNKNOWN


def test_the_dose_planner_refuses_a_weight_measured_8_days_before_treatment_naming_the_field():
    with pytest.raises(InputError) as error:
        dose_request_from_snapshot(build(weight_measured_on="2026-12-02"), mci_per_kg=Decimal("18"))
    assert error.value.field == "weight_measured_on"
    assert "2026-12-03" in error.value.message


def test_the_dose_planner_takes_a_weight_measured_exactly_7_days_before():
    request = dose_request_from_snapshot(build(weight_measured_on="2026-12-03"), mci_per_kg=Decimal("18"))
    assert request.weight_kg == Decimal("22.0")


# ---- A24: stem cells: stored, not infused products of one kind, summed ------------------------------------------

# 22.0 kg: 1.0e6 CD34+/kg x 22 kg = 2.2e7 cells; 1.0e8 MNC/kg x 22 kg = 2.2e9 cells.


def test_two_pbsc_bags_are_summed_to_reach_the_minimum():
    # 1.1e7 + 1.1e7 = 2.2e7 cells / 22 kg = 1.0e6 CD34+/kg: exactly the minimum.
    assert criterion("S1", stem_cell_products=[pbsc("1.1E+7"), pbsc("1.1E+7")]).status is MET


def test_two_pbsc_bags_one_cell_per_kg_short_of_the_minimum_are_not_adequate_for_18_mci_per_kg():
    # 1.1e7 + 10,999,978 = 21,999,978 cells / 22 kg = 999,999 CD34+/kg.
    assert criterion("S1", stem_cell_products=[pbsc("1.1E+7"), pbsc("10999978")]).status is NOT_MET


def test_an_infused_product_no_longer_counts_as_stored():
    infused = pbsc("1.1E+7") | {"infused_on": "2026-06-20"}
    assert criterion("S1", stem_cell_products=[pbsc("1.1E+7"), infused]).status is NOT_MET


def test_peripheral_blood_and_marrow_are_not_mixed():
    # 1.1e7 CD34+ = 0.5e6 /kg and 1.1e9 MNC = 0.5e8 /kg: half of each minimum is not adequate (A24).
    assert criterion("S1", stem_cell_products=[pbsc("1.1E+7"), marrow("1.1E+9")]).status is NOT_MET


def test_the_planner_sums_the_same_stored_products():
    request = dose_request_from_snapshot(build(stem_cell_products=[pbsc("1.1E+7"), pbsc("1.1E+7")]), mci_per_kg=Decimal("18"))
    assert request.cd34_per_kg == Decimal("1E+6")


# ---- A25: a prior course's mCi/kg, weight and total mCi must agree ----------------------------------------------


def course_with_total(mci_per_kg, weight_kg, total_mci, infusion_date="2026-01-15"):
    return prior_course(infusion_date, mci_per_kg, weight_kg) | {"total_mci": total_mci}


@pytest.mark.parametrize(("total", "accepted"), [("242.4", True), ("242.41", False), ("237.6", True), ("237.59", False)])
def test_a_prior_course_total_may_differ_by_at_most_1_percent(total, accepted):
    # 12 mCi/kg x 20 kg = 240 mCi; 1 % = 2.4 mCi (more than 0.5): 237.6 to 242.4 mCi agree.
    data = [course_with_total("12", "20", total)]
    if accepted:
        build(prior_mibg_courses=data)
        return
    with pytest.raises(ValidationError) as error:
        build(prior_mibg_courses=data)
    message = str(error.value)
    for name in ("prior_mibg_courses.0", "mci_per_kg", "weight_kg", "total_mci"):
        assert name in message


@pytest.mark.parametrize(("total", "accepted"), [("20.5", True), ("20.51", False), ("19.5", True), ("19.49", False)])
def test_a_small_prior_course_total_may_differ_by_0_5_mci(total, accepted):
    # 2 mCi/kg x 10 kg = 20 mCi; 1 % = 0.2 mCi, less than 0.5 mCi: 19.5 to 20.5 mCi agree.
    data = [course_with_total("2", "10", total)]
    if accepted:
        build(prior_mibg_courses=data)
    else:
        with pytest.raises(ValidationError):
            build(prior_mibg_courses=data)


def test_the_lifetime_total_uses_total_mci_over_weight_when_all_three_are_given():
    # Recorded 21 mCi/kg at 20 kg but 424 mCi given: 424 / 20 = 21.2 mCi/kg (A25). 21.2 + 21 + 18 planned = 60.2
    # exceeds 60, where the recorded 21 + 21 + 18 = 60 would have passed.
    courses = [course_with_total("21", "20", "424", "2025-03-01"), prior_course("2026-01-15", "21")]
    result = criterion("T5", prior_mibg_courses=courses)
    assert result.status is NOT_MET
    assert "60.2" in result.reason


def test_the_planner_counts_the_same_total_over_weight():
    courses = [course_with_total("21", "20", "424", "2025-03-01"), prior_course("2026-01-15", "21")]
    request = dose_request_from_snapshot(build(prior_mibg_courses=courses), mci_per_kg=Decimal("18"))
    assert request.prior_mci_per_kg == Decimal("42.2")


# ---- A26: screening reports the planned dose's patient-dependent limits -------------------------------------------


def test_25_mci_per_kg_does_not_screen_eligible_and_names_r1_and_the_largest_allowed():
    result = evaluate(planned_mci_per_kg="25")
    pd = result.criterion("PD")
    assert pd.status is NOT_MET
    assert "R1" in pd.reason
    assert "396" in pd.reason  # 18 mCi/kg x 22.0 kg = 396 mCi, the largest allowed
    assert result.overall is Overall.NOT_ELIGIBLE


@pytest.mark.parametrize(("planned", "status"), [("17.99", MET), ("18", MET), ("18.01", NOT_MET), ("8", MET),
                                                 ("7.99", NOT_MET)])
def test_the_planned_dose_is_checked_at_the_8_and_18_mci_per_kg_boundaries(planned, status):
    assert criterion("PD", planned_mci_per_kg=planned).status is status


def test_without_a_planned_dose_the_dose_limits_are_left_to_the_planner():
    result = criterion("PD", planned_mci_per_kg=None)
    assert result.status is MET
    assert not result.applies


def test_a_planned_dose_above_the_lifetime_60_is_not_eligible_at_this_dose():
    # 21 + 21.01 prior + 18 planned = 60.01 mCi/kg.
    courses = [prior_course("2025-03-01", "21"), prior_course("2026-01-15", "21.01")]
    result = criterion("PD", prior_mibg_courses=courses)
    assert result.status is NOT_MET
    assert "T5" in result.reason


@pytest.mark.parametrize(("planned", "status"), [("10", MET), ("10.01", REVIEW)])
def test_the_pheo_cap_of_500_mci_needs_the_chair_above_it(planned, status):
    # 50 kg: cap = lesser of 500 mCi and 12 x 50 = 600 mCi = 500 mCi. 10 x 50 = 500 passes; 10.01 x 50 = 500.5 does not.
    result = criterion("PD", base=PHEO, weight_kg="50", planned_mci_per_kg=planned)
    assert result.status is status


# ---- A35: a chair decision clears exactly what it names ------------------------------------------------------------


def no_stem_cells_at_12(*decisions):
    return evaluate(stem_cell_products=[], planned_mci_per_kg="12", chair_decisions=list(decisions))


def test_exactly_12_without_stem_cells_needs_the_chair_on_s1_and_on_the_s2_gate():
    result = no_stem_cells_at_12()
    assert result.criterion("S1").status is REVIEW
    assert result.criterion("PD").status is REVIEW
    assert "S2" in result.criterion("PD").reason


def test_dr_chen_clearing_s1_leaves_the_s2_gate_needing_its_own_decision_and_says_so():
    result = no_stem_cells_at_12(chair_decision("S1", True))
    assert result.criterion("S1").status is MET
    assert "S2 dose gate" in result.criterion("S1").reason
    assert result.criterion("PD").status is REVIEW
    assert result.overall is Overall.NEEDS_REVIEW


def test_dr_chen_clearing_s1_and_s2_makes_exactly_12_without_stem_cells_eligible():
    result = no_stem_cells_at_12(chair_decision("S1", True), chair_decision("S2", True))
    assert result.criterion("PD").status is MET
    assert "S2 cleared by the study chair" in result.criterion("PD").reason
    assert result.overall is Overall.ELIGIBLE


def test_dr_chen_refusing_s2_makes_exactly_12_without_stem_cells_not_eligible():
    result = no_stem_cells_at_12(chair_decision("S1", True), chair_decision("S2", False))
    assert result.criterion("PD").status is NOT_MET


def test_a_decision_on_s2_does_not_clear_s1():
    result = no_stem_cells_at_12(chair_decision("S2", True))
    assert result.criterion("S1").status is REVIEW


def test_11_99_without_stem_cells_needs_no_decision_and_12_01_cannot_be_cleared():
    assert criterion("PD", stem_cell_products=[], planned_mci_per_kg="11.99").status is MET
    cleared = [chair_decision("S1", True), chair_decision("S2", True)]
    assert criterion("PD", stem_cell_products=[], planned_mci_per_kg="12.01", chair_decisions=cleared).status is NOT_MET


# ---- A27: decisions read from a file are unverified ---------------------------------------------------------------


def test_a_chair_decision_from_a_file_is_shown_as_recorded_outside_the_application_and_unverified():
    snapshot = build(stem_cell_products=[], planned_mci_per_kg="12",
                     chair_decisions=[chair_decision("S1", True), chair_decision("S2", True)])
    result = evaluate_eligibility(snapshot)
    assert UNVERIFIED_DECISION in result.criterion("S1").cleared_by
    assert UNVERIFIED_DECISION in result.criterion("PD").cleared_by
    assert result.unverified_decisions == ("S1", "PD")
    assert UNVERIFIED_DECISION in result.verdict
    assert result.to_json()["unverified_decisions"] == ["S1", "PD"]


def test_a_chair_decision_signed_in_the_application_is_not_marked_unverified():
    snapshot = build(stem_cell_products=[], planned_mci_per_kg="12", chair_decisions=[chair_decision("S1", True),
                                                                                      chair_decision("S2", True)])
    result = evaluate_eligibility(snapshot, decisions_signed_in_application=True)
    assert UNVERIFIED_DECISION not in result.criterion("S1").cleared_by
    assert result.unverified_decisions == ()
    assert result.verdict == "eligible"


# ---- X5: proteinuria applies to pheochromocytoma and paraganglioma only ---------------------------------------------


def proteinuria_3_plus():
    return {"urinalysis_protein": "3+", "urinalysis_on": "2026-12-07"}


def test_x5_does_not_apply_to_a_related_tumour_and_says_why():
    related = example_data(PHEO)["diagnosis"] | {"kind": "related_tumor"}
    result = criterion("X5", base=PHEO, diagnosis=related, proteinuria=proteinuria_3_plus())
    assert result.status is MET
    assert not result.applies
    assert "related tumour" in result.reason


@pytest.mark.parametrize("kind", ["pheochromocytoma", "paraganglioma"])
def test_x5_applies_to_pheochromocytoma_and_paraganglioma(kind):
    d = example_data(PHEO)["diagnosis"] | {"kind": kind}
    result = criterion("X5", base=PHEO, diagnosis=d, proteinuria=proteinuria_3_plus())
    assert result.status is UNKNOWN
    assert result.missing == ("proteinuria.urine_24h_protein_mg",)


# ---- A screening for a planned treatment date already past warns ---------------------------------------------------


@pytest.mark.parametrize(("today", "warned"), [(date(2026, 12, 9), False), (date(2026, 12, 10), False),
                                               (date(2026, 12, 11), True)])
def test_screening_for_a_treatment_date_already_past_gives_a_warning(today, warned):
    result = evaluate_eligibility(build(), today=today)
    assert bool(result.warnings) is warned
    assert result.overall is Overall.ELIGIBLE  # a warning never changes the result
    if warned:
        assert "2026-12-10 is already past" in result.warnings[0]


# ---- The same kind of defect elsewhere: dates that must belong together ---------------------------------------------


@pytest.mark.parametrize(("collected_on", "status"), [("2026-11-30", UNKNOWN), ("2026-12-01", MET), ("2026-12-02", MET),
                                                      ("2026-12-10", MET), ("2026-12-11", UNKNOWN)])
def test_the_24_hour_urine_must_follow_the_urinalysis_that_asked_for_it(collected_on, status):
    # Sam (paraganglioma): trace protein on the urinalysis of 2026-12-01; treatment 2026-12-10 (A19).
    data = example_data(PHEO)["proteinuria"] | {"urine_24h_collected_on": collected_on}
    result = criterion("X5", base=PHEO, proteinuria=data)
    assert result.status is status
    if status is UNKNOWN:
        assert result.missing == ("proteinuria.urine_24h_collected_on",)


def test_a_24_hour_urine_without_a_date_leaves_x5_unknown():
    data = example_data(PHEO)["proteinuria"]
    data.pop("urine_24h_collected_on")
    assert criterion("X5", base=PHEO, proteinuria=data).status is UNKNOWN


def test_a_long_acting_cytokine_in_review_is_marked_for_the_chair():
    result = criterion("T4", cytokines=[{"agent": "pegfilgrastim", "last_dose_at": "2026-11-30T09:00:00-08:00"}])
    assert result.status is REVIEW
    assert result.chair_clearable


def test_a_decision_naming_pd_itself_clears_nothing_because_pd_is_decided_on_s2_or_r2():
    result = no_stem_cells_at_12(chair_decision("S1", True), chair_decision("PD", True))
    assert result.criterion("PD").status is REVIEW
    assert result.overall is Overall.NEEDS_REVIEW


@pytest.mark.parametrize(("signed_on", "status"), [("2026-11-25", MET), ("2026-11-26", MET), ("2026-11-27", UNKNOWN)])
def test_consent_must_be_signed_on_or_before_the_enrolment_day(signed_on, status):
    # Ava was enrolled on 2026-11-26 (P6: consent to become a study subject comes first).
    consent = example_data()["consent"] | {"signed_on": signed_on}
    assert criterion("P6", consent=consent).status is status


@pytest.mark.parametrize(("start", "accepted"), [("2026-12-10T00:00:00-08:00", True), ("2026-12-10T23:59:00-08:00", True),
                                                 ("2026-12-11T00:00:00-08:00", False), ("2026-12-09T23:59:00-08:00", False)])
def test_the_planned_infusion_start_must_be_on_the_planned_treatment_date(start, accepted):
    # T4 reads the start; every other window reads the date (2026-12-10): a start on another day is refused.
    if accepted:
        build(planned_infusion_start=start)
        return
    with pytest.raises(ValidationError) as error:
        build(planned_infusion_start=start)
    assert "planned_infusion_start" in str(error.value)
    assert "planned_treatment_date" in str(error.value)

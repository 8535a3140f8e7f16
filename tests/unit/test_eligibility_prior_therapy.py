"""T2-T5 and S1: washouts, prior 131I-MIBG and stored stem cells (clinical-reference §1.3; decisions.md A2,
A10-A15).

Base patient: examples/patients/eligible-neuroblastoma.json, 22.0 kg, treatment date 2026-12-10, a PBSC
product of 1.1e8 CD34+ cells (5e6 /kg), planned 18 mCi/kg.
"""

import pytest
from snapshots import NO_STEM_CELLS, chair_decision, criterion, evaluate, marrow, pbsc, prior_course

from mibg.core.results import Overall, Status

MET, NOT_MET, UNKNOWN, REVIEW = Status.MET, Status.NOT_MET, Status.UNKNOWN, Status.NEEDS_REVIEW


# ---- T2: at least 14 days from the last dose of anti-tumour therapy to treatment (A10) ---------------------


@pytest.mark.parametrize(
    ("last_dose_on", "days", "status"),
    [("2026-11-27", 13, NOT_MET), ("2026-11-26", 14, MET), ("2026-11-25", 15, MET)],
)
def test_t2_needs_14_days_since_the_last_anti_tumour_therapy_inclusive(last_dose_on, days, status):
    # 2026-12-10 minus 2026-11-27 = 3 days to the end of November + 10 days of December = 13 days.
    result = criterion("T2", anti_tumour_therapies=[{"description": "topotecan", "last_dose_on": last_dose_on}])
    assert result.status is status
    assert result.inputs[0].value == last_dose_on


def test_t2_uses_the_latest_of_several_therapies():
    therapies = [{"description": "old", "last_dose_on": "2026-06-01"}, {"description": "recent", "last_dose_on": "2026-12-01"}]
    assert criterion("T2", anti_tumour_therapies=therapies).status is NOT_MET


def test_t2_is_unknown_when_prior_therapy_is_not_recorded():
    result = criterion("T2", anti_tumour_therapies=None)
    assert result.status is UNKNOWN
    assert "anti_tumour_therapies" in result.missing


def test_t2_is_met_when_no_prior_therapy_is_recorded_explicitly():
    assert criterion("T2", anti_tumour_therapies=[], mibg_scans=[]).status is MET


# ---- T3: 3 calendar months after craniospinal, total abdominal, whole lung or TBI (A11) ----------------------


def radiotherapy(completed_on, field="craniospinal"):
    return [{"field": field, "completed_on": completed_on}]


@pytest.mark.parametrize("field", ["craniospinal", "total_abdominal", "whole_lung", "total_body"])
def test_t3_passes_on_the_same_day_of_month_three_months_later(field):
    # 2026-09-10 + 3 calendar months = 2026-12-10, the treatment date.
    assert criterion("T3", radiotherapy=radiotherapy("2026-09-10", field)).status is MET


@pytest.mark.parametrize("field", ["craniospinal", "total_abdominal", "whole_lung", "total_body"])
def test_t3_fails_the_day_before_three_calendar_months(field):
    # 2026-09-11 + 3 calendar months = 2026-12-11: the treatment date 2026-12-10 is a day short.
    result = criterion("T3", radiotherapy=radiotherapy("2026-09-11", field))
    assert result.status is NOT_MET
    assert "2026-12-11" in result.reason


def test_t3_month_end_november_30_plus_three_months_is_february_28():
    # 2025-11-30 + 3 months: February 2026 has no 30th, so its last day, 2026-02-28 (A11).
    on_the_day = criterion("T3", radiotherapy=radiotherapy("2025-11-30"), planned_treatment_date="2026-02-28",
                           enrolment_date=None)
    day_before = criterion("T3", radiotherapy=radiotherapy("2025-11-30"), planned_treatment_date="2026-02-27",
                           enrolment_date=None)
    assert on_the_day.status is MET
    assert day_before.status is NOT_MET


def test_t3_counts_calendar_months_not_90_days():
    # clinical-reference A11: 2025-02-12 -> 2025-05-12 is 3 calendar months but only 89 days (16 + 31 + 30 + 12).
    result = criterion("T3", radiotherapy=radiotherapy("2025-02-12"), planned_treatment_date="2025-05-12",
                       enrolment_date=None)
    assert result.status is MET


def test_t3_does_not_apply_to_other_radiotherapy_fields():
    result = criterion("T3", radiotherapy=radiotherapy("2026-12-01", field="other"))
    assert result.status is MET
    assert not result.applies


def test_t3_uses_the_latest_of_the_listed_fields():
    courses = radiotherapy("2025-01-01", "whole_lung") + radiotherapy("2026-10-01", "total_body")
    assert criterion("T3", radiotherapy=courses).status is NOT_MET


def test_t3_is_unknown_when_radiotherapy_is_not_recorded():
    assert criterion("T3", radiotherapy=None).status is UNKNOWN


# ---- T4: short-acting cytokines stopped >= 24 h before the infusion starts (A12) ---------------------------

INFUSION_START = "2026-12-10T09:00:00-08:00"


def cytokine(last_dose_at, agent="g_csf"):
    return [{"agent": agent, "last_dose_at": last_dose_at}]


@pytest.mark.parametrize(
    ("last_dose_at", "hours", "status"),
    [
        ("2026-12-09T09:06:00-08:00", "23.9", NOT_MET),  # 24 h - 6 min = 23.9 h
        ("2026-12-09T09:00:00-08:00", "24.0", MET),
        ("2026-12-09T08:54:00-08:00", "24.1", MET),  # 24 h + 6 min = 24.1 h
    ],
)
@pytest.mark.parametrize("agent", ["g_csf", "gm_csf", "il_6", "erythropoietin"])
def test_t4_short_acting_cytokines_need_24_hours_before_the_infusion_start(last_dose_at, hours, status, agent):
    result = criterion("T4", cytokines=cytokine(last_dose_at, agent), planned_infusion_start=INFUSION_START)
    assert result.status is status


def test_t4_compares_instants_across_time_zones():
    # 2026-12-09T17:00Z is 09:00 Pacific (-08:00): exactly 24.0 h before the infusion at 09:00 Pacific next day.
    result = criterion("T4", cytokines=cytokine("2026-12-09T17:00:00+00:00"), planned_infusion_start=INFUSION_START)
    assert result.status is MET
    result = criterion("T4", cytokines=cytokine("2026-12-09T17:06:00+00:00"), planned_infusion_start=INFUSION_START)
    assert result.status is NOT_MET


def test_t4_a_dose_on_the_day_before_without_an_infusion_time_is_unknown():
    result = criterion("T4", cytokines=cytokine("2026-12-09T20:00:00-08:00"), planned_infusion_start=None)
    assert result.status is UNKNOWN
    assert "planned_infusion_start" in result.missing


def test_t4_a_dose_two_calendar_days_before_is_enough_without_an_infusion_time():
    # The last possible moment of 2026-12-08 is more than 24 h before any time on 2026-12-10.
    assert criterion("T4", cytokines=cytokine("2026-12-08T23:00:00-08:00"), planned_infusion_start=None).status is MET


@pytest.mark.parametrize("agent", ["pegfilgrastim", "darbepoetin"])
@pytest.mark.parametrize("last_dose_at", ["2026-12-09T09:00:00-08:00", "2026-11-30T09:00:00-08:00",
                                          "2026-11-26T09:00:00-08:00"])
def test_t4_a_long_acting_cytokine_within_14_days_needs_review(agent, last_dose_at):
    # 2026-11-26 is 14 days before 2026-12-10; 2026-11-30 is 10 days; 2026-12-09 is 1 day.
    result = criterion("T4", cytokines=cytokine(last_dose_at, agent), planned_infusion_start=INFUSION_START)
    assert result.status is REVIEW


@pytest.mark.parametrize("agent", ["pegfilgrastim", "darbepoetin"])
def test_t4_a_long_acting_cytokine_15_days_before_is_met(agent):
    result = criterion("T4", cytokines=cytokine("2026-11-25T09:00:00-08:00", agent), planned_infusion_start=INFUSION_START)
    assert result.status is MET


def test_t4_a_chair_decision_clears_a_long_acting_cytokine_review():
    result = criterion("T4", cytokines=cytokine("2026-11-30T09:00:00-08:00", "pegfilgrastim"),
                       chair_decisions=[chair_decision("T4", True)])
    assert result.status is MET
    assert result.cleared_by


def test_t4_a_short_acting_failure_outweighs_a_long_acting_review():
    doses = cytokine("2026-12-09T12:00:00-08:00", "g_csf") + cytokine("2026-11-30T09:00:00-08:00", "pegfilgrastim")
    assert criterion("T4", cytokines=doses, planned_infusion_start=INFUSION_START).status is NOT_MET


def test_t4_is_unknown_when_cytokines_are_not_recorded_and_met_when_none_were_given():
    assert criterion("T4", cytokines=None).status is UNKNOWN
    assert criterion("T4", cytokines=[]).status is MET


# ---- T5: prior 131I-MIBG more than 6 calendar months before, stem cells, cumulative <= 60 (A13, A14) -------


def test_t5_does_not_apply_without_prior_mibg():
    result = criterion("T5")
    assert result.status is MET
    assert not result.applies


def test_t5_fails_on_the_same_day_of_month_six_months_later():
    # 2026-06-10 + 6 calendar months = 2026-12-10, the treatment date: not *more* than 6 months (A13).
    result = criterion("T5", prior_mibg_courses=[prior_course("2026-06-10", "12")])
    assert result.status is NOT_MET
    assert "2026-12-11" in result.reason


def test_t5_passes_the_day_after_six_calendar_months():
    # 2026-06-09 + 6 months = 2026-12-09; the treatment date is the day after.
    assert criterion("T5", prior_mibg_courses=[prior_course("2026-06-09", "12")]).status is MET


def test_t5_cumulative_of_exactly_60_mci_per_kg_passes():
    # 21 + 21 prior + 18 planned = 60 mCi/kg (A14: "will not exceed" -> <= 60).
    courses = [prior_course("2025-03-01", "21"), prior_course("2026-01-15", "21")]
    assert criterion("T5", prior_mibg_courses=courses).status is MET


def test_t5_cumulative_of_60_01_mci_per_kg_fails():
    # 21 + 21.01 prior + 18 planned = 60.01 mCi/kg.
    courses = [prior_course("2025-03-01", "21"), prior_course("2026-01-15", "21.01")]
    assert criterion("T5", prior_mibg_courses=courses).status is NOT_MET


def test_t5_sums_each_course_per_kg_at_that_courses_weight():
    # A14: 21 mCi/kg at 15 kg and 21 mCi/kg at 18 kg are 42 mCi/kg, whatever the current weight (22 kg).
    courses = [prior_course("2025-03-01", "21", "15"), prior_course("2026-01-15", "21", "18")]
    result = criterion("T5", prior_mibg_courses=courses, planned_mci_per_kg="18.01")
    assert result.status is NOT_MET  # 42 + 18.01 = 60.01


def test_t5_prior_mibg_without_stored_stem_cells_is_not_met():
    result = criterion("T5", prior_mibg_courses=[prior_course("2026-01-15", "12")], **NO_STEM_CELLS)
    assert result.status is NOT_MET


def test_t5_without_a_planned_dose_fails_when_less_than_the_8_mci_per_kg_minimum_course_remains():
    # 60 - 52 = 8 mCi/kg remain: exactly the R1 minimum; 60 - 52.01 = 7.99 remain: no course possible.
    enough = criterion("T5", prior_mibg_courses=[prior_course("2026-01-15", "52")], planned_mci_per_kg=None)
    too_little = criterion("T5", prior_mibg_courses=[prior_course("2026-01-15", "52.01")], planned_mci_per_kg=None)
    assert enough.status is MET
    assert too_little.status is NOT_MET


def test_t5_with_stem_cells_but_no_weight_is_unknown():
    result = criterion("T5", prior_mibg_courses=[prior_course("2026-01-15", "12")], weight_kg=None)
    assert result.status is UNKNOWN


def test_t5_results_list_every_prior_course_with_its_date():
    courses = [prior_course("2025-03-01", "21"), prior_course("2026-01-15", "12")]
    whens = [i.when for i in criterion("T5", prior_mibg_courses=courses).inputs]
    assert whens == ["2025-03-01", "2026-01-15"]


# ---- S1: stored stem cells, per kg of the current weight (A15); S2/S3 at 12 mCi/kg (A2) ---------------------

# Current weight 22.0 kg: 1.0e6 CD34+/kg x 22 kg = 2.2e7 cells; 1.0e8 MNC/kg x 22 kg = 2.2e9 cells.


def test_s1_exactly_1e6_cd34_per_kg_is_adequate():
    result = criterion("S1", stem_cell_products=[pbsc("2.2E+7")])
    assert result.status is MET


def test_s1_just_below_1e6_cd34_per_kg_is_not_adequate_for_18_mci_per_kg():
    # 2.2e7 - 22 cells = 999,999 CD34+/kg.
    result = criterion("S1", stem_cell_products=[pbsc("21999978")])
    assert result.status is NOT_MET


def test_s1_exactly_1e8_marrow_mononuclear_cells_per_kg_is_adequate():
    assert criterion("S1", stem_cell_products=[marrow("2.2E+9")]).status is MET


def test_s1_just_below_1e8_marrow_cells_per_kg_is_not_adequate_for_18_mci_per_kg():
    # 2.2e9 - 22 cells = 99,999,999 MNC/kg.
    assert criterion("S1", stem_cell_products=[marrow("2199999978")]).status is NOT_MET


def test_s1_per_kg_uses_the_current_weight():
    # 2.2e7 cells are 1.1e6 /kg at 20 kg but 990,991 /kg at 22.2 kg (A15: current weight).
    assert criterion("S1", stem_cell_products=[pbsc("2.2E+7")], weight_kg="20").status is MET
    assert criterion("S1", stem_cell_products=[pbsc("2.2E+7")], weight_kg="22.2").status is NOT_MET


def test_s1_planned_exactly_12_without_stem_cells_needs_review():
    result = criterion("S1", stem_cell_products=[], planned_mci_per_kg="12")
    assert result.status is REVIEW
    assert result.chair_clearable


def test_s1_planned_exactly_12_without_stem_cells_is_met_after_a_chair_clearance():
    result = criterion("S1", stem_cell_products=[], planned_mci_per_kg="12", chair_decisions=[chair_decision("S1", True)])
    assert result.status is MET


@pytest.mark.parametrize(("planned", "status"), [("11.99", MET), ("12.01", NOT_MET), ("18", NOT_MET)])
def test_s1_without_stem_cells_the_plan_must_be_below_12(planned, status):
    assert criterion("S1", stem_cell_products=[], planned_mci_per_kg=planned).status is status


def test_s1_with_adequate_stem_cells_18_mci_per_kg_is_met():
    assert criterion("S1", planned_mci_per_kg="18").status is MET


def test_s1_with_a_product_but_no_weight_is_unknown():
    assert criterion("S1", weight_kg=None).status is UNKNOWN


def test_exactly_12_without_stem_cells_makes_the_whole_screen_need_review():
    assert evaluate(stem_cell_products=[], planned_mci_per_kg="12").overall is Overall.NEEDS_REVIEW

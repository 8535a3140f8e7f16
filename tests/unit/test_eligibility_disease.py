"""D1-D5: diagnosis, disease status and the MIBG scan (clinical-reference §1.1; decisions.md A9).

Base patient: examples/patients/eligible-neuroblastoma.json, enrolled 2026-11-26, treatment 2026-12-10,
last anti-tumour therapy 2026-11-05.
"""

import pytest
from snapshots import PHEO, criterion, example_data

from mibg.core.results import Status

MET, NOT_MET, UNKNOWN = Status.MET, Status.NOT_MET, Status.UNKNOWN


def diagnosis(**changes):
    data = example_data()["diagnosis"]
    data.update(changes)
    return data


def disease_status(**changes):
    data = example_data()["disease_status"]
    data.update(changes)
    return data


# ---- D1 neuroblastoma -------------------------------------------------------------------------------------


def test_relapsed_neuroblastoma_confirmed_by_histopathology_meets_d1():
    result = criterion("D1")
    assert result.status is MET
    assert result.applies


def test_refractory_neuroblastoma_meets_d1():
    assert criterion("D1", disease_status=disease_status(category="refractory")).status is MET


def test_metastatic_neuroblastoma_that_is_neither_refractory_relapsed_nor_progressive_does_not_meet_d1():
    assert criterion("D1", disease_status=disease_status(category="metastatic")).status is NOT_MET


def test_neuroblastoma_recorded_as_progressive_meets_d1_like_relapsed_disease():
    # decisions.md A22: "development of progressive disease at any time" is one of the record's disease statuses.
    result = criterion("D1", disease_status=disease_status(category="progressive"))
    assert result.status is MET
    assert "Progressive neuroblastoma" in result.reason


def test_urine_catecholamines_with_tumour_cells_in_the_marrow_establish_the_diagnosis_without_histopathology():
    d = diagnosis(histopathology_confirmed=False, urine_catecholamines_elevated=True, tumor_cells_in_bone_marrow=True)
    assert criterion("D1", diagnosis=d).status is MET


def test_urine_catecholamines_without_tumour_cells_in_the_marrow_do_not_establish_the_diagnosis():
    d = diagnosis(histopathology_confirmed=False, urine_catecholamines_elevated=True, tumor_cells_in_bone_marrow=False)
    assert criterion("D1", diagnosis=d).status is NOT_MET


def test_a_diagnosis_whose_basis_is_not_recorded_is_unknown_for_d1():
    d = {"kind": "neuroblastoma", "diagnosed_on": "2023-02-10"}
    result = criterion("D1", diagnosis=d)
    assert result.status is UNKNOWN
    assert "diagnosis.histopathology_confirmed" in result.missing


def test_a_missing_diagnosis_is_unknown_for_d1_and_d2():
    assert criterion("D1", diagnosis=None).status is UNKNOWN
    assert criterion("D2", diagnosis=None).status is UNKNOWN


def test_a_missing_disease_status_is_unknown_for_d1():
    assert criterion("D1", disease_status=None).status is UNKNOWN


def test_d1_does_not_apply_to_a_paraganglioma():
    result = criterion("D1", base=PHEO)
    assert result.status is MET
    assert not result.applies


# ---- D2 pheochromocytoma / paraganglioma ------------------------------------------------------------------


@pytest.mark.parametrize("category", ["refractory", "progressive", "metastatic"])
def test_refractory_progressive_or_metastatic_paraganglioma_meets_d2(category):
    status = example_data(PHEO)["disease_status"] | {"category": category}
    assert criterion("D2", base=PHEO, disease_status=status).status is MET


def test_relapsed_is_not_one_of_the_d2_statuses():
    status = example_data(PHEO)["disease_status"] | {"category": "relapsed"}
    assert criterion("D2", base=PHEO, disease_status=status).status is NOT_MET


def test_pheochromocytoma_is_judged_by_d2_like_paraganglioma():
    d = example_data(PHEO)["diagnosis"] | {"kind": "pheochromocytoma"}
    assert criterion("D2", base=PHEO, diagnosis=d).status is MET
    assert not criterion("D1", base=PHEO, diagnosis=d).applies


def test_d2_does_not_apply_to_neuroblastoma():
    result = criterion("D2")
    assert result.status is MET
    assert not result.applies


# ---- D3 / D5: the scan, at most 42 days before enrolment (inclusive) and after the last therapy ------------

# Enrolment 2026-11-26; 42 days before: 26 days back is 2026-10-31, 16 more is 2026-10-15.
THERAPY_BEFORE_WINDOW = [{"description": "cycle 3", "last_dose_on": "2026-10-01"}]


def scan(scan_date, avid=True, evaluable=True):
    return [{"scan_date": scan_date, "avid": avid, "evaluable_disease": evaluable}]


@pytest.mark.parametrize("criterion_id", ["D3", "D5"])
def test_a_scan_exactly_42_days_before_enrolment_is_within_the_window(criterion_id):
    result = criterion(criterion_id, mibg_scans=scan("2026-10-15"), anti_tumour_therapies=THERAPY_BEFORE_WINDOW)
    assert result.status is MET
    assert result.inputs[0].when == "2026-10-15"


@pytest.mark.parametrize("criterion_id", ["D3", "D5"])
def test_a_scan_43_days_before_enrolment_is_too_old_and_the_criterion_is_unknown(criterion_id):
    result = criterion(criterion_id, mibg_scans=scan("2026-10-14"), anti_tumour_therapies=THERAPY_BEFORE_WINDOW)
    assert result.status is UNKNOWN
    assert "mibg_scans" in result.missing


@pytest.mark.parametrize("criterion_id", ["D3", "D5"])
def test_a_scan_on_enrolment_day_is_within_the_window(criterion_id):
    assert criterion(criterion_id, mibg_scans=scan("2026-11-26")).status is MET


@pytest.mark.parametrize("criterion_id", ["D3", "D5"])
def test_a_scan_on_the_day_of_the_last_therapy_does_not_follow_it(criterion_id):
    # Last anti-tumour therapy 2026-11-05: the scan must be later than that (A9, D5 "subsequent to").
    result = criterion(criterion_id, mibg_scans=scan("2026-11-05"))
    assert result.status is not MET


@pytest.mark.parametrize("criterion_id", ["D3", "D5"])
def test_a_scan_the_day_after_the_last_therapy_follows_it(criterion_id):
    assert criterion(criterion_id, mibg_scans=scan("2026-11-06")).status is MET


def test_a_scan_before_the_last_therapy_inside_the_window_is_not_current():
    result = criterion("D5", mibg_scans=scan("2026-11-01"))
    assert result.status is UNKNOWN


def test_a_current_scan_that_is_not_mibg_avid_does_not_meet_d3():
    assert criterion("D3", mibg_scans=scan("2026-11-18", avid=False, evaluable=False)).status is NOT_MET


def test_a_current_scan_without_evaluable_disease_does_not_meet_d5_but_avidity_meets_d3():
    scans = scan("2026-11-18", avid=True, evaluable=False)
    assert criterion("D5", mibg_scans=scans).status is NOT_MET
    assert criterion("D3", mibg_scans=scans).status is MET


@pytest.mark.parametrize("criterion_id", ["D3", "D5"])
def test_no_scan_at_all_is_unknown(criterion_id):
    result = criterion(criterion_id, mibg_scans=[])
    assert result.status is UNKNOWN
    assert "mibg_scans" in result.missing


@pytest.mark.parametrize("criterion_id", ["D3", "D5"])
def test_unrecorded_anti_tumour_therapy_leaves_the_scan_criteria_unknown(criterion_id):
    assert criterion(criterion_id, anti_tumour_therapies=None).status is UNKNOWN


def test_an_old_scan_does_not_count_when_a_newer_current_one_exists():
    scans = [*scan("2026-08-01"), *scan("2026-11-18")]
    result = criterion("D3", mibg_scans=scans)
    assert result.status is MET
    assert result.inputs[0].when == "2026-11-18"


# ---- D4 disease status ------------------------------------------------------------------------------------


def test_failure_to_respond_to_standard_therapy_meets_d4():
    status = disease_status(failure_to_respond_to_standard_therapy=True, progressive_disease=False)
    assert criterion("D4", disease_status=status).status is MET


def test_progressive_disease_meets_d4():
    status = disease_status(failure_to_respond_to_standard_therapy=False, progressive_disease=True)
    assert criterion("D4", disease_status=status).status is MET


def test_neither_failure_to_respond_nor_progression_does_not_meet_d4():
    status = disease_status(failure_to_respond_to_standard_therapy=False, progressive_disease=False)
    assert criterion("D4", disease_status=status).status is NOT_MET


def test_response_and_progression_not_recorded_is_unknown_for_d4():
    status = {"category": "relapsed", "assessed_on": "2026-11-20"}
    assert criterion("D4", disease_status=status).status is UNKNOWN
    assert criterion("D4", disease_status=None).status is UNKNOWN

"""O1-O3, H1-H5 and the age of lab results (clinical-reference §1.3; decisions.md A6-A8, H5).

Base patient: examples/patients/eligible-neuroblastoma.json, treatment date 2026-12-10, labs collected
2026-12-07T07:30-08:00, adequate PBSC (so H3 applies, not H2).
"""

from datetime import timedelta

import pytest
from snapshots import (
    LAB_TIME,
    NO_STEM_CELLS,
    TREATMENT_DAY,
    attestation,
    attestations_with,
    chair_decision,
    criterion,
    evaluate,
    lab,
    labs_with,
)

from mibg.core.results import Overall, Status
from mibg.protocol import load_protocol

MET, NOT_MET, UNKNOWN, REVIEW = Status.MET, Status.NOT_MET, Status.UNKNOWN, Status.NEEDS_REVIEW

MARROW_METASTASIS = attestations_with(cytopenia_due_to_marrow_metastasis=attestation(True))


def with_lab(criterion_id, *results, **changes):
    return criterion(criterion_id, labs=labs_with(*results), **changes)


# ---- O1 bilirubin < 2 x ULN, strict (A7) ------------------------------------------------------------------


@pytest.mark.parametrize(("value", "status"), [("2.0", NOT_MET), ("1.99", MET), ("2.01", NOT_MET)])
def test_bilirubin_of_exactly_2_x_uln_fails_and_just_below_passes(value, status):
    assert with_lab("O1", lab("bilirubin", value, uln="1.0")).status is status


@pytest.mark.parametrize(("value", "status"), [("34.2", NOT_MET), ("34.1", MET)])
def test_bilirubin_in_umol_per_l_is_judged_against_its_own_uln(value, status):
    # ULN 17.1 umol/L: 2 x 17.1 = 34.2 umol/L.
    assert with_lab("O1", lab("bilirubin", value, "umol/L", uln="17.1")).status is status


def test_bilirubin_without_a_uln_is_unknown():
    result = with_lab("O1", lab("bilirubin", "0.4"))
    assert result.status is UNKNOWN
    assert "labs.bilirubin.uln" in result.missing


# ---- O2 AST and ALT < 10 x ULN, strict (A7) ----------------------------------------------------------------


@pytest.mark.parametrize(("value", "status"), [("500", NOT_MET), ("499", MET), ("499.9", MET)])
def test_ast_of_exactly_10_x_uln_fails_and_just_below_passes(value, status):
    # ULN 50 U/L: 10 x 50 = 500 U/L.
    assert with_lab("O2", lab("ast", value, uln="50")).status is status


@pytest.mark.parametrize(("value", "status"), [("450", NOT_MET), ("449.9", MET)])
def test_alt_of_exactly_10_x_uln_fails_and_just_below_passes(value, status):
    # ULN 45 U/L: 10 x 45 = 450 U/L.
    assert with_lab("O2", lab("alt", value, uln="45")).status is status


@pytest.mark.parametrize("test", ["ast", "alt"])
def test_o2_without_a_uln_is_unknown(test):
    assert with_lab("O2", lab(test, "30")).status is UNKNOWN


# ---- O3 creatinine <= 2 mg/dL = 176.8 umol/L (A6) ----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "unit", "status"),
    [
        ("2.0", "mg/dL", MET),
        ("2.01", "mg/dL", NOT_MET),
        ("1.99", "mg/dL", MET),
        ("176.8", "umol/L", MET),  # 176.8 / 88.4 = 2.0 mg/dL exactly
        ("177", "umol/L", NOT_MET),  # 177 / 88.4 = 2.0023 mg/dL
        ("176.7", "µmol/L", MET),
    ],
)
def test_creatinine_at_most_2_mg_per_dl(value, unit, status):
    assert with_lab("O3", lab("creatinine", value, unit, uln="0.7")).status is status


# ---- H1 ANC > 0.75 x 10^9/L (> 750 /uL) without transfusion (A8) -------------------------------------------


@pytest.mark.parametrize(
    ("value", "unit", "status"),
    [
        ("0.75", "10^9/L", NOT_MET),
        ("0.76", "10^9/L", MET),
        ("0.751", "10^9/L", MET),
        ("750", "/uL", NOT_MET),  # 750 /uL = 0.750 x 10^9/L
        ("751", "/uL", MET),
        ("750", "cells/mm3", NOT_MET),
    ],
)
def test_anc_must_be_above_0_75(value, unit, status):
    assert with_lab("H1", lab("anc", value, unit)).status is status


def test_an_anc_two_days_after_a_granulocyte_transfusion_does_not_count():
    transfusions = [{"product": "granulocytes", "given_at": "2026-12-05T07:30:00-08:00"}]
    assert criterion("H1", transfusions=transfusions).status is UNKNOWN


def test_the_most_recent_anc_decides():
    earlier_low = [lab("anc", "0.6", at="2026-12-04T07:30:00-08:00"), lab("anc", "1.4")]
    earlier_high = [lab("anc", "1.4", at="2026-12-04T07:30:00-08:00"), lab("anc", "0.6")]
    assert criterion("H1", labs=labs_with(*earlier_low)).status is MET
    assert criterion("H1", labs=labs_with(*earlier_high)).status is NOT_MET


def test_the_h1_result_names_the_value_and_its_collection_time():
    result = criterion("H1")
    assert "1.4" in result.inputs[0].value
    assert result.inputs[0].when == "2026-12-07 07:30 PST"


# ---- H2 without stem cells: platelets > 50 x 10^9/L without transfusion (A8) -------------------------------


@pytest.mark.parametrize(("value", "status"), [("50", NOT_MET), ("51", MET), ("50.1", MET), ("49", NOT_MET)])
def test_without_stem_cells_platelets_must_be_above_50(value, status):
    assert with_lab("H2", lab("platelets", value), **NO_STEM_CELLS).status is status


def test_with_adequate_stem_cells_h2_does_not_apply():
    result = with_lab("H2", lab("platelets", "30"))
    assert result.status is MET
    assert not result.applies


def test_a_platelet_count_3_days_after_a_platelet_transfusion_does_not_count():
    transfusions = [{"product": "platelets", "given_at": "2026-12-04T07:30:00-08:00"}]
    result = criterion("H2", transfusions=transfusions, **NO_STEM_CELLS)
    assert result.status is UNKNOWN
    assert "labs.platelets" in result.missing


def test_a_platelet_count_8_days_after_a_platelet_transfusion_counts():
    transfusions = [{"product": "platelets", "given_at": "2026-11-29T07:30:00-08:00"}]
    assert criterion("H2", transfusions=transfusions, **NO_STEM_CELLS).status is MET


def test_an_earlier_unsupported_platelet_count_still_counts_when_a_later_one_follows_a_transfusion():
    counts = [lab("platelets", "95", at="2026-12-03T08:00:00-08:00"), lab("platelets", "120")]
    transfusions = [{"product": "platelets", "given_at": "2026-12-05T12:00:00-08:00"}]
    result = criterion("H2", labs=labs_with(*counts), transfusions=transfusions, **NO_STEM_CELLS)
    assert result.status is MET
    assert result.inputs[0].when == "2026-12-03 08:00 PST"


# ---- H3 with stem cells: transfusion independent and platelets >= 20 x 10^9/L (A8) -------------------------


@pytest.mark.parametrize(("value", "status"), [("20", MET), ("19", NOT_MET), ("19.9", NOT_MET), ("21", MET)])
def test_with_stem_cells_platelets_of_at_least_20_pass(value, status):
    assert with_lab("H3", lab("platelets", value)).status is status


def test_with_stem_cells_a_platelet_transfusion_6_days_before_treatment_is_not_met():
    # The count (2026-12-03) precedes the transfusion (2026-12-04, 6 days before 2026-12-10), so it counts;
    # but the patient is not independent of platelet transfusions in the 7 days before treatment (A8).
    counts = lab("platelets", "95", at="2026-12-03T08:00:00-08:00")
    transfusions = [{"product": "platelets", "given_at": "2026-12-04T12:00:00-08:00"}]
    result = criterion("H3", labs=labs_with(counts), transfusions=transfusions)
    assert result.status is NOT_MET


def test_with_stem_cells_a_platelet_transfusion_6_days_before_treatment_is_not_met_whatever_the_count():
    # Count on 2026-12-07, 3 days after the transfusion of 2026-12-04: the count does not count, but the
    # transfusion alone already means the patient is not transfusion independent (A8): not met, not unknown.
    transfusions = [{"product": "platelets", "given_at": "2026-12-04T12:00:00-08:00"}]
    result = criterion("H3", transfusions=transfusions)
    assert result.status is NOT_MET


def test_with_stem_cells_a_platelet_transfusion_8_days_before_treatment_is_met():
    # Transfusion 2026-12-02 (8 days before 2026-12-10); count 2026-12-09 13:00, more than 7 days after it.
    counts = lab("platelets", "95", at="2026-12-09T13:00:00-08:00")
    transfusions = [{"product": "platelets", "given_at": "2026-12-02T12:00:00-08:00"}]
    assert criterion("H3", labs=labs_with(counts), transfusions=transfusions).status is MET


def test_without_stem_cells_h3_does_not_apply():
    result = criterion("H3", **NO_STEM_CELLS)
    assert result.status is MET
    assert not result.applies


# ---- H4 haemoglobin > 10 g/dL, red-cell transfusion allowed (A8) -------------------------------------------


@pytest.mark.parametrize(
    ("value", "unit", "status"),
    [("10.0", "g/dL", NOT_MET), ("10.1", "g/dL", MET), ("9.9", "g/dL", NOT_MET), ("100", "g/L", NOT_MET), ("101", "g/L", MET)],
)
def test_haemoglobin_must_be_above_10(value, unit, status):
    assert with_lab("H4", lab("hemoglobin", value, unit)).status is status


def test_haemoglobin_the_day_after_a_red_cell_transfusion_counts():
    transfusions = [{"product": "red_cells", "given_at": "2026-12-06T07:30:00-08:00"}]
    assert criterion("H4", transfusions=transfusions).status is MET


# ---- H5 marrow metastasis: a failed H1/H2/H3 needs review; only a chair decision settles it -----------------


def test_a_low_anc_attributed_to_marrow_metastasis_needs_review():
    result = with_lab("H1", lab("anc", "0.6"), attestations=MARROW_METASTASIS)
    assert result.status is REVIEW
    assert result.chair_clearable


def test_low_platelets_without_stem_cells_attributed_to_marrow_metastasis_need_review():
    assert with_lab("H2", lab("platelets", "40"), attestations=MARROW_METASTASIS, **NO_STEM_CELLS).status is REVIEW


def test_low_platelets_with_stem_cells_attributed_to_marrow_metastasis_need_review():
    assert with_lab("H3", lab("platelets", "15"), attestations=MARROW_METASTASIS).status is REVIEW


def test_a_chair_decision_that_clears_h1_makes_it_met_and_names_the_chair():
    result = with_lab("H1", lab("anc", "0.6"), attestations=MARROW_METASTASIS, chair_decisions=[chair_decision("H1", True)])
    assert result.status is MET
    assert "Dr K. Matthay" in result.cleared_by


def test_a_chair_decision_that_does_not_clear_h1_makes_it_not_met():
    result = with_lab("H1", lab("anc", "0.6"), attestations=MARROW_METASTASIS, chair_decisions=[chair_decision("H1", False)])
    assert result.status is NOT_MET


def test_the_latest_chair_decision_counts():
    decisions = [chair_decision("H3", False, at="2026-12-08T09:00:00-08:00"), chair_decision("H3", True, at="2026-12-09T09:00:00-08:00")]
    result = with_lab("H3", lab("platelets", "15"), attestations=MARROW_METASTASIS, chair_decisions=decisions)
    assert result.status is MET


def test_a_chair_decision_cannot_clear_a_failure_that_is_not_up_for_review():
    # No marrow-metastasis attestation: H1 is simply not met, and a chair decision does not change that.
    result = with_lab("H1", lab("anc", "0.6"), chair_decisions=[chair_decision("H1", True)])
    assert result.status is NOT_MET


def test_marrow_metastasis_does_not_turn_low_haemoglobin_into_a_review():
    assert with_lab("H4", lab("hemoglobin", "9.0"), attestations=MARROW_METASTASIS).status is NOT_MET


def test_an_attestation_that_cytopenia_is_not_due_to_marrow_metastasis_leaves_h1_not_met():
    attestations = attestations_with(cytopenia_due_to_marrow_metastasis=attestation(False))
    assert with_lab("H1", lab("anc", "0.6"), attestations=attestations).status is NOT_MET


def test_marrow_metastasis_with_normal_counts_leaves_h1_met():
    assert criterion("H1", attestations=MARROW_METASTASIS).status is MET


def test_h5_applies_only_with_the_marrow_metastasis_attestation():
    assert not criterion("H5").applies
    with_attestation = criterion("H5", attestations=MARROW_METASTASIS)
    assert with_attestation.applies
    assert with_attestation.status is MET


def test_a_low_anc_from_marrow_metastasis_makes_the_whole_screen_need_review_until_the_chair_decides():
    low_anc = labs_with(lab("anc", "0.6"))
    assert evaluate(labs=low_anc, attestations=MARROW_METASTASIS).overall is Overall.NEEDS_REVIEW
    cleared = evaluate(labs=low_anc, attestations=MARROW_METASTASIS, chair_decisions=[chair_decision("H1", True)])
    assert cleared.overall is Overall.ELIGIBLE
    refused = evaluate(labs=low_anc, attestations=MARROW_METASTASIS, chair_decisions=[chair_decision("H1", False)])
    assert refused.overall is Overall.NOT_ELIGIBLE


# ---- every lab criterion: missing or older than the lab window -> unknown -----------------------------------

LAB_CRITERIA = [
    ("anc", "H1", "1.4", None),
    ("platelets", "H3", "95", None),
    ("hemoglobin", "H4", "10.8", None),
    ("bilirubin", "O1", "0.4", "1.0"),
    ("ast", "O2", "42", "50"),
    ("alt", "O2", "35", "45"),
    ("creatinine", "O3", "0.4", "0.7"),
]


@pytest.mark.parametrize(("test", "criterion_id", "value", "uln"), LAB_CRITERIA)
def test_a_missing_lab_result_is_unknown(test, criterion_id, value, uln):
    result = criterion(criterion_id, labs=labs_with(drop=(test,)))
    assert result.status is UNKNOWN
    assert f"labs.{test}" in result.missing


@pytest.mark.parametrize(("test", "criterion_id", "value", "uln"), LAB_CRITERIA)
def test_a_lab_result_older_than_7_days_is_unknown(test, criterion_id, value, uln):
    window = int(load_protocol().site("lab_max_age_days"))
    assert window == 7
    eight_days = (TREATMENT_DAY - timedelta(days=8)).isoformat() + LAB_TIME[10:]
    assert criterion(criterion_id, labs=labs_with(lab(test, value, at=eight_days, uln=uln))).status is UNKNOWN


@pytest.mark.parametrize(("test", "criterion_id", "value", "uln"), LAB_CRITERIA)
def test_a_lab_result_7_days_old_still_counts(test, criterion_id, value, uln):
    seven_days = (TREATMENT_DAY - timedelta(days=7)).isoformat() + LAB_TIME[10:]
    assert criterion(criterion_id, labs=labs_with(lab(test, value, at=seven_days, uln=uln))).status is MET

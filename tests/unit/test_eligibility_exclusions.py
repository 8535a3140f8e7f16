"""X1-X5: exclusions (clinical-reference §1.4; decisions.md X1, A19).

Base patient: examples/patients/eligible-neuroblastoma.json (treatment 2026-12-10) and, for X5,
examples/patients/pheo-paraganglioma.json.
"""

import pytest
from snapshots import PHEO, attestation, attestations_with, chair_decision, criterion, example_data

from mibg.core.results import Status

MET, NOT_MET, UNKNOWN, REVIEW = Status.MET, Status.NOT_MET, Status.UNKNOWN, Status.NEEDS_REVIEW

# ---- X1 major organ disease / significant organ impairment (chair review) ----------------------------------


def test_no_major_organ_disease_and_no_significant_impairment_meets_x1():
    assert criterion("X1").status is MET


def test_major_organ_disease_that_compromises_therapy_excludes():
    attestations = attestations_with(no_major_organ_disease=attestation(False))
    assert criterion("X1", attestations=attestations).status is NOT_MET


def test_significant_organ_impairment_needs_review_by_the_chair():
    attestations = attestations_with(significant_organ_impairment=attestation(True))
    result = criterion("X1", attestations=attestations)
    assert result.status is REVIEW
    assert result.chair_clearable


@pytest.mark.parametrize(("cleared", "status"), [(True, MET), (False, NOT_MET)])
def test_a_chair_decision_settles_significant_organ_impairment(cleared, status):
    attestations = attestations_with(significant_organ_impairment=attestation(True))
    result = criterion("X1", attestations=attestations, chair_decisions=[chair_decision("X1", cleared)])
    assert result.status is status
    assert result.cleared_by


@pytest.mark.parametrize("name", ["no_major_organ_disease", "significant_organ_impairment"])
def test_x1_without_the_organ_attestations_is_unknown(name):
    assert criterion("X1", attestations=attestations_with(**{name: None})).status is UNKNOWN


# ---- X2 pregnancy, lactation, contraception ----------------------------------------------------------------


def pregnancy(**changes):
    data = {"childbearing_potential": True, "pregnant": False, "lactating": False, "effective_contraception": True,
            "assessed_on": "2026-12-07"}
    data.update(changes)
    return data


def test_of_childbearing_potential_not_pregnant_not_lactating_with_contraception_meets_x2():
    assert criterion("X2", pregnancy=pregnancy()).status is MET


@pytest.mark.parametrize("change", [{"pregnant": True}, {"lactating": True}, {"effective_contraception": False}])
def test_pregnant_lactating_or_without_contraception_is_excluded(change):
    assert criterion("X2", pregnancy=pregnancy(**change)).status is NOT_MET


def test_x2_does_not_apply_without_childbearing_potential():
    result = criterion("X2")
    assert result.status is MET
    assert not result.applies


def test_x2_without_a_pregnancy_record_is_unknown():
    assert criterion("X2", pregnancy=None).status is UNKNOWN


def test_x2_with_pregnancy_not_recorded_is_unknown():
    data = pregnancy()
    del data["pregnant"]
    assert criterion("X2", pregnancy=data).status is UNKNOWN


# ---- X3 haemodialysis --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("on_hemodialysis", "status"), [(True, NOT_MET), (False, MET), (None, UNKNOWN)])
def test_haemodialysis_excludes(on_hemodialysis, status):
    assert criterion("X3", on_hemodialysis=on_hemodialysis).status is status


# ---- X4 active infection of CTCAE grade 3-4 ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("grade", "active", "status"),
    [(3, True, NOT_MET), (4, True, NOT_MET), (2, True, MET), (1, True, MET), (3, False, MET), (4, False, MET)],
)
def test_an_active_infection_of_grade_3_or_4_excludes(grade, active, status):
    screen = {"assessed_on": "2026-12-07", "infections": [{"description": "line sepsis", "ctcae_grade": grade, "active": active}]}
    assert criterion("X4", infection_screen=screen).status is status


def test_x4_without_an_infection_screen_is_unknown():
    assert criterion("X4", infection_screen=None).status is UNKNOWN


# ---- X5 pheo/paraganglioma proteinuria (A19) ---------------------------------------------------------------


def proteinuria(**changes):
    data = example_data(PHEO)["proteinuria"]
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_trace_protein_on_urinalysis_without_a_24_hour_urine_is_unknown():
    result = criterion("X5", base=PHEO, proteinuria=proteinuria(urinalysis_protein="trace", urine_24h_protein_mg=None,
                                                                urine_24h_reference_upper_mg=None,
                                                                urine_24h_collected_on=None))
    assert result.status is UNKNOWN
    assert "proteinuria.urine_24h_protein_mg" in result.missing


@pytest.mark.parametrize(("protein_mg", "status"), [("151", NOT_MET), ("150", MET), ("150.1", NOT_MET), ("149", MET)])
def test_a_24_hour_urine_protein_above_the_reference_upper_limit_excludes(protein_mg, status):
    # Reference upper limit 150 mg/24 h: equal is within the range.
    data = proteinuria(urinalysis_protein="1+", urine_24h_protein_mg=protein_mg, urine_24h_reference_upper_mg="150")
    assert criterion("X5", base=PHEO, proteinuria=data).status is status


def test_a_negative_urinalysis_meets_x5_without_a_24_hour_urine():
    data = {"urinalysis_protein": "negative", "urinalysis_on": "2026-12-01"}
    assert criterion("X5", base=PHEO, proteinuria=data).status is MET


def test_x5_for_a_paraganglioma_without_a_urinalysis_is_unknown():
    assert criterion("X5", base=PHEO, proteinuria=None).status is UNKNOWN


def test_x5_applies_only_to_pheochromocytoma_and_paraganglioma():
    trace = {"urinalysis_protein": "3+", "urinalysis_on": "2026-12-01"}
    result = criterion("X5", proteinuria=trace)
    assert result.status is MET
    assert not result.applies

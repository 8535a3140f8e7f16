"""P1-P6 and the clinician attestations (clinical-reference §1.2; decisions.md A4, A5, A17).

Base patient: examples/patients/eligible-neuroblastoma.json, treatment date 2026-12-10.
"""

from datetime import date, timedelta

import pytest
from snapshots import PHEO, TREATMENT_DAY, attestation, attestations_with, criterion

from mibg.core.results import Status
from mibg.protocol import load_protocol

MET, NOT_MET, UNKNOWN = Status.MET, Status.NOT_MET, Status.UNKNOWN

# ---- P1 "Age > 1 year": from the day after the first birthday (A4) ----------------------------------------


def test_p1_fails_on_the_day_of_the_first_birthday():
    # Born 2025-12-10: the first birthday is the treatment date 2026-12-10.
    assert criterion("P1", birth_date="2025-12-10").status is NOT_MET


def test_p1_passes_on_the_day_after_the_first_birthday():
    # Born 2025-12-09: the first birthday was 2026-12-09, the treatment is the day after.
    assert criterion("P1", birth_date="2025-12-09").status is MET


def test_p1_fails_for_a_child_under_one_year():
    assert criterion("P1", birth_date="2026-03-01").status is NOT_MET


def test_the_p1_result_names_the_birth_date():
    result = criterion("P1")
    assert result.inputs[0].value == "2020-04-17"
    assert "2026-12-10" in result.inputs[0].when


# ---- P3 pheo/paraganglioma: day after the 1st birthday .. day before the 13th (A4) -------------------------


@pytest.mark.parametrize(
    ("birth_date", "status"),
    [
        ("2025-12-10", NOT_MET),  # first birthday on the treatment date
        ("2025-12-09", MET),  # the day after the first birthday
        ("2013-12-11", MET),  # 13th birthday 2026-12-11: the treatment is the day before it (age 12 y 11 mo)
        ("2013-12-10", NOT_MET),  # 13th birthday on the treatment date
        ("2010-01-01", NOT_MET),  # 16 years old
    ],
)
def test_pheo_patients_are_eligible_from_the_day_after_the_first_to_the_day_before_the_13th_birthday(birth_date, status):
    assert criterion("P3", base=PHEO, birth_date=birth_date).status is status


def test_p3_does_not_apply_to_a_15_year_old_with_neuroblastoma():
    result = criterion("P3", birth_date="2011-06-01")
    assert result.status is MET
    assert not result.applies


# ---- P5 performance status >= 60 (A5) ----------------------------------------------------------------------


def performance(score, scale="lansky", assessed_on="2026-12-07"):
    return {"scale": scale, "score": score, "assessed_on": assessed_on}


@pytest.mark.parametrize(("score", "status"), [(59, NOT_MET), (60, MET), (61, MET)])
def test_performance_status_must_be_60_or_more(score, status):
    assert criterion("P5", performance=performance(score)).status is status


@pytest.mark.parametrize(("score", "status"), [(59, NOT_MET), (60, MET)])
def test_the_karnofsky_threshold_is_also_60(score, status):
    # Born 2008-01-01: 18 years old on 2026-12-10, so the Karnofsky scale (A5).
    assert criterion("P5", birth_date="2008-01-01", performance=performance(score, "karnofsky")).status is status


def test_a_missing_performance_status_is_unknown():
    assert criterion("P5", performance=None).status is UNKNOWN


def test_a_performance_status_older_than_the_assessment_window_is_unknown():
    window = int(load_protocol().site("assessment_max_age_days"))
    too_old = TREATMENT_DAY - timedelta(days=window + 1)
    just_in = TREATMENT_DAY - timedelta(days=window)
    assert criterion("P5", performance=performance(80, assessed_on=too_old.isoformat())).status is UNKNOWN
    assert criterion("P5", performance=performance(80, assessed_on=just_in.isoformat())).status is MET


def test_the_performance_result_carries_its_assessment_date():
    result = criterion("P5")
    assert result.inputs[0].value == "80"
    assert result.inputs[0].when == "2026-12-07"


# ---- P6 consent --------------------------------------------------------------------------------------------


def test_signed_consent_meets_p6():
    assert criterion("P6").status is MET


def test_unsigned_consent_does_not_meet_p6():
    assert criterion("P6", consent={"signed": False}).status is NOT_MET


def test_missing_consent_is_unknown():
    assert criterion("P6", consent=None).status is UNKNOWN


def test_signed_consent_without_its_date_is_unknown():
    assert criterion("P6", consent={"signed": True, "signed_by": "mother"}).status is UNKNOWN


# ---- P2, P4, T1, L1, C1: clinician attestations (A17) -------------------------------------------------------

ATTESTED = [
    ("P2", "able_to_cooperate_with_radiation_safety"),
    ("P4", "life_expectancy_over_6_weeks"),
    ("T1", "recovered_from_prior_toxicity"),
    ("L1", "normal_lung_function"),
    ("C1", "no_cardiac_dysfunction"),
]


@pytest.mark.parametrize(("criterion_id", "name"), ATTESTED)
def test_a_positive_attestation_meets_the_criterion_and_names_who_and_when(criterion_id, name):
    result = criterion(criterion_id)
    assert result.status is MET
    assert "Dr A. Patel" in result.inputs[0].when
    assert "2026-12-07" in result.inputs[0].when


@pytest.mark.parametrize(("criterion_id", "name"), ATTESTED)
def test_a_negative_attestation_does_not_meet_the_criterion(criterion_id, name):
    result = criterion(criterion_id, attestations=attestations_with(**{name: attestation(False)}))
    assert result.status is NOT_MET


@pytest.mark.parametrize(("criterion_id", "name"), ATTESTED)
def test_a_missing_attestation_is_unknown(criterion_id, name):
    result = criterion(criterion_id, attestations=attestations_with(**{name: None}))
    assert result.status is UNKNOWN
    assert f"attestations.{name}" in result.missing


@pytest.mark.parametrize(("criterion_id", "name"), ATTESTED)
def test_a_stale_attestation_is_unknown(criterion_id, name):
    window = int(load_protocol().site("assessment_max_age_days"))
    old = date(2026, 12, 10) - timedelta(days=window + 1)
    stale = attestation(True, at=f"{old.isoformat()}T10:00:00-08:00")
    assert criterion(criterion_id, attestations=attestations_with(**{name: stale})).status is UNKNOWN

"""The thyroid and blood-pressure rows (issue 12; mibg.core.clinical_rows): CTCAE v5.0 grades Hypothyroidism,
Hyperthyroidism and Hypertension clinically, so TSH and free T4 are flagged against the site's reference range with
the grade definitions beside them and the grade left to the physician; adult blood pressure is read against the
v5.0 thresholds (clinical-reference §6.1: grade 1 SBP 120-139 or DBP 80-89; grade 2 SBP 140-159 or DBP 90-99;
grade 3 SBP >= 160 or DBP >= 100); paediatric blood pressure needs the percentile and is the physician's."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from mibg.core.clinical_rows import (
    clinical_rows,
    hypertension_grade,
    is_clinical,
    read_clinical,
    reference_flag,
)
from mibg.core.ctcae import CTCAE_FILE
from mibg.core.errors import InputError
from mibg.core.labs import lab_value

PST = timezone(timedelta(hours=-8))
AT = datetime(2026, 12, 20, 9, 0, tzinfo=PST)
ADULT = date(1990, 5, 1)  # 36 years old on AT
CHILD = date(2019, 5, 1)  # 7 years old on AT


def _read(test, value, unit, lln=None, uln=None, born=ADULT):
    return read_clinical(lab_value(test, value, unit, lln=lln, uln=uln, collected_at=AT), born)


# ---- TSH and free T4: the site's reference-range flag, never a grade from the value ----------------------------

@pytest.mark.parametrize(("value", "flag"), [
    ("0.39", "low"),  # just below the LLN 0.4 mIU/L
    ("0.4", "normal"),  # at the LLN: within the range
    ("4.0", "normal"),  # at the ULN: within the range
    ("4.01", "high"),  # just above the ULN
    ("12.5", "high"),
])
def test_a_tsh_is_flagged_against_the_sites_reference_range_at_below_and_above_each_limit(value, flag):
    reading = _read("tsh", value, "mIU/L", "0.4", "4.0")
    assert reading.flag == flag
    assert reading.grade_from_value is None  # the grade is the physician's (CTCAE grades it clinically)
    assert "physician" in reading.graded_by


@pytest.mark.parametrize(("value", "flag"), [("0.79", "low"), ("0.8", "normal"), ("1.8", "normal"), ("1.81", "high")])
def test_a_free_t4_is_flagged_against_the_sites_reference_range(value, flag):
    assert _read("free_t4", value, "ng/dL", "0.8", "1.8").flag == flag


def test_a_free_t4_in_ng_per_litre_is_flagged_in_the_unit_it_was_entered_in():
    # 7.9 ng/L < LLN 8 ng/L; stored canonically as 0.79 ng/dL (1 ng/dL = 10 ng/L).
    reading = _read("free_t4", "7.9", "ng/L", "8", "18")
    assert reading.flag == "low"
    assert reading.value == Decimal("0.79")


def test_free_t4_in_pmol_per_litre_is_refused_naming_the_unit():
    with pytest.raises(InputError) as refused:
        lab_value("free_t4", "15", "pmol/L", lln="12", uln="22")
    assert refused.value.field == "unit"


@pytest.mark.parametrize("missing", ["lln", "uln"])
def test_a_thyroid_value_without_the_sites_reference_range_is_refused_naming_the_limit(missing):
    limits = {"lln": "0.4", "uln": "4.0"}
    limits[missing] = None
    with pytest.raises(InputError) as refused:
        _read("tsh", "2.0", "uIU/mL", limits["lln"], limits["uln"])
    assert refused.value.field == missing
    assert "reference range" in refused.value.message


def test_the_thyroid_reading_shows_the_hypothyroidism_and_hyperthyroidism_definitions_marked_not_confirmed():
    reading = _read("tsh", "12.5", "mIU/L", "0.4", "4.0")
    assert reading.terms == ("Hypothyroidism", "Hyperthyroidism")
    grades = {(d.term, d.grade): d.text for d in reading.definitions}
    assert grades[("Hypothyroidism", 2)].startswith("Symptomatic; thyroid replacement indicated")
    assert grades[("Hyperthyroidism", 2)].startswith("Symptomatic; thyroid suppression therapy indicated")
    assert reading.status == "not confirmed against the v5.0 text"
    assert all(d.status == "unverified against the v5.0 text" for d in reading.definitions)
    shape = reading.to_json()
    assert (shape["schema"], shape["flag"], shape["grade_from_value"], shape["value"]) == (
        "mibg.clinical_reading", "high", None, "12.5")


def test_every_thyroid_row_of_the_protocol_data_is_marked_not_confirmed_against_the_v5_text():
    raw = json.loads(CTCAE_FILE.read_text(encoding="utf-8"))["clinical_rows"]["rows"]
    for row in raw:
        if row["reading"] == "reference_range":
            assert row["source"].strip()
            assert row["status"] == "not confirmed against the v5.0 text"
        else:
            assert row["adult"]["source"].strip()
            assert row["plausible"]["source"].strip()
            assert "not confirmed against the v5.0 text" in row["paediatric"]["status"]
            assert "not confirmed against the v5.0 text" in row["adult"]["status"]


def test_the_flag_is_only_for_the_thyroid_tests():
    assert reference_flag("anc", Decimal("0.1"), Decimal("1.5"), Decimal("8")) == ""
    assert reference_flag("tsh", Decimal("5"), None, Decimal("4")) == ""
    assert {t for t in ("tsh", "free_t4", "systolic_bp", "diastolic_bp", "anc") if is_clinical(t)} == {
        "tsh", "free_t4", "systolic_bp", "diastolic_bp"}


# ---- blood pressure: the adult thresholds as written in v5.0, at, below and above each ---------------------------

@pytest.mark.parametrize(("test", "value", "grade"), [
    ("systolic_bp", "119", 0), ("systolic_bp", "120", 1), ("systolic_bp", "139", 1), ("systolic_bp", "140", 2),
    ("systolic_bp", "159", 2), ("systolic_bp", "160", 3), ("systolic_bp", "161", 3),
    ("diastolic_bp", "79", 0), ("diastolic_bp", "80", 1), ("diastolic_bp", "89", 1), ("diastolic_bp", "90", 2),
    ("diastolic_bp", "99", 2), ("diastolic_bp", "100", 3), ("diastolic_bp", "101", 3),
])
def test_an_adults_blood_pressure_is_read_against_the_v5_thresholds(test, value, grade):
    reading = _read(test, value, "mmHg")
    assert reading.grade_from_value == grade
    assert reading.clause.startswith("adult rows (36 years")


def test_a_reading_takes_the_higher_of_its_systolic_and_diastolic_grades():
    # 135/95: SBP 135 is grade 1, DBP 95 is grade 2; "SBP ... or DBP ..." -> grade 2.
    assert hypertension_grade(_read("systolic_bp", "135", "mmHg"), _read("diastolic_bp", "95", "mmHg")) == 2
    assert hypertension_grade(_read("systolic_bp", "135", "mmHg"), _read("diastolic_bp", "95", "mmHg", born=CHILD)) is None


@pytest.mark.parametrize(("born", "adult"), [
    (date(2008, 12, 20), True),  # 18 today: the adult rows
    (date(2008, 12, 21), False),  # 18 tomorrow: still paediatric
])
def test_the_adult_rows_apply_from_the_18th_birthday(born, adult):
    reading = _read("systolic_bp", "165", "mmHg", born=born)
    assert (reading.grade_from_value == 3) is adult
    assert (reading.grade_from_value is None) is not adult


def test_a_childs_blood_pressure_needs_the_percentile_and_is_graded_by_the_physician_marked_unverified():
    reading = _read("systolic_bp", "165", "mmHg", born=CHILD)
    assert reading.grade_from_value is None
    assert "percentile" in reading.clause
    assert "physician" in reading.clause
    assert "not confirmed against the v5.0 text" in reading.status
    assert "the patient is 7 years old" in reading.comparison


def test_a_blood_pressure_without_the_patients_age_is_left_to_the_physician():
    reading = read_clinical(lab_value("systolic_bp", "170", "mmHg", collected_at=AT))
    assert reading.grade_from_value is None
    assert "age at the reading is not known" in reading.clause


@pytest.mark.parametrize(("test", "value", "accepted"), [
    ("systolic_bp", "19", False), ("systolic_bp", "20", True), ("systolic_bp", "300", True), ("systolic_bp", "301", False),
    ("diastolic_bp", "9", False), ("diastolic_bp", "10", True), ("diastolic_bp", "250", True), ("diastolic_bp", "251", False),
    ("systolic_bp", "120.5", False),
])
def test_a_blood_pressure_is_a_whole_number_of_mmhg_in_its_plausible_range(test, value, accepted):
    if accepted:
        assert _read(test, value, "mmHg").value == Decimal(value)
        return
    with pytest.raises(InputError) as refused:
        _read(test, value, "mmHg")
    assert refused.value.field == "value"


def test_the_adult_thresholds_are_protocol_data_with_their_source():
    row = clinical_rows()["systolic_bp"]
    assert [(b.grade, b.from_mmhg, b.below_mmhg) for b in row.adult_bands] == [
        (1, Decimal(120), Decimal(140)), (2, Decimal(140), Decimal(160)), (3, Decimal(160), None)]
    assert "clinical-reference §6.1" in row.adult_source
    assert [(b.grade, b.from_mmhg) for b in clinical_rows()["diastolic_bp"].adult_bands] == [
        (1, Decimal(80)), (2, Decimal(90)), (3, Decimal(100))]

"""CTCAE v5.0 grading (clinical-reference §6.1; decisions.md A18).

Every expected grade below was read by hand from the §6.1 table, with its boundary rule: each range includes
the endpoint written second ("<1500 - 1000" includes 1000; ">3.0 - 5.0 x ULN" includes 5.0 x ULN). The
code was not run to obtain them.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from importlib import resources

import pytest

from mibg.core.ctcae import (
    band_edges,
    grade,
    grade_lab,
    load_ctcae,
    parse_ctcae,
    term_definition,
    terms,
    worst_grades,
)
from mibg.core.errors import InputError
from mibg.core.labs import lab_value

ANC = "neutrophil-count-decreased"
PLT = "platelet-count-decreased"
HB = "anemia"
ALT = "alanine-aminotransferase-increased"
AST = "aspartate-aminotransferase-increased"
BILI = "blood-bilirubin-increased"
CREAT = "creatinine-increased"

# (term, value, unit, lln, uln, expected grade). Boundaries: at, just below, just above.
BOUNDARIES = [
    # Neutrophil count decreased, LLN 2.0 x 10^9/L: G1 <LLN-1.5, G2 <1.5-1.0, G3 <1.0-0.5, G4 <0.5.
    (ANC, "2.0", "10^9/L", "2.0", None, 0),
    (ANC, "1.99", "10^9/L", "2.0", None, 1),
    (ANC, "2.01", "10^9/L", "2.0", None, 0),
    (ANC, "1.5", "10^9/L", "2.0", None, 1),
    (ANC, "1.49", "10^9/L", "2.0", None, 2),
    (ANC, "1.51", "10^9/L", "2.0", None, 1),
    (ANC, "1.0", "10^9/L", "2.0", None, 2),
    (ANC, "0.99", "10^9/L", "2.0", None, 3),
    (ANC, "1.01", "10^9/L", "2.0", None, 2),
    (ANC, "0.5", "10^9/L", "2.0", None, 3),
    (ANC, "0.49", "10^9/L", "2.0", None, 4),
    (ANC, "0.51", "10^9/L", "2.0", None, 3),
    (ANC, "0", "10^9/L", "2.0", None, 4),
    # The same boundaries in /mm3 (CTCAE's own unit).
    (ANC, "1500", "/mm3", "2000", None, 1),
    (ANC, "1499", "/mm3", "2000", None, 2),
    (ANC, "1000", "/mm3", "2000", None, 2),
    (ANC, "999", "/mm3", "2000", None, 3),
    (ANC, "500", "/mm3", "2000", None, 3),
    (ANC, "499", "/mm3", "2000", None, 4),
    # Platelet count decreased, LLN 150 x 10^9/L: G1 <LLN-75, G2 <75-50, G3 <50-25, G4 <25.
    (PLT, "150", "10^9/L", "150", None, 0),
    (PLT, "149.9", "10^9/L", "150", None, 1),
    (PLT, "150.1", "10^9/L", "150", None, 0),
    (PLT, "75", "10^9/L", "150", None, 1),
    (PLT, "74.9", "10^9/L", "150", None, 2),
    (PLT, "75.1", "10^9/L", "150", None, 1),
    (PLT, "50", "10^9/L", "150", None, 2),
    (PLT, "49.9", "10^9/L", "150", None, 3),
    (PLT, "50.1", "10^9/L", "150", None, 2),
    (PLT, "25", "10^9/L", "150", None, 3),
    (PLT, "24.9", "10^9/L", "150", None, 4),
    (PLT, "25.1", "10^9/L", "150", None, 3),
    (PLT, "75000", "/uL", "150000", None, 1),
    (PLT, "50000", "/uL", "150000", None, 2),
    (PLT, "25000", "/uL", "150000", None, 3),
    (PLT, "24999", "/uL", "150000", None, 4),
    # Anemia, LLN 11.5 g/dL: G1 <LLN-10.0, G2 <10.0-8.0, G3 <8.0; G4 clinical only.
    (HB, "11.5", "g/dL", "11.5", None, 0),
    (HB, "11.4", "g/dL", "11.5", None, 1),
    (HB, "11.6", "g/dL", "11.5", None, 0),
    (HB, "10.0", "g/dL", "11.5", None, 1),
    (HB, "9.9", "g/dL", "11.5", None, 2),
    (HB, "10.1", "g/dL", "11.5", None, 1),
    (HB, "8.0", "g/dL", "11.5", None, 2),
    (HB, "7.9", "g/dL", "11.5", None, 3),
    (HB, "8.1", "g/dL", "11.5", None, 2),
    (HB, "0.1", "g/dL", "11.5", None, 3),
    (HB, "100", "g/L", "115", None, 1),
    (HB, "80", "g/L", "115", None, 2),
    (HB, "79", "g/L", "115", None, 3),
    # ALT increased, ULN 40 U/L: G1 >ULN-3.0xULN (120), G2 >3.0-5.0 (200), G3 >5.0-20.0 (800), G4 >20.0.
    (ALT, "40", "U/L", None, "40", 0),
    (ALT, "39.9", "U/L", None, "40", 0),
    (ALT, "40.1", "U/L", None, "40", 1),
    (ALT, "120", "U/L", None, "40", 1),
    (ALT, "119.9", "U/L", None, "40", 1),
    (ALT, "120.1", "U/L", None, "40", 2),
    (ALT, "200", "U/L", None, "40", 2),
    (ALT, "199.9", "U/L", None, "40", 2),
    (ALT, "200.1", "U/L", None, "40", 3),
    (ALT, "800", "U/L", None, "40", 3),
    (ALT, "799.9", "U/L", None, "40", 3),
    (ALT, "800.1", "U/L", None, "40", 4),
    # AST increased (same multiples), ULN 35 U/L: 105, 175, 700.
    (AST, "35", "U/L", None, "35", 0),
    (AST, "34.9", "U/L", None, "35", 0),
    (AST, "35.1", "U/L", None, "35", 1),
    (AST, "105", "U/L", None, "35", 1),
    (AST, "104.9", "U/L", None, "35", 1),
    (AST, "105.1", "U/L", None, "35", 2),
    (AST, "175", "U/L", None, "35", 2),
    (AST, "174.9", "U/L", None, "35", 2),
    (AST, "175.1", "U/L", None, "35", 3),
    (AST, "700", "U/L", None, "35", 3),
    (AST, "699.9", "U/L", None, "35", 3),
    (AST, "700.1", "IU/L", None, "35", 4),
    # Blood bilirubin increased, ULN 1.2 mg/dL: G1 >ULN-1.5xULN (1.8), G2 >1.5-3.0 (3.6), G3 >3.0-10.0 (12), G4 >10.
    (BILI, "1.2", "mg/dL", None, "1.2", 0),
    (BILI, "1.19", "mg/dL", None, "1.2", 0),
    (BILI, "1.21", "mg/dL", None, "1.2", 1),
    (BILI, "1.8", "mg/dL", None, "1.2", 1),
    (BILI, "1.79", "mg/dL", None, "1.2", 1),
    (BILI, "1.81", "mg/dL", None, "1.2", 2),
    (BILI, "3.6", "mg/dL", None, "1.2", 2),
    (BILI, "3.59", "mg/dL", None, "1.2", 2),
    (BILI, "3.61", "mg/dL", None, "1.2", 3),
    (BILI, "12", "mg/dL", None, "1.2", 3),
    (BILI, "11.99", "mg/dL", None, "1.2", 3),
    (BILI, "12.01", "mg/dL", None, "1.2", 4),
    # In umol/L with ULN 20 umol/L: exactly 1.5 x ULN = 30 must stay grade 1 despite 17.1 umol/L per mg/dL.
    (BILI, "30", "umol/L", None, "20", 1),
    (BILI, "30.1", "umol/L", None, "20", 2),
    (BILI, "60", "umol/L", None, "20", 2),
    (BILI, "60.1", "umol/L", None, "20", 3),
    (BILI, "200", "umol/L", None, "20", 3),
    (BILI, "200.1", "umol/L", None, "20", 4),
    # Creatinine increased, ULN 0.7 mg/dL: G1 >ULN-1.5xULN (1.05), G2 >1.5-3.0 (2.1), G3 >3.0-6.0 (4.2), G4 >6.0.
    (CREAT, "0.7", "mg/dL", None, "0.7", 0),
    (CREAT, "0.69", "mg/dL", None, "0.7", 0),
    (CREAT, "0.71", "mg/dL", None, "0.7", 1),
    (CREAT, "1.05", "mg/dL", None, "0.7", 1),
    (CREAT, "1.04", "mg/dL", None, "0.7", 1),
    (CREAT, "1.06", "mg/dL", None, "0.7", 2),
    (CREAT, "2.1", "mg/dL", None, "0.7", 2),
    (CREAT, "2.09", "mg/dL", None, "0.7", 2),
    (CREAT, "2.11", "mg/dL", None, "0.7", 3),
    (CREAT, "4.2", "mg/dL", None, "0.7", 3),
    (CREAT, "4.19", "mg/dL", None, "0.7", 3),
    (CREAT, "4.21", "mg/dL", None, "0.7", 4),
    # In umol/L with ULN 61.88 umol/L (0.7 mg/dL x 88.4): 92.82, 185.64, 371.28.
    (CREAT, "92.82", "umol/L", None, "61.88", 1),
    (CREAT, "92.83", "umol/L", None, "61.88", 2),
    (CREAT, "185.64", "umol/L", None, "61.88", 2),
    (CREAT, "185.65", "umol/L", None, "61.88", 3),
    (CREAT, "371.28", "umol/L", None, "61.88", 3),
    (CREAT, "371.29", "umol/L", None, "61.88", 4),
]


@pytest.mark.parametrize(
    ("term", "value", "unit", "lln", "uln", "expected"),
    BOUNDARIES,
    ids=[f"{t}-{v}{u}-grade{g}" for t, v, u, _, _, g in BOUNDARIES],
)
def test_each_boundary_falls_in_the_grade_the_ctcae_table_gives(term, value, unit, lln, uln, expected):
    assert grade(term, value, unit, lln=lln, uln=uln).grade == expected


def test_the_worked_examples_of_the_reference_hold():
    assert grade(ANC, "1000", "/mm3", lln="1500").grade == 2
    assert grade(ANC, "500", "/mm3", lln="1500").grade == 3
    assert grade(ALT, "200", "U/L", uln="40").grade == 2  # exactly 5.0 x ULN
    assert grade(HB, "8.0", "g/dL", lln="11").grade == 2


def test_every_term_of_the_command_is_in_the_table():
    assert set(terms()) == {ANC, PLT, HB, ALT, AST, BILI, CREAT}


def test_the_result_carries_the_value_in_canonical_units_the_band_and_the_version():
    result = grade(ANC, "750", "/uL", lln="1500")
    assert result.grade == 3
    assert result.value == Decimal("0.75")
    assert result.unit == "10^9/L"
    assert result.band == "<1000 - 500/mm3; <1.0 - 0.5 x 10e9/L"
    assert result.comparison == "0.5 10^9/L <= 0.75 10^9/L < 1.0 10^9/L"
    assert result.version == "CTCAE v5.0"
    assert {i.name for i in result.inputs} == {"value", "value (canonical)", "LLN"}
    data = result.to_json()
    assert data["grade"] == 3
    assert data["term"] == ANC
    assert data["value"] == "0.75"
    assert json.loads(json.dumps(data)) == data


def test_a_result_cannot_be_changed_after_grading():
    result = grade(HB, "9", "g/dL", lln="11")
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.grade = 0  # type: ignore[misc]


def test_anemia_is_graded_at_most_3_from_the_value_and_says_why():
    result = grade(HB, "3.0", "g/dL", lln="11")
    assert result.grade == 3
    assert result.max_grade_from_value == 3
    assert any("Grade 4 anemia is clinical" in note for note in result.notes)


def test_liver_bilirubin_and_creatinine_without_a_baseline_say_they_were_graded_against_the_uln():
    for term, unit, uln in ((ALT, "U/L", "40"), (AST, "U/L", "35"), (BILI, "mg/dL", "1.2"), (CREAT, "mg/dL", "0.7")):
        result = grade(term, "1", unit, uln=uln)
        assert result.clause == "graded against the ULN (no pre-infusion baseline of this course)"
        assert result.baseline is None


# ---- baseline clauses (decisions.md A33; clinical-reference §6.1) ---------------------------------------------
# ALT and AST with an abnormal baseline: G1 1.5 - 3.0, G2 >3.0 - 5.0, G3 >5.0 - 20.0, G4 >20.0 x baseline.
# Bilirubin: G1 >1.0 - 1.5, G2 >1.5 - 3.0, G3 >3.0 - 10.0, G4 >10.0 x baseline. Creatinine: G2 >1.5 - 3.0,
# G3 >3.0 x baseline, beside its ULN grades (the higher counts). "1.5 - 3.0 x baseline" has no sign before 1.5:
# read as including 1.5 (product choice, in ctcae_v5.json).

T_BASE = datetime(2026, 12, 7, 15, 30, tzinfo=UTC)
T_AFTER = datetime(2026, 12, 24, 17, 0, tzinfo=UTC)


def with_baseline(term, value, unit, uln, base, base_uln):
    test = term_definition(term).test
    return grade_lab(lab_value(test, value, unit, uln=uln, collected_at=T_AFTER), term,
                     baseline=lab_value(test, base, unit, uln=base_uln, collected_at=T_BASE))


@pytest.mark.parametrize(("value", "expected"), [
    # baseline 80 U/L, ULN 40: abnormal. 1.5 x 80 = 120; 3.0 x 80 = 240; 5.0 x 80 = 400; 20.0 x 80 = 1600.
    ("119.99", 0), ("120", 1), ("120.01", 1), ("239.99", 1), ("240", 1), ("240.01", 2), ("399.99", 2), ("400", 2),
    ("400.01", 3), ("1599.99", 3), ("1600", 3), ("1600.01", 4),
])
@pytest.mark.parametrize("term", [ALT, AST])
def test_dr_patel_sees_alt_and_ast_graded_on_multiples_of_an_abnormal_pre_infusion_baseline(term, value, expected):
    result = with_baseline(term, value, "U/L", "40", "80", "40")
    assert result.grade == expected
    assert result.baseline == Decimal("80")
    assert result.clause.startswith("graded against the baseline 80 U/L (pre-infusion value, collected 2026-12-07 07:30 PST")
    assert "abnormal (> ULN 40 U/L)" in result.clause
    assert any("UNVERIFIED" in note for note in result.notes)


def test_an_alt_that_did_not_rise_from_an_abnormal_baseline_is_not_graded_on_the_uln():
    # Baseline 100 U/L (2.5 x ULN 40). 130 U/L = 3.25 x ULN (grade 2 on the ULN) but 1.3 x baseline: grade 0.
    result = with_baseline(ALT, "130", "U/L", "40", "100", "40")
    assert result.grade == 0
    assert result.band == "below 1.5 x baseline (no grade: the baseline was abnormal)"
    assert result.comparison == "130 U/L < 1.5 x baseline = 150.0 U/L"


def test_a_baseline_at_the_uln_is_normal_and_the_value_is_graded_on_the_uln():
    # Baseline 40 U/L = ULN 40: within normal. 130 / 40 = 3.25 x ULN: grade 2 (>3.0 - 5.0 x ULN).
    result = with_baseline(ALT, "130", "U/L", "40", "40", "40")
    assert result.grade == 2
    assert result.clause.startswith("graded against the ULN: the baseline 40 U/L (pre-infusion value")
    assert "within normal (<= ULN 40 U/L)" in result.clause


def test_a_baseline_just_above_the_uln_is_abnormal():
    # Baseline 40.01 > ULN 40: abnormal. 130 / 40.01 = 3.249 x baseline: grade 2 (>3.0 - 5.0 x baseline).
    # 60.01 = 1.4999 x 40.01 (< 1.5: grade 0), although 60.01 > ULN would be grade 1 on the ULN.
    assert with_baseline(ALT, "130", "U/L", "40", "40.01", "40").grade == 2
    assert with_baseline(ALT, "60.01", "U/L", "40", "40.01", "40").grade == 0


@pytest.mark.parametrize(("value", "expected"), [
    # baseline 1.2 mg/dL, ULN 1.0: abnormal. x1.0 = 1.2; x1.5 = 1.8; x3.0 = 3.6; x10.0 = 12.0.
    ("1.2", 0), ("1.21", 1), ("1.8", 1), ("1.81", 2), ("3.6", 2), ("3.61", 3), ("12.0", 3), ("12.01", 4),
])
def test_bilirubin_is_graded_on_multiples_of_an_abnormal_baseline(value, expected):
    assert with_baseline(BILI, value, "mg/dL", "1.0", "1.2", "1.0").grade == expected


@pytest.mark.parametrize(("value", "expected", "clause"), [
    # baseline 0.3 mg/dL (normal), ULN 0.7. x1.5 = 0.45, x3.0 = 0.9. ULN grades: 0.7 / 1.05 / 2.1 / 4.2.
    ("0.45", 0, "ULN"),  # 1.5 x baseline, not above: no baseline grade; <= ULN: grade 0
    ("0.46", 2, "baseline"),  # > 1.5 x baseline: grade 2, though below the ULN
    ("0.9", 2, "baseline"),  # 3.0 x baseline: grade 2; on the ULN 0.9 / 0.7 = 1.29: grade 1
    ("0.91", 3, "baseline"),  # > 3.0 x baseline: grade 3
    ("4.21", 4, "ULN"),  # > 6.0 x ULN = 4.2: grade 4 beats the baseline's 3
])
def test_creatinine_takes_the_higher_of_its_uln_grade_and_its_baseline_grade(value, expected, clause):
    result = with_baseline(CREAT, value, "mg/dL", "0.7", "0.3", "0.7")
    assert result.grade == expected
    assert result.clause.startswith(f"graded against the {clause}")
    assert result.baseline == Decimal("0.3")


def test_a_baseline_without_its_uln_cannot_say_whether_alt_was_abnormal_and_the_uln_is_used():
    test = "alt"
    result = grade_lab(lab_value(test, "130", "U/L", uln="40", collected_at=T_AFTER),
                       baseline=lab_value(test, "100", "U/L", collected_at=T_BASE))
    assert result.grade == 2
    assert "has no ULN" in result.clause


@pytest.mark.parametrize(("baseline", "message"), [
    (lab_value("ast", "80", "U/L", uln="40", collected_at=T_BASE), "ast result, not alt"),
    (lab_value("alt", "80", "U/L", uln="40", collected_at=T_AFTER + timedelta(hours=1)), "collected after"),
    (lab_value("alt", "0", "U/L", uln="40", collected_at=T_BASE), "zero"),
])
def test_a_wrong_baseline_is_refused_naming_the_baseline(baseline, message):
    with pytest.raises(InputError) as caught:
        grade_lab(lab_value("alt", "130", "U/L", uln="40", collected_at=T_AFTER), baseline=baseline)
    assert caught.value.field == "baseline"
    assert message in caught.value.message


def test_a_falling_count_ignores_a_baseline():
    result = grade_lab(lab_value("anc", "0.4", "10^9/L", lln="1.5"),
                       baseline=lab_value("anc", "0.3", "10^9/L", lln="1.5"))
    assert (result.grade, result.clause) == (4, "graded against the reference range")


def test_an_increased_term_without_a_uln_is_refused_naming_uln():
    with pytest.raises(InputError) as caught:
        grade(ALT, "50", "U/L")
    assert caught.value.field == "uln"


def test_a_decreased_term_without_an_lln_is_refused_when_the_grade_depends_on_it():
    with pytest.raises(InputError) as caught:
        grade(ANC, "1.5", "10^9/L")
    assert caught.value.field == "lln"
    with pytest.raises(InputError) as caught:
        grade(HB, "12", "g/dL")
    assert caught.value.field == "lln"


def test_a_decreased_term_without_an_lln_is_graded_below_the_grade_1_boundary_and_says_what_it_assumed():
    result = grade(ANC, "1.49", "10^9/L")
    assert result.grade == 2
    assert any(note.startswith("No LLN was given") for note in result.notes)


def test_an_lln_below_the_grade_1_boundary_makes_values_from_the_lln_up_grade_0():
    # LLN 1.2: 1.3 is within normal (grade 0) although the absolute table alone would say grade 2.
    assert grade(ANC, "1.3", "10^9/L", lln="1.2").grade == 0
    below = grade(ANC, "1.1", "10^9/L", lln="1.2")
    assert below.grade == 2
    assert any("below the grade 1 boundary" in note for note in below.notes)


def test_grade_0_is_named_within_normal_limits():
    assert grade(PLT, "200", "10^9/L", lln="150").band == ">= LLN (within normal limits)"
    assert grade(CREAT, "0.5", "mg/dL", uln="0.7").band == "<= ULN (within normal limits)"


def test_the_multiple_of_the_uln_is_shown_for_increased_terms():
    assert grade(ALT, "150", "U/L", uln="40").multiple_of_uln == Decimal("3.75")
    assert grade(ANC, "1", "10^9/L", lln="2").multiple_of_uln is None


@pytest.mark.parametrize(
    ("term", "value", "unit", "field"),
    [
        ("fatigue", "1", "g/dL", "term"),
        (HB, "abc", "g/dL", "value"),
        (HB, "-1", "g/dL", "value"),
        (HB, "NaN", "g/dL", "value"),
        (HB, "Infinity", "g/dL", "value"),
        (HB, "9", "mmol/L", "unit"),
        (ANC, "750", "mg/dL", "unit"),
    ],
)
def test_bad_input_is_refused_naming_the_field(term, value, unit, field):
    with pytest.raises(InputError) as caught:
        grade(term, value, unit, lln="11", uln="40")
    assert caught.value.field == field


def test_a_binary_float_is_refused():
    with pytest.raises(InputError) as caught:
        grade(HB, 9.5, "g/dL", lln="11")
    assert caught.value.field == "value"


def test_a_lab_value_is_graded_by_the_term_of_its_test():
    result = grade_lab(lab_value("platelets", "40", "10^9/L", lln="150"))
    assert (result.term, result.grade) == (PLT, 3)
    with pytest.raises(InputError) as caught:
        grade_lab(lab_value("platelets", "40", "10^9/L"), ANC)
    assert caught.value.field == "term"


def test_the_worst_platelet_count_is_the_nadir_with_its_own_date_not_the_first_value_at_grade_4():
    t0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    results = [
        grade(PLT, "60", "10^9/L", lln="150", collected_at=t0),
        grade(PLT, "30", "10^9/L", lln="150", collected_at=t0 + timedelta(days=9)),
        grade(PLT, "10", "10^9/L", lln="150", collected_at=t0 + timedelta(days=12)),
        grade(PLT, "15", "10^9/L", lln="150", collected_at=t0 + timedelta(days=11)),
        grade(ANC, "1.2", "10^9/L", lln="1.5", collected_at=t0),
    ]
    worst = worst_grades(results)
    # decisions.md A32: 15 (day 11) and 10 (day 12) are both grade 4 (< 25); the nadir is 10, on day 12.
    assert worst[PLT].grade == 4
    assert worst[PLT].value == Decimal("10")
    assert worst[PLT].collected_at == t0 + timedelta(days=12)
    assert worst[ANC].grade == 2


def test_nora_sees_the_haemoglobin_nadir_8_9_not_the_first_grade_2_value_9_8():
    t0 = datetime(2026, 12, 11, 8, 0, tzinfo=UTC)
    worst = worst_grades([
        grade(HB, "9.8", "g/dL", lln="11.5", collected_at=t0),
        grade(HB, "8.9", "g/dL", lln="11.5", collected_at=t0 + timedelta(days=7)),
        grade(HB, "9.4", "g/dL", lln="11.5", collected_at=t0 + timedelta(days=14)),
    ])
    # All three are grade 2 (<10.0 - 8.0 g/dL, clinical-reference §6.1); the nadir is 8.9 on day 7.
    assert (worst[HB].grade, worst[HB].value, worst[HB].collected_at) == (2, Decimal("8.9"), t0 + timedelta(days=7))


def test_the_worst_alt_is_the_peak_by_its_multiple_of_the_uln():
    t0 = datetime(2026, 12, 11, 8, 0, tzinfo=UTC)
    worst = worst_grades([
        grade("alanine-aminotransferase-increased", "130", "U/L", uln="40", collected_at=t0),  # 3.25 x ULN: grade 2
        grade("alanine-aminotransferase-increased", "190", "U/L", uln="40", collected_at=t0 + timedelta(days=3)),  # 4.75
        grade("alanine-aminotransferase-increased", "150", "U/L", uln="40", collected_at=t0 + timedelta(days=5)),  # 3.75
    ])
    # All grade 2 (> 3.0 - 5.0 x ULN); the peak is 190 U/L = 4.75 x ULN on day 3.
    alt = worst["alanine-aminotransferase-increased"]
    assert (alt.grade, alt.value, alt.collected_at) == (2, Decimal("190"), t0 + timedelta(days=3))


def test_a_higher_grade_wins_over_a_lower_nadir_when_the_lln_changed_between_results():
    t0 = datetime(2026, 12, 11, 8, 0, tzinfo=UTC)
    worst = worst_grades([
        grade(ANC, "1.6", "10^9/L", lln="1.8", collected_at=t0),  # grade 1: < LLN 1.8, >= 1.5
        grade(ANC, "1.55", "10^9/L", lln="1.5", collected_at=t0 + timedelta(days=1)),  # grade 0: >= its LLN 1.5
    ])
    assert (worst[ANC].grade, worst[ANC].value) == (1, Decimal("1.6"))


def test_equal_nadirs_keep_the_earliest():
    t0 = datetime(2026, 12, 11, 8, 0, tzinfo=UTC)
    worst = worst_grades([
        grade(PLT, "20", "10^9/L", lln="150", collected_at=t0 + timedelta(days=4)),
        grade(PLT, "20", "10^9/L", lln="150", collected_at=t0 + timedelta(days=2)),
    ])
    assert worst[PLT].collected_at == t0 + timedelta(days=2)


def test_band_edges_give_the_plot_each_band_in_canonical_units():
    edges = {e.grade: e for e in band_edges(ANC, lln=Decimal("1.8"))}
    assert (edges[4].lower, edges[4].upper, edges[4].upper_inclusive) == (None, Decimal("0.5"), False)
    assert (edges[3].lower, edges[3].lower_inclusive, edges[3].upper) == (Decimal("0.5"), True, Decimal("1.0"))
    assert (edges[1].lower, edges[1].upper) == (Decimal("1.5"), Decimal("1.8"))
    assert (edges[0].lower, edges[0].upper) == (Decimal("1.8"), None)
    assert {e.grade for e in band_edges(ANC)} == {2, 3, 4}  # grade 0 and 1 need the LLN
    assert {e.grade for e in band_edges(HB)} == {2, 3}  # anemia grade 4 is clinical


def test_the_table_is_read_from_the_json_file_with_a_comparison_unit_and_status_per_boundary():
    raw = json.loads(resources.files("mibg.protocol").joinpath("ctcae_v5.json").read_text(encoding="utf-8"))
    assert raw["version"] == "CTCAE v5.0"
    for term in raw["terms"]:
        assert term["status"]
        for band in term["grades"]:
            for side in ("lower", "upper"):
                if band.get(side):
                    assert set(band[side]) == {"comparison", "value", "relative_to", "unit"}
    assert load_ctcae().terms[ANC].band(3).lower.value == Decimal("0.5")


def _raw() -> dict:
    return json.loads(resources.files("mibg.protocol").joinpath("ctcae_v5.json").read_text(encoding="utf-8"))


def test_a_table_with_a_gap_between_grades_is_refused():
    raw = copy.deepcopy(_raw())
    raw["terms"][0]["grades"][1]["lower"]["comparison"] = ">"  # ANC grade 2 would exclude 1.0, grade 3 too
    with pytest.raises(ValueError, match="overlap or leave a gap"):
        parse_ctcae(raw)


def test_a_table_whose_grades_do_not_meet_is_refused():
    raw = copy.deepcopy(_raw())
    raw["terms"][1]["grades"][2]["lower"]["value"] = "20.0"  # platelets grade 3 down to 20 while grade 4 is < 25
    with pytest.raises(ValueError, match="do not meet"):
        parse_ctcae(raw)


def test_a_table_without_an_open_ended_last_grade_is_refused():
    raw = copy.deepcopy(_raw())
    raw["terms"][3]["grades"][3]["upper"] = {"comparison": "<=", "value": "50", "relative_to": "uln", "unit": "x ULN"}
    with pytest.raises(ValueError, match="open-ended"):
        parse_ctcae(raw)


def test_term_names_accept_spaces_and_underscores():
    assert term_definition("Blood bilirubin increased").key == BILI
    assert term_definition("creatinine_increased").key == CREAT

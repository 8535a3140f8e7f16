"""Reference cases computed by hand from clinical-reference.md, each at the rounding the reference states.

Every expected value below was worked out with pencil-and-calculator arithmetic (shown in the comment of the
case) from the section cited, never by running this code. A case passes only when the software's number,
rounded as the reference rounds it, is exactly the reference's number.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

import pytest

from mibg.core.ctcae import grade
from mibg.core.decay import decay_factor
from mibg.core.dosimetry import Reading, retention_points, trapezoid_tiac
from mibg.core.dosing import DoseRequest, plan_dose
from mibg.core.release import dose_to_others_from_activity, dose_to_others_from_dose_rate
from mibg.core.units import Activity
from mibg.core.vocabulary import DiagnosisKind

HALF_LIFE = Decimal("8.0207")  # clinical-reference §2.1, ICRP-107
ADMINISTRATION = datetime(2026, 12, 10, 17, 0, tzinfo=UTC)


def q(value: Decimal | float, places: str) -> Decimal:
    return Decimal(str(value)).quantize(Decimal(places), rounding=ROUND_HALF_EVEN)


def plan(weight: str, dose: str, **more: object):
    values: dict[str, object] = {"weight_kg": Decimal(weight), "mci_per_kg": Decimal(dose), "cd34_per_kg": Decimal("3E6")}
    values.update(more)
    return plan_dose(DoseRequest(**values))  # type: ignore[arg-type]


# ---- 1. Activity = weight x dose; 1 mCi = 37 MBq exactly (clinical-reference §2.3, decisions.md "Units") ---------

ACTIVITY_CASES = [
    # (weight kg, mCi/kg, mCi, MBq, GBq)
    ("22", "18", "396", "14652", "14.652"),  # 22 x 18 = 396; x 37 = 14,652 MBq (§4.4 example patient)
    ("30", "18", "540", "19980", "19.980"),  # 30 x 18 = 540; x 37 = 19,980 MBq = 19.98 GBq (§5.4)
    ("20", "12", "240", "8880", "8.880"),  # 20 x 12 = 240; x 37 = 8,880
    ("10", "8", "80", "2960", "2.960"),  # 10 x 8 = 80; x 37 = 2,960
    ("15.5", "15", "232.5", "8602.5", "8.6025"),  # 15.5 x 15 = 232.5; x 37 = 8,602.5
    ("41.67", "12", "500.04", "18501.48", "18.50148"),  # 41.67 x 12 = 500.04; x 37 = 18,501.48
    ("62.5", "8", "500", "18500", "18.500"),  # AZEDRA label boundary: 62.5 x 8 = 500 mCi = 18,500 MBq (§5.1)
    ("8.3", "10", "83", "3071", "3.071"),  # 8.3 x 10 = 83; x 37 = 3,071
]


@pytest.mark.parametrize(("weight", "dose", "mci", "mbq", "gbq"), ACTIVITY_CASES)
def test_activity_in_mci_mbq_and_gbq_is_exact(weight, dose, mci, mbq, gbq):
    p = plan(weight, dose)
    assert p.activity.mci == Decimal(mci)
    assert p.activity.mbq == Decimal(mbq)
    assert p.activity.gbq == Decimal(gbq)


# ---- 2. Decay factors (clinical-reference §2.4 check values, to 5 decimals) --------------------------------------

DECAY_CASES = [
    # (days, factor to 5 decimals): exp(-0.0864198 x d)
    (1, "0.91721"),  # exp(-0.0864198) = 0.917209
    (2, "0.84127"),  # exp(-0.1728396) = 0.841273
    (3, "0.77162"),  # exp(-0.2592594) = 0.771623
    (7, "0.54611"),  # exp(-0.6049386) = 0.546107
    (8, "0.50090"),  # exp(-0.6913584) = 0.500903
    (14, "0.29823"),  # exp(-1.2098772) = 0.298233
]


@pytest.mark.parametrize(("days", "factor"), DECAY_CASES)
def test_the_decay_factor_matches_the_reference_check_values(days, factor):
    assert q(decay_factor(Decimal(24 * days), HALF_LIFE), "0.00001") == Decimal(factor)


@pytest.mark.parametrize(("days", "drawn"), [
    (1, "431.7"),  # 396 / 0.917209 = 431.745 -> 431.7 mCi to draw a day before
    (3, "513.2"),  # 396 / 0.771623 = 513.204 -> 513.2 mCi three days before
])
def test_the_activity_to_draw_at_calibration_is_the_prescription_over_the_decay_factor(days, drawn):
    p = plan("22", "18", calibration_time=ADMINISTRATION - timedelta(days=days), administration_time=ADMINISTRATION)
    assert p.calibration is not None
    assert q(p.calibration.activity_to.mci, "0.1") == Decimal(drawn)


# ---- 3. MIBG mass (clinical-reference §5.4; decisions.md "MIBG mass", A28) --------------------------------------

MASS_CASES = [
    # (weight, dose, preparation, SA, mass rounded, places)
    ("30", "18", "draximage", "9", "16.51", "0.01"),  # 0.540 Ci / 9 = 0.0600 mmol x 275.09 = 16.5054 mg
    ("30", "18", "draximage", "18", "8.25", "0.01"),  # 0.540 / 18 = 0.0300 mmol x 275.09 = 8.2527 mg
    ("30", "18", "draximage", "12", "12.38", "0.01"),  # 0.540 / 12 = 0.045 mmol x 275.09 = 12.3791 mg
    ("22", "18", "draximage", "12", "9.08", "0.01"),  # 0.396 / 12 = 0.033 mmol x 275.09 = 9.07797 mg
    ("30", "18", "azedra", None, "0.216", "0.001"),  # 540 mCi / 2500 mCi/mg = 0.216 mg
    ("22", "18", "azedra", None, "0.158", "0.001"),  # 396 / 2500 = 0.1584 mg
]


@pytest.mark.parametrize(("weight", "dose", "preparation", "sa", "mass", "places"), MASS_CASES)
def test_the_mibg_mass_at_calibration_equal_to_administration(weight, dose, preparation, sa, mass, places):
    more: dict[str, object] = {"preparation": preparation, "calibration_time": ADMINISTRATION,
                               "administration_time": ADMINISTRATION}
    if sa is not None:
        more["specific_activity_ci_per_mmol"] = Decimal(sa)
    p = plan(weight, dose, **more)
    assert p.mibg_mass_mg is not None
    assert q(p.mibg_mass_mg, places) == Decimal(mass)


def test_azedra_540_mci_is_36_ml_of_drug_at_calibration():
    # §5.4: volume at TOC = 540 mCi / 15 mCi/mL = 36.0 mL.
    p = plan("30", "18", preparation="azedra", calibration_time=ADMINISTRATION, administration_time=ADMINISTRATION)
    assert p.drug_volume_ml is not None
    assert q(p.drug_volume_ml, "0.1") == Decimal("36.0")


# ---- 4. Infusion rate (decisions.md "Volume and rate": rate = volume / duration) ---------------------------------

@pytest.mark.parametrize(("volume", "minutes", "rate"), [
    ("50", "120", "25.00"),  # 50 mL / 2 h = 25 mL/h
    ("30", "30", "60.00"),  # 30 mL / 0.5 h = 60 mL/h
    ("25", "90", "16.67"),  # 25 / 1.5 = 16.666... -> 16.67
    ("40", "60", "40.00"),  # 40 / 1 = 40
])
def test_the_infusion_rate_is_volume_over_duration(volume, minutes, rate):
    p = plan("20", "10", final_volume_ml=Decimal(volume), infusion_min=Decimal(minutes))
    assert p.infusion_rate_ml_per_h is not None
    assert q(p.infusion_rate_ml_per_h, "0.01") == Decimal(rate)


# ---- 5. Pheochromocytoma/paraganglioma cap: min(500 mCi, 12 mCi/kg x kg) (clinical-reference §1.4 R2, A3) -------

@pytest.mark.parametrize(("weight", "largest"), [
    ("20", "240"),  # 12 x 20 = 240 < 500
    ("41.66", "499.92"),  # 12 x 41.66 = 499.92 < 500
    ("41.67", "500"),  # 12 x 41.67 = 500.04 > 500: the 500 mCi cap
    ("50", "500"),  # 600 > 500
])
def test_the_pheochromocytoma_cap_is_the_lesser_of_500_mci_and_12_mci_per_kg(weight, largest):
    p = plan(weight, "10", diagnosis=DiagnosisKind.PHEOCHROMOCYTOMA)
    assert p.max_activity is not None
    assert p.max_activity.mci == Decimal(largest)


# ---- 6. Unit conversions (clinical-reference §2.3, decisions.md A6) ----------------------------------------------

def test_one_gbq_is_27_027_mci():
    # 1000 MBq / 37 = 27.027027... -> 27.027 mCi.
    assert q(Activity.from_gbq(Decimal(1)).mci, "0.001") == Decimal("27.027")


def test_one_mci_per_kg_is_37_mbq_per_kg():
    assert Activity(Decimal(1)).mbq == Decimal(37)


# ---- 7. Release (clinical-reference §3.4 worked examples) ------------------------------------------------------

def test_33_mci_gives_about_5_msv_to_others_with_the_nrc_constants():
    # 34.6 x 2.2 x 33 x 8.04 x 0.25 / 100^2 = 0.505 rem = 505 mrem (to 3 significant figures).
    assert q(dose_to_others_from_activity(Activity(Decimal(33))).mrem, "1") == Decimal("505")


def test_3_5_mrem_per_h_at_release_gives_243_mrem_with_the_physical_half_life():
    # 34.6 x 8.04 x 0.25 x 3.5 = 243.411 -> 243 mrem = 2.43 mSv.
    assert q(dose_to_others_from_dose_rate(Decimal("3.5"), Decimal("8.04")).mrem, "1") == Decimal("243")


def test_3_5_mrem_per_h_with_an_effective_half_life_of_1_day_gives_30_3_mrem():
    # 34.6 x 1.0 x 0.25 x 3.5 = 30.275 -> 30.3 mrem.
    assert q(dose_to_others_from_dose_rate(Decimal("3.5"), Decimal("1.0")).mrem, "0.1") == Decimal("30.3")


def test_2_mrem_per_h_gives_139_mrem_more_than_the_100_mrem_instruction_threshold():
    # 34.6 x 8.04 x 0.25 x 2.0 = 139.08 -> 139 mrem.
    assert q(dose_to_others_from_dose_rate(Decimal("2.0"), Decimal("8.04")).mrem, "1") == Decimal("139")


# ---- 8. Whole-body retention of the worked example (clinical-reference §4.4) ------------------------------------

WORKED_READINGS = [("0.5", "60.0"), ("24", "29.0"), ("48", "14.1"), ("72", "7.0"), ("96", "3.5")]


def _trapezoid():
    return trapezoid_tiac(retention_points([Reading(Decimal(h), Decimal(r)) for h, r in WORKED_READINGS]))


def test_the_worked_example_trapezoid_is_32_87_h():
    # 0.5 + 17.429 + 8.620 + 4.220 + 2.100 = 32.87 h (start segment plus four trapezoids).
    t = _trapezoid()
    assert q(t.start_h + t.trapezoid_h, "0.01") == Decimal("32.87")


def test_the_worked_example_tail_is_2_02_h_and_tau_34_89_h():
    # lambda = ln(7.0 / 3.5) / 24 = 0.02888 /h; tail = 0.0583 / 0.02888 = 2.02 h; tau = 32.87 + 2.02 = 34.89 h.
    t = _trapezoid()
    assert q(t.tail_decay_per_h, "0.00001") == Decimal("0.02888")
    assert q(t.tail_h, "0.01") == Decimal("2.02")
    assert q(t.tiac_h, "0.01") == Decimal("34.89")


def test_the_worked_example_retention_fractions():
    # r = 60/60, 29/60, 14.1/60, 7/60, 3.5/60 = 1.0000, 0.4833, 0.2350, 0.1167, 0.0583.
    points = retention_points([Reading(Decimal(h), Decimal(r)) for h, r in WORKED_READINGS])
    assert [q(p.retention, "0.0001") for p in points] == [Decimal(x) for x in
                                                          ("1.0000", "0.4833", "0.2350", "0.1167", "0.0583")]


# ---- 9. CTCAE v5.0 boundaries (clinical-reference §6.1: each range includes the endpoint written second) ---------

CTCAE_CASES = [
    ("neutrophil-count-decreased", "1.0", "10^9/L", "1.5", None, 2),  # "<1500 - 1000" includes 1000: grade 2
    ("neutrophil-count-decreased", "0.5", "10^9/L", "1.5", None, 3),  # "<1000 - 500" includes 500: grade 3
    ("neutrophil-count-decreased", "0.49", "10^9/L", "1.5", None, 4),  # < 500: grade 4
    ("neutrophil-count-decreased", "1.5", "10^9/L", "1.5", None, 0),  # at the LLN: normal
    ("platelet-count-decreased", "75", "10^9/L", "150", None, 1),  # "<LLN - 75" includes 75: grade 1
    ("platelet-count-decreased", "50", "10^9/L", "150", None, 2),  # "<75 - 50" includes 50
    ("platelet-count-decreased", "25", "10^9/L", "150", None, 3),  # "<50 - 25" includes 25
    ("platelet-count-decreased", "24.9", "10^9/L", "150", None, 4),  # < 25
    ("anemia", "8.0", "g/dL", "11.5", None, 2),  # "<10.0 - 8.0" includes 8.0: grade 2
    ("anemia", "7.9", "g/dL", "11.5", None, 3),  # < 8.0
    ("anemia", "10.0", "g/dL", "11.5", None, 1),  # "<LLN - 10.0" includes 10.0
    ("alanine-aminotransferase-increased", "200", "U/L", None, "40", 2),  # 5.0 x ULN: ">3.0 - 5.0" includes 5.0
    ("alanine-aminotransferase-increased", "200.01", "U/L", None, "40", 3),  # > 5.0 x ULN
    ("alanine-aminotransferase-increased", "800", "U/L", None, "40", 3),  # 20.0 x ULN: ">5.0 - 20.0" includes 20
    ("blood-bilirubin-increased", "1.5", "mg/dL", None, "1.0", 1),  # 1.5 x ULN: ">ULN - 1.5" includes 1.5
    ("blood-bilirubin-increased", "10.01", "mg/dL", None, "1.0", 4),  # > 10.0 x ULN
    ("creatinine-increased", "2.1", "mg/dL", None, "0.7", 2),  # 3.0 x ULN: ">1.5 - 3.0" includes 3.0
    ("creatinine-increased", "4.21", "mg/dL", None, "0.7", 4),  # > 6.0 x ULN = 4.2
]


@pytest.mark.parametrize(("term", "value", "unit", "lln", "uln", "expected"), CTCAE_CASES)
def test_the_ctcae_grade_at_the_reference_boundaries(term, value, unit, lln, uln, expected):
    assert grade(term, value, unit, lln=lln, uln=uln).grade == expected


def test_there_are_at_least_50_reference_cases():
    count = (len(ACTIVITY_CASES) + len(DECAY_CASES) + 2 + len(MASS_CASES) + 1 + 4 + 4 + 2 + 4 + 3
             + len(CTCAE_CASES))
    assert count >= 50

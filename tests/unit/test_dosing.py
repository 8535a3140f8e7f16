"""The dose planner at every limit (clinical-reference §1.3-1.4, §2.3-2.4, §5.4; decisions.md "Dose").

Unless a test says otherwise: 20 kg neuroblastoma, 18 mCi/kg, 3e6 CD34+/kg stored (adequate, above the
optimum), no prior 131I-MIBG, no preparation chosen.
"""

import math
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from snapshots import build, chair_decision, prior_course

from mibg.core.dosing import DoseRequest, dose_request_from_snapshot, plan_dose
from mibg.core.eligibility import evaluate_eligibility
from mibg.core.errors import InputError
from mibg.core.results import Severity, Status
from mibg.core.vocabulary import DiagnosisKind
from mibg.protocol import load_protocol

BLOCK, WARN, INFO = Severity.BLOCK, Severity.WARN, Severity.INFO
DECIMAL_FIELDS = {
    "weight_kg", "mci_per_kg", "specific_activity_ci_per_mmol", "specific_activity_mci_per_mg", "final_volume_ml",
    "infusion_min", "cd34_per_kg", "marrow_mnc_per_kg", "prior_mci_per_kg", "stock_concentration_mci_per_ml",
}
PACIFIC = timezone(timedelta(hours=-8))
TREATMENT = date(2026, 12, 10)
HALF_LIFE_H = 8.0207 * 24  # clinical-reference §2.1, 192.4968 h
LAMBDA_PER_H = math.log(2) / HALF_LIFE_H


def request(**changes):
    values = {"weight_kg": "20", "mci_per_kg": "18", "cd34_per_kg": "3E6"}
    values.update(changes)
    return DoseRequest(**{k: Decimal(v) if k in DECIMAL_FIELDS and isinstance(v, str) else v for k, v in values.items()})


def plan(**changes):
    return plan_dose(request(**changes))


def severities(p, rule):
    return {f.severity for f in p.findings if f.rule == rule}


def blocked_by(p):
    return {f.rule for f in p.findings if f.severity is BLOCK}


def warned_by(p):
    return {f.rule for f in p.findings if f.severity is WARN}


# ---- activity and units (clinical-reference §2.3) ------------------------------------------------------------


def test_22_kg_at_18_mci_per_kg_is_396_mci_14652_mbq_14_652_gbq():
    p = plan(weight_kg="22")
    # 22 x 18 = 396 mCi; x 37 = 14,652 MBq; / 1000 = 14.652 GBq.
    assert p.activity.mci == Decimal("396")
    assert p.activity.mbq == Decimal("14652")
    assert p.activity.gbq == Decimal("14.652")
    assert p.status == "ok"


def test_the_activity_keeps_every_decimal_of_weight_times_dose():
    # 17.35 kg x 12.5 mCi/kg = 216.875 mCi exactly; x 37 = 8,024.375 MBq.
    p = plan(weight_kg="17.35", mci_per_kg="12.5")
    assert p.activity.mci == Decimal("216.875")
    assert p.activity.mbq == Decimal("8024.375")


# ---- R1: 8-18 mCi/kg inclusive, warning below 10 (A1) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("dose", "status", "r1"),
    [
        ("7.99", "blocked", BLOCK),
        ("8", "ok", WARN),
        ("8.01", "ok", WARN),
        ("9.99", "ok", WARN),
        ("10", "ok", INFO),
        ("12", "ok", INFO),
        ("18", "ok", INFO),
        ("18.01", "blocked", BLOCK),
    ],
)
def test_r1_the_dose_range_is_8_to_18_inclusive_with_a_warning_below_10(dose, status, r1):
    p = plan(mci_per_kg=dose)
    assert p.status == status
    assert severities(p, "R1") == {r1}


def test_r1_above_18_names_the_largest_allowed_dose():
    p = plan(mci_per_kg="18.01")
    message = next(f.message for f in p.findings if f.rule == "R1")
    assert "18 mCi/kg" in message
    assert "360.0 mCi" in message  # 18 x 20 kg


def test_r1_the_largest_allowed_activity_with_stem_cells_is_18_mci_per_kg_inclusive():
    p = plan(mci_per_kg="10")
    assert p.max_activity.mci == Decimal("360")  # 18 mCi/kg x 20 kg
    assert p.max_activity_inclusive


# ---- S2/S3: without adequate stem cells the dose must be below 12 mCi/kg (A2) ---------------------------------


@pytest.mark.parametrize(("dose", "status"), [("11.99", "ok"), ("12", "blocked"), ("12.01", "blocked"), ("18", "blocked")])
def test_s2_without_stem_cells_the_dose_must_be_below_12(dose, status):
    p = plan(mci_per_kg=dose, cd34_per_kg=None)
    assert p.status == status
    assert ("S2" in blocked_by(p)) is (status == "blocked")


def test_s2_exactly_12_without_stem_cells_is_blocked_but_a_chair_clearance_lets_it_pass():
    p = plan(mci_per_kg="12", cd34_per_kg=None)
    [s2] = [f for f in p.findings if f.rule == "S2"]
    assert s2.severity is BLOCK
    assert s2.chair_clearable
    cleared = plan(mci_per_kg="12", cd34_per_kg=None, chair_clearances=frozenset({"S2"}))
    assert cleared.status == "ok"
    [s2] = [f for f in cleared.findings if f.rule == "S2"]
    assert s2.severity is INFO
    assert s2.cleared_by


@pytest.mark.parametrize("dose", ["12.01", "13", "18"])
def test_s2_above_12_without_stem_cells_is_blocked_even_with_a_chair_clearance(dose):
    p = plan(mci_per_kg=dose, cd34_per_kg=None, chair_clearances=frozenset({"S2", "R2"}))
    assert p.status == "blocked"
    assert "S2" in blocked_by(p)


def test_s2_a_clearance_of_another_rule_does_not_clear_exactly_12():
    assert plan(mci_per_kg="12", cd34_per_kg=None, chair_clearances=frozenset({"R2"})).status == "blocked"


def test_s2_without_stem_cells_the_largest_allowed_activity_is_below_12_mci_per_kg():
    p = plan(mci_per_kg="10", cd34_per_kg=None)
    assert p.max_activity.mci == Decimal("240")  # 12 x 20 kg, exclusive
    assert not p.max_activity_inclusive


def test_s2_with_a_chair_clearance_the_largest_allowed_activity_is_exactly_12_mci_per_kg():
    p = plan(mci_per_kg="12", cd34_per_kg=None, chair_clearances=frozenset({"S2"}))
    assert p.max_activity.mci == Decimal("240")
    assert p.max_activity_inclusive


# ---- stem-cell adequacy (S1, A15): PBSC >= 1.0e6 CD34+/kg or marrow >= 1.0e8 MNC/kg --------------------------


def test_exactly_1e6_cd34_per_kg_is_adequate_for_18_mci_per_kg_with_a_below_optimum_warning():
    p = plan(cd34_per_kg="1.0E6")
    assert p.stem_cells_adequate
    assert p.status == "ok"
    assert "S1" in warned_by(p)


def test_just_below_1e6_cd34_per_kg_is_not_adequate():
    p = plan(cd34_per_kg="999999")
    assert not p.stem_cells_adequate
    assert "S2" in blocked_by(p)


def test_exactly_1e8_marrow_cells_per_kg_is_adequate_and_just_below_is_not():
    assert plan(cd34_per_kg=None, marrow_mnc_per_kg="1.0E8").status == "ok"
    assert plan(cd34_per_kg=None, marrow_mnc_per_kg="99999999").status == "blocked"


@pytest.mark.parametrize(("cd34", "mnc", "warns"), [("1.5E6", None, True), ("3E6", None, False),
                                                    (None, "1.5E8", True), (None, "3E8", False)])
def test_stem_cells_below_the_optimum_warn_but_never_block(cd34, mnc, warns):
    p = plan(cd34_per_kg=cd34, marrow_mnc_per_kg=mnc)
    assert p.status == "ok"
    assert ("S1" in warned_by(p)) is warns


# ---- R2: pheo/paraganglioma cap min(500 mCi, 12 mCi/kg x weight) (A3) -----------------------------------------

PHEO = DiagnosisKind.PARAGANGLIOMA


def test_r2_below_41_67_kg_the_cap_is_12_mci_per_kg():
    # 41 kg: 12 x 41 = 492 mCi < 500 mCi.
    at_cap = plan(diagnosis=PHEO, weight_kg="41", mci_per_kg="12")
    assert at_cap.activity.mci == Decimal("492")
    assert at_cap.status == "ok"
    assert at_cap.max_activity.mci == Decimal("492")
    assert at_cap.max_activity_inclusive
    above = plan(diagnosis=PHEO, weight_kg="41", mci_per_kg="12.01")  # 492.41 mCi
    assert "R2" in blocked_by(above)


def test_r2_the_crossover_between_the_two_caps_is_at_41_67_kg():
    # 500 / 12 = 41.666... kg: at 41.66 kg 12 x 41.66 = 499.92 mCi; at 41.67 kg 12 x 41.67 = 500.04 > 500.
    assert plan(diagnosis=PHEO, weight_kg="41.66", mci_per_kg="10").max_activity.mci == Decimal("499.92")
    assert plan(diagnosis=PHEO, weight_kg="41.67", mci_per_kg="10").max_activity.mci == Decimal("500")


def test_r2_at_50_kg_the_cap_is_500_mci_and_exactly_500_passes():
    p = plan(diagnosis=PHEO, weight_kg="50", mci_per_kg="10")  # 500 mCi
    assert p.status == "ok"
    assert p.max_activity.mci == Decimal("500")
    assert p.max_activity_inclusive


def test_r2_0_1_mci_above_the_cap_is_blocked():
    p = plan(diagnosis=PHEO, weight_kg="50", mci_per_kg="10.002")  # 50 x 10.002 = 500.1 mCi
    assert p.activity.mci == Decimal("500.1")
    assert p.status == "blocked"
    assert blocked_by(p) == {"R2"}
    [r2] = [f for f in p.findings if f.rule == "R2"]
    assert r2.chair_clearable
    assert "500.0 mCi" in r2.message


def test_r2_a_chair_clearance_lets_a_dose_above_the_cap_pass():
    p = plan(diagnosis=PHEO, weight_kg="50", mci_per_kg="18", chair_clearances=frozenset({"R2"}))  # 900 mCi
    assert p.status == "ok"
    assert p.max_activity.mci == Decimal("900")  # R1 then governs: 18 x 50


def test_r2_a_chair_clearance_does_not_lift_the_r1_maximum():
    p = plan(diagnosis=PHEO, weight_kg="50", mci_per_kg="18.01", chair_clearances=frozenset({"R2"}))
    assert "R1" in blocked_by(p)


@pytest.mark.parametrize("kind", [DiagnosisKind.PHEOCHROMOCYTOMA, DiagnosisKind.PARAGANGLIOMA, DiagnosisKind.RELATED_TUMOR])
def test_r2_applies_to_every_pheo_paraganglioma_diagnosis(kind):
    assert "R2" in blocked_by(plan(diagnosis=kind, weight_kg="50", mci_per_kg="18"))


def test_r2_does_not_apply_to_neuroblastoma():
    p = plan(weight_kg="50", mci_per_kg="18")  # 900 mCi
    assert p.status == "ok"
    assert not severities(p, "R2")


def test_the_planner_never_lowers_a_prescription_by_itself():
    p = plan(diagnosis=PHEO, weight_kg="50", mci_per_kg="18")
    assert p.activity.mci == Decimal("900")
    assert p.status == "blocked"


def test_at_a_tie_the_exclusive_limit_wins():
    # 30 kg paraganglioma, no stem cells: S2 "below 12 x 30 = 360" and R2 "at most min(500, 360) = 360".
    p = plan(diagnosis=PHEO, weight_kg="30", mci_per_kg="11", cd34_per_kg=None)
    assert p.max_activity.mci == Decimal("360")
    assert not p.max_activity_inclusive


# ---- T5: prior 131I-MIBG (A13, A14) ------------------------------------------------------------------------------


def prior(total, last="2026-01-15", **changes):
    return plan(prior_mci_per_kg=total, last_mibg_date=date.fromisoformat(last) if last else None,
                treatment_date=TREATMENT, **changes)


def test_t5_a_cumulative_of_exactly_60_passes():
    p = prior("42")  # 42 + 18 = 60
    assert p.status == "ok"
    assert p.cumulative_mci_per_kg == Decimal("60")


def test_t5_a_cumulative_of_60_01_is_blocked_and_names_the_largest_allowed():
    p = prior("42.01")  # 42.01 + 18 = 60.01
    assert blocked_by(p) == {"T5"}
    # 60 - 42.01 = 17.99 mCi/kg x 20 kg = 359.8 mCi, inclusive.
    assert p.max_activity.mci == Decimal("359.8")
    assert p.max_activity_inclusive


def test_t5_the_same_day_of_month_six_months_later_is_blocked():
    # 2026-06-10 + 6 calendar months = 2026-12-10: not more than 6 months (A13, strict).
    p = prior("12", last="2026-06-10")
    assert blocked_by(p) == {"T5"}
    assert p.max_activity.mci == Decimal("0")


def test_t5_the_day_after_six_calendar_months_passes():
    assert prior("12", last="2026-06-09").status == "ok"


def test_t5_a_prior_dose_without_its_date_is_blocked():
    assert blocked_by(prior("12", last=None)) == {"T5"}


def test_t5_a_prior_dose_without_the_treatment_date_is_blocked():
    p = plan(prior_mci_per_kg=Decimal("12"), last_mibg_date=date(2026, 1, 15))
    assert blocked_by(p) == {"T5"}


def test_t5_a_prior_dose_without_stem_cells_is_blocked_even_below_12():
    p = prior("12", cd34_per_kg=None, mci_per_kg="11")
    assert blocked_by(p) == {"T5"}
    assert p.max_activity.mci == Decimal("0")


def test_t5_when_less_than_the_8_mci_per_kg_minimum_remains_no_dose_is_allowed():
    # 60 - 55 = 5 mCi/kg left, below the R1 minimum of 8 mCi/kg.
    p = prior("55", mci_per_kg="5")
    assert p.status == "blocked"
    assert p.max_activity.mci == Decimal("0")


# ---- R3: preparation and specific activity ------------------------------------------------------------------


def test_draximage_without_a_specific_activity_is_blocked():
    p = plan(preparation="draximage", final_volume_ml="50", infusion_min="120")
    assert blocked_by(p) == {"R3"}
    assert p.mibg_mass_mg is None


@pytest.mark.parametrize(("sa", "warns"), [("8.99", True), ("9", False), ("12", False), ("18", False), ("18.01", True)])
def test_draximage_specific_activity_outside_9_to_18_ci_per_mmol_warns(sa, warns):
    p = plan(preparation="draximage", specific_activity_ci_per_mmol=sa, final_volume_ml="50", infusion_min="120")
    assert p.status == "ok"
    assert ("R3" in warned_by(p)) is warns


def test_azedra_warns_that_production_was_discontinued():
    p = plan(preparation="azedra", final_volume_ml="30", infusion_min="45")
    assert p.status == "ok"
    assert "R3" in warned_by(p)


def test_a_specific_activity_in_the_wrong_unit_for_the_preparation_is_refused():
    with pytest.raises(InputError) as error:
        plan(preparation="azedra", specific_activity_ci_per_mmol="12")
    assert error.value.field == "specific_activity_ci_per_mmol"
    with pytest.raises(InputError) as error:
        plan(preparation="draximage", specific_activity_mci_per_mg="40")
    assert error.value.field == "specific_activity_mci_per_mg"


# ---- MIBG mass (clinical-reference §5.4: 30 kg x 18 mCi/kg = 540 mCi) ---------------------------------------------


def test_mibg_mass_for_draximage_at_9_ci_per_mmol_is_16_51_mg():
    # n = 0.540 Ci / 9 Ci/mmol = 0.0600 mmol; m = 0.0600 x 275.09 mg/mmol = 16.5054 mg.
    p = plan(weight_kg="30", preparation="draximage", specific_activity_ci_per_mmol="9")
    assert p.activity.mci == Decimal("540")
    assert round(p.mibg_mass_mg, 2) == Decimal("16.51")


def test_mibg_mass_for_draximage_at_18_ci_per_mmol_is_8_25_mg():
    # n = 0.540 / 18 = 0.0300 mmol; m = 0.0300 x 275.09 = 8.2527 mg.
    p = plan(weight_kg="30", preparation="draximage", specific_activity_ci_per_mmol="18")
    assert round(p.mibg_mass_mg, 2) == Decimal("8.25")


def test_mibg_mass_for_azedra_at_2500_mci_per_mg_is_0_216_mg():
    # m = 540 mCi / 2500 mCi/mg = 0.216 mg.
    p = plan(weight_kg="30", preparation="azedra")
    assert p.mibg_mass_mg == Decimal("0.216")


def test_azedra_mass_uses_the_lot_certificate_when_given():
    # 540 / 2400 = 0.225 mg.
    assert plan(weight_kg="30", preparation="azedra", specific_activity_mci_per_mg="2400").mibg_mass_mg == Decimal("0.225")


# ---- R4: final volume 25-50 mL inclusive, not less than the drug's own volume (A20) ---------------------------------


@pytest.mark.parametrize(("volume", "ok"), [("24.9", False), ("25", True), ("50", True), ("50.1", False)])
@pytest.mark.parametrize("preparation", ["azedra", "draximage"])
def test_r4_the_final_volume_is_25_to_50_ml_inclusive(volume, ok, preparation):
    minutes = "45" if preparation == "azedra" else "100"
    p = plan(weight_kg="10", mci_per_kg="10", preparation=preparation, specific_activity_ci_per_mmol=None
             if preparation == "azedra" else "12", final_volume_ml=volume, infusion_min=minutes)
    assert ("R4" in blocked_by(p)) is (not ok)


def test_r4_a_final_volume_less_than_the_azedra_drug_volume_is_blocked():
    # 540 mCi / 15 mCi/mL = 36.0 mL of drug at calibration (clinical-reference §5.4).
    short = plan(weight_kg="30", preparation="azedra", final_volume_ml="35.9", infusion_min="45")
    assert short.drug_volume_ml == Decimal("36")
    assert "R4" in blocked_by(short)
    assert plan(weight_kg="30", preparation="azedra", final_volume_ml="36", infusion_min="45").status == "ok"


def test_r4_the_azedra_drug_volume_is_taken_at_the_calibration_time():
    # Calibrated 24 h before administration: 540 x exp(lambda x 24 h) = 588.74 mCi -> 39.25 mL of drug.
    calibration = datetime(2026, 12, 9, 9, 0, tzinfo=PACIFIC)
    administration = calibration + timedelta(hours=24)
    expected_ml = 540 * math.exp(LAMBDA_PER_H * 24) / 15
    assert round(expected_ml, 2) == 39.25
    p = plan(weight_kg="30", preparation="azedra", final_volume_ml="39", infusion_min="45",
             calibration_time=calibration, administration_time=administration)
    assert float(p.drug_volume_ml) == pytest.approx(expected_ml, rel=1e-9)
    assert "R4" in blocked_by(p)


# ---- R6: infusion duration AZEDRA 30-60 min, DraxImage 90-120 min, inclusive ----------------------------------------


@pytest.mark.parametrize(
    ("preparation", "minutes", "ok"),
    [
        ("azedra", "29.9", False), ("azedra", "30", True), ("azedra", "60", True), ("azedra", "60.1", False),
        ("draximage", "89.9", False), ("draximage", "90", True), ("draximage", "120", True), ("draximage", "120.1", False),
    ],
)
def test_r6_infusion_durations_are_inclusive(preparation, minutes, ok):
    sa = "12" if preparation == "draximage" else None
    p = plan(preparation=preparation, specific_activity_ci_per_mmol=sa, final_volume_ml="50", infusion_min=minutes)
    assert ("R6" in blocked_by(p)) is (not ok)


# ---- infusion rate ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("volume", "minutes", "rate"), [("50", "120", "25"), ("25", "30", "50"), ("36", "45", "48")])
def test_the_infusion_rate_is_volume_over_duration(volume, minutes, rate):
    # 50 mL / 2 h = 25 mL/h; 25 mL / 0.5 h = 50 mL/h; 36 mL / 0.75 h = 48 mL/h.
    p = plan(final_volume_ml=volume, infusion_min=minutes)
    assert p.infusion_rate_ml_per_h == Decimal(rate)


# ---- decay: activity to draw at calibration = A x exp(+lambda dt) (clinical-reference §2.4) -------------------------


def test_the_activity_to_draw_one_day_before_administration():
    administration = datetime(2026, 12, 10, 9, 0, tzinfo=PACIFIC)
    calibration = administration - timedelta(days=1)
    p = plan(weight_kg="22", calibration_time=calibration, administration_time=administration)
    # 396 mCi x exp(ln2 x 24 h / 192.4968 h) = 396 / 0.91721 = 431.74 mCi.
    expected = 396 * math.exp(LAMBDA_PER_H * 24)
    assert round(expected, 2) == 431.74
    assert float(p.calibration.activity_to.mci) == pytest.approx(expected, rel=1e-9)
    assert p.status == "ok"


def test_the_activity_to_draw_when_calibration_is_after_administration_is_smaller():
    administration = datetime(2026, 12, 10, 9, 0, tzinfo=PACIFIC)
    calibration = administration + timedelta(hours=6)
    p = plan(weight_kg="22", calibration_time=calibration, administration_time=administration)
    assert float(p.calibration.activity_to.mci) == pytest.approx(396 * math.exp(-LAMBDA_PER_H * 6), rel=1e-9)


def test_the_calibration_correction_compares_instants_across_time_zones():
    administration = datetime(2026, 12, 10, 9, 0, tzinfo=PACIFIC)
    calibration = datetime(2026, 12, 9, 17, 0, tzinfo=UTC)  # 09:00 Pacific, 24 h before
    p = plan(weight_kg="22", calibration_time=calibration, administration_time=administration)
    assert float(p.calibration.activity_to.mci) == pytest.approx(396 * math.exp(LAMBDA_PER_H * 24), rel=1e-9)


# ---- bad input through the library: an InputError naming the field ---------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("weight_kg", "-1"),
        ("weight_kg", "0"),
        ("weight_kg", Decimal("NaN")),
        ("weight_kg", Decimal("Infinity")),
        ("weight_kg", "10000"),
        ("weight_kg", "abc"),
        ("weight_kg", 22.0),
        ("mci_per_kg", "0"),
        ("mci_per_kg", "-18"),
        ("mci_per_kg", Decimal("NaN")),
        ("mci_per_kg", Decimal("-Infinity")),
        ("mci_per_kg", "1800"),
        ("final_volume_ml", "-5"),
        ("infusion_min", "0"),
        ("cd34_per_kg", "-1"),
        ("prior_mci_per_kg", "-1"),
        ("specific_activity_ci_per_mmol", "0"),
    ],
)
def test_bad_numbers_are_refused_with_the_field_named(field, value):
    # The raw value goes to the planner unconverted: text, a binary float, NaN and infinities included.
    values = {"weight_kg": Decimal(20), "mci_per_kg": Decimal(18), "cd34_per_kg": Decimal("3E6"), field: value}
    if field == "specific_activity_ci_per_mmol":
        values["preparation"] = "draximage"
    with pytest.raises(InputError) as error:
        plan_dose(DoseRequest(**values))
    assert error.value.field == field


def test_an_unknown_preparation_is_refused():
    with pytest.raises(InputError) as error:
        plan(preparation="sodium_iodide")
    assert error.value.field == "preparation"


def test_a_time_without_a_utc_offset_is_refused():
    with pytest.raises(InputError) as error:
        plan(calibration_time=datetime(2026, 12, 9, 9, 0), administration_time=datetime(2026, 12, 10, 9, 0, tzinfo=PACIFIC))
    assert error.value.field == "calibration_time"


@pytest.mark.parametrize("given", ["calibration_time", "administration_time"])
def test_only_one_of_calibration_and_administration_time_is_refused(given):
    with pytest.raises(InputError) as error:
        plan(**{given: datetime(2026, 12, 10, 9, 0, tzinfo=PACIFIC)})
    assert error.value.field == ({"calibration_time", "administration_time"} - {given}).pop()


def test_a_last_mibg_date_after_the_treatment_date_is_refused():
    with pytest.raises(InputError) as error:
        plan(prior_mci_per_kg="12", last_mibg_date=date(2026, 12, 11), treatment_date=TREATMENT)
    assert error.value.field == "last_mibg_date"


# ---- from a patient snapshot ----------------------------------------------------------------------------------------


def test_a_request_from_the_example_patient_uses_its_weight_stem_cells_and_date():
    # 22.0 kg, 1.1e8 CD34+ / 22 kg = 5e6 /kg, treatment 2026-12-10; 18 mCi/kg x 22 kg = 396 mCi.
    r = dose_request_from_snapshot(build(), mci_per_kg=Decimal("18"))
    assert r.weight_kg == Decimal("22.0")
    assert r.cd34_per_kg == Decimal("5E+6")
    assert r.treatment_date == TREATMENT
    p = plan_dose(r)
    assert p.activity.mci == Decimal("396")
    assert p.status == "ok"


def test_a_request_from_a_snapshot_sums_prior_courses_per_kg_and_takes_the_last_date():
    courses = [prior_course("2025-03-01", "21", "15"), prior_course("2026-01-15", "21.01", "18")]
    r = dose_request_from_snapshot(build(prior_mibg_courses=courses), mci_per_kg=Decimal("18"))
    assert r.prior_mci_per_kg == Decimal("42.01")
    assert r.last_mibg_date == date(2026, 1, 15)
    assert blocked_by(plan_dose(r)) == {"T5"}  # 21 + 21.01 + 18 = 60.01


def test_a_request_from_a_snapshot_carries_the_chairs_clearances_only_when_cleared():
    snapshot = build(stem_cell_products=[], chair_decisions=[chair_decision("S2", True), chair_decision("R2", False)])
    r = dose_request_from_snapshot(snapshot, mci_per_kg=Decimal("12"))
    assert r.chair_clearances == frozenset({"S2"})
    assert plan_dose(r).status == "ok"


def test_a_request_from_a_snapshot_without_weight_is_refused():
    with pytest.raises(InputError) as error:
        dose_request_from_snapshot(build(weight_kg=None), mci_per_kg=Decimal("18"))
    assert error.value.field == "weight_kg"


def test_dr_chen_clearing_s1_at_screening_does_not_clear_the_s2_gate_for_exactly_12_without_stem_cells():
    # decisions.md A35: a chair decision clears exactly the criterion it names. Cleared S1 (screening) leaves the S2
    # dose gate blocking 12 mCi/kg x 22 kg = 264 mCi without adequate stem cells (A2) until S2 itself is decided.
    snapshot = build(stem_cell_products=[], planned_mci_per_kg="12", chair_decisions=[chair_decision("S1", True)])
    assert evaluate_eligibility(snapshot).criterion("S1").status is Status.MET
    plan = plan_dose(dose_request_from_snapshot(snapshot, mci_per_kg=Decimal("12")))
    assert plan.status == "blocked"
    assert [f.rule for f in plan.findings if f.severity is Severity.BLOCK] == ["S2"]
    with_s2 = build(stem_cell_products=[], planned_mci_per_kg="12",
                    chair_decisions=[chair_decision("S1", True), chair_decision("S2", True)])
    assert plan_dose(dose_request_from_snapshot(with_s2, mci_per_kg=Decimal("12"))).status == "ok"


def test_the_latest_chair_decision_on_a_rule_counts_so_a_later_refusal_withdraws_a_clearance():
    cleared_then_refused = [chair_decision("S2", True, at="2026-12-08T12:00:00-08:00"),
                            chair_decision("S2", False, at="2026-12-09T12:00:00-08:00")]
    snapshot = build(stem_cell_products=[], chair_decisions=cleared_then_refused)
    assert dose_request_from_snapshot(snapshot, mci_per_kg=Decimal("12")).chair_clearances == frozenset()


@pytest.mark.parametrize(
    ("changes", "rule"),
    [
        ({"mci_per_kg": "18.01"}, "R1"),
        ({"mci_per_kg": "7.99"}, "R1"),
        ({"prior_mci_per_kg": "42.01", "last_mibg_date": date(2026, 1, 15), "treatment_date": TREATMENT}, "T5"),
        ({"preparation": "azedra", "final_volume_ml": "50.1", "infusion_min": "45"}, "R4"),
        ({"preparation": "azedra", "final_volume_ml": "50", "infusion_min": "61"}, "R6"),
        ({"preparation": "draximage", "final_volume_ml": "50", "infusion_min": "100"}, "R3"),
    ],
)
def test_a_chair_clearance_cannot_clear_a_limit_the_protocol_does_not_let_the_chair_clear(changes, rule):
    every_rule = frozenset({"R1", "S2", "R2", "T5", "R3", "R4", "R6"})
    p = plan(chair_clearances=every_rule, **changes)
    assert p.status == "blocked"
    assert rule in blocked_by(p)


# ---- MIBG mass at the specific activity's reference time (decisions.md A28) -----------------------------------


def _draximage_at(hours_before):
    administration = datetime(2026, 12, 10, 9, 0, tzinfo=PACIFIC)
    return plan(weight_kg="30", preparation="draximage", specific_activity_ci_per_mmol="9", final_volume_ml="50",
                infusion_min="120", calibration_time=administration - timedelta(hours=hours_before),
                administration_time=administration)


def test_riley_sees_the_mass_drawn_at_calibration_21_hours_before_the_infusion_not_the_mass_left_at_infusion():
    p = _draximage_at(21)
    # 30 kg x 18 = 540 mCi at administration. lambda = ln 2 / 192.4968 h = 0.00360082 /h; x 21 h = 0.0756172;
    # exp(0.0756172) = 1.078549 -> 582.416 mCi at calibration; 0.582416 Ci / 9 Ci/mmol = 0.0647129 mmol
    # x 275.09 mg/mmol = 17.8019 mg. From the activity at administration it would be 16.5054 mg, 7.9 % low.
    assert round(p.mibg_mass_mg, 2) == Decimal("17.80")
    assert round(p.mibg_mass_mg / Decimal("16.5054"), 3) == Decimal("1.079")
    assert "A28" not in warned_by(p)


def test_riley_sees_the_mass_30_percent_higher_when_the_lot_was_calibrated_3_days_before():
    p = _draximage_at(72)
    # 3 d decay factor 0.77162 (clinical-reference §2.4): 540 / 0.77162 = 699.82 mCi; / 9000 mCi/mmol =
    # 0.0777578 mmol x 275.09 = 21.3903 mg; 21.3903 / 16.5054 = 1.296 (30 % more than the old figure).
    assert round(p.mibg_mass_mg, 1) == Decimal("21.4")
    assert round(p.mibg_mass_mg / Decimal("16.5054"), 2) == Decimal("1.30")


def test_azedra_mass_is_the_activity_at_calibration_over_2500_mci_per_mg():
    administration = datetime(2026, 12, 10, 9, 0, tzinfo=PACIFIC)
    p = plan(weight_kg="30", preparation="azedra", final_volume_ml="50", infusion_min="45",
             calibration_time=administration - timedelta(days=1), administration_time=administration)
    # 540 / 0.9172091 (1 d) = 588.744 mCi; / 2500 mCi/mg = 0.235498 mg.
    assert round(p.mibg_mass_mg, 4) == Decimal("0.2355")


def test_a_mass_computed_without_a_calibration_time_warns_that_it_is_a_lower_bound():
    p = plan(weight_kg="30", preparation="draximage", specific_activity_ci_per_mmol="9", final_volume_ml="50",
             infusion_min="120")
    assert p.status == "ok"
    assert "A28" in warned_by(p)
    # 0.540 Ci / 9 Ci/mmol = 0.06 mmol x 275.09 = 16.5054 mg (clinical-reference §5.4: 16.51 mg).
    assert p.mibg_mass_mg == Decimal("16.5054")


def test_the_mass_at_calibration_time_equal_to_administration_is_the_prescribed_activity_over_sa():
    p = _draximage_at(0)
    # No decay: 16.5054 mg exactly as in clinical-reference §5.4 (16.51 mg).
    assert p.mibg_mass_mg == Decimal("16.5054")


# ---- the order sheet's volumes (decisions.md A38) --------------------------------------------------------------


def _stock(concentration, final="50", hours_before=0):
    administration = datetime(2026, 12, 10, 9, 0, tzinfo=PACIFIC)
    return plan(weight_kg="22", preparation="draximage", specific_activity_ci_per_mmol="12", final_volume_ml=final,
                infusion_min="120", stock_concentration_mci_per_ml=concentration,
                calibration_time=administration - timedelta(hours=hours_before), administration_time=administration)


def test_riley_gets_the_volume_to_draw_and_the_diluent_from_the_stock_concentration():
    p = _stock("20")
    # 22 x 18 = 396 mCi at calibration (no decay); 396 / 20 mCi/mL = 19.8 mL to draw; 50 - 19.8 = 30.2 mL saline.
    assert p.drug_volume_ml == Decimal("19.8")
    assert p.diluent_volume_ml == Decimal("30.2")
    assert p.status == "ok"
    names = {c.name: c.formula for c in p.calculations}
    assert "Volume to draw at the calibration time" in names["Drug volume"]
    assert "50 mL - 19.80 mL = 30.20 mL" in names["Diluent volume"]


def test_the_volume_to_draw_is_taken_at_the_calibration_time():
    p = _stock("20", hours_before=24)
    # 396 / 0.9172091 (1 d) = 431.7446 mCi at calibration; / 20 = 21.587 mL; 50 - 21.587 = 28.413 mL.
    assert round(p.drug_volume_ml, 2) == Decimal("21.59")
    assert round(p.diluent_volume_ml, 2) == Decimal("28.41")


@pytest.mark.parametrize(("concentration", "blocked"), [
    ("7.93", False),  # 396 / 7.93 = 49.94 mL: below the 50 mL final volume
    ("7.92", False),  # 396 / 7.92 = 50.00 mL exactly: the drug is the whole final volume, no diluent
    ("7.91", True),  # 396 / 7.91 = 50.06 mL: more than the final volume (R4)
])
def test_the_drug_volume_can_never_exceed_the_final_volume(concentration, blocked):
    p = _stock(concentration)
    assert ("R4" in blocked_by(p)) is blocked
    if concentration == "7.92":
        assert p.diluent_volume_ml == Decimal(0)


def test_a_stock_concentration_of_zero_is_refused_naming_the_field():
    with pytest.raises(InputError) as caught:
        _stock("0")
    assert caught.value.field == "stock_concentration_mci_per_ml"


@pytest.mark.parametrize(("concentration", "parameter"), [
    ("0.99", "plausible_stock_concentration_mci_per_ml_min"),
    ("1", None),  # 396 / 1 = 396 mL: planned (R4 blocks it), not refused as a typing error
    ("100", None),
    ("100.01", "plausible_stock_concentration_mci_per_ml_max"),
])
def test_the_stock_concentration_must_be_inside_the_protocol_definitions_plausible_range(concentration, parameter):
    if parameter is None:
        assert _stock(concentration).drug_volume_ml == Decimal(396) / Decimal(concentration)
        return
    with pytest.raises(InputError) as caught:
        _stock(concentration)
    assert caught.value.field == "stock_concentration_mci_per_ml"
    assert parameter in caught.value.message


def test_a_site_that_amends_the_stock_concentration_range_gets_its_bound():
    from mibg.core.plausibility import plausible_range

    amended = load_protocol().with_site_parameter("plausible_stock_concentration_mci_per_ml_max", Decimal(200),
                                                  "a concentrated stock")
    assert plausible_range("stock_concentration_mci_per_ml", amended).maximum == Decimal(200)
    assert plausible_range("stock_concentration_mci_per_ml").maximum == Decimal(100)


@pytest.mark.parametrize(("administration", "off_day"), [
    (datetime(2026, 12, 11, 1, 0, tzinfo=UTC), False),   # 2026-12-10 17:00 PST: on the treatment date at the site
    (datetime(2026, 12, 10, 7, 59, tzinfo=UTC), True),   # 2026-12-09 23:59 PST: the day before
])
def test_an_administration_time_sent_in_utc_is_on_the_treatment_date_by_the_site_day(administration, off_day):
    """Issues 11, 14: the warning that the administration time is not on the treatment date (2026-12-10) reads the
    site's day, however the time is written."""
    for written in (administration, administration.astimezone(PACIFIC)):
        p = plan(weight_kg="22", treatment_date=date(2026, 12, 10), calibration_time=written - timedelta(hours=20),
                 administration_time=written)
        assert any("is not on the treatment date" in f.message for f in p.findings) is off_day

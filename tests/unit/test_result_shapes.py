"""Every core result has one exact shape (issue 11): ``to_json`` gives JSON values only, every Decimal as its
exact text and every time with its UTC offset; ``from_json`` gives back a result equal to the one written,
and refuses anything else naming the field.

Plans are generated (hypothesis) over the whole range the planner accepts, blocked and allowed alike, with
and without preparation, stem cells, prior courses and decay correction.
"""

from __future__ import annotations

import importlib
import json
import math
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import ROUND_HALF_EVEN, Decimal
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from snapshots import EXAMPLES, chair_decision, evaluate, lab, labs_with

from mibg.core.administration import AdministeredActivity, AssayCheck, administered_activity, check_assay
from mibg.core.ctcae import CtcaeGrade, grade
from mibg.core.dosimetry import Reading, RetentionFit, WholeBodyDose, retention_fit, whole_body_dose
from mibg.core.dosing import DosePlan, DoseRequest, plan_dose
from mibg.core.eligibility import EligibilityResult, evaluate_eligibility
from mibg.core.recovery import CourseRecovery, Measurement, TransfusionEvent, course_recovery
from mibg.core.release import ReleaseAssessment, release_assessment
from mibg.core.response import InrcResponse, RelativeCurie, curie_score, inrc_overall, relative_curie
from mibg.core.serial import ShapeError
from mibg.core.snapshot import PatientSnapshot
from mibg.core.units import Activity
from mibg.core.verification import Prescription, VerificationResult, verify
from mibg.core.vocabulary import DiagnosisKind, TransfusionProduct

FAST = settings(max_examples=120, deadline=None, database=None)
TREATMENT = date(2026, 12, 10)


def decimals(low: str, high: str, places: int = 3) -> st.SearchStrategy[Decimal]:
    return st.decimals(min_value=Decimal(low), max_value=Decimal(high), places=places, allow_nan=False,
                       allow_infinity=False)


zones = st.sampled_from([UTC, timezone(timedelta(hours=-8)), timezone(timedelta(hours=5, minutes=30))])


@st.composite
def dose_requests(draw: st.DrawFn) -> DoseRequest:
    preparation = draw(st.sampled_from([None, "azedra", "draximage"]))
    timed = draw(st.booleans())
    zone = draw(zones)
    administration = datetime(2026, 12, 10, 9, 0, tzinfo=zone) + timedelta(minutes=draw(st.integers(-600, 600)))
    calibration = administration - timedelta(seconds=draw(st.integers(-5 * 86400, 5 * 86400)))
    prior = draw(st.sampled_from([Decimal(0), Decimal("18"), Decimal("42.5")]))
    return DoseRequest(
        weight_kg=draw(decimals("2", "150")),
        mci_per_kg=draw(decimals("1", "25", 2)),
        diagnosis=draw(st.sampled_from(list(DiagnosisKind))),
        preparation=preparation,
        specific_activity_ci_per_mmol=draw(st.none() | decimals("1", "2000")) if preparation == "draximage" else None,
        specific_activity_mci_per_mg=draw(st.none() | decimals("100", "5000")) if preparation == "azedra" else None,
        stock_concentration_mci_per_ml=draw(st.none() | decimals("1", "100", 2)) if preparation else None,
        final_volume_ml=draw(st.none() | decimals("10", "60", 2)),
        infusion_min=draw(st.none() | decimals("20", "150", 1)),
        cd34_per_kg=draw(st.none() | st.sampled_from([Decimal("9.99999E+5"), Decimal("2E+6"), Decimal("3.14159E+6")])),
        marrow_mnc_per_kg=draw(st.none() | st.just(Decimal("1E+8"))),
        prior_mci_per_kg=prior,
        last_mibg_date=TREATMENT - timedelta(days=draw(st.integers(100, 400))) if prior else None,
        treatment_date=draw(st.none() | st.just(TREATMENT)),
        calibration_time=calibration if timed else None,
        administration_time=administration if timed else None,
        chair_clearances=frozenset(draw(st.sets(st.sampled_from(["S2", "R2"])))),
    )


def floats_in(value: Any, path: str = "") -> list[str]:
    """Every place in a JSON document that holds a binary float."""
    if isinstance(value, float):
        return [path]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in floats_in(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in floats_in(v, f"{path}[{i}]")]
    return []


# ---- the dose plan --------------------------------------------------------------------------------------------


@FAST
@given(dose_requests())
def test_every_dose_plan_dr_patel_could_sign_reads_back_exactly_from_its_stored_text(request: DoseRequest) -> None:
    plan = plan_dose(request)
    text = json.dumps(plan.to_json())
    back = DosePlan.from_json(json.loads(text))
    assert back == plan
    assert back.to_json() == plan.to_json()
    assert floats_in(json.loads(text)) == []


def test_the_stored_plan_writes_decimals_as_their_exact_text_and_times_with_their_offset() -> None:
    pst = timezone(timedelta(hours=-8))
    plan = plan_dose(DoseRequest(weight_kg=Decimal("22.0"), mci_per_kg=Decimal(18), cd34_per_kg=Decimal("3E6"),
                                 preparation="draximage", specific_activity_ci_per_mmol=Decimal(12),
                                 final_volume_ml=Decimal(50), infusion_min=Decimal(120),
                                 calibration_time=datetime(2026, 12, 9, 9, 0, tzinfo=pst),
                                 administration_time=datetime(2026, 12, 10, 9, 0, tzinfo=pst)))
    data = plan.to_json()
    assert (data["schema"], data["schema_version"]) == ("mibg.dose_plan", 1)
    # 22.0 kg x 18 mCi/kg = 396.0 mCi; x 37 = 14652.0 MBq; / 1000 = 14.652 GBq (clinical-reference §2.3).
    assert (data["activity_mci"], data["activity_mbq"], data["activity_gbq"]) == ("396.0", "14652.0", "14.652")
    assert data["request"]["calibration_time"] == "2026-12-09T09:00:00-08:00"
    assert data["request"]["cd34_per_kg"] == "3E+6"
    # Calibrated 24 h before administration: factor exp(ln2 x 24 h / (8.0207 d x 24 h/d)) (clinical-reference §2.4),
    # written as text beside the activity to draw, never None.
    assert data["decay_factor"] == data["calibration"]["factor"]
    assert float(data["decay_factor"]) == pytest.approx(math.exp(math.log(2) * 24 / (8.0207 * 24)), rel=1e-9)


def test_the_stored_plan_keeps_the_stock_concentration_the_volume_to_draw_was_computed_from() -> None:
    """decisions.md A38: the stored plan dropped the stock concentration, so the signed directive's order sheet
    printed the volume to draw with "Stock concentration -". A plan stored before it was kept reads back with none."""
    plan = plan_dose(DoseRequest(weight_kg=Decimal(22), mci_per_kg=Decimal(18), preparation="draximage",
                                 specific_activity_ci_per_mmol=Decimal(12), stock_concentration_mci_per_ml=Decimal(20),
                                 final_volume_ml=Decimal(50)))
    data = plan.to_json()
    assert data["request"]["stock_concentration_mci_per_ml"] == "20"
    assert DosePlan.from_json(data).request.stock_concentration_mci_per_ml == Decimal(20)
    del data["request"]["stock_concentration_mci_per_ml"]
    assert DosePlan.from_json(data).request.stock_concentration_mci_per_ml is None


def _plan_json() -> dict[str, Any]:
    return plan_dose(DoseRequest(weight_kg=Decimal(22), mci_per_kg=Decimal(18), cd34_per_kg=Decimal("3E6"))).to_json()


@pytest.mark.parametrize(("change", "field"), [
    (lambda d: d.update(activity_mci=396.0), "dose_plan.activity_mci"),
    (lambda d: d.update(activity_mci="395"), "dose_plan.activity_mci"),
    (lambda d: d.update(activity_mbq="14651"), "dose_plan.activity_mbq"),
    (lambda d: d["request"].update(weight_kg=22), "dose_plan.request.weight_kg"),
    (lambda d: d["request"].update(calibration_time="2026-12-09T09:00:00"), "dose_plan.request.calibration_time"),
    (lambda d: d.update(status="blocked"), "dose_plan.status"),
    (lambda d: d.update(schema_version=0), "dose_plan.schema_version"),
    (lambda d: d.update(schema="mibg.eligibility"), "dose_plan.schema"),
    (lambda d: d.pop("findings"), "dose_plan.findings"),
    (lambda d: d["findings"][0].update(severity="fatal"), "dose_plan.findings[0].severity"),
])
def test_a_stored_plan_that_is_not_its_shape_is_refused_naming_the_field(change: Any, field: str) -> None:
    data = _plan_json()
    change(data)
    with pytest.raises(ShapeError) as error:
        DosePlan.from_json(data)
    assert error.value.field == field


# ---- the screening result -------------------------------------------------------------------------------------

EXAMPLE_PATIENTS = sorted(p.stem for p in EXAMPLES.glob("*.json"))


@pytest.mark.parametrize("example", EXAMPLE_PATIENTS)
def test_every_example_patients_screening_reads_back_exactly_from_its_stored_text(example: str) -> None:
    result = evaluate_eligibility(PatientSnapshot.model_validate_json((EXAMPLES / f"{example}.json").read_text()))
    data = json.loads(json.dumps(result.to_json()))
    assert (data["schema"], data["schema_version"]) == ("mibg.eligibility", 1)
    assert EligibilityResult.from_json(data) == result
    assert floats_in(data) == []


@pytest.mark.parametrize("changes", [
    {"stem_cell_products": [], "planned_mci_per_kg": "11"},
    {"chair_decisions": [chair_decision("H5", True)]},
    {"labs": labs_with(lab("anc", "0.749"))},
    {"labs": labs_with(drop=("anc",))},
])
def test_a_screening_with_unmet_unknown_or_cleared_criteria_reads_back_exactly(changes: dict[str, Any]) -> None:
    result = evaluate(**changes)
    assert EligibilityResult.from_json(json.loads(json.dumps(result.to_json()))) == result


def test_a_stored_screening_whose_overall_disagrees_with_its_criteria_is_refused() -> None:
    data = evaluate(labs=labs_with(lab("anc", "0.749"))).to_json()
    assert data["overall"] == "not eligible"  # ANC 0.749 < 0.750 x 10E9/L (clinical-reference §1.1 H1)
    data["overall"] = "eligible"
    with pytest.raises(ShapeError) as error:
        EligibilityResult.from_json(data)
    assert error.value.field == "eligibility.overall"


# ---- verification, assay, administration ------------------------------------------------------------------------

PRESCRIBED = Activity(Decimal("396.0"))  # 22.0 kg x 18 mCi/kg
ADMINISTERED_AT = datetime(2026, 12, 10, 10, 0, tzinfo=timezone(timedelta(hours=-8)))


@pytest.mark.parametrize(("weight", "per_kg"), [("22.0", "18"), ("22.00", "18.0"), ("22.5", "18"), ("22.0", "17.99")])
def test_sam_the_physicists_verification_reads_back_exactly(weight: str, per_kg: str) -> None:
    result = verify(Prescription(Decimal("22.0"), Decimal(18), PRESCRIBED.mci), signed_by="patel", verifier="sam",
                    weight_kg=weight, mci_per_kg=per_kg)
    data = json.loads(json.dumps(result.to_json()))
    assert VerificationResult.from_json(data) == result
    assert floats_in(data) == []


def test_a_stored_verification_that_says_accepted_with_differing_fields_is_refused() -> None:
    data = verify(Prescription(Decimal("22.0"), Decimal(18), PRESCRIBED.mci), signed_by="patel", verifier="sam",
                  weight_kg="22.5", mci_per_kg="18").to_json()
    data["accepted"] = True
    with pytest.raises(ShapeError) as error:
        VerificationResult.from_json(data)
    assert error.value.field == "verification.accepted"


@FAST
@given(measured=decimals("1", "900", 2), minutes_before=st.integers(0, 48 * 60))
def test_every_assay_riley_records_reads_back_exactly(measured: Decimal, minutes_before: int) -> None:
    check = check_assay(PRESCRIBED, measured, ADMINISTERED_AT - timedelta(minutes=minutes_before), ADMINISTERED_AT)
    data = json.loads(json.dumps(check.to_json()))
    assert AssayCheck.from_json(data) == check
    assert floats_in(data) == []


@pytest.mark.parametrize("measured", ["316.8", "316.7", "475.2", "475.3"])
def test_assays_at_and_around_the_20_percent_tolerance_read_back_with_their_verdict(measured: str) -> None:
    # Measured at the administration time (no decay): 396 x 0.8 = 316.8 and 396 x 1.2 = 475.2 mCi are within
    # 20 % (10 CFR 35.63: "more than 20 %" stops); 316.7 and 475.3 are not.
    check = check_assay(PRESCRIBED, measured, ADMINISTERED_AT, ADMINISTERED_AT)
    back = AssayCheck.from_json(json.loads(json.dumps(check.to_json())))
    assert back == check
    assert back.within_tolerance is (measured in ("316.8", "475.2"))


@FAST
@given(pre=decimals("200", "600", 1), residual=decimals("0", "20", 2), hours=st.integers(0, 6))
def test_every_administration_nora_records_reads_back_exactly(pre: Decimal, residual: Decimal, hours: int) -> None:
    given_activity = administered_activity(PRESCRIBED, pre, ADMINISTERED_AT - timedelta(hours=hours), residual,
                                           ADMINISTERED_AT + timedelta(hours=1), ADMINISTERED_AT)
    data = json.loads(json.dumps(given_activity.to_json()))
    assert AdministeredActivity.from_json(data) == given_activity
    assert floats_in(data) == []


def test_a_stored_administration_that_hides_a_possible_medical_event_is_refused() -> None:
    # 316.8 - 0 = 316.8 mCi is exactly 20 % below 396: a possible medical event (10 CFR 35.3045, "20 % or more").
    data = administered_activity(PRESCRIBED, "316.8", ADMINISTERED_AT, "0", ADMINISTERED_AT, ADMINISTERED_AT).to_json()
    assert data["possible_medical_event"] is True
    data["possible_medical_event"] = False
    with pytest.raises(ShapeError) as error:
        AdministeredActivity.from_json(data)
    assert error.value.field == "administration.possible_medical_event"


# ---- grade and response -------------------------------------------------------------------------------------------

LAB_TIME = datetime(2026, 12, 20, 7, 30, tzinfo=timezone(timedelta(hours=-8)))


@pytest.mark.parametrize(("term", "value", "unit", "limits"), [
    # ANC 0.75 x 10^9/L: grade 3 (0.5 <= ANC < 1.0); exactly 1.0 is grade 2; 0.499 grade 4 (CTCAE v5.0).
    ("neutrophil-count-decreased", "0.75", "10^9/L", {"lln": "1.5"}),
    ("neutrophil-count-decreased", "1.0", "10^9/L", {"lln": "1.5"}),
    ("neutrophil-count-decreased", "0.499", "10^9/L", {"lln": "1.5"}),
    ("platelet-count-decreased", "24999", "/mm3", {"lln": "150000"}),
    ("anemia", "7.9", "g/dL", {"lln": "11"}),
    ("alanine-aminotransferase-increased", "120", "U/L", {"uln": "40"}),
])
def test_every_grade_nora_enters_reads_back_exactly(term: str, value: str, unit: str, limits: dict[str, str]) -> None:
    result = grade(term, value, unit, collected_at=LAB_TIME, **limits)
    data = json.loads(json.dumps(result.to_json()))
    assert CtcaeGrade.from_json(data) == result
    assert floats_in(data) == []


@pytest.mark.parametrize("components", [("PR", "CR", "MD"), ("CR", "CR", "CR"), ("PD", "CR", "NI"), ("SD", "PR", "CR"),
                                        ("NI", "SD", "NI")])
def test_every_inrc_response_dr_patel_records_reads_back_exactly(components: tuple[str, str, str]) -> None:
    result = inrc_overall(*components)
    assert InrcResponse.from_json(json.loads(json.dumps(result.to_json()))) == result


def test_a_stored_response_whose_overall_is_not_the_rules_answer_is_refused() -> None:
    data = inrc_overall("PD", "CR", "CR").to_json()  # PD in any component is PD (clinical-reference §6.2)
    data["overall"] = "CR"
    with pytest.raises(ShapeError) as error:
        InrcResponse.from_json(data)
    assert error.value.field == "inrc_response.overall"


@pytest.mark.parametrize(("baseline", "follow_up"), [([0] * 9, [1] + [0] * 8), ([3] * 9, [1] * 9), ([2] * 9, [0] * 9)])
def test_every_relative_curie_score_reads_back_exactly(baseline: list[int], follow_up: list[int]) -> None:
    result = relative_curie(curie_score(baseline, 1), curie_score(follow_up, 0))
    data = json.loads(json.dumps(result.to_json()))
    assert RelativeCurie.from_json(data) == result
    assert floats_in(data) == []


# ---- retention fit, whole-body dose, release ---------------------------------------------------------------------

# clinical-reference §4.4 worked example (hours after the start of the infusion, mR/h at 1 m), and variants that
# give a bi-exponential fit, a trapezoid integral and a flat tail.
READING_SETS = {
    "worked example": [("0.5", "60.0"), ("24", "29.0"), ("48", "14.1"), ("72", "7.0"), ("96", "3.5")],
    "two phases": [("0.5", "60.0"), ("6", "40.0"), ("12", "30.0"), ("24", "22.0"), ("48", "14.0"), ("72", "9.5"),
                   ("96", "6.4"), ("120", "4.3")],
    "three readings": [("0.5", "60.0"), ("24", "29.0"), ("48", "14.1")],
}


@pytest.mark.parametrize("name", READING_SETS)
@pytest.mark.parametrize("method", ["fit", "trapezoid"])
def test_sams_retention_fit_dose_and_release_read_back_exactly(name: str, method: str) -> None:
    fit = retention_fit([Reading(Decimal(h), Decimal(r)) for h, r in READING_SETS[name]], method=method)
    dose = whole_body_dose(Activity(Decimal("396.0")), Decimal("22.0"), fit)
    release = release_assessment(Activity(Decimal("396.0")), fit)
    for result, kind in ((fit, RetentionFit), (dose, WholeBodyDose), (release, ReleaseAssessment)):
        data = json.loads(json.dumps(result.to_json()))
        assert kind.from_json(data) == result  # type: ignore[attr-defined]
    # The exact values are text: the administered activity is never a float.
    assert json.loads(json.dumps(dose.to_json()))["administered_mci"] == "396.0"
    assert json.loads(json.dumps(release.to_json()))["retained_mci"] == str(release.retained.mci)


def test_a_stored_release_that_says_releasable_when_its_criteria_are_not_met_is_refused() -> None:
    # 3.5 mR/h at 96 h is above the 2 mR/h site limit (clinical-reference §4.4): not releasable by the site.
    fit = retention_fit([Reading(Decimal(h), Decimal(r)) for h, r in READING_SETS["worked example"]])
    data = release_assessment(Activity(Decimal("396.0")), fit).to_json()
    assert data["releasable_now"]["site"] is False
    data["releasable_now"]["site"] = True
    with pytest.raises(ShapeError) as error:
        ReleaseAssessment.from_json(data)
    assert error.value.field == "release.releasable_now.site"


@pytest.mark.parametrize("zone", [None, ZoneInfo("America/Los_Angeles"), timezone(timedelta(hours=5, minutes=30)), UTC])
def test_an_assay_shown_in_the_sites_zone_reads_back_with_that_zone(zone: Any) -> None:
    check = check_assay(PRESCRIBED, "399.8", ADMINISTERED_AT - timedelta(hours=1, minutes=30), ADMINISTERED_AT,
                        display_zone=zone)
    back = AssayCheck.from_json(json.loads(json.dumps(check.to_json())))
    assert back == check
    assert back.message == check.message


# ---- count recovery ----------------------------------------------------------------------------------------------------

PST = timezone(timedelta(hours=-8))
RECOVERY_INFUSION = datetime(2026, 3, 2, 10, 0, tzinfo=PST)


def _counts(*points: tuple[int, str]) -> list[Measurement]:
    return [Measurement(RECOVERY_INFUSION + timedelta(days=d, hours=-2), Decimal(v)) for d, v in points]


@pytest.mark.parametrize(("anc", "platelets", "transfusions"), [
    # Recovered on day 28: ANC > 0.5 and platelets > 20 x 10^9/L without a platelet transfusion in the lookback.
    ([(-1, "2.1"), (14, "0.3"), (18, "0.2"), (21, "0.4"), (25, "0.7"), (28, "1.1"), (32, "1.5")],
     [(-1, "150"), (14, "30"), (18, "12"), (21, "35"), (25, "28"), (28, "40"), (32, "60")], [19]),
    # Not yet recovered: the counts are still low at the last measurement.
    ([(-1, "2.1"), (14, "0.3"), (18, "0.2")], [(-1, "150"), (14, "30"), (18, "12")], []),
    # No data after the infusion.
    ([], [], []),
])
def test_the_count_recovery_nora_follows_reads_back_exactly(anc: list[tuple[int, str]], platelets: list[tuple[int, str]],
                                                            transfusions: list[int]) -> None:
    result = course_recovery(RECOVERY_INFUSION, anc=_counts(*anc), platelets=_counts(*platelets),
                             hemoglobin=_counts((-1, "11.0"), (14, "8.4")),
                             transfusions=[TransfusionEvent(TransfusionProduct.PLATELETS,
                                                            RECOVERY_INFUSION + timedelta(days=d, hours=4))
                                           for d in transfusions])
    data = json.loads(json.dumps(result.to_json()))
    assert CourseRecovery.from_json(data) == result
    assert floats_in(data) == []


# ---- rows stored before the shapes: the data migrations give back the exact results ------------------------------

TREATMENT_MIGRATION = importlib.import_module("mibg.web.treatment.migrations.0003_assay_administration_result_json")
VERIFICATION_MIGRATION = importlib.import_module("mibg.web.directives.migrations.0003_verification_result_json")
INRC_MIGRATION = importlib.import_module("mibg.web.followup.migrations.0004_inrc_result_json")
CLINIC = ZoneInfo("America/Los_Angeles")


def _rounded(value: Decimal, step: str) -> Decimal:
    return value.quantize(Decimal(step), rounding=ROUND_HALF_EVEN)


@FAST
@given(measured=decimals("200", "600", 1), minutes_before=st.integers(0, 48 * 60), residual=decimals("0", "20", 2),
       residual_minutes_after=st.integers(0, 6 * 60), late_minutes=st.integers(-60, 120))
def test_every_assay_and_administration_stored_as_rounded_columns_converts_to_the_exact_result(
        measured: Decimal, minutes_before: int, residual: Decimal, residual_minutes_after: int, late_minutes: int) -> None:
    """What record_assay and record_administration stored before issue 11 (the exact values rounded to 0.0001 mCi
    and 0.001 %, and the entries to the columns' 3 decimals) converts to the result the core computes from the
    entries, exactly: migration treatment 0003 loses nothing the old rows held."""
    prescribed = Activity(Decimal("396.000000"))  # the directive's column: 22.0 kg x 18 mCi/kg
    t_adm = datetime(2026, 12, 10, 9, 0, tzinfo=CLINIC)
    measured_at = t_adm - timedelta(minutes=minutes_before)
    check = check_assay(prescribed, measured, measured_at, t_adm, display_zone=CLINIC)
    directive = SimpleNamespace(activity_mci=prescribed.mci, administration_time=t_adm.astimezone(UTC))
    assay = SimpleNamespace(pk=1, directive=directive, measured_mci=measured.quantize(Decimal("0.001")),
                            measured_at=measured_at.astimezone(UTC),
                            corrected_mci=_rounded(check.corrected.mci, "0.0001"),
                            deviation_percent=_rounded(check.deviation_percent, "0.001"),
                            within_tolerance=check.within_tolerance, message=check.message)
    data = json.loads(json.dumps(TREATMENT_MIGRATION.assay(assay, CLINIC)))
    assert AssayCheck.from_json(data) == check
    assert floats_in(data) == []
    started = t_adm + timedelta(minutes=late_minutes)
    residual_at = started + timedelta(minutes=residual_minutes_after)
    given_activity = administered_activity(prescribed, measured, measured_at, residual, residual_at, started)
    row = SimpleNamespace(pk=2, directive=directive, assay=assay, started_at=started.astimezone(UTC),
                          residual_mci=residual.quantize(Decimal("0.001")), residual_measured_at=residual_at,
                          pre_corrected_mci=_rounded(given_activity.before.activity_to.mci, "0.0001"),
                          residual_corrected_mci=_rounded(given_activity.residual.activity_to.mci, "0.0001"),
                          administered_mci=_rounded(given_activity.administered.mci, "0.0001"),
                          deviation_percent=_rounded(given_activity.deviation_percent, "0.001"),
                          possible_medical_event=given_activity.possible_medical_event, message=given_activity.message)
    data = json.loads(json.dumps(TREATMENT_MIGRATION.administration(row, CLINIC)))
    assert AdministeredActivity.from_json(data) == given_activity
    assert data["formula"] == given_activity.formula
    assert floats_in(data) == []


def test_a_stored_administration_whose_flag_disagrees_with_its_numbers_stops_the_migration_naming_it() -> None:
    # 316.8 mCi given of 396 prescribed is exactly 20 % below: a possible medical event (10 CFR 35.3045).
    t = datetime(2026, 12, 10, 9, 0, tzinfo=CLINIC)
    given_activity = administered_activity(PRESCRIBED, "316.8", t, "0", t, t)
    directive = SimpleNamespace(activity_mci=PRESCRIBED.mci, administration_time=t)
    row = SimpleNamespace(pk=9, directive=directive, assay=SimpleNamespace(measured_mci=Decimal("316.800"), measured_at=t),
                          started_at=t, residual_mci=Decimal("0.000"), residual_measured_at=t,
                          pre_corrected_mci=Decimal("316.8000"), residual_corrected_mci=Decimal("0.0000"),
                          administered_mci=Decimal("316.8000"), deviation_percent=Decimal("-20.000"),
                          possible_medical_event=False, message="Administered 316.8 mCi")
    assert given_activity.possible_medical_event
    with pytest.raises(TREATMENT_MIGRATION.Unconvertible, match="administration 9"):
        TREATMENT_MIGRATION.administration(row, CLINIC)


def test_a_stored_verification_accepted_with_a_differing_field_stops_the_migration_naming_it() -> None:
    row = SimpleNamespace(pk=5, accepted=True, differing="weight_kg", message="", weight_kg=Decimal("22.500"),
                          mci_per_kg=Decimal("18.000"))
    with pytest.raises(VERIFICATION_MIGRATION.Unconvertible, match="verification 5"):
        VERIFICATION_MIGRATION.convert(row)
    row.accepted = False
    data = VERIFICATION_MIGRATION.convert(row)
    assert VerificationResult.from_json(data).second_activity_mci == Decimal("405")  # 22.5 kg x 18 mCi/kg


@pytest.mark.parametrize("components", [("PR", "PR", "CR"), ("PD", "CR", "NI"), ("CR", "CR", "MD")])
def test_every_inrc_response_stored_as_columns_converts_to_the_response_recorded(components: tuple[str, str, str]) -> None:
    result = inrc_overall(*components)
    row = SimpleNamespace(pk=3, primary=components[0], metastases=components[1], marrow=components[2],
                          overall="" if result.overall is None else result.overall.value,
                          needs_review=result.needs_review, rule=result.rule, explanation=result.explanation)
    data = INRC_MIGRATION.convert(row)
    assert InrcResponse.from_json(data) == result
    assert data == result.to_json()


def test_the_stored_plan_carries_every_field_of_the_dose_request() -> None:
    """The same kind of defect as the stock concentration the stored plan dropped (decisions.md A38): a request field
    the plan's shape leaves out is lost when the signed plan is read back. Every field of DoseRequest is written."""
    import dataclasses

    written = set(_plan_json()["request"])
    assert {f.name for f in dataclasses.fields(DoseRequest)} == written

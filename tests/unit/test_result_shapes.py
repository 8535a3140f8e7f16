"""Every core result has one exact shape (issue 11): ``to_json`` gives JSON values only, every Decimal as its
exact text and every time with its UTC offset; ``from_json`` gives back a result equal to the one written,
and refuses anything else naming the field.

Plans are generated (hypothesis) over the whole range the planner accepts, blocked and allowed alike, with
and without preparation, stem cells, prior courses and decay correction.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mibg.core.dosing import DosePlan, DoseRequest, plan_dose
from mibg.core.serial import ShapeError
from mibg.core.vocabulary import DiagnosisKind

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

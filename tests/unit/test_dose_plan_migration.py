"""Stored dose plans of the old text-only shape are converted to ``mibg.dose_plan`` version 1 (migration
directives 0002) and then read back as the plan that was signed.

The old shape is written here exactly as ``plan_record`` wrote it before issue 11: numbers as text, the
activity as ``{"mci", "mbq", "gbq", "display"}``, no decay factor, no request.
"""

from __future__ import annotations

import importlib
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from mibg.core.dosing import DosePlan, DoseRequest, plan_dose
from mibg.core.vocabulary import DiagnosisKind

migration = importlib.import_module("mibg.web.directives.migrations.0002_dose_plan_schema_v1")
PST = timezone(timedelta(hours=-8))
CLINIC = ZoneInfo("America/Los_Angeles")


def _activity(a: Any) -> dict[str, str]:
    return {"mci": str(a.mci), "mbq": str(a.mbq), "gbq": str(a.gbq), "display": a.display()}


def old_plan_record(plan: DosePlan) -> dict[str, Any]:
    """The shape stored with every signature before schema version 1 (src/mibg/web/directives/services.py)."""
    r = plan.request
    return {
        "status": plan.status, "protocol": plan.protocol_label, "weight_kg": str(r.weight_kg),
        "mci_per_kg": str(r.mci_per_kg), "preparation": r.preparation, "activity": _activity(plan.activity),
        "max_activity": _activity(plan.max_activity) if plan.max_activity else None,
        "max_activity_reason": plan.max_activity_reason, "stem_cells_adequate": plan.stem_cells_adequate,
        "cumulative_mci_per_kg": str(plan.cumulative_mci_per_kg),
        "activity_at_calibration": _activity(plan.calibration.activity_to) if plan.calibration else None,
        "findings": [{"rule": f.rule, "severity": str(f.severity), "message": f.message, "reference": f.reference}
                     for f in plan.findings],
        "calculations": [{"name": c.name, "value": c.value, "unit": c.unit, "formula": c.formula,
                          "inputs": [str(i) for i in c.inputs]} for c in plan.calculations],
    }


# Ava, 22.0 kg, neuroblastoma, one PBSC product of 1.1E+8 CD34+ cells (5E+6 /kg), 12 mCi/kg in an earlier
# course on 2026-03-02; this course 18 mCi/kg of DraxImage at 12 Ci/mmol, 50 mL over 120 min, calibrated
# 2026-12-09 12:00 and given 2026-12-10 10:00 (-08:00).
SNAPSHOT = {
    "weight_kg": "22.0", "diagnosis": {"kind": "neuroblastoma"}, "planned_treatment_date": "2026-12-10",
    "stem_cell_products": [{"product_type": "pbsc", "total_cd34_cells": "1.1E+8"}],
    "prior_mibg_courses": [{"infusion_date": "2026-03-02", "mci_per_kg": "12"}],
}


def _signed(**overrides: Any) -> tuple[DosePlan, SimpleNamespace]:
    values: dict[str, Any] = {
        "weight_kg": Decimal("22.0"), "mci_per_kg": Decimal(18), "diagnosis": DiagnosisKind.NEUROBLASTOMA,
        "preparation": "draximage", "specific_activity_ci_per_mmol": Decimal(12), "final_volume_ml": Decimal(50),
        "infusion_min": Decimal(120), "cd34_per_kg": Decimal("1.1E+8") / Decimal("22.0"),
        "prior_mci_per_kg": Decimal(12), "last_mibg_date": date(2026, 3, 2), "treatment_date": date(2026, 12, 10),
        "calibration_time": datetime(2026, 12, 9, 12, 0, tzinfo=PST),
        "administration_time": datetime(2026, 12, 10, 10, 0, tzinfo=PST),
    }
    values.update(overrides)
    plan = plan_dose(DoseRequest(**values))
    row = SimpleNamespace(pk=7, weight_kg=Decimal("22.000"), specific_activity_ci_per_mmol=Decimal("12.000"),
                          specific_activity_mci_per_mg=None, final_volume_ml=Decimal("50.00"),
                          infusion_min=Decimal("120.0"), calibration_time=values["calibration_time"].astimezone(UTC),
                          administration_time=values["administration_time"].astimezone(UTC))
    return plan, row


def test_a_directive_signed_before_the_new_shape_reads_back_as_the_plan_dr_patel_signed() -> None:
    plan, row = _signed()
    converted = DosePlan.from_json(migration.convert(old_plan_record(plan), row, SNAPSHOT, CLINIC))
    assert converted.request == plan.request
    assert converted.activity == plan.activity
    assert converted.calibration == plan.calibration
    assert converted.calibration is not None
    # 396 mCi drawn 22 h early: factor exp(ln2 x 22 / 192.4968) (clinical-reference §2.4), now kept, not None.
    assert converted.calibration.factor == plan.calibration.factor  # type: ignore[union-attr]
    assert (converted.max_activity, converted.max_activity_inclusive) == (plan.max_activity, plan.max_activity_inclusive)
    assert converted.cumulative_mci_per_kg == Decimal(30)  # 12 + 18 mCi/kg
    assert [f.message for f in converted.findings] == [f.message for f in plan.findings]
    assert converted.status == plan.status
    # The old shape kept the mass and the rate only as shown: 4 and 2 decimals.
    assert converted.mibg_mass_mg == plan.mibg_mass_mg.quantize(Decimal("0.0001"))  # type: ignore[union-attr]
    assert converted.infusion_rate_ml_per_h == Decimal("25.00")  # 50 mL / 2 h


def test_a_chair_cleared_block_is_converted_with_its_clearance() -> None:
    # Exactly 12 mCi/kg with no stored stem cells is blocked by S2 unless the study chair cleared it (decisions.md A2).
    plan, row = _signed(mci_per_kg=Decimal(12), cd34_per_kg=None, chair_clearances=frozenset({"S2"}),
                        prior_mci_per_kg=Decimal(0), last_mibg_date=None)
    snapshot = dict(SNAPSHOT, stem_cell_products=[], prior_mibg_courses=[])
    converted = DosePlan.from_json(migration.convert(old_plan_record(plan), row, snapshot, CLINIC))
    assert converted.request == plan.request
    assert converted.request.chair_clearances == frozenset({"S2"})
    assert (plan.status, converted.status) == ("ok", "ok")
    assert any(f.cleared_by == "study chair" for f in converted.findings)


def test_a_stored_plan_whose_activity_at_calibration_disagrees_stops_the_migration_naming_the_directive() -> None:
    plan, row = _signed()
    old = old_plan_record(plan)
    old["activity_at_calibration"]["mci"] = "430"
    with pytest.raises(migration.Unconvertible, match="written directive 7"):
        migration.convert(old, row, SNAPSHOT, CLINIC)

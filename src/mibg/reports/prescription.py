"""The prescribed dose read from a directive's plan, checked for consistency before anything prints it.

A directive is refused (ReportInputError) when its numbers disagree: the weight on the directive is not
the plan's weight, the activity is not weight x mCi/kg exactly, or MBq is not mCi x 37 exactly
(clinical-reference §2.3). A document must never show two different doses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from mibg.core.errors import InputError
from mibg.core.units import MBQ_PER_GBQ, MBQ_PER_MCI, parse_aware_datetime
from mibg.reports.errors import ReportInputError
from mibg.reports.numbers import as_decimal, exact, required
from mibg.reports.record import Directive


@dataclass(frozen=True, slots=True)
class PrescribedDose:
    """Exact numbers of a directive, every one in the unit its name says."""

    status: str
    protocol: str
    weight_kg: Decimal
    mci_per_kg: Decimal
    activity_mci: Decimal
    preparation_key: str | None
    mibg_mass_mg: Decimal | None
    drug_volume_ml: Decimal | None
    final_volume_ml: Decimal | None
    infusion_min: Decimal | None
    infusion_rate_ml_per_h: Decimal | None
    calibration_time: datetime | None
    administration_time: datetime | None
    activity_at_calibration_mci: Decimal | None
    decay_factor: Decimal | None
    cumulative_mci_per_kg: Decimal | None
    stem_cells_adequate: bool | None
    max_activity_reason: str
    findings: tuple[Mapping[str, Any], ...]
    calculations: tuple[Mapping[str, Any], ...]

    @property
    def activity_mbq(self) -> Decimal:
        return self.activity_mci * MBQ_PER_MCI

    @property
    def activity_gbq(self) -> Decimal:
        return self.activity_mbq / MBQ_PER_GBQ

    @property
    def blocked(self) -> bool:
        return self.status == "blocked"


def _time(plan: Mapping[str, Any], key: str) -> datetime | None:
    raw = plan.get(key)
    if raw is None:
        return None
    try:
        return parse_aware_datetime(f"directive.plan.{key}", raw)
    except InputError as error:
        raise ReportInputError(error.field, error.message) from None


def prescribed_dose(directive: Directive) -> PrescribedDose:
    """The directive's numbers, refused if they are not consistent with each other."""
    plan = directive.plan
    weight = required(plan["weight_kg"], "directive.plan.weight_kg")
    per_kg = required(plan["mci_per_kg"], "directive.plan.mci_per_kg")
    activity = required(plan["activity_mci"], "directive.plan.activity_mci")
    if weight != directive.weight_kg:
        raise ReportInputError("directive.weight_kg", f"{exact(directive.weight_kg)} kg differs from the plan's "
                                                      f"{exact(weight)} kg")
    if activity != weight * per_kg:
        raise ReportInputError("directive.plan.activity_mci", f"{exact(activity)} mCi is not weight x dose = "
                                                              f"{exact(weight)} kg x {exact(per_kg)} mCi/kg")
    in_mbq = as_decimal(plan.get("activity_mbq"), "directive.plan.activity_mbq")
    if in_mbq is not None and in_mbq != activity * MBQ_PER_MCI:
        raise ReportInputError("directive.plan.activity_mbq", f"{exact(in_mbq)} MBq is not {exact(activity)} mCi x 37")
    findings: Sequence[Mapping[str, Any]] = plan.get("findings") or ()
    calculations: Sequence[Mapping[str, Any]] = plan.get("calculations") or ()
    adequate = plan.get("stem_cells_adequate")
    return PrescribedDose(
        status=str(plan["status"]),
        protocol=str(plan["protocol"]),
        weight_kg=weight,
        mci_per_kg=per_kg,
        activity_mci=activity,
        preparation_key=plan.get("preparation"),
        mibg_mass_mg=as_decimal(plan.get("mibg_mass_mg"), "directive.plan.mibg_mass_mg"),
        drug_volume_ml=as_decimal(plan.get("drug_volume_ml"), "directive.plan.drug_volume_ml"),
        final_volume_ml=as_decimal(plan.get("final_volume_ml"), "directive.plan.final_volume_ml"),
        infusion_min=as_decimal(plan.get("infusion_min"), "directive.plan.infusion_min"),
        infusion_rate_ml_per_h=as_decimal(plan.get("infusion_rate_ml_per_h"), "directive.plan.infusion_rate_ml_per_h"),
        calibration_time=_time(plan, "calibration_time"),
        administration_time=_time(plan, "administration_time"),
        activity_at_calibration_mci=as_decimal(plan.get("activity_at_calibration_mci"),
                                               "directive.plan.activity_at_calibration_mci"),
        decay_factor=as_decimal(plan.get("decay_factor"), "directive.plan.decay_factor"),
        cumulative_mci_per_kg=as_decimal(plan.get("cumulative_mci_per_kg"), "directive.plan.cumulative_mci_per_kg"),
        stem_cells_adequate=None if adequate is None else bool(adequate),
        max_activity_reason=str(plan.get("max_activity_reason") or ""),
        findings=tuple(findings),
        calculations=tuple(calculations),
    )

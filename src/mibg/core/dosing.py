"""Dose planning: a weight-based prescription checked against every protocol limit.

``plan_dose`` takes a chosen mCi/kg and preparation and returns the total activity (mCi, MBq, GBq), every
limit as a :class:`Finding` (rule ID, severity, message naming the largest allowed value), the largest
activity the protocol allows for this patient, the MIBG mass, the volume and duration checks, the
infusion rate and the activity to draw at the calibration time. Blocked when any finding blocks.

Every threshold is read from the protocol definition (``nct01370330.json``); nothing here is a constant
of the protocol. The planner never lowers a prescription by itself (decisions.md A3).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from mibg.core.calendar import add_months
from mibg.core.decay import DecayCorrection, activity_to_draw_at_calibration
from mibg.core.dose_verdict import compile_dose_limits
from mibg.core.errors import InputError
from mibg.core.plausibility import plausible
from mibg.core.results import Calculation, Finding, InputUsed, Severity
from mibg.core.serial import JSON, Reader, ShapeError, day, dec, envelope, moment
from mibg.core.stem_cells import stem_cell_status
from mibg.core.times import site_date, site_time
from mibg.core.units import (
    Activity,
    round_gbq,
    round_mbq,
    round_mci,
    round_per_kg,
)
from mibg.core.vocabulary import DiagnosisKind, StemCellProductType
from mibg.protocol import Preparation, ProtocolDefinition, load_protocol

if TYPE_CHECKING:
    from mibg.core.snapshot import ChairDecision, PatientSnapshot, StemCellProduct



@dataclass(frozen=True, slots=True)
class DoseRequest:
    """What the physician chooses and what the limits need to know.

    Weight in kg, dose in mCi/kg, volume in mL, duration in minutes, cell doses per kg of current weight,
    prior dose as the sum of earlier courses' administered mCi/kg (decisions.md A14), times timezone-aware.
    ``cd34_per_kg`` and ``marrow_mnc_per_kg`` left ``None`` mean no stored product.
    """

    weight_kg: Decimal
    mci_per_kg: Decimal
    diagnosis: DiagnosisKind = DiagnosisKind.NEUROBLASTOMA
    preparation: str | None = None
    specific_activity_ci_per_mmol: Decimal | None = None
    specific_activity_mci_per_mg: Decimal | None = None
    #: The stock's activity concentration at its calibration time, mCi/mL (decisions.md A38); None: the
    #: preparation's label value when it has one (AZEDRA 15 mCi/mL), else no volume to draw is computed.
    stock_concentration_mci_per_ml: Decimal | None = None
    final_volume_ml: Decimal | None = None
    infusion_min: Decimal | None = None
    cd34_per_kg: Decimal | None = None
    marrow_mnc_per_kg: Decimal | None = None
    prior_mci_per_kg: Decimal = Decimal(0)
    last_mibg_date: date | None = None
    treatment_date: date | None = None
    calibration_time: datetime | None = None
    administration_time: datetime | None = None
    chair_clearances: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True, slots=True)
class UpperBound:
    """One limit on the total activity: ``activity`` is allowed (inclusive) or only approached (exclusive)."""

    rule: str
    activity_mci: Decimal
    inclusive: bool
    reason: str


@dataclass(frozen=True, slots=True)
class PlanDetail:
    """What a plan explains: the largest allowed activity, the preparation's figures, every finding and formula."""

    max_activity: Activity | None
    max_activity_inclusive: bool
    max_activity_reason: str
    mibg_mass_mg: Decimal | None
    drug_volume_ml: Decimal | None
    infusion_rate_ml_per_h: Decimal | None
    calibration: DecayCorrection | None
    findings: tuple[Finding, ...]
    calculations: tuple[Calculation, ...]


class ExplanationMismatch(RuntimeError):
    """A plan's findings disagree with the verdict computed first: a defect in this module, never data."""


class DosePlan:
    """A checked prescription. The activity and the verdict (:attr:`blocked`) are computed when the plan is made;
    the findings, formulas and preparation figures (:class:`PlanDetail`) when first read, and checked then against
    the verdict (issue 14). Immutable once made; equal plans compare equal however they were made."""

    __slots__ = ("_blocked", "_detail", "_explain", "activity", "cumulative_mci_per_kg", "protocol_label", "request",
                 "stem_cells_adequate")

    request: DoseRequest
    protocol_label: str
    activity: Activity
    stem_cells_adequate: bool
    cumulative_mci_per_kg: Decimal
    _blocked: bool
    _detail: PlanDetail | None
    _explain: Callable[[], PlanDetail] | None

    def __init__(self, request: DoseRequest, protocol_label: str, activity: Activity, max_activity: Activity | None,
                 max_activity_inclusive: bool, max_activity_reason: str, stem_cells_adequate: bool,
                 cumulative_mci_per_kg: Decimal, mibg_mass_mg: Decimal | None, drug_volume_ml: Decimal | None,
                 infusion_rate_ml_per_h: Decimal | None, calibration: DecayCorrection | None,
                 findings: tuple[Finding, ...], calculations: tuple[Calculation, ...]) -> None:
        """A plan with its explanation already made (read back from its JSON)."""
        detail = PlanDetail(max_activity, max_activity_inclusive, max_activity_reason, mibg_mass_mg, drug_volume_ml,
                            infusion_rate_ml_per_h, calibration, tuple(findings), tuple(calculations))
        self._init(request, protocol_label, activity, stem_cells_adequate, cumulative_mci_per_kg,
                   any(f.severity is Severity.BLOCK for f in detail.findings), detail, None)

    @classmethod
    def deferred(cls, request: DoseRequest, protocol_label: str, activity: Activity, stem_cells_adequate: bool,
                 cumulative_mci_per_kg: Decimal, blocked: bool, explain: Callable[[], PlanDetail]) -> DosePlan:
        plan = cls.__new__(cls)
        plan._init(request, protocol_label, activity, stem_cells_adequate, cumulative_mci_per_kg, blocked, None, explain)
        return plan

    def _init(self, request: DoseRequest, protocol_label: str, activity: Activity, stem_cells_adequate: bool,
              cumulative_mci_per_kg: Decimal, blocked: bool, detail: PlanDetail | None,
              explain: Callable[[], PlanDetail] | None) -> None:
        setter = object.__setattr__
        setter(self, "request", request)
        setter(self, "protocol_label", protocol_label)
        setter(self, "activity", activity)
        setter(self, "stem_cells_adequate", stem_cells_adequate)
        setter(self, "cumulative_mci_per_kg", cumulative_mci_per_kg)
        setter(self, "_blocked", blocked)
        setter(self, "_detail", detail)
        setter(self, "_explain", explain)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"DosePlan is immutable: cannot set {name}")

    @property
    def detail(self) -> PlanDetail:
        detail = self._detail
        if detail is None:
            assert self._explain is not None
            detail = self._explain()
            blocked = any(f.severity is Severity.BLOCK for f in detail.findings)
            if blocked != self._blocked:
                raise ExplanationMismatch(f"the plan's findings say {'blocked' if blocked else 'ok'}, its verdict "
                                          f"{'blocked' if self._blocked else 'ok'}")
            object.__setattr__(self, "_detail", detail)
        return detail

    @property
    def max_activity(self) -> Activity | None:
        return self.detail.max_activity

    @property
    def max_activity_inclusive(self) -> bool:
        return self.detail.max_activity_inclusive

    @property
    def max_activity_reason(self) -> str:
        return self.detail.max_activity_reason

    @property
    def mibg_mass_mg(self) -> Decimal | None:
        return self.detail.mibg_mass_mg

    @property
    def drug_volume_ml(self) -> Decimal | None:
        return self.detail.drug_volume_ml

    @property
    def infusion_rate_ml_per_h(self) -> Decimal | None:
        return self.detail.infusion_rate_ml_per_h

    @property
    def calibration(self) -> DecayCorrection | None:
        return self.detail.calibration

    @property
    def findings(self) -> tuple[Finding, ...]:
        return self.detail.findings

    @property
    def calculations(self) -> tuple[Calculation, ...]:
        return self.detail.calculations

    #: The fields, in the order of the constructor (as ``dataclasses.fields`` listed them before issue 14).
    FIELDS = ("request", "protocol_label", "activity", "max_activity", "max_activity_inclusive", "max_activity_reason",
              "stem_cells_adequate", "cumulative_mci_per_kg", "mibg_mass_mg", "drug_volume_ml", "infusion_rate_ml_per_h",
              "calibration", "findings", "calculations")

    def replace(self, **changes: Any) -> DosePlan:
        """A copy with ``changes`` (as ``dataclasses.replace`` did), its explanation built; the status follows the
        findings."""
        unknown = set(changes) - set(self.FIELDS)
        if unknown:
            raise TypeError(f"DosePlan has no field {', '.join(sorted(unknown))}")
        return DosePlan(**{name: changes.get(name, getattr(self, name)) for name in self.FIELDS})

    def _key(self) -> tuple[object, ...]:
        return (self.request, self.protocol_label, self.activity, self.stem_cells_adequate, self.cumulative_mci_per_kg,
                self.detail)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DosePlan):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (f"DosePlan(request={self.request!r}, protocol_label={self.protocol_label!r}, activity={self.activity!r}, "
                f"blocked={self._blocked!r})")

    @property
    def diluent_volume_ml(self) -> Decimal | None:
        """0.9 % NaCl to add to the volume drawn to reach the final volume (decisions.md A38)."""
        final = self.request.final_volume_ml
        if final is None or self.drug_volume_ml is None or self.drug_volume_ml > final:
            return None
        return final - self.drug_volume_ml

    @property
    def blocked(self) -> bool:
        """Any finding blocks: decided when the plan is made (:func:`dose_blocks`), without building the findings."""
        return self._blocked

    @property
    def status(self) -> str:
        return "blocked" if self.blocked else "ok"

    def to_json(self) -> JSON:
        """The plan's one exact shape (mibg.core.serial): what is stored with a signature, returned by the API and
        ``mibg dose --json``, and read back by the documents. The request is kept whole, so the plan can be read
        back exactly; MBq, GBq, the status and the flat ``activity_at_calibration_mci``/``decay_factor`` are
        written for readers and checked against the exact values when read."""
        cal = self.calibration
        return {
            **envelope(DOSE_PLAN_SCHEMA, DOSE_PLAN_VERSION),
            "status": self.status,
            "protocol": self.protocol_label,
            "request": _request_json(self.request),
            "activity_mci": dec(self.activity.mci),
            "activity_mbq": dec(self.activity.mbq),
            "activity_gbq": dec(self.activity.gbq),
            "max_activity_mci": dec(self.max_activity.mci) if self.max_activity else None,
            "max_activity_mbq": dec(self.max_activity.mbq) if self.max_activity else None,
            "max_activity_inclusive": self.max_activity_inclusive,
            "max_activity_reason": self.max_activity_reason,
            "stem_cells_adequate": self.stem_cells_adequate,
            "cumulative_mci_per_kg": dec(self.cumulative_mci_per_kg),
            "mibg_mass_mg": dec(self.mibg_mass_mg),
            "drug_volume_ml": dec(self.drug_volume_ml),
            "infusion_rate_ml_per_h": dec(self.infusion_rate_ml_per_h),
            "calibration": cal.to_json() if cal else None,
            "activity_at_calibration_mci": dec(cal.activity_to.mci) if cal else None,
            "activity_at_calibration_mbq": dec(cal.activity_to.mbq) if cal else None,
            "decay_factor": dec(cal.factor) if cal else None,
            "findings": [f.to_json() for f in self.findings],
            "calculations": [c.to_json() for c in self.calculations],
        }

    @classmethod
    def from_json(cls, data: object, path: str = "dose_plan") -> DosePlan:
        """The plan written by :meth:`to_json`, equal to it; :class:`ShapeError` names a field that is wrong or
        that disagrees with the others (the activity is weight x mCi/kg exactly, MBq is mCi x 37 exactly)."""
        r = Reader.result(data, DOSE_PLAN_SCHEMA, DOSE_PLAN_VERSION, path)
        request = _request_from_json(r.child("request"))
        activity = Activity(r.decimal("activity_mci"))
        if activity.mci != request.weight_kg * request.mci_per_kg:
            raise ShapeError(f"{path}.activity_mci", f"{activity.mci} mCi is not weight x dose = {request.weight_kg} kg x "
                                                     f"{request.mci_per_kg} mCi/kg")
        r.check("activity_mbq", dec(activity.mbq))
        r.check("activity_gbq", dec(activity.gbq))
        maximum = r.opt_decimal("max_activity_mci")
        max_activity = None if maximum is None else Activity(maximum)
        r.check("max_activity_mbq", dec(max_activity.mbq) if max_activity else None)
        calibration_json = r.opt_child("calibration")
        calibration = DecayCorrection.from_json(calibration_json) if calibration_json else None
        r.check("activity_at_calibration_mci", dec(calibration.activity_to.mci) if calibration else None)
        r.check("activity_at_calibration_mbq", dec(calibration.activity_to.mbq) if calibration else None)
        r.check("decay_factor", dec(calibration.factor) if calibration else None)
        plan = cls(
            request=request,
            protocol_label=r.text("protocol"),
            activity=activity,
            max_activity=max_activity,
            max_activity_inclusive=r.boolean("max_activity_inclusive"),
            max_activity_reason=r.text("max_activity_reason"),
            stem_cells_adequate=r.boolean("stem_cells_adequate"),
            cumulative_mci_per_kg=r.decimal("cumulative_mci_per_kg"),
            mibg_mass_mg=r.opt_decimal("mibg_mass_mg"),
            drug_volume_ml=r.opt_decimal("drug_volume_ml"),
            infusion_rate_ml_per_h=r.opt_decimal("infusion_rate_ml_per_h"),
            calibration=calibration,
            findings=r.each("findings", Finding.from_json),
            calculations=r.each("calculations", Calculation.from_json),
        )
        r.check("status", plan.status)
        return plan


#: The dose plan's serialization (mibg.core.serial). Version 1 replaced the text-only ``plan_record`` shape
#: stored with signatures before it (migration directives 0002 converts those).
DOSE_PLAN_SCHEMA = "mibg.dose_plan"
DOSE_PLAN_VERSION = 1


def _request_json(r: DoseRequest) -> JSON:
    return {
        "weight_kg": dec(r.weight_kg),
        "mci_per_kg": dec(r.mci_per_kg),
        "diagnosis": str(r.diagnosis),
        "preparation": r.preparation,
        "specific_activity_ci_per_mmol": dec(r.specific_activity_ci_per_mmol),
        "specific_activity_mci_per_mg": dec(r.specific_activity_mci_per_mg),
        "stock_concentration_mci_per_ml": dec(r.stock_concentration_mci_per_ml),
        "final_volume_ml": dec(r.final_volume_ml),
        "infusion_min": dec(r.infusion_min),
        "cd34_per_kg": dec(r.cd34_per_kg),
        "marrow_mnc_per_kg": dec(r.marrow_mnc_per_kg),
        "prior_mci_per_kg": dec(r.prior_mci_per_kg),
        "last_mibg_date": day(r.last_mibg_date),
        "treatment_date": day(r.treatment_date),
        "calibration_time": moment(r.calibration_time),
        "administration_time": moment(r.administration_time),
        "chair_clearances": sorted(r.chair_clearances),
    }


def _request_from_json(r: Reader) -> DoseRequest:
    return DoseRequest(
        weight_kg=r.decimal("weight_kg"),
        mci_per_kg=r.decimal("mci_per_kg"),
        diagnosis=r.enum("diagnosis", DiagnosisKind),
        preparation=r.opt_text("preparation"),
        specific_activity_ci_per_mmol=r.opt_decimal("specific_activity_ci_per_mmol"),
        specific_activity_mci_per_mg=r.opt_decimal("specific_activity_mci_per_mg"),
        # decisions.md A38: plans signed before the stock concentration was kept have none (the label's was used).
        stock_concentration_mci_per_ml=(r.opt_decimal("stock_concentration_mci_per_ml")
                                        if "stock_concentration_mci_per_ml" in r.data else None),
        final_volume_ml=r.opt_decimal("final_volume_ml"),
        infusion_min=r.opt_decimal("infusion_min"),
        cd34_per_kg=r.opt_decimal("cd34_per_kg"),
        marrow_mnc_per_kg=r.opt_decimal("marrow_mnc_per_kg"),
        prior_mci_per_kg=r.decimal("prior_mci_per_kg"),
        last_mibg_date=r.opt_day("last_mibg_date"),
        treatment_date=r.opt_day("treatment_date"),
        calibration_time=r.opt_time("calibration_time"),
        administration_time=r.opt_time("administration_time"),
        chair_clearances=frozenset(r.texts("chair_clearances")),
    )


#: Which DoseRequest field holds a specific activity stated in each unit (the preparation's, protocol data).
SPECIFIC_ACTIVITY_FIELDS = {"Ci/mmol": "specific_activity_ci_per_mmol", "mCi/mg": "specific_activity_mci_per_mg"}


def specific_activity_field(preparation: Preparation) -> str:
    """The DoseRequest field for ``preparation``'s specific activity, from the unit the definition states it in."""
    return SPECIFIC_ACTIVITY_FIELDS[preparation.specific_activity_unit]


# --------------------------------------------------------------------------------------------------------
# Validation of the request: bad input is an InputError naming the field, never a finding.


def validate_request(request: DoseRequest, protocol: ProtocolDefinition) -> None:
    # Plausibility limits (bad input, not protocol limits) are site parameters of the definition (issue 11).
    plausible("weight_kg", "weight_kg", request.weight_kg, protocol=protocol)
    # A typed mCi/kg far above R1 (1800: a slipped decimal point) is bad input; 19 is blocked by R1.
    plausible("mci_per_kg", "mci_per_kg", request.mci_per_kg, protocol=protocol)
    plausible("cumulative_mci_per_kg", "prior_mci_per_kg", request.prior_mci_per_kg, allow_zero=True, protocol=protocol)
    if request.preparation is not None and request.preparation not in protocol.preparations:
        raise InputError("preparation", f"unknown preparation '{request.preparation}'; known: {', '.join(protocol.preparations)}")
    if request.specific_activity_ci_per_mmol is not None and request.specific_activity_mci_per_mg is not None:
        raise InputError("specific_activity", "give the specific activity in Ci/mmol or in mCi/mg, not both")
    if request.specific_activity_ci_per_mmol is not None:
        plausible("specific_activity_ci_per_mmol", "specific_activity_ci_per_mmol",
                  request.specific_activity_ci_per_mmol, protocol=protocol)
        chosen = protocol.preparations.get(str(request.preparation))
        if chosen is not None and chosen.specific_activity_unit != "Ci/mmol":
            raise InputError("specific_activity_ci_per_mmol", f"{chosen.label}'s specific activity is stated in "
                             f"{chosen.specific_activity_unit}; use {specific_activity_field(chosen)}")
    if request.specific_activity_mci_per_mg is not None:
        plausible("specific_activity_mci_per_mg", "specific_activity_mci_per_mg",
                  request.specific_activity_mci_per_mg, protocol=protocol)
        chosen = protocol.preparations.get(str(request.preparation))
        if chosen is not None and chosen.specific_activity_unit != "mCi/mg":
            raise InputError("specific_activity_mci_per_mg", f"{chosen.label}'s specific activity is stated in "
                             f"{chosen.specific_activity_unit}; use {specific_activity_field(chosen)}")
    if request.final_volume_ml is not None:
        plausible("volume_ml", "final_volume_ml", request.final_volume_ml, protocol=protocol)
    if request.stock_concentration_mci_per_ml is not None:
        plausible("stock_concentration_mci_per_ml", "stock_concentration_mci_per_ml",
                  request.stock_concentration_mci_per_ml, protocol=protocol)
    if request.infusion_min is not None:
        plausible("infusion_min", "infusion_min", request.infusion_min, protocol=protocol)
    for name in ("cd34_per_kg", "marrow_mnc_per_kg"):
        value = getattr(request, name)
        if value is not None:
            plausible("cells_per_kg", name, value, allow_zero=True, protocol=protocol)
    for name in ("calibration_time", "administration_time"):
        value = getattr(request, name)
        if value is not None and (value.tzinfo is None or value.utcoffset() is None):
            raise InputError(name, "has no time zone: add the UTC offset")
    if (request.calibration_time is None) != (request.administration_time is None):
        missing = "calibration_time" if request.calibration_time is None else "administration_time"
        raise InputError(missing, "decay correction needs both the calibration time and the administration time")
    if request.last_mibg_date and request.treatment_date and request.last_mibg_date > request.treatment_date:
        raise InputError("last_mibg_date", "is after the treatment date")


# --------------------------------------------------------------------------------------------------------
# The plan


def plan_dose(request: DoseRequest, protocol: ProtocolDefinition | None = None) -> DosePlan:
    """Plan and check one prescription. Raises :class:`InputError` for bad input.

    >>> plan = plan_dose(DoseRequest(weight_kg=Decimal("22"), mci_per_kg=Decimal("18"), cd34_per_kg=Decimal("3E6")))
    >>> plan.activity.mci, plan.activity.mbq, plan.status
    (Decimal('396'), Decimal('14652'), 'ok')
    """
    protocol = protocol or load_protocol()
    limits = compile_dose_limits(protocol)
    found = limits.request_blocks(request) if limits is not None else None
    if found is None:  # a request or definition the compiled verdict does not read: the full planner decides
        return explain_dose(request, protocol)
    blocks, adequate = found
    clearances = request.chair_clearances
    blocked = bool(blocks) and any(not (clearable and rule in clearances) for rule, clearable in blocks)
    assert limits is not None
    return DosePlan.deferred(request, limits.label,
                             Activity(request.weight_kg * request.mci_per_kg), adequate,
                             request.prior_mci_per_kg + request.mci_per_kg, blocked,
                             lambda: _explain_plan(request, protocol))


def explain_dose(request: DoseRequest, protocol: ProtocolDefinition | None = None) -> DosePlan:
    """:func:`plan_dose` with every finding and formula built now and the status taken from them (the planner as it
    was before its verdict came first): the reference tests/unit/test_lazy_explanation.py compares with."""
    protocol = protocol or load_protocol()
    validate_request(request, protocol)
    detail = _explain_plan(request, protocol)
    return DosePlan(request, protocol.label, Activity(request.weight_kg * request.mci_per_kg), detail.max_activity,
                    detail.max_activity_inclusive, detail.max_activity_reason,
                    _stem_cells(request, protocol).adequate, request.prior_mci_per_kg + request.mci_per_kg,
                    detail.mibg_mass_mg, detail.drug_volume_ml, detail.infusion_rate_ml_per_h, detail.calibration,
                    detail.findings, detail.calculations)


def _explain_plan(request: DoseRequest, protocol: ProtocolDefinition) -> PlanDetail:
    """Every limit as a finding, the largest allowed activity and the preparation's figures, with their formulas."""
    activity = Activity(request.weight_kg * request.mci_per_kg)
    stem = _stem_cells(request, protocol)
    findings: list[Finding] = []
    bounds: list[UpperBound] = []
    for check in (_dose_range, _stem_cell_gate, _pheo_cap, _prior_mibg):
        new_findings, new_bounds = check(request, protocol, activity, stem)
        findings.extend(new_findings)
        bounds.extend(new_bounds)
    preparation = _preparation_checks(request, protocol, activity)
    findings.extend(preparation.findings)
    findings.extend(_stem_cell_optimum(request, protocol, stem))
    max_activity, inclusive, reason = _largest_allowed(request, protocol, bounds)
    calculations = [_activity_calculation(request, activity), *preparation.calculations]
    return PlanDetail(max_activity, inclusive, reason, preparation.mass_mg, preparation.drug_volume_ml,
                      preparation.rate_ml_per_h, preparation.calibration,
                      tuple(_apply_chair_clearances(findings, request.chair_clearances)), tuple(calculations))


def _activity_calculation(request: DoseRequest, activity: Activity) -> Calculation:
    return Calculation(
        name="Prescribed activity",
        value=f"{activity.mci}",
        unit="mCi",
        formula=(
            f"A = weight x dose = {request.weight_kg} kg x {request.mci_per_kg} mCi/kg = {activity.mci} mCi; "
            f"x 37 MBq/mCi = {activity.mbq} MBq = {activity.gbq} GBq"
        ),
        inputs=(
            InputUsed("weight", str(request.weight_kg), "kg", field="weight_kg"),
            InputUsed("dose", str(request.mci_per_kg), "mCi/kg", field="mci_per_kg"),
        ),
    )


def _show(activity_mci: Decimal) -> str:
    a = Activity(activity_mci)
    return f"{round_mci(a.mci)} mCi ({round_mbq(a.mbq)} MBq, {round_gbq(a.gbq)} GBq)"


# ---- stem cells (clinical-reference §1.3 S1-S3; decisions.md A15) ---------------------------------------


@dataclass(frozen=True, slots=True)
class StemCells:
    adequate: bool
    at_optimum: bool
    description: str


def _stem_cells(request: DoseRequest, protocol: ProtocolDefinition) -> StemCells:
    # The one stem-cell status, shared with the screening (mibg.core.stem_cells).
    status = stem_cell_status(request.cd34_per_kg, request.marrow_mnc_per_kg, protocol)
    return StemCells(status.adequate, status.at_optimum, status.description)


def _stem_cell_optimum(request: DoseRequest, protocol: ProtocolDefinition, stem: StemCells) -> list[Finding]:
    if stem.adequate and not stem.at_optimum:
        gate = protocol.dose_limit("S2")
        return [Finding("S1", Severity.WARN,
                        f"Stored stem cells are adequate but below the optimum ({stem.description}; optimum > "
                        f"{gate.quantity('optimum_cd34_per_kg').value:.0E} CD34+/kg or > "
                        f"{gate.quantity('optimum_mnc_per_kg').value:.0E} MNC/kg).",
                        reference=gate.reference)]
    return []


# ---- the limit checks: each returns findings and upper bounds on the total activity -----------------------

Check = tuple[list[Finding], list[UpperBound]]


def _dose_range(request: DoseRequest, protocol: ProtocolDefinition, activity: Activity, stem: StemCells) -> Check:
    """R1: 8-18 mCi/kg inclusive, warning below 10 (decisions.md A1)."""
    limit = protocol.dose_limit("R1")
    low = limit.quantity("minimum_mci_per_kg").value
    high = limit.quantity("maximum_mci_per_kg").value
    warn_below = limit.quantity("warn_below_mci_per_kg").value
    w = request.weight_kg
    bound = UpperBound("R1", high * w, True, f"R1 maximum {high} mCi/kg x {w} kg")
    dose = request.mci_per_kg
    if dose > high:
        message = (f"{dose} mCi/kg is above the protocol maximum of {high} mCi/kg; the largest allowed by R1 is "
                   f"{high} mCi/kg = {_show(high * w)} for {w} kg.")
        return [Finding("R1", Severity.BLOCK, message, reference=limit.reference)], [bound]
    if dose < low:
        message = (f"{dose} mCi/kg is below the protocol minimum of {low} mCi/kg ({_show(low * w)} for {w} kg); "
                   f"the range is {low}-{high} mCi/kg.")
        return [Finding("R1", Severity.BLOCK, message, reference=limit.reference)], [bound]
    if dose < warn_below:
        message = (f"{dose} mCi/kg is within the protocol range {low}-{high} mCi/kg but below {warn_below} mCi/kg, "
                   f"the lower end the record's description gives (decisions.md A1).")
        return [Finding("R1", Severity.WARN, message, reference=limit.reference)], [bound]
    return [Finding("R1", Severity.INFO, f"{dose} mCi/kg is within the protocol range {low}-{high} mCi/kg.",
                    reference=limit.reference)], [bound]


def _stem_cell_gate(request: DoseRequest, protocol: ProtocolDefinition, activity: Activity, stem: StemCells) -> Check:
    """S2/S3: above 12 mCi/kg needs adequate stem cells; without them the dose must be below 12 (A2)."""
    limit = protocol.dose_limit("S2")
    gate = limit.quantity("gate_mci_per_kg").value
    w = request.weight_kg
    dose = request.mci_per_kg
    if stem.adequate:
        return [Finding("S2", Severity.INFO, f"Adequate stored stem cells ({stem.description}): doses above {gate} "
                        "mCi/kg are allowed.", reference=limit.reference)], []
    cleared_at_gate = "S2" in request.chair_clearances
    bound = UpperBound("S2", gate * w, cleared_at_gate,
                       f"no adequate stem cells: below {gate} mCi/kg x {w} kg" if not cleared_at_gate
                       else f"no adequate stem cells; study chair cleared exactly {gate} mCi/kg x {w} kg")
    if dose > gate:
        message = (f"{dose} mCi/kg needs an adequate stored stem-cell product and there is none ({stem.description}); "
                   f"without one the dose must be below {gate} mCi/kg, i.e. below {_show(gate * w)} for {w} kg.")
        return [Finding("S2", Severity.BLOCK, message, reference=limit.reference)], [bound]
    if dose == gate:
        message = (f"Exactly {gate} mCi/kg without an adequate stem-cell product ({stem.description}): the protocol "
                   f"says the dose should be below {gate} mCi/kg (decisions.md A2). Blocked unless the study chair "
                   "records a decision to clear it.")
        return [Finding("S2", Severity.BLOCK, message, reference=limit.reference, chair_clearable=True)], [bound]
    return [Finding("S2", Severity.INFO, f"No adequate stem cells ({stem.description}); {dose} mCi/kg is below "
                    f"{gate} mCi/kg as required.", reference=limit.reference)], [bound]


def _pheo_cap(request: DoseRequest, protocol: ProtocolDefinition, activity: Activity, stem: StemCells) -> Check:
    """R2: pheo/paraganglioma total at most min(500 mCi, 12 mCi/kg x weight) (decisions.md A3)."""
    if not request.diagnosis.is_pheo_or_paraganglioma:
        return [], []
    limit = protocol.dose_limit("R2")
    cap_total = limit.quantity("maximum_total_mci").value
    cap_per_kg = limit.quantity("maximum_mci_per_kg").value
    w = request.weight_kg
    cap = min(cap_total, cap_per_kg * w)
    basis = f"the lesser of {cap_total} mCi and {cap_per_kg} mCi/kg x {w} kg = {cap_per_kg * w} mCi"
    cleared = "R2" in request.chair_clearances
    bounds = [] if cleared else [UpperBound("R2", cap, True, f"R2 cap: {basis}")]
    if activity.mci > cap:
        message = (f"{_show(activity.mci)} is above the {request.diagnosis} cap, {basis}; the largest allowed is "
                   f"{_show(cap)}. The planner does not lower the prescription; a study-chair decision can clear it.")
        return [Finding("R2", Severity.BLOCK, message, reference=limit.reference, chair_clearable=True)], bounds
    return [Finding("R2", Severity.INFO, f"Within the {request.diagnosis} cap: {basis}.", reference=limit.reference)], bounds


def _prior_mibg(request: DoseRequest, protocol: ProtocolDefinition, activity: Activity, stem: StemCells) -> Check:
    """T5: prior MIBG more than 6 calendar months before, adequate stem cells, cumulative <= 60 (A13, A14)."""
    limit = protocol.dose_limit("T5")
    months = int(limit.quantity("more_than_months").value)
    max_cumulative = limit.quantity("maximum_cumulative_mci_per_kg").value
    w = request.weight_kg
    prior = request.prior_mci_per_kg
    has_prior = prior > 0 or request.last_mibg_date is not None
    if not has_prior:
        return [Finding("T5", Severity.INFO, "No prior 131I-MIBG therapy recorded.", reference=limit.reference)], []
    findings: list[Finding] = []
    remaining = max_cumulative - prior
    bounds = [UpperBound("T5", max(remaining, Decimal(0)) * w, True,
                         f"cumulative {max_cumulative} mCi/kg - prior {prior} mCi/kg = {remaining} mCi/kg x {w} kg")]
    cumulative = prior + request.mci_per_kg
    if cumulative > max_cumulative:
        findings.append(Finding("T5", Severity.BLOCK,
                                f"Cumulative 131I-MIBG {prior} + {request.mci_per_kg} = {cumulative} mCi/kg would exceed "
                                f"{max_cumulative} mCi/kg; the largest allowed this course is {max(remaining, Decimal(0))} "
                                f"mCi/kg = {_show(max(remaining, Decimal(0)) * w)}.", reference=limit.reference))
    else:
        findings.append(Finding("T5", Severity.INFO,
                                f"Cumulative 131I-MIBG {prior} + {request.mci_per_kg} = {cumulative} mCi/kg, within "
                                f"{max_cumulative} mCi/kg.", reference=limit.reference))
    findings.extend(_interval_findings(request, limit.reference, months, bounds))
    if not stem.adequate:
        findings.append(Finding("T5", Severity.BLOCK,
                                "Prior 131I-MIBG therapy is allowed only with adequate stored stem cells "
                                f"({stem.description}).", reference=limit.reference))
        bounds.append(UpperBound("T5", Decimal(0), True, "prior MIBG without adequate stem cells"))
    return findings, bounds


def _interval_findings(request: DoseRequest, reference: str, months: int, bounds: list[UpperBound]) -> Iterator[Finding]:
    if request.last_mibg_date is None:
        bounds.append(UpperBound("T5", Decimal(0), True, "date of the last MIBG course unknown"))
        yield Finding("T5", Severity.BLOCK, "A prior 131I-MIBG dose is recorded without the date of that course; "
                      f"the {months}-month interval cannot be checked.", reference=reference)
        return
    if request.treatment_date is None:
        bounds.append(UpperBound("T5", Decimal(0), True, "treatment date unknown"))
        yield Finding("T5", Severity.BLOCK, f"The treatment date is needed to check the {months}-month interval since "
                      f"the last 131I-MIBG course ({request.last_mibg_date}).", reference=reference)
        return
    same_day = add_months(request.last_mibg_date, months)
    if request.treatment_date > same_day:
        yield Finding("T5", Severity.INFO, f"Last 131I-MIBG {request.last_mibg_date}; treatment {request.treatment_date} "
                      f"is more than {months} calendar months later (first allowed day {_next_day(same_day)}).",
                      reference=reference)
        return
    bounds.append(UpperBound("T5", Decimal(0), True, f"less than {months} months since the last course"))
    yield Finding("T5", Severity.BLOCK, f"Last 131I-MIBG {request.last_mibg_date}: the treatment date {request.treatment_date} "
                  f"is not more than {months} calendar months later; the first allowed day is {_next_day(same_day)} "
                  "(decisions.md A13).", reference=reference)


def _next_day(day: date) -> date:
    return date.fromordinal(day.toordinal() + 1)


def _largest_allowed(request: DoseRequest, protocol: ProtocolDefinition, bounds: Iterable[UpperBound]) -> tuple[Activity | None, bool, str]:
    """The smallest upper bound; ties go to the exclusive one. None of the range left -> zero."""
    ordered = sorted(bounds, key=lambda b: (b.activity_mci, b.inclusive))
    if not ordered:
        return None, True, "no limit applies"
    best = ordered[0]
    low = protocol.dose_limit("R1").quantity("minimum_mci_per_kg").value * request.weight_kg
    if best.activity_mci < low or (best.activity_mci == low and not best.inclusive):
        return Activity(Decimal(0)), True, (f"no dose is allowed: {best.reason} leaves nothing at or above the "
                                            f"protocol minimum {_show(low)}")
    qualifier = "at most" if best.inclusive else "below"
    per_kg = round_per_kg(best.activity_mci / request.weight_kg)
    return Activity(best.activity_mci), best.inclusive, f"{qualifier} {_show(best.activity_mci)} ({per_kg} mCi/kg): {best.reason}"


def _apply_chair_clearances(findings: list[Finding], clearances: frozenset[str]) -> Iterator[Finding]:
    """A recorded study-chair decision turns a clearable block into information (decisions.md A2, A3)."""
    for finding in findings:
        if finding.severity is Severity.BLOCK and finding.chair_clearable and finding.rule in clearances:
            yield Finding(finding.rule, Severity.INFO, f"Cleared by a recorded study-chair decision: {finding.message}",
                          finding.inputs, finding.reference, True, "study chair")
        else:
            yield finding


# ---- preparation: specific activity, mass, volume, duration, rate, decay (R3, R4, R6) ---------------------


@dataclass(frozen=True, slots=True)
class PreparationResult:
    findings: list[Finding]
    calculations: list[Calculation]
    mass_mg: Decimal | None
    drug_volume_ml: Decimal | None
    rate_ml_per_h: Decimal | None
    calibration: DecayCorrection | None


def _preparation_checks(request: DoseRequest, protocol: ProtocolDefinition, activity: Activity) -> PreparationResult:
    findings: list[Finding] = []
    calculations: list[Calculation] = []
    calibration = None
    if request.calibration_time is not None and request.administration_time is not None:
        calibration = activity_to_draw_at_calibration(activity, request.calibration_time, request.administration_time,
                                                      protocol.constant("i131_half_life_days"))
        calculations.append(Calculation("Activity at calibration time", f"{calibration.activity_to.mci:.2f}", "mCi",
                                        calibration.formula))
        findings.extend(_decay_findings(request, calibration, protocol))
    if request.preparation is None:
        findings.append(Finding("R3", Severity.INFO, "No preparation chosen: MIBG mass, drug volume and infusion "
                                "duration are not checked.", reference=protocol.dose_limit("R3").reference))
        return PreparationResult(findings, calculations, None, None, _rate(request, calculations), calibration)
    preparation = protocol.preparations[request.preparation]
    mass = _mass(request, protocol, activity, calibration, findings, calculations)
    drug_volume = _drug_volume(request, protocol, activity, calibration, calculations)
    findings.extend(_volume_findings(request, protocol, drug_volume))
    findings.extend(_duration_findings(request, protocol))
    if preparation.discontinued:
        findings.append(Finding("R3", Severity.WARN, f"{preparation.name}: {preparation.discontinued_note}.",
                                reference=preparation.reference))
    return PreparationResult(findings, calculations, mass, drug_volume, _rate(request, calculations), calibration)


def _decay_findings(request: DoseRequest, calibration: DecayCorrection, protocol: ProtocolDefinition) -> Iterator[Finding]:
    days = abs(calibration.elapsed_hours) / 24
    # elapsed_hours runs from administration to calibration: negative when calibration comes first.
    direction = "before" if calibration.elapsed_hours < 0 else "after"
    yield Finding("DECAY", Severity.INFO,
                  f"Calibration time is {round_per_kg(days)} days {direction} administration: draw "
                  f"{_show(calibration.activity_to.mci)} at calibration to give {_show(request.weight_kg * request.mci_per_kg)} "
                  f"at administration (decay factor {calibration.factor}).")
    warn_days = protocol.site("calibration_span_warn_days")
    if days > warn_days:
        yield Finding("DECAY", Severity.WARN, f"Calibration and administration are {round_per_kg(days)} days apart, more "
                      f"than {warn_days} days (calibration_span_warn_days); check both times.")
    if request.treatment_date and request.administration_time and site_date(request.administration_time) != request.treatment_date:
        yield Finding("DECAY", Severity.WARN, f"The administration time ({site_time(request.administration_time)}) is not on "
                      f"the treatment date ({request.treatment_date}).")


def _mass(request: DoseRequest, protocol: ProtocolDefinition, activity: Activity, calibration: DecayCorrection | None,
          findings: list[Finding], calculations: list[Calculation]) -> Decimal | None:
    """MIBG free-base mass = activity at the specific activity's reference time / specific activity.

    decisions.md A28: the mass is fixed at preparation. The lot's specific activity refers to its calibration
    time, so the mass is the activity drawn at calibration / specific activity, and the mass at administration
    is that same mass. Computing it from the activity at administration understates it by the decay between
    the two times (clinical-reference §2.4: 1/0.9272 -> 7.9 % at 21 h, 1/0.7716 -> 30 % at 3 days), and with
    the low-specific-activity product this mass is the one that matters for pressor effects (clinical-reference
    §5.4 for the formula; decisions.md "MIBG mass" for the free base and M = 275.09 g/mol).
    """
    limit = protocol.dose_limit("R3")
    preparation = protocol.preparations[str(request.preparation)]
    if calibration is not None:
        drawn = calibration.activity_to.mci
        at = f"activity at the lot's calibration time {site_time(calibration.time_to)} = {drawn:.4f} mCi"
    else:
        drawn = activity.mci
        at = f"prescribed activity {drawn} mCi (no calibration time given)"
        findings.append(Finding("A28", Severity.WARN, "No calibration time given: the MIBG mass is computed from the "
                                "activity at administration, which understates the mass drawn when the lot's "
                                "calibration is earlier; enter the calibration and administration times "
                                "(decisions.md A28).", reference=limit.reference))
    if preparation.specific_activity_unit == "mCi/mg":  # mass straight from mCi/mg (AZEDRA's label states one value)
        default = Decimal(preparation.specific_activity["value"])
        sa = request.specific_activity_mci_per_mg or default
        source = "lot certificate" if request.specific_activity_mci_per_mg else "label value, no lot certificate given"
        mass = drawn / sa
        calculations.append(Calculation("MIBG mass", f"{mass:.4f}", "mg",
                                        f"m = A(calibration) / SA = {at} / {sa} mCi/mg ({source}) = {mass:.4f} mg "
                                        "(decisions.md A28)"))
        return mass
    sa_ci = request.specific_activity_ci_per_mmol
    if sa_ci is None:
        findings.append(Finding("R3", Severity.BLOCK, f"{preparation.name}: the lot's specific activity in Ci/mmol is "
                                "required (decisions.md 'Specific activity').", reference=limit.reference))
        return None
    low = Decimal(preparation.specific_activity["minimum"])
    high = Decimal(preparation.specific_activity["maximum"])
    if not low <= sa_ci <= high:
        findings.append(Finding("R3", Severity.WARN, f"Specific activity {sa_ci} Ci/mmol is outside the protocol's "
                                f"{low}-{high} Ci/mmol for {preparation.name}.", reference=limit.reference))
    molar_mass = protocol.constant("mibg_molar_mass_g_per_mol")
    mmol = drawn / 1000 / sa_ci
    mass = mmol * molar_mass
    calculations.append(Calculation("MIBG mass", f"{mass:.4f}", "mg",
                                    f"n = A(calibration) / SA: {at}; {drawn / 1000:.7f} Ci / {sa_ci} Ci/mmol = "
                                    f"{mmol:.6f} mmol; m = n x M = {mmol:.6f} mmol x {molar_mass} mg/mmol = "
                                    f"{mass:.4f} mg (free base; decisions.md A28)"))
    return mass


def _drug_volume(request: DoseRequest, protocol: ProtocolDefinition, activity: Activity,
                 calibration: DecayCorrection | None, calculations: list[Calculation]) -> Decimal | None:
    """The volume of stock to draw at its calibration time and the diluent to the final volume (decisions.md A38).

    Volume to draw = activity at calibration / the stock's concentration at calibration (entered, or the label's
    15 mCi/mL for AZEDRA, clinical-reference §5.1); diluent (0.9 % NaCl) = final volume - volume to draw. Both
    hold at the calibration time: the stock is drawn then. Without a calibration time the prescribed activity
    is used, a lower bound."""
    preparation = protocol.preparations[str(request.preparation)]
    if request.stock_concentration_mci_per_ml is not None:
        concentration, source = request.stock_concentration_mci_per_ml, "the stock's concentration as entered"
    elif preparation.concentration_at_calibration is not None:
        concentration, source = preparation.concentration_at_calibration.value, "the label's concentration"
    else:
        return None
    at_calibration = calibration.activity_to.mci if calibration else activity.mci
    note = "activity at calibration" if calibration else "prescribed activity (no calibration time given: a lower bound)"
    volume = at_calibration / concentration
    calculations.append(Calculation("Drug volume", f"{volume:.2f}", "mL",
                                    f"Volume to draw at the calibration time: V = {note} / concentration ({source}) = "
                                    f"{at_calibration:.2f} mCi / {concentration} mCi/mL = {volume:.2f} mL "
                                    "(decisions.md A38)"))
    if request.final_volume_ml is not None and request.final_volume_ml >= volume:
        diluent = request.final_volume_ml - volume
        calculations.append(Calculation("Diluent volume", f"{diluent:.2f}", "mL",
                                        f"0.9 % NaCl to the final volume: {request.final_volume_ml} mL - {volume:.2f} mL "
                                        f"= {diluent:.2f} mL (decisions.md A38)"))
    return volume


def _volume_findings(request: DoseRequest, protocol: ProtocolDefinition, drug_volume: Decimal | None) -> Iterator[Finding]:
    """R4: final volume 25-50 mL and not less than the drug's own volume (clinical-reference §1.5 A20)."""
    limit = protocol.dose_limit("R4")
    low = limit.quantity("minimum_ml").value
    high = limit.quantity("maximum_ml").value
    volume = request.final_volume_ml
    if volume is None:
        yield Finding("R4", Severity.INFO, f"Final volume not given: it must be {low}-{high} mL.", reference=limit.reference)
        return
    if not low <= volume <= high:
        yield Finding("R4", Severity.BLOCK, f"Final infusion volume {volume} mL is outside {low}-{high} mL.",
                      reference=limit.reference)
    if drug_volume is not None and volume < drug_volume:
        yield Finding("R4", Severity.BLOCK, f"Final volume {volume} mL is less than the drug's own volume "
                      f"{drug_volume:.2f} mL.", reference=limit.reference)
    if drug_volume is not None and drug_volume > high:
        yield Finding("R4", Severity.BLOCK, f"The drug alone is {drug_volume:.2f} mL, more than the {high} mL maximum "
                      "final volume.", reference=limit.reference)


def _duration_findings(request: DoseRequest, protocol: ProtocolDefinition) -> Iterator[Finding]:
    """R6: AZEDRA 30-60 min, DraxImage 90-120 min, inclusive."""
    limit = protocol.dose_limit("R6")
    preparation = protocol.preparations[str(request.preparation)]
    low, high = preparation.infusion_minimum_min, preparation.infusion_maximum_min
    minutes = request.infusion_min
    if minutes is None:
        yield Finding("R6", Severity.INFO, f"Infusion duration not given: {preparation.name} is infused over "
                      f"{low}-{high} min.", reference=limit.reference)
    elif not low <= minutes <= high:
        yield Finding("R6", Severity.BLOCK, f"Infusion over {minutes} min is outside {low}-{high} min for "
                      f"{preparation.name}.", reference=limit.reference)


def _rate(request: DoseRequest, calculations: list[Calculation]) -> Decimal | None:
    if request.final_volume_ml is None or request.infusion_min is None:
        return None
    rate = request.final_volume_ml * 60 / request.infusion_min
    calculations.append(Calculation("Infusion rate", f"{rate:.2f}", "mL/h",
                                    f"rate = volume / duration = {request.final_volume_ml} mL / ({request.infusion_min} min "
                                    f"/ 60 min/h) = {rate:.2f} mL/h"))
    return rate


# --------------------------------------------------------------------------------------------------------
# From a patient snapshot


def stored_products(snapshot: PatientSnapshot) -> tuple[StemCellProduct, ...]:
    """The stem-cell products still stored: every recorded product not yet infused (decisions.md A24)."""
    return tuple(p for p in snapshot.stem_cell_products if p.infused_on is None)


def stem_cells_per_kg(snapshot: PatientSnapshot, weight_kg: Decimal) -> tuple[Decimal | None, Decimal | None]:
    """CD34+/kg and MNC/kg of the stored products, per kg of the current weight (decisions.md A15, A24): the cells
    of every stored, not infused product of one kind are summed; peripheral blood and marrow are never mixed."""
    products = stored_products(snapshot)
    cd34 = [p.total_cd34_cells for p in products
            if p.product_type is StemCellProductType.PBSC and p.total_cd34_cells is not None]
    mnc = [p.total_mononuclear_cells for p in products
           if p.product_type is StemCellProductType.BONE_MARROW and p.total_mononuclear_cells is not None]
    return (sum(cd34, Decimal(0)) / weight_kg if cd34 else None, sum(mnc, Decimal(0)) / weight_kg if mnc else None)


def cleared_rules(decisions: Iterable[ChairDecision]) -> frozenset[str]:
    """The rules whose latest chair decision clears them. A decision clears exactly the rule it names, nothing
    more (decisions.md A35): a decision on S1 at screening does not clear the S2 dose gate."""
    latest: dict[str, ChairDecision] = {}
    for decision in sorted(decisions, key=lambda d: d.at):
        latest[decision.criterion] = decision
    return frozenset(rule for rule, decision in latest.items() if decision.cleared)


_ZERO = Decimal(0)
_NO_CLEARANCES: frozenset[str] = frozenset()


def current_weight(snapshot: PatientSnapshot, protocol: ProtocolDefinition) -> Decimal:
    """The weight for the dose and every per-kg figure: measured within the site's window (default 7 days) before the
    planned treatment date (decisions.md A20). Otherwise an InputError naming the field."""
    window = int(protocol.site("weight_max_age_days"))
    if snapshot.weight_kg is None:
        raise InputError("weight_kg", "the patient's weight is not recorded")
    measured = snapshot.weight_measured_on
    if measured is None:
        raise InputError("weight_measured_on", f"the date of the weighing is not recorded; the dose uses a weight "
                         f"measured within {window} days before the treatment date (decisions.md A20)")
    first = date.fromordinal(snapshot.planned_treatment_date.toordinal() - window)
    if not first <= measured <= snapshot.planned_treatment_date:
        raise InputError("weight_measured_on", f"the weight was measured on {measured}, not within {window} days before "
                         f"the treatment date {snapshot.planned_treatment_date} ({first} to "
                         f"{snapshot.planned_treatment_date}); weigh the patient again (decisions.md A20)")
    return snapshot.weight_kg


def dose_request_from_snapshot(snapshot: PatientSnapshot, *, mci_per_kg: Decimal, preparation: str | None = None,
                               protocol: ProtocolDefinition | None = None, **overrides: object) -> DoseRequest:
    """A :class:`DoseRequest` with weight, diagnosis, stem cells and prior courses taken from the snapshot.

    The weight must be current (A20); stem cells are the stored products summed per kind (A24); each prior course
    counts total mCi / weight when its total is recorded (A25); chair decisions clear exactly the rules they name
    (A35)."""
    protocol = protocol or load_protocol()
    weight = current_weight(snapshot, protocol)
    # Each figure computed only when the snapshot has something to compute it from (screening makes thousands a
    # second); the values are those of the general expressions.
    cd34, mnc = stem_cells_per_kg(snapshot, weight) if snapshot.stem_cell_products else (None, None)
    courses = snapshot.prior_mibg_courses
    prior = sum((c.counted_mci_per_kg for c in courses), Decimal(0)) if courses else _ZERO
    last = max((c.infusion_date for c in courses), default=None) if courses else None
    decisions = snapshot.chair_decisions
    diagnosis = snapshot.diagnosis
    values: dict[str, Any] = {
        "weight_kg": weight,
        "mci_per_kg": mci_per_kg,
        "diagnosis": diagnosis.kind if diagnosis else DiagnosisKind.NEUROBLASTOMA,
        "preparation": preparation,
        "cd34_per_kg": cd34,
        "marrow_mnc_per_kg": mnc,
        "prior_mci_per_kg": prior,
        "last_mibg_date": last,
        "treatment_date": snapshot.planned_treatment_date,
        "chair_clearances": cleared_rules(decisions) if decisions else _NO_CLEARANCES,
    }
    if overrides:
        values.update(overrides)
    return DoseRequest(**values)


# --------------------------------------------------------------------------------------------------------
# The verdict first, the explanation on demand (issue 14)


def dose_blocks(request: DoseRequest, protocol: ProtocolDefinition) -> tuple[tuple[str, bool], ...]:
    """Every limit that blocks ``request``, as (rule, chair-clearable), before chair clearances: the plan's verdict.
    Decided by the limits compiled once per definition (:mod:`mibg.core.dose_verdict`) where they can, else by the
    full planner: its findings that block or that a chair decision cleared (validating the request first, so bad
    input is refused with an InputError, as :func:`plan_dose`). Two expressions of each limit, no third: the
    findings above (the reference and the fallback) and the compiled verdict."""
    limits = compile_dose_limits(protocol)
    found = limits.request_blocks(request) if limits is not None else None
    if found is not None:
        return found[0]
    validate_request(request, protocol)
    return tuple((f.rule, f.chair_clearable) for f in _explain_plan(request, protocol).findings
                 if f.severity is Severity.BLOCK or f.cleared_by)


#: The module's public surface: what the other layers may import (tests/unit/test_architecture.py).
__all__ = [
    "DOSE_PLAN_SCHEMA",
    "DOSE_PLAN_VERSION",
    "SPECIFIC_ACTIVITY_FIELDS",
    "Check",
    "DosePlan",
    "DoseRequest",
    "ExplanationMismatch",
    "PlanDetail",
    "PreparationResult",
    "StemCells",
    "UpperBound",
    "cleared_rules",
    "current_weight",
    "dose_blocks",
    "dose_request_from_snapshot",
    "explain_dose",
    "plan_dose",
    "specific_activity_field",
    "stem_cells_per_kg",
    "stored_products",
    "validate_request",
]

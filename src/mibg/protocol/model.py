"""Types of the protocol definition: criteria, dose limits, preparations, constants, site parameters.

The definition is data (``nct01370330.json``); these types give it shape. Everything is immutable so a
loaded definition can be shared and cached. Numbers are ``Decimal`` parsed from strings in the file, so a
threshold of 0.75 is exactly 0.75.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any


@dataclass(frozen=True, slots=True)
class Quantity:
    """A number with its unit, e.g. ``Quantity(Decimal("0.75"), "10^9/L")``."""

    value: Decimal
    unit: str

    def __str__(self) -> str:
        return f"{self.value} {self.unit}"


@dataclass(frozen=True, slots=True)
class Criterion:
    """One inclusion or exclusion criterion of the protocol record.

    ``check`` names the generic evaluator and ``params`` holds its thresholds, so changing a threshold is a
    change of data, not of code.
    """

    id: str
    kind: str  # "inclusion" | "exclusion"
    group: str
    title: str
    wording: str
    check: str
    params: Mapping[str, Any]
    decisions: tuple[str, ...]
    reference: str

    def quantity(self, name: str) -> Quantity:
        return _quantity(self.params, name, self.id)


@dataclass(frozen=True, slots=True)
class DoseLimit:
    """One limit the dose planner checks (R1, S2, R2, T5, R3, R4, R6)."""

    id: str
    title: str
    wording: str
    check: str
    params: Mapping[str, Any]
    chair_clearable: bool
    decisions: tuple[str, ...]
    reference: str

    def quantity(self, name: str) -> Quantity:
        return _quantity(self.params, name, self.id)


@dataclass(frozen=True, slots=True)
class Preparation:
    key: str
    name: str
    specific_activity: Mapping[str, str]
    specific_activity_required: bool
    concentration_at_calibration: Quantity | None
    infusion_minimum_min: Decimal
    infusion_maximum_min: Decimal
    discontinued: bool
    reference: str
    short_name: str = ""
    discontinued_note: str = ""

    @property
    def specific_activity_unit(self) -> str:
        """The unit the preparation's specific activity is stated in: ``mCi/mg`` (AZEDRA) or ``Ci/mmol`` (DraxImage)."""
        return str(self.specific_activity["unit"])

    @property
    def label(self) -> str:
        """How screens name it: the short name, else the full one."""
        return self.short_name or self.name


@dataclass(frozen=True, slots=True)
class Constant:
    name: str
    value: Decimal | None
    unit: str
    source: str


@dataclass(frozen=True, slots=True)
class Decision:
    id: str
    point: str
    decision: str


@dataclass(frozen=True, slots=True)
class Amendment:
    """A site's recorded change to a parameter of the definition."""

    parameter: str
    old_value: str
    new_value: str
    reason: str


@dataclass(frozen=True, slots=True)
class Translation:
    """A translation of the family's documents, and whether a qualified reviewer has checked it.

    Unreviewed text is printed with a notice saying so (issue 15); a site records the review here with a reason,
    as for any site change of the definition.
    """

    language: str
    name: str
    documents: tuple[str, ...]
    translated_by: str
    reviewed_by: str | None
    reviewed_on: date | None
    source: str

    @property
    def reviewed(self) -> bool:
        return bool(self.reviewed_by) and self.reviewed_on is not None


@dataclass(frozen=True, slots=True)
class TimePoint:
    """A time relative to an anchor of the course: ``anchor`` (infusion, infusion_end, release, treatment_date)
    plus ``offset``, a number or the name of a care-plan or site parameter (with its unit), ``-`` for before."""

    anchor: str
    offset: str


@dataclass(frozen=True, slots=True)
class CareOrder:
    """One supportive-care order of the course's order set (issue 13 §1)."""

    code: str
    name: str
    resource: str  # FHIR resource type: MedicationRequest or ServiceRequest
    role: str  # whose worklist it is on
    start: TimePoint
    end: TimePoint | None
    every: str | None  # repeat interval: a number (every_unit) or a parameter name; None = once, at start
    every_unit: str
    every_closer: str | None  # the closer interval for pheochromocytoma/paraganglioma and the LSA product
    grace_hours: Decimal  # an occurrence not recorded by then is missed; recorded later, it is late
    dose: str | None  # "iodide_table", "hydration" or None
    when: Mapping[str, str]  # a condition, e.g. {"age_below": "catheter_below_age_years"}
    check: str | None
    instructions: str
    source: str


@dataclass(frozen=True, slots=True)
class CalendarItem:
    """One entry of the course calendar (issue 13 §2), placed from an anchor by care-plan parameters."""

    code: str
    title: str
    role: str
    anchor: str
    source: str
    order: str | None = None  # the span of that order (iodide days)
    window: tuple[str, str] | None = None  # from, to (days)
    every: str | None = None  # repeat every ... days/hours until ``until``
    until: str | None = None
    day: str | None = None
    months_after: str | None = None


@dataclass(frozen=True, slots=True)
class IodideBand:
    from_kg: Decimal  # inclusive
    below_kg: Decimal | None  # exclusive; None: no upper bound
    mg_per_day: Decimal


@dataclass(frozen=True, slots=True)
class IodideTable:
    drug: str
    status: str
    source: str
    bands: tuple[IodideBand, ...]

    def fingerprint(self) -> str:
        """The table's content, for a pharmacist's confirmation: a changed table needs a new one."""
        return ";".join(f"{b.from_kg}-{b.below_kg if b.below_kg is not None else ''}:{b.mg_per_day}" for b in self.bands)


@dataclass(frozen=True, slots=True)
class InterferingClass:
    name: str
    examples: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CarePlan:
    source: str
    parameters: Mapping[str, Constant]
    iodide_table: IodideTable
    interfering_source: str
    interfering: tuple[InterferingClass, ...]
    closer_diagnoses: tuple[str, ...]
    closer_preparations: tuple[str, ...]
    closer_source: str
    orders: tuple[CareOrder, ...]
    calendar: tuple[CalendarItem, ...]

    def order(self, code: str) -> CareOrder:
        for order in self.orders:
            if order.code == code:
                return order
        raise KeyError(f"the care plan has no order {code}")


@dataclass(frozen=True, slots=True)
class DeadlineRule:
    """One regulatory or IRB clock of an event report (issue 13 §3), with its source.

    ``clock`` is ``"end_of_calendar_day"`` (the end of the site's calendar day ``days`` after the day of discovery;
    ``site_parameter`` names the site parameter holding ``days`` when the site sets it) or ``"hours"`` (``hours``
    after the moment of discovery). ``applies`` says when the clock runs: ``always``, ``unexpected_suspected`` or
    ``unexpected_suspected_fatal_or_life_threatening`` (21 CFR 312.32). ``waivable``: a documented reason may stand
    in for the notification. ``verified`` is False where the deadline was not checked against the CFR text.
    """

    code: str
    receiver: str
    action: str
    clock: str
    days: Decimal | None
    hours: Decimal | None
    site_parameter: str | None
    applies: str
    waivable: bool
    verified: bool
    source: str


@dataclass(frozen=True, slots=True)
class EventReportKind:
    """A kind of event report (possible medical event, serious adverse event) and its deadlines."""

    key: str
    title: str
    reference: str
    deadlines: tuple[DeadlineRule, ...]
    suspected_attributions: tuple[str, ...] = ()
    suspected_source: str = ""
    life_threatening_from_grade: int | None = None
    life_threatening_source: str = ""


@dataclass(frozen=True, slots=True)
class ProtocolDefinition:
    protocol_id: str
    title: str
    version: str
    record_last_updated: date
    effective_date: date
    source: str
    criteria: tuple[Criterion, ...]
    dose_limits: tuple[DoseLimit, ...]
    preparations: Mapping[str, Preparation]
    constants: Mapping[str, Constant]
    site_parameters: Mapping[str, Constant]
    decisions: Mapping[str, Decision]
    amendments: tuple[Amendment, ...] = field(default=())
    translations: Mapping[str, Translation] = field(default_factory=dict)
    event_reports: Mapping[str, EventReportKind] = field(default_factory=dict)
    care_plan: CarePlan | None = None
    #: Whole-body-dose band edges (Gy) of the programme analytics' stem-cell rescue table (issue 13 §6), and source.
    whole_body_dose_band_edges_gy: tuple[Decimal, ...] = ()
    whole_body_dose_bands_source: str = ""

    @property
    def label(self) -> str:
        """How results cite the definition, e.g. ``NCT01370330 v1.1.0``."""
        suffix = f"+site({len(self.amendments)})" if self.amendments else ""
        return f"{self.protocol_id} v{self.version}{suffix}"

    def criterion(self, criterion_id: str) -> Criterion:
        for criterion in self.criteria:
            if criterion.id == criterion_id:
                return criterion
        raise KeyError(f"the protocol has no criterion {criterion_id}")

    def dose_limit(self, limit_id: str) -> DoseLimit:
        for limit in self.dose_limits:
            if limit.id == limit_id:
                return limit
        raise KeyError(f"the protocol has no dose limit {limit_id}")

    def constant(self, name: str) -> Decimal:
        value = self.constants[name].value
        if value is None:
            raise KeyError(f"the protocol constant {name} has no value")
        return value

    def site(self, name: str) -> Decimal:
        value = self.site_parameters[name].value
        if value is None:
            raise KeyError(f"the site parameter {name} has no value")
        return value

    def site_or_none(self, name: str) -> Decimal | None:
        return self.site_parameters[name].value

    def with_site_parameter(self, name: str, value: Decimal | None, reason: str) -> ProtocolDefinition:
        """A copy with one site parameter changed, the change recorded with its reason (decisions.md)."""
        if not reason.strip():
            raise ValueError("a site change of a protocol parameter needs a reason")
        if name not in self.site_parameters:
            raise KeyError(f"unknown site parameter {name}")
        old = self.site_parameters[name]
        params = dict(self.site_parameters)
        params[name] = replace(old, value=value, source=f"site amendment: {reason}")
        amendment = Amendment(name, str(old.value), str(value), reason)
        return replace(self, site_parameters=params, amendments=(*self.amendments, amendment))


    def care_parameter(self, name: str) -> Constant:
        """A care-plan parameter, or a site parameter of the same name (lab_max_age_days, stem_cell_infusion_day)."""
        if self.care_plan is not None and name in self.care_plan.parameters:
            return self.care_plan.parameters[name]
        if name in self.site_parameters:
            return self.site_parameters[name]
        raise KeyError(f"no care-plan or site parameter {name}")

    def with_care_parameter(self, name: str, value: Decimal, reason: str) -> ProtocolDefinition:
        """A copy with one care-plan parameter changed by the site, recorded with its reason (issue 13)."""
        if not reason.strip():
            raise ValueError("a site change of a protocol parameter needs a reason")
        if self.care_plan is None or name not in self.care_plan.parameters:
            raise KeyError(f"unknown care-plan parameter {name}")
        old = self.care_plan.parameters[name]
        params = dict(self.care_plan.parameters)
        params[name] = replace(old, value=value, source=f"site amendment: {reason}")
        amendment = Amendment(f"care_plan.{name}", str(old.value), str(value), reason)
        return replace(self, care_plan=replace(self.care_plan, parameters=params),
                       amendments=(*self.amendments, amendment))

    def with_iodide_table(self, bands: tuple[IodideBand, ...], reason: str) -> ProtocolDefinition:
        """A copy with the site's own iodide weight-band table, recorded with its reason; it stays "to be
        confirmed by the site" until a pharmacist confirms this very table with a signature."""
        if not reason.strip():
            raise ValueError("a site change of a protocol parameter needs a reason")
        if self.care_plan is None:
            raise KeyError("the definition has no care plan")
        old = self.care_plan.iodide_table
        table = replace(old, bands=bands, source=f"site amendment: {reason}")
        amendment = Amendment("care_plan.iodide_table", old.fingerprint(), table.fingerprint(), reason)
        return replace(self, care_plan=replace(self.care_plan, iodide_table=table),
                       amendments=(*self.amendments, amendment))


def _quantity(params: Mapping[str, Any], name: str, owner: str) -> Quantity:
    value = params.get(name)
    if not isinstance(value, Quantity):
        raise KeyError(f"{owner} has no quantity parameter {name}")
    return value

"""Types of the protocol definition: criteria, dose limits, preparations, constants, site parameters.

The definition is data (``nct01370330.json``); these types give it shape. Everything is immutable so a
loaded definition can be shared and cached. Numbers are ``Decimal`` parsed from strings in the file, so a
threshold of 0.75 is exactly 0.75.

The care plan, the event-report clocks and the translations have their types in :mod:`mibg.protocol.sections`; a
loaded definition parses those sections when one is first read (:func:`unparsed`), so an answer that never reads
them does not build them (issue 14: start-up of ``mibg dose``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar, cast

from mibg.protocol.values import Constant as Constant
from mibg.protocol.values import Quantity as Quantity
from mibg.protocol.values import quantity_in

if TYPE_CHECKING:
    from mibg.protocol.sections import (
        Amendment,
        CarePlan,
        Criterion,
        Decision,
        EventReportKind,
        IodideBand,
        Translation,
    )


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
        return quantity_in(self.params, name, self.id)


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
        from mibg.protocol.sections import Amendment

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
        from mibg.protocol.sections import Amendment

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
        from mibg.protocol.sections import Amendment

        amendment = Amendment("care_plan.iodide_table", old.fingerprint(), table.fingerprint(), reason)
        return replace(self, care_plan=replace(self.care_plan, iodide_table=table),
                       amendments=(*self.amendments, amendment))


class _Unparsed:
    """A section of the definition file not parsed yet: its raw data and the function that parses it."""

    __slots__ = ("parse", "raw")

    def __init__(self, parse: Callable[[Any], object], raw: object) -> None:
        self.parse, self.raw = parse, raw


_Raw = TypeVar("_Raw")
_Parsed = TypeVar("_Parsed")


def unparsed(parse: Callable[[_Raw], _Parsed], raw: _Raw) -> _Parsed:
    """A value for a section field of :class:`ProtocolDefinition` that is parsed (``parse(raw)``) when first read.

    Reading the field gives exactly what parsing at load would have given (the definition is immutable), and the
    parsed value is kept: equality, ``repr``, ``dataclasses.replace`` and pickling all read the parsed value.
    """
    return cast(_Parsed, _Unparsed(parse, raw))


class _ParsedWhenRead:
    """Stands in front of a field's slot: a value given by :func:`unparsed` is parsed on its first read and stored
    in the slot in its place (one check of the value's type on each read; no other cost)."""

    __slots__ = ("slot",)

    def __init__(self, slot: Any) -> None:
        self.slot = slot

    def __get__(self, instance: object, owner: type | None = None) -> Any:
        if instance is None:
            return self
        value = self.slot.__get__(instance, owner)
        if type(value) is _Unparsed:
            value = value.parse(value.raw)
            self.slot.__set__(instance, value)
        return value

    def __set__(self, instance: object, value: object) -> None:
        self.slot.__set__(instance, value)

    def __delete__(self, instance: object) -> None:
        self.slot.__delete__(instance)


#: The sections parsed when first read (mibg.protocol.sections).
LAZY_SECTIONS = ("criteria", "decisions", "translations", "event_reports", "care_plan")
for _name in LAZY_SECTIONS:
    setattr(ProtocolDefinition, _name, _ParsedWhenRead(ProtocolDefinition.__dict__[_name]))

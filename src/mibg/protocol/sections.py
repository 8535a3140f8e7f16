"""The sections of the protocol definition that most answers do not read: the eligibility criteria, the decisions,
the care plan (issue 13), the event-report clocks and the translations of the family's documents, with their types and how they are parsed; and
the record of a site's change to the definition (:class:`Amendment`), made only when a site changes a parameter.

A loaded definition (:func:`mibg.protocol.load_protocol`) parses these sections when one is first read, so a command
that never reads them (``mibg dose``) neither parses them nor builds their types (issue 14: start-up). The file is
the same and so is every value read: :class:`mibg.protocol.model.ProtocolDefinition` keeps what it parsed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from mibg.protocol.values import Constant, Quantity, parse_constant, parse_params, quantity_in

__all__ = [
    "Amendment",
    "CalendarItem",
    "CareOrder",
    "CarePlan",
    "Criterion",
    "DeadlineRule",
    "Decision",
    "EventReportKind",
    "InterferingClass",
    "IodideBand",
    "IodideTable",
    "TimePoint",
    "Translation",
    "parse_care_plan",
    "parse_criteria",
    "parse_decisions",
    "parse_event_reports",
    "parse_translations",
]


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
        return quantity_in(self.params, name, self.id)


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


def parse_criteria(raw: list[Mapping[str, Any]]) -> tuple[Criterion, ...]:
    """The ``criteria`` section, in the file's order."""
    return tuple(_criterion(c) for c in raw)


def parse_decisions(raw: list[Mapping[str, Any]]) -> dict[str, Decision]:
    """The ``decisions`` section: each decision by its id."""
    return {d["id"]: Decision(d["id"], d["point"], d["decision"]) for d in raw}


def parse_care_plan(raw: Mapping[str, Any]) -> CarePlan:
    """The ``care_plan`` section."""
    return _care_plan(raw)


def parse_event_reports(raw: Mapping[str, Any]) -> dict[str, EventReportKind]:
    """The ``event_reports`` section: each kind by its key."""
    return {key: _event_report_kind(key, kind) for key, kind in raw.items()}


def parse_translations(raw: list[Mapping[str, Any]]) -> dict[str, Translation]:
    """The ``translations`` section: each translation by its language."""
    return {t["language"]: _translation(t) for t in raw}


def _optional_decimal(raw: Mapping[str, Any], name: str) -> Decimal | None:
    value = raw.get(name)
    return None if value is None else Decimal(str(value))


def _deadline_rule(raw: Mapping[str, Any]) -> DeadlineRule:
    return DeadlineRule(
        code=raw["code"],
        receiver=raw["receiver"],
        action=raw["action"],
        clock=raw["clock"],
        days=_optional_decimal(raw, "days"),
        hours=_optional_decimal(raw, "hours"),
        site_parameter=raw.get("site_parameter"),
        applies=raw["applies"],
        waivable=bool(raw["waivable"]),
        verified=bool(raw["verified"]),
        source=raw["source"],
    )


def _event_report_kind(key: str, raw: Mapping[str, Any]) -> EventReportKind:
    grade = raw.get("life_threatening_from_grade")
    return EventReportKind(
        key=key,
        title=raw["title"],
        reference=raw["reference"],
        deadlines=tuple(_deadline_rule(d) for d in raw["deadlines"]),
        suspected_attributions=tuple(raw.get("suspected_attributions", ())),
        suspected_source=raw.get("suspected_source", ""),
        life_threatening_from_grade=None if grade is None else int(grade),
        life_threatening_source=raw.get("life_threatening_source", ""),
    )


def _time_point(raw: Mapping[str, Any] | None) -> TimePoint | None:
    return None if raw is None else TimePoint(anchor=str(raw["anchor"]), offset=str(raw["offset"]))


def _care_plan(raw: Mapping[str, Any]) -> CarePlan:
    table = raw["iodide_table"]
    orders = []
    for o in raw["orders"]:
        start = _time_point(o["start"])
        assert start is not None, f"care-plan order {o['code']} has no start"
        orders.append(CareOrder(
            code=o["code"], name=o["name"], resource=o["resource"], role=o["role"], start=start, end=_time_point(o["end"]),
            every=o["every"], every_unit=o.get("every_unit", "min"), every_closer=o.get("every_closer"),
            grace_hours=Decimal(o["grace_hours"]), dose=o["dose"], when=dict(o.get("when", {})), check=o.get("check"),
            instructions=o["instructions"], source=o["source"]))
    calendar = tuple(CalendarItem(
        code=c["code"], title=c["title"], role=c["role"], anchor=c.get("anchor", "infusion"), source=c["source"],
        order=c.get("order"), window=(c["from"], c["to"]) if "from" in c else None, every=c.get("every"),
        until=c.get("until"), day=c.get("day"), months_after=c.get("months_after")) for c in raw["calendar"])
    return CarePlan(
        source=raw["source"],
        parameters={name: parse_constant(name, c) for name, c in raw["parameters"].items()},
        iodide_table=IodideTable(
            drug=table["drug"], status=table["status"], source=table["source"],
            bands=tuple(IodideBand(Decimal(b["from_kg"]), None if b["below_kg"] is None else Decimal(b["below_kg"]),
                                   Decimal(b["mg_per_day"])) for b in table["bands"])),
        interfering_source=raw["interfering_medications"]["source"],
        interfering=tuple(InterferingClass(c["name"], tuple(c["examples"])) for c in raw["interfering_medications"]["classes"]),
        closer_diagnoses=tuple(raw["closer_monitoring"]["diagnoses"]),
        closer_preparations=tuple(raw["closer_monitoring"]["preparations"]),
        closer_source=raw["closer_monitoring"]["source"],
        orders=tuple(orders),
        calendar=calendar,
    )


def _translation(raw: Mapping[str, Any]) -> Translation:
    reviewed_on = raw.get("reviewed_on")
    return Translation(
        language=raw["language"], name=raw["name"], documents=tuple(raw["documents"]),
        translated_by=raw["translated_by"], reviewed_by=raw.get("reviewed_by") or None,
        reviewed_on=date.fromisoformat(reviewed_on) if reviewed_on else None, source=raw["source"])


def _criterion(raw: Mapping[str, Any]) -> Criterion:
    return Criterion(
        id=raw["id"],
        kind=raw["kind"],
        group=raw["group"],
        title=raw["title"],
        wording=raw["wording"],
        check=raw["check"],
        params=parse_params(raw["params"]),
        decisions=tuple(raw["decisions"]),
        reference=raw["reference"],
    )

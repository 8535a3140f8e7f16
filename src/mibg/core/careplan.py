"""The course as a plan (issue 13 §1-2): its supportive-care orders and its calendar, from the protocol definition.

Everything here is placed from the protocol's care plan (``care_plan`` in nct01370330.json): each order and
calendar entry names an anchor of the course (the infusion, its end, the release, the treatment date) and an
offset that is a care-plan or site parameter, with its source. Moving the infusion moves everything anchored to
it. Pure Python: the web layer reads the course's facts and passes them in (:class:`CourseFacts`).

Statuses of one due time of an order (:func:`occurrence_status`): ``upcoming`` (due after today), ``due`` (due
today, not yet past its grace), ``overdue`` (not recorded by due + grace: missed, or late if recorded later),
``done`` (recorded by due + grace), ``late`` (recorded after due + grace), ``not done`` (recorded as not done,
with a reason).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal

from mibg.core.calendar import add_months, age_in_years
from mibg.core.times import site_time
from mibg.protocol.model import ProtocolDefinition
from mibg.protocol.sections import CalendarItem, CareOrder, CarePlan

UNCONFIRMED = "to be confirmed by the site"

#: Seconds per unit of a parameter or offset.
_SECONDS = {"min": 60, "h": 3600, "d": 86400, "d after infusion": 86400}


@dataclass(frozen=True, slots=True)
class CourseFacts:
    """What the plan of one course is computed from (read by the web layer from the stored records)."""

    infusion_at: datetime  # the actual start once administered, else the signed directive's administration time
    infusion_actual: bool
    infusion_minutes: Decimal  # the directive's infusion duration
    weight_kg: Decimal  # the directive's weight
    birth_date: date
    diagnosis: str
    preparation: str
    zone: tzinfo  # the clinic's time zone: calendar days are the clinic's days
    infusion_end_at: datetime | None = None  # actual end, once recorded
    released_at: datetime | None = None  # the signed release
    recovered_on: date | None = None  # count recovery (follow-up)
    iodide_confirmed_by: str | None = None  # the pharmacist's signature on this very iodide table, if any

    def __post_init__(self) -> None:
        for name in ("infusion_at", "infusion_end_at", "released_at"):
            value = getattr(self, name)
            if value is not None and (value.tzinfo is None or value.utcoffset() is None):
                raise ValueError(f"{name} must be timezone-aware")


@dataclass(frozen=True, slots=True)
class Dose:
    text: str  # e.g. "65 mg potassium iodide by mouth once a day"
    amount: Decimal
    unit: str
    formula: str  # how it was found, with its inputs
    status: str  # "confirmed by ..." or UNCONFIRMED, or "site parameter"


@dataclass(frozen=True, slots=True)
class PlannedOrder:
    code: str
    name: str
    resource: str
    role: str
    start: datetime
    end: datetime | None
    schedule: str
    due: tuple[datetime, ...]
    grace: timedelta
    dose: Dose | None
    instructions: str
    source: str
    explanation: str  # the anchor, the offsets and the parameters used
    check: str | None = None


@dataclass(frozen=True, slots=True)
class NotOrdered:
    code: str
    name: str
    reason: str


@dataclass(frozen=True, slots=True)
class CalendarEntry:
    code: str
    title: str
    role: str
    start: date | datetime
    end: date | datetime  # an all-day entry ends on its last day (inclusive)
    source: str
    explanation: str

    @property
    def all_day(self) -> bool:
        return not isinstance(self.start, datetime)


@dataclass(frozen=True, slots=True)
class CoursePlan:
    protocol_label: str
    infusion_at: datetime
    infusion_actual: bool
    orders: tuple[PlannedOrder, ...]
    not_ordered: tuple[NotOrdered, ...]
    calendar: tuple[CalendarEntry, ...]
    inputs: dict[str, str] = field(default_factory=dict)

    def order(self, code: str) -> PlannedOrder:
        for o in self.orders:
            if o.code == code:
                return o
        raise KeyError(code)


# ---- parameters and anchors --------------------------------------------------------------------------------


def _care(protocol: ProtocolDefinition) -> CarePlan:
    if protocol.care_plan is None:
        raise ValueError(f"{protocol.label} has no care plan")
    return protocol.care_plan


def parameter(protocol: ProtocolDefinition, name: str) -> Decimal:
    value = protocol.care_parameter(name).value
    if value is None:
        raise KeyError(f"the parameter {name} has no value")
    return value


def _span(protocol: ProtocolDefinition, expression: str, unit: str = "h") -> tuple[timedelta, str]:
    """An offset: ``"0"``, ``"1.5"`` (in ``unit``) or ``"-name"`` / ``"name"`` (a parameter, in its own unit)."""
    sign = -1 if expression.startswith("-") else 1
    name = expression.lstrip("-")
    try:
        value, used_unit, label = Decimal(name), unit, ""
    except ArithmeticError:
        constant = protocol.care_parameter(name)
        if constant.value is None:
            raise KeyError(f"the parameter {name} has no value") from None
        value, used_unit, label = constant.value, constant.unit, f" ({name})"
    if used_unit not in _SECONDS:
        raise ValueError(f"{expression}: unit {used_unit!r} is not a time span")
    seconds = value * _SECONDS[used_unit]
    if seconds != seconds.to_integral_value():
        raise ValueError(f"{expression}: not a whole number of seconds")
    text = f"{'-' if sign < 0 else '+'}{value.normalize():f} {used_unit.split(' ')[0]}{label}"
    return timedelta(seconds=sign * int(seconds)), text


def _anchors(protocol: ProtocolDefinition, facts: CourseFacts) -> dict[str, tuple[datetime, str]]:
    infusion_end = facts.infusion_end_at or facts.infusion_at + timedelta(minutes=float(facts.infusion_minutes))
    if facts.released_at is not None:
        release, release_text = facts.released_at, "the signed release"
    else:
        stay, text = _span(protocol, "expected_stay_days")
        release, release_text = facts.infusion_at + stay, f"the planned release (infusion {text})"
    return {
        "infusion": (facts.infusion_at, "the infusion" + ("" if facts.infusion_actual else " (planned)")),
        "infusion_end": (infusion_end, "the end of the infusion" + ("" if facts.infusion_end_at else " (planned)")),
        "release": (release, release_text),
    }


def age_on_infusion(facts: CourseFacts) -> int:
    """Completed calendar years on the day of the infusion (decisions.md A4)."""
    return age_in_years(facts.birth_date, facts.infusion_at.astimezone(facts.zone).date())


# ---- doses ------------------------------------------------------------------------------------------------


def iodide_dose(protocol: ProtocolDefinition, weight_kg: Decimal, confirmed_by: str | None) -> Dose:
    """The daily potassium iodide of the site's weight-band table (from inclusive, below exclusive)."""
    table = _care(protocol).iodide_table
    for band in table.bands:
        if weight_kg >= band.from_kg and (band.below_kg is None or weight_kg < band.below_kg):
            upper = f"below {band.below_kg} kg" if band.below_kg is not None else "and above"
            status = f"confirmed by {confirmed_by}" if confirmed_by else UNCONFIRMED
            return Dose(text=f"{band.mg_per_day} mg a day ({table.drug})", amount=band.mg_per_day, unit="mg/d",
                        formula=f"weight {weight_kg} kg is in the band from {band.from_kg} kg {upper}: {band.mg_per_day} mg a day",
                        status=status)
    raise ValueError(f"weight {weight_kg} kg is in no band of the iodide table")


def hydration_ml_per_day(protocol: ProtocolDefinition, weight_kg: Decimal) -> Dose:
    """At least 2 L a day for an adult (clinical-reference §5.1); a child's minimum by the site's scaling
    (Holliday-Segar by default), never above the adult minimum."""
    first = parameter(protocol, "hydration_first_10_kg_ml_per_kg")
    nxt = parameter(protocol, "hydration_next_10_kg_ml_per_kg")
    above = parameter(protocol, "hydration_above_20_kg_ml_per_kg")
    adult = parameter(protocol, "hydration_adult_ml_per_day")
    ten = Decimal(10)
    scaled = (first * min(weight_kg, ten) + nxt * min(max(weight_kg - ten, Decimal(0)), ten)
              + above * max(weight_kg - 2 * ten, Decimal(0)))
    amount = min(scaled, adult).quantize(Decimal("1"))
    formula = (f"min({adult} mL, {first} mL/kg x first 10 kg + {nxt} mL/kg x next 10 kg + {above} mL/kg x rest) "
               f"for {weight_kg} kg = min({adult}, {scaled.normalize():f}) = {amount} mL")
    return Dose(text=f"at least {amount} mL of fluid a day", amount=amount, unit="mL/d", formula=formula,
                status="site parameter")


# ---- orders -----------------------------------------------------------------------------------------------


def _closer(plan: CarePlan, facts: CourseFacts) -> bool:
    return facts.diagnosis in plan.closer_diagnoses or facts.preparation in plan.closer_preparations


def _due_times(start: datetime, end: datetime | None, every: timedelta | None) -> tuple[datetime, ...]:
    if every is None or end is None:
        return (start,)
    if every <= timedelta(0):
        raise ValueError("a repeat interval must be positive")
    times, t = [], start
    while t <= end:
        times.append(t)
        t += every
    return tuple(times)


def _schedule_text(every_text: str | None, count: int, start: datetime, end: datetime | None, zone: tzinfo) -> str:
    first = site_time(start, zone)
    if every_text is None:
        until = f", until {site_time(end, zone)}" if end is not None else ""
        return f"once, {first}{until}"
    last = site_time(end, zone) if end is not None else "?"
    return f"every {every_text}, {count} times from {first} to {last}"


def _every(protocol: ProtocolDefinition, order: CareOrder, closer: bool) -> tuple[timedelta, str] | None:
    expression = order.every_closer if closer and order.every_closer else order.every
    if expression is None:
        return None
    span, text = _span(protocol, expression, order.every_unit)
    return span, text.lstrip("+")


def plan_orders(protocol: ProtocolDefinition, facts: CourseFacts) -> tuple[tuple[PlannedOrder, ...], tuple[NotOrdered, ...]]:
    plan = _care(protocol)
    anchors = _anchors(protocol, facts)
    closer = _closer(plan, facts)
    age = age_on_infusion(facts)
    orders: list[PlannedOrder] = []
    skipped: list[NotOrdered] = []
    for order in plan.orders:
        limit_name = order.when.get("age_below")
        if limit_name is not None:
            limit = parameter(protocol, limit_name)
            if not age < limit:
                skipped.append(NotOrdered(order.code, order.name, f"not needed: age {age} y on the day of the infusion is "
                                                                  f"not below {limit} y ({limit_name})"))
                continue
        base, base_text = anchors[order.start.anchor]
        offset, offset_text = _span(protocol, order.start.offset)
        start = base + offset
        explanation = [f"start = {base_text} {offset_text}"]
        end = None
        if order.end is not None:
            end_base, end_text = anchors[order.end.anchor]
            end_offset, end_offset_text = _span(protocol, order.end.offset)
            end = end_base + end_offset
            explanation.append(f"end = {end_text} {end_offset_text}")
        every = _every(protocol, order, closer)
        if every is not None and order.every_closer:
            explanation.append("closer interval: " + ("yes" if closer else "no") + f" (diagnosis {facts.diagnosis}, "
                               f"preparation {facts.preparation})")
        due = _due_times(start, end, every[0] if every else None)
        dose = None
        if order.dose == "iodide_table":
            dose = iodide_dose(protocol, facts.weight_kg, facts.iodide_confirmed_by)
        elif order.dose == "hydration":
            dose = hydration_ml_per_day(protocol, facts.weight_kg)
        if limit_name is not None:
            explanation.append(f"ordered: age {age} y is below {parameter(protocol, limit_name)} y ({limit_name})")
        orders.append(PlannedOrder(
            code=order.code, name=order.name, resource=order.resource, role=order.role, start=start, end=end,
            schedule=_schedule_text(every[1] if every else None, len(due), start, end, facts.zone), due=due,
            grace=timedelta(seconds=int(order.grace_hours * 3600)), dose=dose, instructions=order.instructions,
            source=order.source, explanation="; ".join(explanation), check=order.check))
    return tuple(orders), tuple(skipped)


# ---- the calendar -----------------------------------------------------------------------------------------


def _days(protocol: ProtocolDefinition, expression: str) -> tuple[int, str]:
    span, text = _span(protocol, expression, "d")
    if span % timedelta(days=1):
        raise ValueError(f"{expression}: not a whole number of days")
    return span.days, text


def plan_calendar(protocol: ProtocolDefinition, facts: CourseFacts, orders: Sequence[PlannedOrder]) -> tuple[CalendarEntry, ...]:
    plan = _care(protocol)
    anchors = _anchors(protocol, facts)
    zone = facts.zone
    infusion_day = facts.infusion_at.astimezone(zone).date()
    release_day = anchors["release"][0].astimezone(zone).date()
    out: list[CalendarEntry] = []
    by_code = {o.code: o for o in orders}
    for item in plan.calendar:
        out.extend(_entries(protocol, item, facts, anchors, infusion_day, release_day, by_code))
    return tuple(sorted(out, key=lambda e: (_sort_key(e.start, zone), e.code)))


def _sort_key(value: date | datetime, zone: tzinfo) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.combine(value, time(0), tzinfo=zone)


def _entries(protocol: ProtocolDefinition, item: CalendarItem, facts: CourseFacts,
             anchors: dict[str, tuple[datetime, str]], infusion_day: date, release_day: date,
             orders: dict[str, PlannedOrder]) -> Iterable[CalendarEntry]:
    def entry(start: date | datetime, end: date | datetime, explanation: str, title: str = item.title) -> CalendarEntry:
        return CalendarEntry(item.code, title, item.role, start, end, item.source, explanation)

    if item.order is not None:
        order = orders.get(item.order)
        if order is None:
            return
        last = order.end if order.end is not None else order.start
        yield entry(order.start.astimezone(facts.zone).date(), last.astimezone(facts.zone).date(),
                    f"the span of the order '{order.name}': {order.explanation}")
        return
    if item.window is not None:
        start_days, start_text = _days(protocol, item.window[0])
        end_days, end_text = _days(protocol, item.window[1])
        base = infusion_day
        what = "the treatment date" if item.anchor == "treatment_date" else "the infusion day"
        yield entry(base + timedelta(days=start_days), base + timedelta(days=end_days),
                    f"from {what} {start_text} to {what} {end_text}")
        return
    if item.day is not None:
        days, text = _days(protocol, item.day)
        day = infusion_day + timedelta(days=days)
        yield entry(day, day, f"the infusion day {text}")
        return
    if item.months_after is not None:
        months = int(parameter(protocol, item.months_after))
        day = add_months(infusion_day, months) + timedelta(days=1)
        yield entry(day, day, f"the day after {infusion_day.isoformat()} + {months} calendar months ({item.months_after}; "
                              "more than 6 months, strict: decisions.md A13)")
        return
    if item.code == "infusion" or (item.every is None and item.anchor in anchors):
        moment, text = anchors[item.anchor]
        if item.anchor == "infusion":
            end = anchors["infusion_end"][0]
            yield entry(moment, end, f"{text} to {anchors['infusion_end'][1]}")
        elif item.anchor == "release" and facts.released_at is None:
            day = moment.astimezone(facts.zone).date()
            yield entry(day, day, text)
        else:
            yield entry(moment, moment, text)
        return
    if item.every is not None and item.until == "release":
        # Readings: one a day from the infusion day to the release day (decisions.md 'Readings').
        span, text = _span(protocol, item.every)
        step = max(span.days, 1)
        day, n = infusion_day, 0
        while day <= release_day:
            yield entry(day, day, f"day {n} after the infusion, every {text.lstrip('+')}, until {anchors['release'][1]}",
                        f"{item.title} (day {n})")
            n += step
            day = infusion_day + timedelta(days=n)
        return
    if item.every is not None and item.until == "recovery":
        every = parameter(protocol, item.every)
        if facts.recovered_on is not None:
            until_day = (facts.recovered_on - infusion_day).days
            until_text = f"count recovery on {facts.recovered_on.isoformat()}"
        else:
            until_day = int(parameter(protocol, "lab_until_day_without_recovery"))
            until_text = f"day {until_day} (no count recovery recorded: lab_until_day_without_recovery)"
        k = 1
        while (day_n := math.ceil(every * k)) <= until_day:
            day = infusion_day + timedelta(days=day_n)
            yield entry(day, day, f"day ceil({every} x {k}) = {day_n} after the infusion ({item.every}), until {until_text}",
                        f"{item.title} (day {day_n})")
            k += 1
        return
    raise ValueError(f"calendar item {item.code} has no placement")


def course_plan(protocol: ProtocolDefinition, facts: CourseFacts) -> CoursePlan:
    orders, skipped = plan_orders(protocol, facts)
    inputs = {
        "infusion": f"{site_time(facts.infusion_at, facts.zone)} ({'actual' if facts.infusion_actual else 'planned, from the signed directive'})",
        "weight_kg": str(facts.weight_kg), "age_years_on_infusion_day": str(age_on_infusion(facts)),
        "diagnosis": facts.diagnosis, "preparation": facts.preparation, "infusion_minutes": str(facts.infusion_minutes),
        "released_at": site_time(facts.released_at, facts.zone) if facts.released_at else "not yet",
        "recovered_on": facts.recovered_on.isoformat() if facts.recovered_on else "not yet",
    }
    return CoursePlan(protocol.label, facts.infusion_at, facts.infusion_actual, orders, skipped,
                      plan_calendar(protocol, facts, orders), inputs)


# ---- recording against the plan --------------------------------------------------------------------------


def occurrence_status(due_at: datetime, grace: timedelta, now: datetime, zone: tzinfo,
                      recorded_at: datetime | None = None, done: bool = True) -> str:
    """One due time of an order, as the worklist and the course page show it (see the module docstring)."""
    if recorded_at is not None:
        if not done:
            return "not done"
        return "done" if recorded_at <= due_at + grace else "late"
    if now > due_at + grace:
        return "overdue"
    if due_at.astimezone(zone).date() <= now.astimezone(zone).date():
        return "due"
    return "upcoming"


def interfering_found(protocol: ProtocolDefinition, medications: str) -> tuple[tuple[str, str], ...]:
    """The drugs of the care plan's interfering classes named in a medication list (word match, any case)."""
    words = {w.strip(".,;:()[]/").lower() for w in medications.replace("\n", " ").split()}
    found = []
    for cls in _care(protocol).interfering:
        for drug in cls.examples:
            if drug.lower() in words:
                found.append((drug, cls.name))
    return tuple(found)


#: The module's public surface: what the other layers may import (tests/unit/test_architecture.py).
__all__ = [
    "UNCONFIRMED",
    "CalendarEntry",
    "CourseFacts",
    "CoursePlan",
    "Dose",
    "NotOrdered",
    "PlannedOrder",
    "age_on_infusion",
    "course_plan",
    "hydration_ml_per_day",
    "interfering_found",
    "iodide_dose",
    "occurrence_status",
    "parameter",
    "plan_calendar",
    "plan_orders",
]

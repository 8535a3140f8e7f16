"""Loading the protocol definition from its JSON file and writing it back out."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

from mibg.protocol.model import LAZY_SECTIONS, DoseLimit, Preparation, ProtocolDefinition, unparsed
from mibg.protocol.values import Constant, Quantity, parse_constant, parse_params

if TYPE_CHECKING:
    from mibg.protocol.sections import (
        CalendarItem,
        CareOrder,
        CarePlan,
        Criterion,
        Decision,
        EventReportKind,
        TimePoint,
        Translation,
    )

#: The definition file beside this module (a path string: pathlib is not imported for it, issue 14: start-up).
DEFINITION_PATH = os.path.join(os.path.dirname(__file__), "nct01370330.json")


def __getattr__(name: str) -> Any:
    """``DEFINITION_FILE``: the definition file as a :class:`pathlib.Path`, made when asked for."""
    if name == "DEFINITION_FILE":
        from pathlib import Path

        return Path(DEFINITION_PATH)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@cache
def load_protocol(path: str | None = None) -> ProtocolDefinition:
    """The protocol definition (cached). ``path`` loads another file of the same format."""
    with open(path or DEFINITION_PATH, encoding="utf-8") as source:
        data = json.loads(source.read())
    return parse_protocol(data)


def parse_every_section(definition: ProtocolDefinition) -> ProtocolDefinition:
    """The definition with every section parsed now: a server checks the whole file once at its start (a malformed
    section stops the start) instead of failing a clinician's request when the section is first read."""
    for name in LAZY_SECTIONS:
        getattr(definition, name)
    return definition


def parse_protocol(data: Mapping[str, Any]) -> ProtocolDefinition:
    return ProtocolDefinition(
        protocol_id=data["protocol_id"],
        title=data["title"],
        version=data["version"],
        record_last_updated=date.fromisoformat(data["record_last_updated"]),
        effective_date=date.fromisoformat(data["effective_date"]),
        source=data["source"],
        # Parsed when first read (mibg.protocol.sections): the dose command never reads these (issue 14).
        criteria=unparsed(_criteria, data["criteria"]),
        dose_limits=tuple(_dose_limit(d) for d in data["dose_limits"]),
        preparations={key: _preparation(key, p) for key, p in data["preparations"].items()},
        constants={name: parse_constant(name, c) for name, c in data["constants"].items()},
        site_parameters={name: parse_constant(name, c) for name, c in data["site_parameters"].items()},
        decisions=unparsed(_decisions, data["decisions"]),
        translations=unparsed(_translations, data["translations"]) if data.get("translations") else {},
        event_reports=unparsed(_event_reports, data["event_reports"]) if data.get("event_reports") else {},
        care_plan=unparsed(_care_plan, data["care_plan"]) if "care_plan" in data else None,
        whole_body_dose_band_edges_gy=tuple(Decimal(str(v)) for v in _bands(data).get("values", [])),
        whole_body_dose_bands_source=str(_bands(data).get("source", "")),
    )


def _criteria(raw: list[Mapping[str, Any]]) -> tuple[Criterion, ...]:
    from mibg.protocol.sections import parse_criteria

    return parse_criteria(raw)


def _decisions(raw: list[Mapping[str, Any]]) -> dict[str, Decision]:
    from mibg.protocol.sections import parse_decisions

    return parse_decisions(raw)


def _translations(raw: list[Mapping[str, Any]]) -> dict[str, Translation]:
    from mibg.protocol.sections import parse_translations

    return parse_translations(raw)


def _event_reports(raw: Mapping[str, Mapping[str, Any]]) -> dict[str, EventReportKind]:
    from mibg.protocol.sections import parse_event_reports

    return parse_event_reports(raw)


def _care_plan(raw: Mapping[str, Any]) -> CarePlan:
    from mibg.protocol.sections import parse_care_plan

    return parse_care_plan(raw)


def _bands(data: Mapping[str, Any]) -> Mapping[str, Any]:
    bands: Mapping[str, Any] = (data.get("analytics") or {}).get("whole_body_dose_band_edges_gy") or {}
    return bands


def _dose_limit(raw: Mapping[str, Any]) -> DoseLimit:
    return DoseLimit(
        id=raw["id"],
        title=raw["title"],
        wording=raw["wording"],
        check=raw["check"],
        params=parse_params(raw["params"]),
        chair_clearable=bool(raw["chair_clearable"]),
        decisions=tuple(raw["decisions"]),
        reference=raw["reference"],
    )


def _preparation(key: str, raw: Mapping[str, Any]) -> Preparation:
    concentration = raw.get("concentration_at_calibration")
    return Preparation(
        key=key,
        name=raw["name"],
        specific_activity=raw["specific_activity"],
        specific_activity_required=bool(raw["specific_activity_required"]),
        concentration_at_calibration=(
            Quantity(Decimal(concentration["value"]), concentration["unit"]) if concentration else None
        ),
        infusion_minimum_min=Decimal(raw["infusion_minutes"]["minimum"]),
        infusion_maximum_min=Decimal(raw["infusion_minutes"]["maximum"]),
        discontinued=bool(raw["discontinued"]),
        reference=raw["reference"],
        short_name=str(raw.get("short_name", "")),
        discontinued_note=str(raw.get("discontinued_note", "")),
    )


def protocol_as_dict(protocol: ProtocolDefinition) -> dict[str, Any]:
    """The definition as JSON-ready data: the file's shape, plus the label and any site amendments."""
    return {
        "protocol_id": protocol.protocol_id,
        "label": protocol.label,
        "title": protocol.title,
        "version": protocol.version,
        "record_last_updated": protocol.record_last_updated.isoformat(),
        "effective_date": protocol.effective_date.isoformat(),
        "source": protocol.source,
        "criteria": [
            {
                "id": c.id,
                "kind": c.kind,
                "group": c.group,
                "title": c.title,
                "wording": c.wording,
                "check": c.check,
                "params": _plain(c.params),
                "decisions": list(c.decisions),
                "reference": c.reference,
            }
            for c in protocol.criteria
        ],
        "dose_limits": [
            {
                "id": d.id,
                "title": d.title,
                "wording": d.wording,
                "check": d.check,
                "params": _plain(d.params),
                "chair_clearable": d.chair_clearable,
                "decisions": list(d.decisions),
                "reference": d.reference,
            }
            for d in protocol.dose_limits
        ],
        "preparations": {
            key: {
                "name": p.name,
                "specific_activity": dict(p.specific_activity),
                "specific_activity_required": p.specific_activity_required,
                "concentration_at_calibration": (
                    {"value": str(p.concentration_at_calibration.value), "unit": p.concentration_at_calibration.unit}
                    if p.concentration_at_calibration
                    else None
                ),
                "infusion_minutes": {"minimum": str(p.infusion_minimum_min), "maximum": str(p.infusion_maximum_min)},
                "discontinued": p.discontinued,
                "reference": p.reference,
                "short_name": p.short_name,
                "discontinued_note": p.discontinued_note,
            }
            for key, p in protocol.preparations.items()
        },
        "constants": {n: _constant_dict(c) for n, c in protocol.constants.items()},
        "site_parameters": {n: _constant_dict(c) for n, c in protocol.site_parameters.items()},
        "decisions": [{"id": d.id, "point": d.point, "decision": d.decision} for d in protocol.decisions.values()],
        "translations": [
            {"language": t.language, "name": t.name, "documents": list(t.documents), "translated_by": t.translated_by,
             "reviewed_by": t.reviewed_by, "reviewed_on": t.reviewed_on.isoformat() if t.reviewed_on else None,
             "source": t.source}
            for t in protocol.translations.values()
        ],
        "event_reports": {key: _event_report_dict(k) for key, k in protocol.event_reports.items()},
        "analytics": {"whole_body_dose_band_edges_gy": {
            "values": [str(v) for v in protocol.whole_body_dose_band_edges_gy],
            "source": protocol.whole_body_dose_bands_source}},
        "amendments": [
            {"parameter": a.parameter, "old_value": a.old_value, "new_value": a.new_value, "reason": a.reason}
            for a in protocol.amendments
        ],
        **({"care_plan": _care_plan_dict(protocol.care_plan)} if protocol.care_plan is not None else {}),
    }


def _time_point_dict(t: TimePoint | None) -> dict[str, str] | None:
    return None if t is None else {"anchor": t.anchor, "offset": t.offset}


def _care_plan_dict(plan: CarePlan) -> dict[str, Any]:
    def order(o: CareOrder) -> dict[str, Any]:
        out: dict[str, Any] = {
            "code": o.code, "name": o.name, "resource": o.resource, "role": o.role, "start": _time_point_dict(o.start),
            "end": _time_point_dict(o.end), "every": o.every, "every_unit": o.every_unit, "grace_hours": str(o.grace_hours),
            "dose": o.dose, "instructions": o.instructions, "source": o.source}
        if o.every_closer is not None:
            out["every_closer"] = o.every_closer
        if o.when:
            out["when"] = dict(o.when)
        if o.check is not None:
            out["check"] = o.check
        return out

    def item(c: CalendarItem) -> dict[str, Any]:
        out: dict[str, Any] = {"code": c.code, "title": c.title, "role": c.role, "anchor": c.anchor}
        if c.window is not None:
            out["from"], out["to"] = c.window
        for key in ("order", "every", "until", "day", "months_after"):
            if getattr(c, key) is not None:
                out[key] = getattr(c, key)
        out["source"] = c.source
        return out

    t = plan.iodide_table
    return {
        "source": plan.source,
        "parameters": {n: _constant_dict(c) for n, c in plan.parameters.items()},
        "iodide_table": {"drug": t.drug, "status": t.status, "source": t.source, "bands": [
            {"from_kg": str(b.from_kg), "below_kg": None if b.below_kg is None else str(b.below_kg),
             "mg_per_day": str(b.mg_per_day)} for b in t.bands]},
        "closer_monitoring": {"diagnoses": list(plan.closer_diagnoses), "preparations": list(plan.closer_preparations),
                              "source": plan.closer_source},
        "interfering_medications": {"source": plan.interfering_source, "classes": [
            {"name": c.name, "examples": list(c.examples)} for c in plan.interfering]},
        "orders": [order(o) for o in plan.orders],
        "calendar": [item(c) for c in plan.calendar],
    }


def _event_report_dict(kind: EventReportKind) -> dict[str, Any]:
    out: dict[str, Any] = {
        "title": kind.title,
        "reference": kind.reference,
        "deadlines": [
            {key: value for key, value in {
                "code": d.code, "receiver": d.receiver, "action": d.action, "clock": d.clock,
                "days": None if d.days is None else str(d.days), "hours": None if d.hours is None else str(d.hours),
                "site_parameter": d.site_parameter, "applies": d.applies, "waivable": d.waivable,
                "verified": d.verified, "source": d.source}.items() if value is not None}
            for d in kind.deadlines
        ],
    }
    if kind.suspected_attributions:
        out["suspected_attributions"] = list(kind.suspected_attributions)
        out["suspected_source"] = kind.suspected_source
    if kind.life_threatening_from_grade is not None:
        out["life_threatening_from_grade"] = str(kind.life_threatening_from_grade)
        out["life_threatening_source"] = kind.life_threatening_source
    return out


def _constant_dict(c: Constant) -> dict[str, Any]:
    return {"value": None if c.value is None else str(c.value), "unit": c.unit, "source": c.source}


def _plain(value: Any) -> Any:
    if isinstance(value, Quantity):
        return {"value": str(value.value), "unit": value.unit}
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value

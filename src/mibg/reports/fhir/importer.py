"""Reading a FHIR R4 Bundle back into plain records, with a report of what was taken and what was refused.

Reads the Bundles that :mod:`mibg.reports.fhir.export` writes, and laboratory results from any R4 Bundle of
Observations coded with the LOINC codes of mibg.core.labs (751-8, 777-3, 718-7, 1975-2, 1920-8, 1742-6,
2160-0). Each resource is validated with its FHIR model class first. Nothing is guessed: a result with an
unknown code, a unit that cannot be converted exactly, no time, a time without a UTC offset or a status
that is not a final result is refused, and the report says which resource and why. Numbers are read as
``Decimal`` from the JSON text, so 0.75 stays 0.75.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from mibg.core.ae_terms import check_term
from mibg.core.errors import InputError
from mibg.core.identity import check_identity
from mibg.core.labs import LABS, LOINC_TESTS, conversion_factor
from mibg.core.units import MBQ_PER_MCI, parse_activity_mci, parse_weight_kg
from mibg.reports.errors import ReportInputError
from mibg.reports.fhir import codes as c
from mibg.reports.fhir.jsonio import loads
from mibg.reports.record import (
    AE_OUTCOMES,
    AdverseEventRecord,
    DosimetryConstant,
    DosimetrySummary,
    ExposureReading,
    LabResult,
    PatientIdentity,
    StemCellInfusion,
)

FINAL_STATUSES = ("final", "amended", "corrected")


@dataclass(frozen=True, slots=True)
class ImportedDirective:
    """What a MedicationRequest says about the written directive."""

    activity_mci: Decimal
    mci_per_kg: Decimal | None
    authored_at: datetime | None
    status: str


@dataclass(frozen=True, slots=True)
class ImportedAdministration:
    """What a MedicationAdministration says about the infusion."""

    start: datetime
    end: datetime | None
    administered_mci: Decimal


@dataclass(frozen=True, slots=True)
class Taken:
    resource: str
    what: str


@dataclass(frozen=True, slots=True)
class Refused:
    resource: str
    reason: str


@dataclass(frozen=True, slots=True)
class FhirImport:
    """Everything taken from a Bundle, and every resource refused with its reason."""

    patient: PatientIdentity | None = None
    weight_kg: Decimal | None = None
    weight_measured_on: date | None = None
    labs: tuple[LabResult, ...] = ()
    readings: tuple[ExposureReading, ...] = ()
    dosimetry: DosimetrySummary | None = None
    directive: ImportedDirective | None = None
    administration: ImportedAdministration | None = None
    stem_cell_infusion: StemCellInfusion | None = None
    adverse_events: tuple[AdverseEventRecord, ...] = ()
    study_identifiers: tuple[str, ...] = ()
    taken: tuple[Taken, ...] = ()
    refused: tuple[Refused, ...] = ()

    def report(self) -> str:
        """A plain-text report: one line per resource taken or refused."""
        lines = [f"Taken: {len(self.taken)}; refused: {len(self.refused)}"]
        lines += [f"  taken   {t.resource}: {t.what}" for t in self.taken]
        lines += [f"  REFUSED {r.resource}: {r.reason}" for r in self.refused]
        return "\n".join(lines)


class _Refusal(Exception):
    """Internal: this resource cannot be taken, for the stated reason."""


@dataclass
class _State:
    patient: PatientIdentity | None = None
    weight: tuple[Decimal, date] | None = None
    labs: list[LabResult] = field(default_factory=list)
    readings: list[ExposureReading] = field(default_factory=list)
    dosimetry: DosimetrySummary | None = None
    directive: ImportedDirective | None = None
    administration: ImportedAdministration | None = None
    rescue: StemCellInfusion | None = None
    adverse_events: list[AdverseEventRecord] = field(default_factory=list)
    studies: list[str] = field(default_factory=list)
    taken: list[Taken] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)


def import_bundle(source: str | bytes | Mapping[str, Any]) -> FhirImport:
    """Import a Bundle given as JSON text or as already-parsed data (numbers should then be Decimal).

    Raises ReportInputError when the input is not a FHIR Bundle at all; problems with single resources are
    reported in ``refused`` instead.
    """
    data = loads(source) if isinstance(source, str | bytes) else source
    if not isinstance(data, Mapping) or data.get("resourceType") != "Bundle":
        raise ReportInputError("bundle", "the document is not a FHIR Bundle (resourceType must be 'Bundle')")
    state = _State()
    for index, entry in enumerate(data.get("entry") or []):
        resource = entry.get("resource") if isinstance(entry, Mapping) else None
        label = _label(resource, index)
        if not isinstance(resource, Mapping):
            state.refused.append(Refused(label, "the entry has no resource"))
            continue
        try:
            _validate(resource)
            what = _take(resource, state)
        except _Refusal as refusal:
            state.refused.append(Refused(label, str(refusal)))
        else:
            state.taken.append(Taken(label, what))
    return FhirImport(
        patient=state.patient,
        weight_kg=state.weight[0] if state.weight else None,
        weight_measured_on=state.weight[1] if state.weight else None,
        labs=tuple(state.labs),
        readings=tuple(state.readings),
        dosimetry=state.dosimetry,
        directive=state.directive,
        administration=state.administration,
        stem_cell_infusion=state.rescue,
        adverse_events=tuple(state.adverse_events),
        study_identifiers=tuple(state.studies),
        taken=tuple(state.taken),
        refused=tuple(state.refused),
    )


def _label(resource: object, index: int) -> str:
    if isinstance(resource, Mapping):
        return f"entry {index + 1} {resource.get('resourceType', '?')}/{resource.get('id', '-')}"
    return f"entry {index + 1}"


def _validate(resource: Mapping[str, Any]) -> None:
    kind = str(resource.get("resourceType", ""))
    try:
        model = get_fhir_model_class(kind)
    except (KeyError, ValueError):
        raise _Refusal(f"'{kind}' is not a FHIR resource type") from None
    try:
        model.model_validate(dict(resource))
    except ValidationError as error:
        first = error.errors()[0] if error.errors() else {"loc": (), "msg": str(error)}
        where = ".".join(str(part) for part in first.get("loc", ()))
        raise _Refusal(f"not valid FHIR R4 {kind}: {where}: {first.get('msg')}") from None


def _take(resource: Mapping[str, Any], state: _State) -> str:
    kind = resource["resourceType"]
    handler = _HANDLERS.get(kind)
    if handler is None:
        raise _Refusal(f"resource type {kind} is not imported")
    return handler(resource, state)


# ---- helpers ---------------------------------------------------------------------------------------------


def _aware(raw: object, what: str) -> datetime:
    if not isinstance(raw, str):
        raise _Refusal(f"missing time: no {what}")
    text = raw[:-1] + "+00:00" if raw.endswith("Z") else raw
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise _Refusal(f"{what} '{raw}' is not an ISO 8601 date-time") from None
    if "T" not in raw:
        raise _Refusal(f"missing time: {what} '{raw}' is a date without a time")
    if value.tzinfo is None or value.utcoffset() is None:
        raise _Refusal(f"{what} '{raw}' has no UTC offset")
    return value


def _codings(concept: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    if not concept:
        return []
    return [(str(x.get("system", "")), str(x.get("code", ""))) for x in concept.get("coding") or []]


def _has(concept: Mapping[str, Any] | None, system: str, code: str) -> bool:
    return (system, code) in _codings(concept)


def _extension(resource: Mapping[str, Any], url: str) -> Mapping[str, Any] | None:
    for extension in resource.get("extension") or []:
        if isinstance(extension, Mapping) and extension.get("url") == url:
            return extension
    return None


def _number(value: object, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise _Refusal(f"no numeric value for {what}")
    return Decimal(value)


def _unit(q: Mapping[str, Any]) -> str:
    """The UCUM code when the quantity is coded in UCUM, else its printed unit."""
    if q.get("system") == c.UCUM and q.get("code"):
        return str(q["code"])
    return str(q.get("unit") or q.get("code") or "")


def _in_unit(q: Mapping[str, Any] | None, accepted: Sequence[str], what: str) -> Decimal:
    if not q:
        raise _Refusal(f"no value for {what}")
    unit = _unit(q)
    if unit not in accepted:
        raise _Refusal(f"unit not convertible: '{unit}' for {what} (expected {' or '.join(accepted)})")
    return _number(q.get("value"), what)


def _status_final(resource: Mapping[str, Any]) -> None:
    status = resource.get("status")
    if status not in FINAL_STATUSES:
        raise _Refusal(f"status '{status}' is not a final result")


# ---- resources -------------------------------------------------------------------------------------------


def _patient(resource: Mapping[str, Any], state: _State) -> str:
    identifiers = resource.get("identifier") or []
    mrn = next((i.get("value") for i in identifiers if _has(i.get("type"), c.V2_0203, "MR")), None)
    if not mrn:
        raise _Refusal("mrn: no medical record number (identifier of type MR)")
    names = resource.get("name") or []
    if not names or not names[0].get("family"):
        raise _Refusal("family_name: no family name")
    if not resource.get("birthDate"):
        raise _Refusal("birth_date: no birth date")
    try:
        # decisions.md A34, as at every other door: trimmed, 1-40 / 1-100 characters, a possible date of birth.
        identity = check_identity({"mrn": mrn, "family_name": names[0]["family"],
                                   "given_name": " ".join(names[0].get("given") or []) or None,
                                   "birth_date": resource["birthDate"], "sex": resource.get("gender") or "unknown"},
                                  datetime.now(UTC).astimezone().date())
        patient = PatientIdentity(family=identity.family_name, given=identity.given_name, mrn=identity.mrn,
                                  birth_date=identity.birth_date, sex=identity.sex.value)
    except (ReportInputError, ValueError) as error:
        raise _Refusal(str(error)) from None
    if state.patient is not None and state.patient != patient:
        raise _Refusal("a second, different patient in the same Bundle")
    state.patient = patient
    return f"patient {patient.display_name}, MRN {patient.mrn}"


def _observation(resource: Mapping[str, Any], state: _State) -> str:
    code = resource.get("code")
    loinc = [value for system, value in _codings(code) if system == c.LOINC]
    if any(value in LOINC_TESTS for value in loinc):
        return _lab(resource, next(v for v in loinc if v in LOINC_TESTS), state)
    if c.LOINC_BODY_WEIGHT[0] in loinc:
        return _weight(resource, state)
    if _has(code, c.MIBG_CODES, c.CODE_EXPOSURE_RATE):
        return _reading(resource, state)
    if _has(code, c.MIBG_CODES, c.CODE_WHOLE_BODY_DOSE):
        return _dosimetry(resource, state)
    shown = ", ".join(f"{s}|{v}" for s, v in _codings(code)) or (code or {}).get("text") or "none"
    raise _Refusal(f"unknown code ({shown})")


def _effective(resource: Mapping[str, Any]) -> datetime:
    if "effectiveDateTime" in resource:
        return _aware(resource["effectiveDateTime"], "effectiveDateTime")
    if "effectiveInstant" in resource:
        return _aware(resource["effectiveInstant"], "effectiveInstant")
    period = resource.get("effectivePeriod") or {}
    if "start" in period:
        return _aware(period["start"], "effectivePeriod.start")
    raise _Refusal("missing time: no effective time")


def _lab(resource: Mapping[str, Any], loinc: str, state: _State) -> str:
    _status_final(resource)
    test = LOINC_TESTS[loinc]
    definition = LABS[test]
    collected = _effective(resource)
    quantity = resource.get("valueQuantity")
    if not quantity:
        raise _Refusal(f"no valueQuantity for {definition.name}")

    def canonical(q: Mapping[str, Any], what: str) -> Decimal:
        unit = _unit(q)
        try:
            multiplier, divisor = conversion_factor(test, unit)
        except InputError as error:
            raise _Refusal(f"unit not convertible: {error.message}") from None
        return _number(q.get("value"), what) * multiplier / divisor

    value = canonical(quantity, definition.name)
    ranges = resource.get("referenceRange") or []
    low = canonical(ranges[0]["low"], "referenceRange.low") if ranges and ranges[0].get("low") else None
    high = canonical(ranges[0]["high"], "referenceRange.high") if ranges and ranges[0].get("high") else None
    grade_ext = _extension(resource, c.EXT_CTCAE_GRADE)
    grade = grade_ext.get("valueInteger") if grade_ext else None
    try:
        lab = LabResult(test, value, collected, low, high, grade)
    except ReportInputError as error:
        raise _Refusal(str(error)) from None
    state.labs.append(lab)
    return f"{definition.name} (LOINC {loinc}) {value} {definition.display_unit} at {collected.isoformat()}"


def _weight(resource: Mapping[str, Any], state: _State) -> str:
    _status_final(resource)
    value = _in_unit(resource.get("valueQuantity"), ("kg",), "body weight")
    try:
        value = parse_weight_kg(value)  # the plausible range of the protocol definition, as at every door
    except InputError as error:
        raise _Refusal(str(error)) from None
    raw = resource.get("effectiveDateTime")
    if not isinstance(raw, str):
        raise _Refusal("missing time: no effectiveDateTime for the body weight")
    try:
        measured = date.fromisoformat(raw[:10])
    except ValueError:
        raise _Refusal(f"effectiveDateTime '{raw}' is not a date") from None
    state.weight = (value, measured)
    return f"body weight {value} kg on {measured.isoformat()}"


def _reading(resource: Mapping[str, Any], state: _State) -> str:
    _status_final(resource)
    when = _effective(resource)
    value = _in_unit(resource.get("valueQuantity"), ("mR/h",), "exposure rate at 1 m")
    notes = resource.get("note") or []
    note = str(notes[0].get("text", "")) if notes else ""
    state.readings.append(ExposureReading(when, value, note))
    return f"exposure rate {value} mR/h at 1 m at {when.isoformat()}"


def _dosimetry(resource: Mapping[str, Any], state: _State) -> str:
    _status_final(resource)
    dose = _in_unit(resource.get("valueQuantity"), ("Gy",), "whole-body dose")
    tiac = None
    half_lives: list[Decimal] = []
    electron_only = phi = mass = None
    constants: list[DosimetryConstant] = []
    for component in resource.get("component") or []:
        codes = [v for s, v in _codings(component.get("code")) if s == c.MIBG_CODES]
        q = component.get("valueQuantity")
        if c.CODE_TIAC in codes:
            tiac = _in_unit(q, ("h",), "tau")
        elif c.CODE_EFFECTIVE_HALF_LIFE in codes:
            half_lives.append(_in_unit(q, ("h",), "effective half-life"))
        elif c.CODE_ELECTRON_ONLY in codes:
            electron_only = _in_unit(q, ("Gy",), "electron-only dose")
        elif c.CODE_PHOTON_FRACTION in codes:
            phi = _in_unit(q, ("1",), "photon absorbed fraction")
        elif c.CODE_BODY_MASS in codes:
            mass = _in_unit(q, ("kg",), "body mass")
        elif codes and codes[0].startswith(f"{c.CODE_CONSTANT}:"):
            constants.append(DosimetryConstant(codes[0].split(":", 1)[1], _number((q or {}).get("value"), codes[0]),
                                               str((q or {}).get("unit", "")),
                                               str(component.get("code", {}).get("text", ""))))
    if tiac is None:
        raise _Refusal("the whole-body dose has no time-integrated activity coefficient component")
    state.dosimetry = DosimetrySummary(
        method=str((resource.get("method") or {}).get("text", "")), tiac_h=tiac,
        effective_half_lives_h=tuple(half_lives), whole_body_dose_gy=dose, electron_only_dose_gy=electron_only,
        photon_absorbed_fraction=phi, body_mass_kg=mass, constants=tuple(constants))
    return f"whole-body dose {dose} Gy (tau {tiac} h)"


def _activity_mci(q: Mapping[str, Any] | None, what: str) -> Decimal:
    """An activity in mCi from a quantity in mCi or MBq (1 mCi = 37 MBq exactly, clinical-reference §2.3)."""
    if not q:
        raise _Refusal(f"no dose for {what}")
    unit = _unit(q)
    value = _number(q.get("value"), what)
    if unit == "mCi":
        mci = value
    elif unit == "MBq":
        mci = value / MBQ_PER_MCI
    elif unit == "GBq":
        mci = value * 1000 / MBQ_PER_MCI
    else:
        raise _Refusal(f"unit not convertible: '{unit}' for {what} (expected mCi, MBq or GBq)")
    try:
        return parse_activity_mci(mci)  # the plausible range of the protocol definition, as at every door
    except InputError as error:
        raise _Refusal(f"{error} ({what})") from None


def _medication_request(resource: Mapping[str, Any], state: _State) -> str:
    dosages = resource.get("dosageInstruction") or []
    if not dosages:
        raise _Refusal("no dosageInstruction")
    dose_and_rate = dosages[0].get("doseAndRate") or []
    ordered = next((d for d in dose_and_rate if _has(d.get("type"), c.DOSE_RATE_TYPE, "ordered")), None)
    chosen = ordered or (dose_and_rate[0] if dose_and_rate else None)
    if chosen is None:
        raise _Refusal("no doseQuantity")
    activity = _activity_mci(chosen.get("doseQuantity"), "the ordered dose")
    per_kg_ext = _extension(dosages[0], c.EXT_DOSE_PER_KG)
    per_kg = _in_unit(per_kg_ext.get("valueQuantity"), ("mCi/kg",), "dose per kg") if per_kg_ext else None
    authored = _aware(resource["authoredOn"], "authoredOn") if resource.get("authoredOn") else None
    state.directive = ImportedDirective(activity, per_kg, authored, str(resource.get("status")))
    return f"directive {activity} mCi" + (f" ({per_kg} mCi/kg)" if per_kg is not None else "")


def _medication_administration(resource: Mapping[str, Any], state: _State) -> str:
    if resource.get("status") != "completed":
        raise _Refusal(f"status '{resource.get('status')}': only completed administrations are imported")
    if "effectivePeriod" in resource:
        start = _aware(resource["effectivePeriod"].get("start"), "effectivePeriod.start")
        end_raw = resource["effectivePeriod"].get("end")
        end = _aware(end_raw, "effectivePeriod.end") if end_raw else None
    else:
        start, end = _aware(resource.get("effectiveDateTime"), "effectiveDateTime"), None
    activity = _activity_mci((resource.get("dosage") or {}).get("dose"), "the administered dose")
    state.administration = ImportedAdministration(start, end, activity)
    return f"administration of {activity} mCi at {start.isoformat()}"


def _procedure(resource: Mapping[str, Any], state: _State) -> str:
    if not _has(resource.get("code"), c.MIBG_CODES, c.CODE_STEM_CELL_INFUSION):
        raise _Refusal("unknown code: only the stem-cell infusion procedure is imported")
    if resource.get("status") != "completed":
        raise _Refusal(f"status '{resource.get('status')}' is not completed")
    infused = _aware(resource.get("performedDateTime"), "performedDateTime")
    used = resource.get("usedCode") or []
    product = str(used[0].get("text", "")) if used else ""
    reasons = resource.get("reasonCode") or []
    cd34_ext = _extension(resource, c.EXT_CD34_PER_KG)
    cd34 = _in_unit(cd34_ext.get("valueQuantity"), ("/kg",), "CD34+ cells per kg") if cd34_ext else None
    state.rescue = StemCellInfusion(infused, product, cd34, str(reasons[0].get("text", "")) if reasons else "")
    return f"stem-cell infusion at {infused.isoformat()}"


def _adverse_event(resource: Mapping[str, Any], state: _State) -> str:
    grade_ext = _extension(resource, c.EXT_CTCAE_GRADE)
    if grade_ext is None or not isinstance(grade_ext.get("valueInteger"), int):
        raise _Refusal("no CTCAE grade")
    term = (resource.get("event") or {}).get("text")
    if not term:
        raise _Refusal("no event term (event.text)")
    try:  # a CTCAE v5.0 term of the list, as at the form (mibg.core.ae_terms; decisions.md A18; issue 15)
        term = check_term(str(term), "event.text").name
    except InputError as error:
        raise _Refusal(str(error)) from None
    onset = _aware(resource.get("date"), "date")
    seriousness = [v for s, v in _codings(resource.get("seriousness")) if s == c.AE_SERIOUSNESS]
    if len(seriousness) != 1 or seriousness[0] not in c.AE_SERIOUSNESS_CODES:
        raise _Refusal(f"seriousness must be one code of {c.AE_SERIOUSNESS}: Serious or Non-serious "
                       f"(codes are case-sensitive); found {', '.join(map(repr, seriousness)) or 'none'}")
    serious = seriousness[0] == "Serious"
    outcomes = [v for s, v in _codings(resource.get("outcome")) if s == c.AE_OUTCOME and v in AE_OUTCOMES]
    attribution = ""
    for suspect in resource.get("suspectEntity") or []:
        for causality in suspect.get("causality") or []:
            attribution = attribution or str(causality.get("productRelatedness") or "")
    description_ext = _extension(resource, c.EXT_AE_DESCRIPTION)
    try:
        event = AdverseEventRecord(str(term), int(grade_ext["valueInteger"]), onset, serious, attribution,
                                   outcomes[0] if outcomes else "unknown",
                                   str(description_ext.get("valueString", "")) if description_ext else "")
    except ReportInputError as error:
        raise _Refusal(str(error)) from None
    state.adverse_events.append(event)
    return f"adverse event {term}, grade {event.grade}"


def _study(resource: Mapping[str, Any], state: _State) -> str:
    values = [str(i.get("value")) for i in resource.get("identifier") or [] if i.get("value")]
    state.studies.extend(values)
    return f"research study {', '.join(values) or resource.get('title', '')}"


def _context(resource: Mapping[str, Any], state: _State) -> str:
    return f"{resource['resourceType']} (context; nothing to import)"


_HANDLERS = {
    "Patient": _patient,
    "Observation": _observation,
    "MedicationRequest": _medication_request,
    "MedicationAdministration": _medication_administration,
    "Procedure": _procedure,
    "AdverseEvent": _adverse_event,
    "ResearchStudy": _study,
    "ResearchSubject": _context,
    "Condition": _context,
}

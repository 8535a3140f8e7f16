"""A course as a FHIR R4 Bundle (type collection), every resource validated against the FHIR models.

Resources (FHIR R4, hl7.org/fhir/R4): Patient, ResearchStudy (NCT01370330), ResearchSubject, Condition
(neuroblastoma, SNOMED CT 432328008), Observation (laboratory results with LOINC codes and UCUM units, body
weight, exposure-rate readings at 1 m, whole-body absorbed dose), MedicationRequest (the written directive:
mCi ordered, MBq calculated), the supportive-care orders of the care plan (MedicationRequest for iodide and the
antiemetic, ServiceRequest for the rest), MedicationAdministration (the activity given, in MBq), Procedure (stem-cell
infusion) and AdverseEvent (CTCAE v5.0 grade).

fhir.resources 8.3 ships R5 as its default package and R4B (4.3) under ``fhir.resources.R4B``; there is no
R4 (4.0.1) package. The resources used here are unchanged between R4 and R4B, so each is validated with the
R4B model class. Identifiers are derived from the MRN and course number (UUID v5), so the same course gives
the same Bundle text.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from mibg.core.clinical_rows import reference_flag
from mibg.core.labs import LABS
from mibg.core.units import MBQ_PER_MCI
from mibg.protocol import load_protocol
from mibg.reports.errors import ReportInputError
from mibg.reports.fhir import codes as c
from mibg.reports.fhir.jsonio import dumps
from mibg.reports.fhir.resources import Resource, coding, validate
from mibg.reports.numbers import activity_text, exact, show
from mibg.reports.prescription import prescribed_dose
from mibg.reports.record import CourseRecord, LabResult, SupportiveOrder


def instant(value: datetime) -> str:
    """FHIR dateTime/instant: seconds and the UTC offset are required once a time is given (R4 §2.24.0.1)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ReportInputError("time", f"{value.isoformat()} has no time zone")
    return value.isoformat(timespec="seconds" if value.microsecond == 0 else "microseconds")


def _day(value: date) -> str:
    return value.isoformat()


def quantity(value: Decimal, unit: str, ucum: str | None = None) -> Resource:
    """A Quantity; with ``ucum`` it is coded in UCUM (system http://unitsofmeasure.org)."""
    out: Resource = {"value": value, "unit": unit}
    if ucum is not None:
        out["system"] = c.UCUM
        out["code"] = ucum
    return out


class _Ids:
    """Deterministic resource ids: UUID v5 of the MRN, course number and a key."""

    def __init__(self, course: CourseRecord) -> None:
        self.base = f"mibg:{course.patient.mrn}:course:{course.course_number}"

    def id(self, key: str) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.base}:{key}"))

    def url(self, key: str) -> str:
        return f"urn:uuid:{self.id(key)}"

    def ref(self, key: str, display: str | None = None) -> Resource:
        out: Resource = {"reference": self.url(key)}
        if display:
            out["display"] = display
        return out


def course_bundle(course: CourseRecord, *, mrn_system: str = c.DEFAULT_MRN_SYSTEM) -> Resource:
    """The Bundle as a plain dict (numbers as Decimal). Raises ReportInputError for an inconsistent record."""
    ids = _Ids(course)
    entries: list[tuple[str, Resource]] = [
        ("patient", _patient(course, ids, mrn_system)),
        ("study", _study(course, ids)),
        ("subject", _subject(course, ids)),
        ("condition", _condition(course, ids)),
    ]
    if course.directive is not None:
        entries.append(("weight", _weight(course, ids)))
    entries += [(_lab_key(lab), _lab(lab, ids)) for lab in course.labs]
    entries += [(f"reading:{instant(r.measured_at)}", _reading(r, ids)) for r in course.readings]
    if course.dosimetry is not None:
        entries.append(("dosimetry", _dosimetry(course, ids)))
    if course.directive is not None:
        entries.append(("directive", _medication_request(course, ids)))
    entries += [(f"order:{o.code}", _supportive_order(o, ids)) for o in course.orders]
    if course.administration is not None:
        entries.append(("administration", _medication_administration(course, ids)))
    if course.stem_cell_infusion is not None:
        entries.append(("rescue", _procedure(course, ids)))
    entries += [(f"ae:{i}", _adverse_event(course, ids, i)) for i in range(len(course.adverse_events))]
    bundle: Resource = {
        "resourceType": "Bundle",
        "id": ids.id("bundle"),
        "type": "collection",
        "timestamp": instant(course.document_time),
        "entry": [],
    }
    for key, built in entries:
        resource = {"resourceType": built["resourceType"], "id": ids.id(key)}
        resource.update((k, v) for k, v in built.items() if k != "resourceType")
        validate(resource)
        bundle["entry"].append({"fullUrl": ids.url(key), "resource": resource})
    validate(bundle)
    return bundle


def course_bundle_json(course: CourseRecord, *, mrn_system: str = c.DEFAULT_MRN_SYSTEM) -> str:
    """The Bundle as FHIR JSON text with exact decimals (see :mod:`mibg.reports.fhir.jsonio`)."""
    return dumps(course_bundle(course, mrn_system=mrn_system))


def _lab_key(lab: LabResult) -> str:
    return f"lab:{lab.test}:{instant(lab.collected_at)}"


def _patient(course: CourseRecord, ids: _Ids, mrn_system: str) -> Resource:
    p = course.patient
    name: Resource = {"use": "official", "family": p.family}
    if p.given:
        name["given"] = [p.given]
    return {
        "resourceType": "Patient",
        "identifier": [{
            "use": "usual",
            "type": {"coding": [coding(c.V2_0203, "MR", "Medical record number")]},
            "system": mrn_system,
            "value": p.mrn,
        }],
        "name": [name],
        "gender": p.sex,
        "birthDate": _day(p.birth_date),
    }


def _study(course: CourseRecord, ids: _Ids) -> Resource:
    """The study, its identifiers, status and conditions taken from the ClinicalTrials.gov record (the imported one,
    else the bundled one; issue 13 §4), never hard-coded."""
    from mibg.protocol.study_record import StudyRecordError, current_study_record
    from mibg.reports.fhir.protocol import brief_research_study

    try:
        record = current_study_record()
    except StudyRecordError as error:
        raise ReportInputError(f"study record: {error.field}", error.message) from None
    study = brief_research_study(record, load_protocol())
    study["description"] = f"Course run under the protocol definition {course.protocol_label}."
    return study


def _subject(course: CourseRecord, ids: _Ids) -> Resource:
    return {
        "resourceType": "ResearchSubject",
        "status": "on-study",
        "study": ids.ref("study"),
        "individual": ids.ref("patient", course.patient.display_name),
    }


def _condition(course: CourseRecord, ids: _Ids) -> Resource:
    code: Resource = {"text": course.diagnosis}
    if course.diagnosis.strip().lower() == "neuroblastoma":
        code["coding"] = [coding(c.SNOMED, *c.SCT_NEUROBLASTOMA)]
    return {
        "resourceType": "Condition",
        "clinicalStatus": {"coding": [coding(c.CONDITION_CLINICAL, "active", "Active")]},
        "verificationStatus": {"coding": [coding(c.CONDITION_VERIFICATION, "confirmed", "Confirmed")]},
        "code": code,
        "subject": ids.ref("patient"),
    }


def _category(code: str, display: str) -> list[Resource]:
    return [{"coding": [coding(c.OBSERVATION_CATEGORY, code, display)]}]


def _weight(course: CourseRecord, ids: _Ids) -> Resource:
    directive = course.directive
    assert directive is not None
    return {
        "resourceType": "Observation",
        "status": "final",
        "category": _category("vital-signs", "Vital Signs"),
        "code": {"coding": [coding(c.LOINC, *c.LOINC_BODY_WEIGHT)], "text": "Body weight"},
        "subject": ids.ref("patient"),
        "effectiveDateTime": _day(directive.weight_measured_on),
        "valueQuantity": quantity(directive.weight_kg, "kg", "kg"),
    }


def _lab(lab: LabResult, ids: _Ids) -> Resource:
    definition = LABS[lab.test]
    vital = lab.test in ("systolic_bp", "diastolic_bp")
    resource: Resource = {
        "resourceType": "Observation",
        "status": "final",
        "category": _category("vital-signs", "Vital Signs") if vital else _category("laboratory", "Laboratory"),
        "code": {"coding": [coding(c.LOINC, definition.loinc, c.LAB_LOINC_DISPLAY[definition.loinc])],
                 "text": definition.name},
        "subject": ids.ref("patient"),
        "effectiveDateTime": instant(lab.collected_at),
        "valueQuantity": quantity(lab.value, definition.display_unit, definition.ucum),
    }
    if lab.lln is not None or lab.uln is not None:
        bounds: Resource = {}
        if lab.lln is not None:
            bounds["low"] = quantity(lab.lln, definition.display_unit, definition.ucum)
        if lab.uln is not None:
            bounds["high"] = quantity(lab.uln, definition.display_unit, definition.ucum)
        resource["referenceRange"] = [bounds]
    if lab.grade is not None:
        resource["extension"] = [{"url": c.EXT_CTCAE_GRADE, "valueInteger": lab.grade}]
    flag = reference_flag(lab.test, lab.value, lab.lln, lab.uln)
    if flag:  # TSH and free T4: flagged against the site's range, graded by the physician (issue 12)
        code, display = c.INTERPRETATION_CODES[flag]
        resource["interpretation"] = [{"coding": [coding(c.OBSERVATION_INTERPRETATION, code, display)]}]
    if lab.reading:
        resource["note"] = [{"text": lab.reading}]
    return resource


def _reading(reading: Any, ids: _Ids) -> Resource:
    resource: Resource = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [coding(c.MIBG_CODES, c.CODE_EXPOSURE_RATE, "Exposure rate at 1 m from the patient")],
                 "text": "Exposure rate at 1 m (mR/h)"},
        "subject": ids.ref("patient"),
        "effectiveDateTime": instant(reading.measured_at),
        # UCUM: R = roentgen, so mR/h is milliroentgen per hour (clinical-reference §2.3: 1 R ~ 1 rem for I-131).
        "valueQuantity": quantity(reading.mr_per_h_at_1m, "mR/h", "mR/h"),
    }
    if reading.note:
        resource["note"] = [{"text": reading.note}]
    return resource


def _component(code: str, display: str, value: Resource) -> Resource:
    return {"code": {"coding": [coding(c.MIBG_CODES, code, display)], "text": display}, "valueQuantity": value}


def _dosimetry(course: CourseRecord, ids: _Ids) -> Resource:
    d = course.dosimetry
    assert d is not None
    components = [_component(c.CODE_TIAC, "Time-integrated activity coefficient (tau)", quantity(d.tiac_h, "h", "h"))]
    components += [_component(c.CODE_EFFECTIVE_HALF_LIFE, "Effective half-life", quantity(t, "h", "h"))
                   for t in d.effective_half_lives_h]
    if d.electron_only_dose_gy is not None:
        components.append(_component(c.CODE_ELECTRON_ONLY, "Whole-body dose, electrons only (lower bound)",
                                     quantity(d.electron_only_dose_gy, "Gy", "Gy")))
    if d.photon_absorbed_fraction is not None:
        components.append(_component(c.CODE_PHOTON_FRACTION, "Photon absorbed fraction (phi)",
                                     quantity(d.photon_absorbed_fraction, "1", "1")))
    if d.body_mass_kg is not None:
        components.append(_component(c.CODE_BODY_MASS, "Body mass used", quantity(d.body_mass_kg, "kg", "kg")))
    for constant in d.constants:
        components.append({
            "code": {"coding": [coding(c.MIBG_CODES, f"{c.CODE_CONSTANT}:{constant.name}", constant.name)],
                     "text": constant.source},
            "valueQuantity": {"value": constant.value, "unit": constant.unit},
        })
    when = course.administration.start if course.administration else course.document_time
    resource: Resource = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [coding(c.MIBG_CODES, c.CODE_WHOLE_BODY_DOSE, "Whole-body absorbed dose")],
                 "text": "Whole-body absorbed dose from 131I-MIBG"},
        "subject": ids.ref("patient"),
        "effectiveDateTime": instant(when),
        "valueQuantity": quantity(d.whole_body_dose_gy, "Gy", "Gy"),
        "method": {"text": d.method},
        "component": components,
    }
    if course.readings:
        resource["derivedFrom"] = [ids.ref(f"reading:{instant(r.measured_at)}") for r in course.readings]
    return resource


def _medication() -> Resource:
    return {"coding": [coding(c.SNOMED, *c.SCT_MIBG_I131)], "text": c.MEDICATION_TEXT}


def _route() -> Resource:
    return {"coding": [coding(c.SNOMED, *c.SCT_INTRAVENOUS)], "text": "intravenous"}


def _medication_request(course: CourseRecord, ids: _Ids) -> Resource:
    directive = course.directive
    assert directive is not None
    dose = prescribed_dose(directive)
    if dose.blocked:
        status = "draft"
    elif course.administration is not None:
        status = "completed"
    else:
        status = "active" if directive.signatures else "draft"
    ordered: Resource = {
        "type": {"coding": [coding(c.DOSE_RATE_TYPE, "ordered", "Ordered")]},
        "doseQuantity": quantity(dose.activity.mci, "mCi", "mCi"),
    }
    if dose.infusion_rate_ml_per_h is not None:
        ordered["rateQuantity"] = quantity(dose.infusion_rate_ml_per_h, "mL/h", "mL/h")
    duration = f" over {exact(dose.request.infusion_min)} min" if dose.request.infusion_min is not None else ""
    resource: Resource = {
        "resourceType": "MedicationRequest",
        "status": status,
        "intent": "order",
        "medicationCodeableConcept": _medication(),
        "subject": ids.ref("patient"),
        "supportingInformation": [ids.ref("weight")],
        "dosageInstruction": [{
            "extension": [{"url": c.EXT_DOSE_PER_KG, "valueQuantity": quantity(dose.request.mci_per_kg, "mCi/kg", "mCi/kg")}],
            "text": (f"{activity_text(dose.activity.mci)} = {exact(dose.request.mci_per_kg)} mCi/kg x "
                     f"{exact(dose.request.weight_kg)} kg, intravenous via {directive.access}{duration}"),
            "route": _route(),
            "doseAndRate": [ordered, {
                "type": {"coding": [coding(c.DOSE_RATE_TYPE, "calculated", "Calculated")]},
                "doseQuantity": quantity(dose.activity.mci * MBQ_PER_MCI, "MBq", "MBq"),
            }],
        }],
    }
    if directive.signatures:
        first = directive.signatures[0]
        resource["authoredOn"] = instant(first.signed_at)
        resource["requester"] = {"display": f"{first.printed_name} ({first.role})"}
    notes = [f"Preparation: {directive.preparation}"]
    if directive.lot:
        notes.append(f"Lot {directive.lot}")
    if directive.specific_activity is not None:
        notes.append(f"specific activity {exact(directive.specific_activity)} {directive.specific_activity_unit}")
    notes.append(f"protocol {dose.protocol_label}; plan status {dose.status}")
    resource["note"] = [{"text": "; ".join(notes)}]
    return resource


def _supportive_order(order: SupportiveOrder, ids: _Ids) -> Resource:
    """One supportive-care order (issue 13) as a MedicationRequest (iodide, antiemetic) or a ServiceRequest
    (hydration, catheter, blood pressure, medication check, isolation room): active until every due time is
    recorded, then completed."""
    period: Resource = {"start": instant(order.start)}
    if order.end is not None:
        period["end"] = instant(order.end)
    status = "completed" if order.recorded >= order.due_times else "active"
    notes = [{"text": f"Source: {order.source}"}]
    if order.dose_status:
        notes.append({"text": f"Dose status: {order.dose_status}"})
    text = f"{order.dose}; {order.schedule}" if order.dose else order.schedule
    if order.resource == "MedicationRequest":
        return {
            "resourceType": "MedicationRequest", "status": status, "intent": "order",
            "identifier": [{"system": c.ORDER_CODE_SYSTEM, "value": order.code}],
            "medicationCodeableConcept": {"text": order.name}, "subject": ids.ref("patient"),
            "basedOn": [ids.ref("directive")],
            "dosageInstruction": [{"text": f"{text}. {order.instructions}", "timing": {"repeat": {"boundsPeriod": period}}}],
            "note": notes,
        }
    return {
        "resourceType": "ServiceRequest", "status": status, "intent": "order",
        "identifier": [{"system": c.ORDER_CODE_SYSTEM, "value": order.code}],
        "code": {"text": order.name}, "subject": ids.ref("patient"), "occurrencePeriod": period,
        "patientInstruction": f"{text}. {order.instructions}", "note": notes,
    }


def _medication_administration(course: CourseRecord, ids: _Ids) -> Resource:
    a = course.administration
    assert a is not None
    dosage: Resource = {
        "text": f"{activity_text(a.administered_mci)} administered ({a.route} via {a.access})",
        "route": _route(),
        "dose": quantity(a.administered_mci * MBQ_PER_MCI, "MBq", "MBq"),
    }
    resource: Resource = {
        "resourceType": "MedicationAdministration",
        "status": "completed",
        "medicationCodeableConcept": _medication(),
        "subject": ids.ref("patient"),
        "effectivePeriod": {"start": instant(a.start), "end": instant(a.end)},
        "dosage": dosage,
    }
    if course.directive is not None:
        resource["request"] = ids.ref("directive")
    if a.signature is not None:
        resource["performer"] = [{"actor": {"display": f"{a.signature.printed_name} ({a.signature.role})"}}]
    notes = list(a.deviations)
    if a.deviation_percent is not None:
        notes.append(f"Difference from the prescription {show(a.deviation_percent, 2)} %")
    if a.possible_medical_event:
        notes.append("Possible medical event (10 CFR 35.3045): under review")
    if notes:
        resource["note"] = [{"text": n} for n in notes]
    return resource


def _procedure(course: CourseRecord, ids: _Ids) -> Resource:
    s = course.stem_cell_infusion
    assert s is not None
    resource: Resource = {
        "resourceType": "Procedure",
        "status": "completed",
        "code": {"coding": [coding(c.MIBG_CODES, c.CODE_STEM_CELL_INFUSION, c.STEM_CELL_PROCEDURE_TEXT)],
                 "text": c.STEM_CELL_PROCEDURE_TEXT},
        "subject": ids.ref("patient"),
        "performedDateTime": instant(s.infused_at),
        "usedCode": [{"text": s.product}],
    }
    if s.reason:
        resource["reasonCode"] = [{"text": s.reason}]
    if s.cd34_per_kg is not None:
        resource["extension"] = [{"url": c.EXT_CD34_PER_KG, "valueQuantity": quantity(s.cd34_per_kg, "/kg", "/kg")}]
    return resource


def _adverse_event(course: CourseRecord, ids: _Ids, index: int) -> Resource:
    ae = course.adverse_events[index]
    extensions: list[Resource] = [{"url": c.EXT_CTCAE_GRADE, "valueInteger": ae.grade}]
    if ae.description:
        extensions.append({"url": c.EXT_AE_DESCRIPTION, "valueString": ae.description})
    # R4 code system adverse-event-seriousness: "Serious" / "Non-serious", case-sensitive (FHIR R4 §4.2).
    serious = "Serious" if ae.serious else "Non-serious"
    resource: Resource = {
        "resourceType": "AdverseEvent",
        "extension": extensions,
        "actuality": "actual",
        "event": {"text": ae.term},
        "subject": ids.ref("patient"),
        "date": instant(ae.onset),
        "seriousness": {"coding": [coding(c.AE_SERIOUSNESS, serious, c.AE_SERIOUSNESS_CODES[serious])]},
        "severity": {"coding": [coding(c.AE_SEVERITY, c.ctcae_to_severity(ae.grade))]},
        "outcome": {"coding": [coding(c.AE_OUTCOME, ae.outcome)]},
        "study": [ids.ref("study")],
    }
    if course.administration is not None:
        suspect: Resource = {"instance": ids.ref("administration")}
        if ae.attribution:
            suspect["causality"] = [{"productRelatedness": ae.attribution}]
        resource["suspectEntity"] = [suspect]
    return resource

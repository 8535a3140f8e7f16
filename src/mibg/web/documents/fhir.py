"""FHIR R4 for one patient: the export of every course as one Bundle, and the import of laboratory results.

Export: each course is built by :func:`mibg.reports.course_bundle` from its :class:`CourseRecord`; the courses'
Bundles are joined into one ``collection`` Bundle. The Patient, the ResearchStudy, the ResearchSubject and the
Condition that every course repeats are kept once (the same resource after their references are pointed at the
first copy), and every reference is pointed at the copy kept. The joined Bundle is validated with the FHIR R4B
model classes before it leaves (fhir.resources has no R4 package; these resources are unchanged in R4B).

Import: a Bundle's entries are read one by one with :func:`mibg.reports.import_bundle` (which validates each
resource and refuses, with the reason, what it cannot read exactly). Laboratory results are then stored in the
follow-up app's lab model, each through the follow-up app's own checks (CTCAE v5.0 grade, not in the future, not
stored already), as entered in the Bundle (value, unit and reference range), and audited. What else a Bundle
holds (directive, administration, readings...) is reported as read but not stored: those records are made in
the application, by the people who sign them. A Bundle about another patient is refused whole.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from mibg.core.clinical_rows import ClinicalReading
from mibg.core.errors import InputError
from mibg.core.identity import mrn_key
from mibg.core.labs import LABS, LOINC_TESTS
from mibg.reports.errors import ReportInputError
from mibg.reports.fhir import codes as c
from mibg.reports.fhir.jsonio import dumps, loads
from mibg.web.audit.trail import field_values, log_changes
from mibg.web.courses.models import Course
from mibg.web.errors import Refused
from mibg.web.patients.models import Patient

#: Resources every course's Bundle repeats; the joined Bundle keeps one of each that is the same.
SHARED = ("Patient", "ResearchStudy", "ResearchSubject", "Condition")
MRN_SYSTEM = c.DEFAULT_MRN_SYSTEM


# ---- export -------------------------------------------------------------------------------------------------


def _point(value: Any, moved: Mapping[str, str]) -> Any:
    """``value`` with every ``reference`` in ``moved`` replaced by where it moved to."""
    if isinstance(value, dict):
        return {k: (moved.get(v, v) if k == "reference" and isinstance(v, str) else _point(v, moved))
                for k, v in value.items()}
    if isinstance(value, list):
        return [_point(v, moved) for v in value]
    return value


def _without_id(resource: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in resource.items() if k != "id"}


def join_bundles(patient: Patient, bundles: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One ``collection`` Bundle from the courses' Bundles, shared resources kept once."""
    moved: dict[str, str] = {}
    kept: list[tuple[str, dict[str, Any]]] = []  # (fullUrl, resource)
    for bundle in bundles:
        for entry in bundle.get("entry", []):
            resource = _point(copy.deepcopy(entry["resource"]), moved)
            if resource["resourceType"] in SHARED:
                same = next((url for url, r in kept if r["resourceType"] == resource["resourceType"]
                             and _without_id(r) == _without_id(resource)), None)
                if same is not None:
                    moved[entry["fullUrl"]] = same
                    continue
            kept.append((entry["fullUrl"], resource))
    timestamps = [b["timestamp"] for b in bundles if b.get("timestamp")]
    joined: dict[str, Any] = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"mibg:{patient.mrn}:patient-bundle")),
        "type": "collection",
    }
    if timestamps:
        joined["timestamp"] = max(timestamps, key=lambda t: datetime.fromisoformat(t))
    joined["entry"] = [{"fullUrl": url, "resource": resource} for url, resource in kept]
    _validate(joined)
    return joined


def _patient_only(patient: Patient) -> dict[str, Any]:
    """A Bundle with the Patient alone (a patient without any course yet), in the export's own shape."""
    name: dict[str, Any] = {"use": "official", "family": patient.family_name}
    if patient.given_name:
        name["given"] = [patient.given_name]
    key = f"mibg:{patient.mrn}:patient"
    return {"resourceType": "Bundle", "type": "collection", "entry": [{
        "fullUrl": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, key)}",
        "resource": {
            "resourceType": "Patient", "id": str(uuid.uuid5(uuid.NAMESPACE_URL, key)),
            "identifier": [{"use": "usual", "type": {"coding": [{"system": c.V2_0203, "code": "MR",
                                                                 "display": "Medical record number"}]},
                            "system": MRN_SYSTEM, "value": patient.mrn}],
            "name": [name], "gender": patient.sex, "birthDate": patient.birth_date.isoformat()}}]}


def _validate(bundle: Mapping[str, Any]) -> None:
    from fhir.resources.R4B import get_fhir_model_class

    get_fhir_model_class("Bundle").model_validate(bundle)


def patient_bundle(patient: Patient) -> dict[str, Any]:
    """Every course of ``patient`` as one FHIR R4 Bundle (a dict, numbers as Decimal)."""
    from mibg.reports import course_bundle
    from mibg.web.documents.records import course_record

    courses = list(patient.courses.order_by("number"))
    bundles = [course_bundle(course_record(course, plots=False), mrn_system=MRN_SYSTEM) for course in courses]
    return join_bundles(patient, bundles or [_patient_only(patient)])


def patient_bundle_json(patient: Patient) -> str:
    return dumps(patient_bundle(patient))


# ---- import -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    resource: str
    text: str


@dataclass
class ImportReport:
    """What a Bundle gave: labs stored, resources read but not stored, and refusals with their reasons."""

    filename: str
    course: Course | None
    stored: list[Line] = field(default_factory=list)
    not_stored: list[Line] = field(default_factory=list)
    refused: list[Line] = field(default_factory=list)
    whole_refusal: str = ""

    @property
    def total(self) -> int:
        return len(self.stored) + len(self.not_stored) + len(self.refused)


def _entry_label(index: int, resource: object) -> str:
    if isinstance(resource, Mapping):
        return f"entry {index + 1} {resource.get('resourceType', '?')}/{resource.get('id', '-')}"
    return f"entry {index + 1}"


def _mrns(resource: Mapping[str, Any]) -> list[str]:
    return [str(i.get("value")) for i in resource.get("identifier") or []
            if isinstance(i, Mapping) and i.get("value") and any(
                x.get("code") == "MR" for x in (i.get("type") or {}).get("coding") or [])]


def _subject_mrn(resource: Mapping[str, Any]) -> str | None:
    """The MRN an Observation names as its subject by identifier (``subject.identifier.value``), if any."""
    identifier = (resource.get("subject") or {}).get("identifier")
    if isinstance(identifier, Mapping) and identifier.get("value"):
        return str(identifier["value"])
    return None


def _unit(q: Mapping[str, Any]) -> str:
    if q.get("system") == c.UCUM and q.get("code"):
        return str(q["code"])
    return str(q.get("unit") or q.get("code") or "")


def _lab_entry(resource: Mapping[str, Any], collected_at: datetime) -> tuple[str, Any]:
    """The follow-up app's LabEntry for a lab Observation, as written in the Bundle (its own unit)."""
    from mibg.web.followup.services import LabEntry

    loinc = next(x.get("code") for x in resource["code"]["coding"]
                 if x.get("system") == c.LOINC and x.get("code") in LOINC_TESTS)
    test = LOINC_TESTS[loinc]
    quantity = resource["valueQuantity"]
    unit = _unit(quantity)
    limits = {"low": "", "high": ""}
    ranges = resource.get("referenceRange") or []
    for bound in ("low", "high"):
        q = ranges[0].get(bound) if ranges else None
        if q:
            if _unit(q) != unit:
                raise InputError("referenceRange", _("the reference range is in '%(range_unit)s', the value in "
                                                     "'%(value_unit)s': give both in the same unit")
                                                   % {"range_unit": _unit(q), "value_unit": unit})
            limits[bound] = format(Decimal(q["value"]), "f")
    return test, LabEntry(test, format(Decimal(quantity["value"]), "f"), unit, limits["low"], limits["high"],
                          collected_at)


def _course_for(course: Course, collected_at: datetime) -> str | None:
    """Why a result collected at ``collected_at`` does not belong to ``course``'s follow-up, or None."""
    from mibg.web.treatment.models import Administration

    start = course.administrations.order_by("-started_at").values_list("started_at", flat=True).first()
    if start is None:
        return f"course {course.number} has no administration: follow-up results start with the infusion"
    if collected_at < start:
        return (f"collected before the infusion of course {course.number} ({start.isoformat(timespec='minutes')}): "
                "results before treatment belong to the screening data")
    later = (Administration.objects.filter(course__patient=course.patient, course__number__gt=course.number,
                                           started_at__lte=collected_at)
             .select_related("course").order_by("started_at").first())
    if later is not None:
        return f"collected after the infusion of course {later.course.number}: import it into that course"
    return None


def import_labs(user: Any, patient: Patient, course: Course | None, source: str | bytes, filename: str) -> ImportReport:
    """Read a FHIR Bundle and store its laboratory results in ``course``'s follow-up; report every entry.

    A document that is not a Bundle, or a Bundle about another patient, is refused whole (``whole_refusal``).
    """
    from mibg.reports import import_bundle
    from mibg.web.followup import services as followup
    from mibg.web.followup.models import LabResult

    report = ImportReport(filename, course)
    try:
        data = loads(source) if isinstance(source, str | bytes) else source
    except (ReportInputError, ValueError) as error:
        report.whole_refusal = f"The file is not FHIR JSON: {error}"
        return report
    if not isinstance(data, Mapping) or data.get("resourceType") != "Bundle":
        report.whole_refusal = "The file is not a FHIR Bundle (its resourceType must be 'Bundle')."
        return report
    entries = list(data.get("entry") or [])
    patients = [e for e in entries if isinstance(e, Mapping) and isinstance(e.get("resource"), Mapping)
                and e["resource"].get("resourceType") == "Patient"]
    for entry in patients:  # the patient is identified by the same rules as at every door, or nothing is stored
        refused = import_bundle({"resourceType": "Bundle", "type": "collection", "entry": [entry]}).refused
        if refused:
            report.whole_refusal = f"The Bundle's patient cannot be identified: {refused[0].reason}. Nothing was stored."
            return report
    # decisions.md A34: MRNs that differ only in spaces or case are the same patient; any other MRN is another one.
    others = sorted({m for e in patients for m in _mrns(e["resource"]) if mrn_key(m) != patient.mrn_key})
    if others:
        report.whole_refusal = (f"The Bundle is about another patient (MRN {', '.join(others)}), not MRN {patient.mrn}: "
                                "nothing was stored.")
        return report
    with transaction.atomic():
        for index, entry in enumerate(entries):
            resource = entry.get("resource") if isinstance(entry, Mapping) else None
            label = _entry_label(index, resource)
            single = import_bundle({"resourceType": "Bundle", "type": "collection", "entry": [entry]})
            if single.refused:
                report.refused.append(Line(label, single.refused[0].reason))
                continue
            taken = single.taken[0].what if single.taken else "read"
            if not single.labs:
                if single.patient is not None:
                    report.not_stored.append(Line(label, f"{taken}: the patient of this record"))
                else:
                    report.not_stored.append(Line(label, f"{taken}: not stored (only laboratory results are imported; "
                                                         "the rest is recorded in the application)"))
                continue
            assert isinstance(resource, Mapping)
            lab = single.labs[0]
            named = _subject_mrn(resource)
            if named is not None and mrn_key(named) != patient.mrn_key:
                report.refused.append(Line(label, f"the result names another patient (MRN {named})"))
                continue
            if course is None:
                report.refused.append(Line(label, "no course with an administration to store follow-up results in"))
                continue
            wrong = _course_for(course, lab.collected_at)
            if wrong is not None:
                report.refused.append(Line(label, wrong))
                continue
            try:
                test, lab_entry = _lab_entry(resource, lab.collected_at)
                with transaction.atomic():
                    stored = followup.add_lab(user, course, lab_entry, source=LabResult.API)
                    before = field_values(stored)
                    stored.source_detail = f"FHIR Bundle {filename}, {label}"[:200]
                    stored.save(update_fields=["source_detail"])
                    log_changes(user, "update", stored, patient, before, note="provenance of a FHIR import")
            except InputError as error:
                report.refused.append(Line(label, f"{error.field}: {error.message}"))
                continue
            except Refused as error:
                report.refused.append(Line(label, error.message))
                continue
            grade = stored.grade
            if isinstance(grade, ClinicalReading):  # TSH, free T4, blood pressure: graded clinically (issue 12)
                report.stored.append(Line(label, f"{LABS[test].name} {lab_entry.value} {lab_entry.unit} at "
                                                 f"{lab.collected_at.isoformat()}: {grade.summary}"))
                continue
            text = (f"{LABS[test].name} {lab_entry.value} {lab_entry.unit} at {lab.collected_at.isoformat()}: "
                    f"CTCAE v5.0 grade {grade.grade}")
            if lab.grade is not None and lab.grade != grade.grade:
                text += f" (the Bundle said grade {lab.grade}; the grade computed from the value is kept)"
            report.stored.append(Line(label, text))
    return report

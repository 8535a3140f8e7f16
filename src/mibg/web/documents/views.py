"""Downloads of a course's documents (PDF, DICOM RRDSR), the patient's FHIR Bundle (export and lab import), the
programme table (CSV and Excel) and the study record page.

Who may: reading any document is ``patient.view`` (every clinical role and read-only; never anonymous);
importing a Bundle's lab results is ``fhir.import``. Every download is recorded in the audit trail with the
SHA-256 of the bytes handed out, so the exact document given can be identified later. Documents that show the
directive's numbers are refused to a possible verifier until the independent verification is done (10 CFR 35.41),
as the course page and the order sheet are.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from mibg.reports.errors import ReportInputError
from mibg.web.audit.models import AuditEvent
from mibg.web.audit.trail import log_download, log_event
from mibg.web.course_record import hidden_course, numbers_hidden
from mibg.web.courses.models import Course
from mibg.web.courses.services import current_directive
from mibg.web.courses.views import get_course
from mibg.web.documents import fhir
from mibg.web.documents.records import course_record
from mibg.web.forms import set_choices
from mibg.web.page_reads import once
from mibg.web.patients.models import Patient
from mibg.web.permissions import action_required

PDF = "application/pdf"
NO_STORE = {"Cache-Control": "no-store"}
MAX_UPLOAD_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class Document:
    """One kind of course document: how it is built, and from which step of the course it exists."""

    key: str
    title: str
    suffix: str
    content_type: str
    build: Callable[[Any], bytes]
    available: Callable[[Course], bool]
    shows_directive: bool
    needs: str


def _has_evaluation(course: Course) -> bool:
    return once(course, "has_evaluation", lambda: course.evaluations.exists())


def _has_directive(course: Course) -> bool:
    return current_directive(course) is not None


def _has_assay_or_administration(course: Course) -> bool:
    directive = current_directive(course)
    return _has_administration(course) or (directive is not None and course.assays.filter(directive=directive).exists())


def _has_administration(course: Course) -> bool:
    return once(course, "has_administration", lambda: course.administrations.exists())


def _always(course: Course) -> bool:
    return True


def _lazy(name: str) -> Callable[[Any], bytes]:
    def build(record: Any) -> bytes:
        import mibg.reports

        built: bytes = getattr(mibg.reports, name)(record)
        return built

    return build


DOCUMENTS: dict[str, Document] = {d.key: d for d in (
    Document("eligibility", "Eligibility checklist", "pdf", PDF, _lazy("eligibility_checklist_pdf"), _has_evaluation,
             False, "a screening evaluation"),
    Document("directive", "Written directive and order sheet", "pdf", PDF, _lazy("directive_pdf"), _has_directive,
             True, "a signed written directive"),
    Document("administration", "Administration and release record", "pdf", PDF, _lazy("administration_record_pdf"),
             _has_assay_or_administration, True, "an assay or an administration"),
    Document("summary", "Course summary", "pdf", PDF, _lazy("course_summary_pdf"), _always, True, "nothing"),
    Document("rrdsr", "DICOM Radiopharmaceutical Radiation Dose SR", "dcm", "application/dicom", _lazy("rrdsr_bytes"),
             _has_administration, True, "an administration"),
)}


def safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "patient"


def download(data: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type, headers=NO_STORE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def cannot_make(request: HttpRequest, title: str, error: ReportInputError, back: str) -> HttpResponse:
    """A document that cannot be made from inconsistent records: say which field and why; never a wrong one."""
    return render(request, "mibg/message.html", {
        "title": _("%(title)s: cannot be made") % {"title": title},
        "message": _("The stored records disagree, so no document was made (%(field)s: %(message)s). Correct the "
                     "record, or ask the site administrator.")
                   % {"field": error.field, "message": error.message},
        "back": back}, status=409)


def availability(course: Course, request: HttpRequest) -> list[dict[str, Any]]:
    """The course page's list of documents: link or what the document still needs."""
    hidden = numbers_hidden(request.user, course, current_directive(course))
    out = []
    for document in DOCUMENTS.values():
        ready = document.available(course)
        out.append({"document": document, "ready": ready, "hidden": ready and hidden and document.shows_directive,
                    "url": reverse(url_name(document), args=[course.pk])})
    return out


def url_name(document: Document) -> str:
    return f"documents:{document.key}"


def document_view(key: str) -> Callable[[HttpRequest, int], HttpResponseBase]:
    """The download view of one kind of document (one URL per kind, each guarded by ``patient.view``)."""
    document = DOCUMENTS[key]

    @action_required(get="patient.view")
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        course = get_course(pk)
        if not document.available(course):
            raise Http404(_("The %(document)s needs %(needs)s: course %(number)s has none yet.")
                          % {"document": document.title.lower(), "needs": document.needs, "number": course.number})
        if document.shows_directive and numbers_hidden(request.user, course, current_directive(course)):
            messages.error(request, _("The %(document)s shows the directive's numbers: it opens for you after the "
                                      "independent verification (10 CFR 35.41).") % {"document": document.title.lower()})
            return redirect("courses:detail", pk=course.pk)
        try:
            data = document.build(course_record(course, plots=document.suffix == "pdf"))
        except ReportInputError as error:
            return cannot_make(request, document.title, error, reverse("courses:detail", args=[course.pk]))
        log_download(request.user, course, course.patient, f"{document.title}, course {course.number}", data)
        return download(data, document.content_type,
                        f"mibg-{safe_name(course.patient.mrn)}-course{course.number}-{document.key}.{document.suffix}")

    view.__name__ = f"{key}_document"
    return view


# ---- FHIR -----------------------------------------------------------------------------------------------------


@action_required(get="patient.view")
def patient_fhir(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=pk)
    hidden = hidden_course(request.user, patient)
    if hidden is not None:
        messages.error(request, _("The FHIR Bundle holds the directive of course %(number)s: it opens for you after "
                                  "the independent verification (10 CFR 35.41).") % {"number": hidden.number})
        return redirect("patients:detail", pk=patient.pk)
    try:
        data = fhir.patient_bundle_json(patient).encode("utf-8")
    except ReportInputError as error:
        return cannot_make(request, "FHIR Bundle", error, reverse("patients:detail", args=[patient.pk]))
    log_download(request.user, patient, patient, "FHIR R4 Bundle of the patient's record", data)
    return download(data, "application/fhir+json", f"mibg-{safe_name(patient.mrn)}-fhir.json")


class FhirImportForm(forms.Form):
    course = forms.TypedChoiceField(coerce=int, label=gettext_lazy("Course the results belong to"),
                                    help_text=gettext_lazy("Follow-up results are stored with the course whose infusion they "
                                                "follow."))
    bundle = forms.FileField(label=gettext_lazy("FHIR R4 Bundle (JSON)"),
                             help_text=gettext_lazy("A Bundle exported by mibg, or any R4 Bundle of laboratory Observations "
                                         "coded with LOINC (ANC 751-8, platelets 777-3, haemoglobin 718-7, bilirubin "
                                         "1975-2, AST 1920-8, ALT 1742-6, creatinine 2160-0)."))
    confirm = forms.BooleanField(label=gettext_lazy("I checked that this file is this patient's record"))

    def __init__(self, *args: Any, courses: list[Course], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "course", [(c.pk, f"Course {c.number}") for c in courses])

    def clean_bundle(self) -> Any:
        upload = self.cleaned_data["bundle"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than %(size)s MB.") % {"size": MAX_UPLOAD_BYTES // (1024 * 1024)})
        return upload


@action_required(get="fhir.import", post="fhir.import")
def fhir_import(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=pk)
    courses = [c for c in patient.courses.order_by("-number") if c.administrations.exists()]
    form = FhirImportForm(request.POST or None, request.FILES or None, courses=courses,
                          initial={"course": courses[0].pk if courses else None})
    report = None
    if request.method == "POST" and form.is_valid():
        course = next(c for c in courses if c.pk == form.cleaned_data["course"])
        upload = form.cleaned_data["bundle"]
        report = fhir.import_labs(request.user, patient, course, upload.read(), upload.name or "bundle.json")
        log_event(request.user, AuditEvent.CREATE if report.stored else "refused", patient, patient,
                  note=f"FHIR import of {upload.name} into course {course.number}: {len(report.stored)} stored, "
                       f"{len(report.not_stored)} read but not stored, {len(report.refused)} refused"
                       + (f"; refused whole: {report.whole_refusal}" if report.whole_refusal else ""))
        form = FhirImportForm(courses=courses, initial={"course": course.pk})  # a new file needs a new confirmation
        if report.stored:
            messages.success(request, ngettext("%(count)s laboratory result stored in course %(number)s.",
                                                 "%(count)s laboratory results stored in course %(number)s.",
                                                 len(report.stored)) % {"count": len(report.stored), "number": course.number})
    return render(request, "mibg/documents/fhir_import.html", {"patient": patient, "form": form, "report": report,
                                                               "courses": courses})


# ---- programme exports ----------------------------------------------------------------------------------------


def programme_records() -> list[Any]:
    """Every administered course as a record, in order of infusion (as the follow-up programme view)."""
    from mibg.web.treatment.models import Administration

    seen: dict[int, Course] = {}
    for a in Administration.objects.select_related("course__patient").order_by("started_at", "id"):
        seen.setdefault(a.course_id, a.course)
    return [course_record(c, plots=False, orders=False) for c in seen.values()]


def stable_zip(data: bytes, when: datetime | None) -> bytes:
    """The workbook's zip with every member dated ``when`` (the record's time) and its "modified" property equal to
    its "created" one, instead of the clock: the same programme gives the same bytes."""
    stamp = (when or datetime(1980, 1, 1, tzinfo=UTC)).timetuple()[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            info = zipfile.ZipInfo(member.filename, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = member.external_attr
            content = source.read(member.filename)
            if member.filename == "docProps/core.xml":  # openpyxl stamps "modified" with the clock on save
                created = re.search(rb"<dcterms:created[^>]*>([^<]*)</dcterms:created>", content)
                if created:
                    stamp_text = created.group(1).replace(b"\\", b"")
                    content = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                                     rb"\g<1>" + stamp_text + rb"\g<2>", content)
            target.writestr(info, content)
    return out.getvalue()


@action_required(get="patient.view")
def programme_xlsx(request: HttpRequest) -> HttpResponse:
    from mibg.reports import programme_xlsx as build

    try:
        records = programme_records()
    except ReportInputError as error:
        return cannot_make(request, "Programme table", error, reverse("documents:exports"))
    created = max((r.document_time for r in records), default=None)
    data = stable_zip(build(records, created=created), created)
    log_download(request.user, request.user, None, f"programme table, Excel ({len(records)} courses)", data)
    return download(data, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "mibg-programme.xlsx")


@action_required(get="patient.view")
def programme_csv(request: HttpRequest) -> HttpResponse:
    from mibg.reports import programme_csv as build

    try:
        records = programme_records()
    except ReportInputError as error:
        return cannot_make(request, "Programme table", error, reverse("documents:exports"))
    data = build(records).encode("utf-8")
    log_download(request.user, request.user, None, f"programme table, CSV ({len(records)} courses)", data)
    return download(data, "text/csv; charset=utf-8", "mibg-programme.csv")


@action_required(get="patient.view")
def exports(request: HttpRequest) -> HttpResponse:
    from mibg.reports import PROGRAMME_COLUMNS

    return render(request, "mibg/documents/exports.html", {"columns": PROGRAMME_COLUMNS})


# ---- the study record -----------------------------------------------------------------------------------------


def _threshold(value: Any) -> str:
    from mibg.protocol import Quantity

    if isinstance(value, Quantity):
        number = value.value
        text = format(number.normalize(), "f") if abs(number) < Decimal("1E+6") else f"{number:.1E}"
        return f"{text} {UNIT_WORDS.get(value.unit, value.unit)}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(str(v).replace("_", " ") for v in value)
    return str(value).replace("_", " ")


#: A parameter name's words as the clinic writes them ("minimum_mci_per_kg" -> "minimum mCi per kg").
PARAMETER_WORDS = {"mci": "mCi", "ml": "mL", "cd34": "CD34+", "mnc": "MNC", "uln": "ULN", "ctcae": "CTCAE"}
#: A unit symbol a reader does not know by sight: UCUM's annum is a year.
UNIT_WORDS = {"a": "y"}


def parameter_name(name: str) -> str:
    return " ".join(PARAMETER_WORDS.get(word, word) for word in name.split("_"))


def thresholds(params: Any) -> list[tuple[str, str]]:
    """A criterion's parameters as (name, value with unit), in the order of the protocol definition."""
    return [(parameter_name(name), _threshold(value)) for name, value in params.items()]


def _label(key: str) -> str:
    """``overallStatus`` -> ``Overall status``; an API v2 date struct is its date (``lastUpdatePostDateStruct`` ->
    ``Last update post date``)."""
    words = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", key.removesuffix("Struct")).replace("_", " ").lower()
    return words[:1].upper() + words[1:]


def _text(value: Any) -> str:
    if isinstance(value, dict) and set(value) == {"date"}:  # an API v2 date struct
        return str(value["date"])
    if isinstance(value, dict):
        return "; ".join(f"{_label(k).lower()}: {_text(v)}" for k, v in value.items() if v not in (None, "", [], {}))
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and re.fullmatch(r"[A-Z][A-Z_]*", value):  # an API v2 enum: EXPANDED_ACCESS
        return value.replace("_", " ").capitalize()
    return str(value)


def pairs(module: Any, skip: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """A study-record module as (label, text) rows, whatever fields it carries (API v2 has many)."""
    if not isinstance(module, dict):
        return []
    return [(_label(k), _text(v)) for k, v in module.items() if k not in skip and v not in (None, "", [], {})]


def _plain(text: str) -> str:
    """ClinicalTrials.gov markdown escapes removed (``\\>`` -> ``>``)."""
    return re.sub(r"\\(.)", r"\1", text)


@action_required(get="patient.view")
def study_record(request: HttpRequest) -> HttpResponse:
    from mibg.protocol import load_protocol
    from mibg.protocol.study_record import (
        StudyRecordError,
        current_study_record,
        link_criteria,
        stored_record_path,
    )

    protocol = load_protocol()
    try:
        record = current_study_record()
    except StudyRecordError as error:
        message = _("The stored study record cannot be read (%(field)s: %(message)s).") % {
            "field": error.field, "message": error.message}
        return render(request, "mibg/message.html", {"title": _("Study record"), "message": message}, status=500)
    links = link_criteria(record, protocol)
    criteria = {c.id: c for c in protocol.criteria}
    from mibg.core.similarity import facts
    from mibg.web.trials.search import similar

    related = similar(facts(record.model_dump(mode="json")))  # issue 13 §5: the most similar imported trials

    def described(ids: tuple[str, ...]) -> list[dict[str, Any]]:
        return [{"id": i, "title": criteria[i].title, "kind": criteria[i].kind, "group": criteria[i].group,
                 "thresholds": thresholds(criteria[i].params), "decisions": criteria[i].decisions,
                 "reference": criteria[i].reference} for i in ids]

    bullets = [{"number": b.number, "kind": b.kind, "text": _plain(b.text), "criteria": described(b.criteria)}
               for b in links.bullets]
    limits = {limit.id: limit for limit in protocol.dose_limits}
    data = record.model_dump(mode="json")
    section = data["protocolSection"]
    return render(request, "mibg/documents/study_record.html", {
        "record": record, "s": section, "protocol": protocol, "related": related,
        # the record's source without the project's file path ("(shared/protocol/NCT01370330.txt)")
        "protocol_source": re.sub(r"\s*\([^()]*/[^()]*\.txt\)", "", protocol.source),
        "source": "imported" if stored_record_path().exists() else "bundled",
        "inclusion": [b for b in bullets if b["kind"] == "inclusion"],
        "exclusion": [b for b in bullets if b["kind"] == "exclusion"],
        "unlinked": described(links.unlinked_criteria),
        "dose_limits": [{"id": i, "title": limits[i].title, "where": where, "thresholds": thresholds(limits[i].params)}
                        for i, where in links.dose_limits],
        "unlinked_limits": links.unlinked_dose_limits,
        "all_criteria": described(tuple(criteria)),
        "drift": record.last_updated is not None and record.last_updated != protocol.record_last_updated,
        "status_text": _text(record.status),
        "officials": [{**o, "role_text": _text(o.get("role") or "")}
                      for o in (section.get("contactsLocationsModule") or {}).get("overallOfficials") or []],
        "status_rows": pairs(section.get("statusModule")),
        "design_rows": pairs(section.get("designModule")),
        "identification_rows": pairs(section.get("identificationModule"), skip=("briefTitle",)),
        "sponsor_rows": pairs(section.get("sponsorCollaboratorsModule")),
        "eligibility_rows": pairs(section.get("eligibilityModule"), skip=("eligibilityCriteria",)),
        "description": {k: _plain(v) for k, v in (section.get("descriptionModule") or {}).items() if isinstance(v, str)},
    })


@action_required(get="patient.view")
def study_record_fhir(request: HttpRequest) -> HttpResponse:
    """The protocol as FHIR R4: a Bundle of the PlanDefinition and the ResearchStudy (issue 13 §4), the same file as
    ``mibg protocol export --fhir``. It holds no patient data, so its download is not written to the audit trail."""
    from mibg.protocol import load_protocol
    from mibg.protocol.study_record import StudyRecordError, current_study_record
    from mibg.reports.fhir.protocol import protocol_bundle_json

    try:
        data = protocol_bundle_json(load_protocol(), current_study_record()).encode("utf-8")
    except StudyRecordError as error:
        return cannot_make(request, "Protocol as FHIR", ReportInputError(error.field, error.message),
                           reverse("documents:study_record"))
    except ReportInputError as error:
        return cannot_make(request, "Protocol as FHIR", error, reverse("documents:study_record"))
    return download(data, "application/fhir+json", f"mibg-{load_protocol().protocol_id}-protocol-fhir.json")


@action_required(get="patient.view")
def references(request: HttpRequest) -> HttpResponse:
    """Every product decision and every section of the clinical reference a rule or a message cites, by title,
    with the decisions the protocol definition holds (and any site amendments), so a citation on a page is one click
    from what it says."""
    from mibg.protocol import load_protocol
    from mibg.protocol.references import load_references

    catalogue = load_references()
    protocol = load_protocol()
    sections: dict[str, list[Any]] = {}
    for entry in catalogue.decisions:
        sections.setdefault(entry.section, []).append(entry)
    return render(request, "mibg/documents/references.html", {
        "catalogue": catalogue, "decision_sections": sections, "protocol": protocol,
        "in_definition": {d.id for d in protocol.decisions.values()},
    })

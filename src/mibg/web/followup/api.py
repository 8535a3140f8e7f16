"""JSON API for follow-up laboratory results (registered on mibg.web.api's NinjaAPI, whose one handler answers
every refusal from mibg.web.errors: InputError 422 naming the field, Refused 409).

Numbers are exact: JSON numbers in requests are read as decimals, and every number in a response is a string.
A labs CSV is all or nothing, as on the page: any bad row stores nothing and the answer lists every error with
its line and column.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.responses import Status

from mibg.core.course_grades import grade_from_text
from mibg.core.errors import InputError
from mibg.web.accounts.models import User
from mibg.web.api_types import ERRORS, IsoDatetime
from mibg.web.audit.trail import log_view
from mibg.web.authenticated import AuthenticatedHttpRequest
from mibg.web.courses.models import Course
from mibg.web.followup import services
from mibg.web.followup.models import LabResult
from mibg.web.listout import ListOut
from mibg.web.permissions import require

router = Router(tags=["follow-up"])



class CsvRowError(Schema):
    line: int
    field: str
    message: str


class CsvRefusedOut(Schema):
    message: str
    field: str | None = "file"
    errors: list[CsvRowError] = []  # empty when the request itself is refused (e.g. no "csv"), not a row




class LabIn(Schema):
    test: str  # anc, platelets, hemoglobin, bilirubin, ast, alt, creatinine, or the LOINC code
    value: Decimal | str
    unit: str
    lln: Decimal | str | None = None  # in the unit of the value
    uln: Decimal | str | None = None
    collected_at: IsoDatetime  # ISO 8601 with its UTC offset


class LabCorrectionIn(LabIn):
    reason: str  # decisions.md A37: a correction is a new entry, with the reason


class LabsCsvIn(Schema):
    filename: str = "api.csv"
    csv: str


class LabOut(ListOut):
    id: int
    course_id: int
    test: str
    loinc: str
    value: str
    unit: str
    lln: str | None
    uln: str | None
    ucum: str
    value_canonical: str
    lln_canonical: str | None
    uln_canonical: str | None
    collected_at: datetime
    source: str
    entered_by: str
    entered_at: datetime
    #: The grade's one shape, ``CtcaeGrade.to_json()`` (mibg.ctcae_grade version 1; issue 11), or for TSH, free T4
    #: and blood pressure ``ClinicalReading.to_json()``: the grade stored with the result, graded in the course's
    #: context (the course's pre-infusion value as the baseline, and which baseline and which CTCAE clause applied:
    #: ``baseline``, ``clause``; decisions.md A33), read typed and answered as it is stored.
    grade: dict[str, Any]


def _course(pk: int) -> Course:
    return get_object_or_404(Course.objects.select_related("patient"), pk=pk)


def _text(value: Decimal | str | None) -> str:
    return "" if value is None else str(value)


_LAB_FIELDS = ("id", "test", "loinc", "value", "unit", "lln", "uln", "ucum", "value_canonical", "lln_canonical",
               "uln_canonical", "collected_at", "source", "entered_by_id", "entered_at", "grade_json")


def _lab_row_out(course_id: int, r: dict[str, Any], entered_by: str) -> dict[str, Any]:
    """:func:`_lab_out` of a row read with ``values(*_LAB_FIELDS)``: the same answer, the same stored grade."""
    return {
        "id": r["id"], "course_id": course_id, "test": r["test"], "loinc": r["loinc"], "value": r["value"],
        "unit": r["unit"], "lln": r["lln"] or None, "uln": r["uln"] or None, "ucum": r["ucum"],
        "value_canonical": r["value_canonical"], "lln_canonical": r["lln_canonical"] or None,
        "uln_canonical": r["uln_canonical"] or None, "collected_at": r["collected_at"], "source": r["source"],
        "entered_by": entered_by, "entered_at": r["entered_at"],
        "grade": grade_from_text(r["grade_json"]).to_json(),
    }


def _lab_out(r: LabResult) -> dict[str, Any]:
    return {
        "id": r.pk, "course_id": r.course_id, "test": r.test, "loinc": r.loinc, "value": r.value, "unit": r.unit,
        "lln": r.lln or None, "uln": r.uln or None, "ucum": r.ucum, "value_canonical": r.value_canonical,
        "lln_canonical": r.lln_canonical or None, "uln_canonical": r.uln_canonical or None,
        "collected_at": r.collected_at, "source": r.source, "entered_by": r.entered_by.signature_name(),
        "entered_at": r.entered_at, "grade": r.grade.to_json(),
    }


@router.get("/courses/{course_id}/labs", response={200: list[LabOut], **ERRORS})
def list_labs(request: AuthenticatedHttpRequest, course_id: int) -> list[dict[str, Any]]:
    """The course's laboratory results that count (void ones left out), each with its stored CTCAE v5.0 grade."""
    require(request.user, "patient.view")
    course = _course(course_id)
    log_view(request.user, course.patient, f"API: labs of course {course.number}")
    # The same rows as services.live_labs, read as values: a course has a hundred labs or more, and building a
    # model object (and its user) for each was the largest cost of this answer (bench/RESULTS.md).
    rows = list(LabResult.objects.live().filter(course=course).values(*_LAB_FIELDS))
    names = {u.pk: u.signature_name() for u in User.objects.filter(pk__in={r["entered_by_id"] for r in rows})}
    return [_lab_row_out(course.pk, r, names[r["entered_by_id"]]) for r in rows]


@router.post("/courses/{course_id}/labs", response={201: LabOut, **ERRORS})
def add_lab(request: AuthenticatedHttpRequest, course_id: int, payload: LabIn) -> Status[dict[str, Any]]:
    """One result; refused (422, naming the field) when it cannot be read or graded."""
    require(request.user, "lab.enter")
    course = _course(course_id)
    if payload.collected_at.tzinfo is None or payload.collected_at.utcoffset() is None:
        raise InputError("collected_at", _("has no time zone: add the UTC offset, e.g. 2026-03-02T07:30:00-08:00"))
    entry = services.LabEntry(payload.test, _text(payload.value), payload.unit, _text(payload.lln), _text(payload.uln),
                              payload.collected_at)
    with transaction.atomic():
        record = services.add_lab(request.user, course, entry, source=LabResult.API)
    return Status(201, _lab_out(record))


@router.post("/labs/{lab_id}/corrections", response={201: LabOut, **ERRORS})
def correct_lab(request: AuthenticatedHttpRequest, lab_id: int, payload: LabCorrectionIn) -> Status[dict[str, Any]]:
    """A corrected result supersedes this one (voided as superseded, kept), with the reason (decisions.md A37)."""
    require(request.user, "lab.enter")
    lab = get_object_or_404(LabResult.objects.select_related("course__patient"), pk=lab_id)
    if payload.collected_at.tzinfo is None or payload.collected_at.utcoffset() is None:
        raise InputError("collected_at", _("has no time zone: add the UTC offset, e.g. 2026-03-02T07:30:00-08:00"))
    entry = services.LabEntry(payload.test, _text(payload.value), payload.unit, _text(payload.lln), _text(payload.uln),
                              payload.collected_at)
    new = services.correct_lab(request.user, lab, entry, payload.reason)
    return Status(201, _lab_out(new))


@router.post("/courses/{course_id}/labs/csv", response={201: list[LabOut], 422: CsvRefusedOut,
                                                        **{k: v for k, v in ERRORS.items() if k != 422}})
def upload_labs(request: AuthenticatedHttpRequest, course_id: int, payload: LabsCsvIn) -> Status[list[dict[str, Any]]] | Status[dict[str, Any]]:
    """A labs CSV (the page's format), stored whole or not at all."""
    require(request.user, "lab.enter")
    course = _course(course_id)
    try:
        stored = services.import_labs_csv(request.user, course, payload.csv, payload.filename)
    except services.CsvRefused as error:
        return Status(422, {"message": error.message, "field": "file",
                            "errors": [{"line": e.line, "field": e.field, "message": e.message} for e in error.errors]})
    return Status(201, [_lab_out(r) for r in stored])


# ---- response and count recovery (issue 11: each answer is the core result's one shape) -------------------


class InrcOut(Schema):
    id: int
    course_id: int
    assessed_on: date
    note: str
    recorded_by: str
    recorded_at: datetime
    voided: bool
    #: The response's one shape, ``InrcResponse.to_json()`` (mibg.inrc_response version 1), as stored when it was
    #: recorded: the components entered, the overall response, the rule and the explanation.
    result: dict[str, Any]


@router.get("/courses/{course_id}/responses", response={200: list[InrcOut], **ERRORS})
def list_responses(request: AuthenticatedHttpRequest, course_id: int) -> list[dict[str, Any]]:
    """The course's INRC 2017 assessments, void ones too (marked), oldest first."""
    require(request.user, "patient.view")
    course = _course(course_id)
    log_view(request.user, course.patient, f"API: responses of course {course.number}")
    return [{"id": a.pk, "course_id": a.course_id, "assessed_on": a.assessed_on, "note": a.note,
             "recorded_by": a.recorded_by.signature_name(), "recorded_at": a.recorded_at,
             "voided": a.voided_at is not None, "result": a.result.to_json()}
            for a in course.inrc_assessments.select_related("recorded_by").order_by("assessed_on", "id")]


@router.get("/courses/{course_id}/recovery", response={200: dict[str, Any], **ERRORS})
def get_recovery(request: AuthenticatedHttpRequest, course_id: int) -> dict[str, Any]:
    """The count recovery after the infusion, ``CourseRecovery.to_json()`` (mibg.recovery version 1): nadirs,
    days below each grade, the recovery day. As stored, read typed (stored again by every change of the course's
    results, transfusions or infusion start: mibg.web.followup.services.rederive); 404 before the infusion."""
    require(request.user, "patient.view")
    course = _course(course_id)
    result = services.recovery(course)
    if result is None:
        raise Http404
    log_view(request.user, course.patient, f"API: count recovery of course {course.number}")
    return result.to_json()

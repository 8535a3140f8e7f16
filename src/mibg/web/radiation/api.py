"""JSON API for readings, dosimetry and release (registered on mibg.web.api's NinjaAPI, whose one handler
answers every refusal from mibg.web.errors: a bad entry 422, a refused step or a conflict 409, a wrong password 403).

Exact numbers: decimals in responses are strings; the dosimetry is the core's ``to_json()`` (exact values as
text, fitted values as JSON numbers).
A release is signed on the assessment the client fetched: ``readings_basis`` from ``GET .../dosimetry``.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.http import Http404
from django.shortcuts import get_object_or_404
from ninja import Router, Schema
from ninja.responses import Status

from mibg.core.units import parse_aware_datetime
from mibg.web.api_types import ERRORS, IsoDatetime
from mibg.web.audit.trail import log_view
from mibg.web.authenticated import AuthenticatedHttpRequest
from mibg.web.courses.models import Course
from mibg.web.listout import ListOut
from mibg.web.permissions import require
from mibg.web.radiation import services
from mibg.web.radiation.models import ExposureReading, ReleaseRecord
from mibg.web.safety import Signature, signed

router = Router(tags=["radiation"])





class ReadingIn(Schema):
    measured_at: IsoDatetime
    mr_per_h: Decimal
    background_mr_per_h: Decimal | None = None
    before_first_void: bool = False
    instrument_id: str
    instrument_calibration_due: date
    measured_by: str
    note: str = ""


class ReadingOut(ListOut):
    id: int
    measured_at: datetime
    hours_after_start: str | None
    mr_per_h: str
    background_mr_per_h: str | None
    net_mr_per_h: str
    before_first_void: bool
    instrument_id: str
    instrument_calibration_due: date
    measured_by: str
    note: str
    recorded_by: str
    recorded_at: datetime
    version: int


class ReleaseIn(Schema):
    version: int
    released_at: IsoDatetime
    instructions_given_to: str
    readings_basis: str
    password: str = ""


class ReleaseOut(Schema):
    id: int
    course_id: int
    released_at: datetime
    reading_id: int
    dose_rate_mr_per_h: str
    site_limit_mr_per_h: str
    criteria_met: list[str]
    rule: str
    instructions_given_to: str
    instructions: dict[str, Any]
    signed_name: str
    signed_at: datetime
    signature_meaning: str
    assessment: dict[str, Any]


def _course(pk: int) -> Course:
    return get_object_or_404(Course.objects.select_related("patient"), pk=pk)


def _reading_out(r: ExposureReading, start: datetime | None) -> dict[str, Any]:
    return {
        "id": r.pk, "measured_at": r.measured_at,
        "hours_after_start": None if start is None else str(services.hours_after(start, r.measured_at)),
        "mr_per_h": str(r.mr_per_h),
        "background_mr_per_h": None if r.background_mr_per_h is None else str(r.background_mr_per_h),
        "net_mr_per_h": str(r.net_mr_per_h), "before_first_void": r.before_first_void, "instrument_id": r.instrument_id,
        "instrument_calibration_due": r.instrument_calibration_due, "measured_by": r.measured_by, "note": r.note,
        "recorded_by": r.recorded_by.signature_name(), "recorded_at": r.recorded_at, "version": r.version,
    }


def _release_out(record: ReleaseRecord) -> dict[str, Any]:
    return {
        "id": record.pk, "course_id": record.course_id, "released_at": record.released_at, "reading_id": record.reading_id,
        "dose_rate_mr_per_h": str(record.dose_rate_mr_per_h), "site_limit_mr_per_h": str(record.site_limit_mr_per_h),
        "criteria_met": [c for c in record.criteria_met.split(",") if c], "rule": record.rule,
        "instructions_given_to": record.instructions_given_to, "instructions": record.instructions,
        "signed_name": record.signed_name, "signed_at": record.signed_at, "signature_meaning": record.signature_meaning,
        "assessment": record.signed_assessment.to_json(),
    }


@router.get("/courses/{course_id}/readings", response={200: list[ReadingOut], **ERRORS})
def list_readings(request: AuthenticatedHttpRequest, course_id: int) -> list[dict[str, Any]]:
    """The readings that count (void ones are left out), in time order."""
    require(request.user, "patient.view")
    course = _course(course_id)
    log_view(request.user, course.patient, "API: radiation readings")
    # The administration's start only (the hours after it): services.administration_of's row, without its directive.
    start = course.administrations.order_by("-started_at").values_list("started_at", flat=True).first()
    readings = course.exposure_readings.filter(voided_at__isnull=True).select_related("recorded_by")
    return [_reading_out(r, start) for r in readings]


@router.post("/courses/{course_id}/readings", response={201: ReadingOut, **ERRORS})
def record_reading(request: AuthenticatedHttpRequest, course_id: int, payload: ReadingIn) -> Status[dict[str, Any]]:
    """A reading at 1 m (mR/h). Readings may come in any order; their times must differ."""
    require(request.user, "reading.record")
    course = _course(course_id)
    entry = services.ReadingInput(parse_aware_datetime("measured_at", payload.measured_at), payload.mr_per_h,
                                  payload.background_mr_per_h, payload.before_first_void, payload.instrument_id,
                                  payload.instrument_calibration_due, payload.measured_by, payload.note)
    reading = services.record_reading(request.user, course, entry)
    administration = services.administration_of(course)
    return Status(201, _reading_out(reading, administration.started_at if administration else None))


@router.get("/courses/{course_id}/dosimetry", response={200: dict[str, Any], **ERRORS})
def dosimetry(request: AuthenticatedHttpRequest, course_id: int) -> dict[str, Any]:
    """Retention fit, tau, whole-body dose, release assessment and stem-cell rescue support from the readings."""
    require(request.user, "patient.view")
    course = _course(course_id)
    log_view(request.user, course.patient, "API: dosimetry")
    d = services.compute_dosimetry(course)
    return {
        "problem": d.problem or None,
        "readings_basis": d.fingerprint,
        "retention": d.retention.to_json() if d.retention else None,
        "whole_body_dose": d.dose.to_json() if d.dose else None,
        "release": d.release.to_json() if d.release else None,
        "rescue": d.rescue.to_json() if d.rescue else None,
        "release_refused": services.release_refusal(d),
        "predicted_release_site_at": d.predicted_site_at.isoformat() if d.predicted_site_at else None,
        "predicted_release_federal_at": d.predicted_federal_at.isoformat() if d.predicted_federal_at else None,
        "planned_stem_cell_date": d.planned_stem_cell_date.isoformat() if d.planned_stem_cell_date else None,
    }


@router.get("/courses/{course_id}/release", response={200: ReleaseOut, **ERRORS})
def get_release(request: AuthenticatedHttpRequest, course_id: int) -> dict[str, Any]:
    require(request.user, "patient.view")
    course = _course(course_id)
    record = ReleaseRecord.objects.filter(course=course).first()
    if record is None:
        raise Http404
    log_view(request.user, course.patient, "API: release record")
    return _release_out(record)


@router.post("/courses/{course_id}/release", response={201: ReleaseOut, **ERRORS})
def sign_release(request: AuthenticatedHttpRequest, course_id: int, payload: ReleaseIn) -> Status[dict[str, Any]]:
    """Sign the release (``password``: the physicist's own). Refused (409) unless the site limit and a federal
    criterion are met at the last reading, or when the readings changed since ``readings_basis`` was fetched."""
    require(request.user, "course.release")
    course = _course(course_id)
    entry = services.ReleaseInput(parse_aware_datetime("released_at", payload.released_at), payload.instructions_given_to,
                                  payload.readings_basis)
    record = signed(request, Signature(payload.password, course, course.patient, "release from isolation (API)"),
                    lambda name: services.release(request.user, name, course, payload.version, entry), form=False)
    return Status(201, _release_out(record))

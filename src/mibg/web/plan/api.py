"""JSON API of the course as a plan (registered on mibg.web.api's NinjaAPI), issue 13 Interfaces:

- ``GET /api/courses/{id}/orders``: the order set, each with ``code``, ``name``, ``start``, ``end``, ``schedule``,
  ``source`` and ``status`` (and its dose, due times and what was recorded against them);
- ``POST /api/courses/{id}/order-records``: record one due time of one order (``code``, ``due_at``) (the same service as the course page);
- ``GET /api/courses/{id}/calendar.ics``: the course calendar, ``text/calendar`` (the course page links the same file);
- ``GET /api/calendar.ics``: the caller's feed (every course's entries for the caller's roles);
- ``GET /api/worklist``: the caller's worklist, due today and overdue.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.responses import Status

from mibg.core.errors import InputError
from mibg.web.api_types import ERRORS, IsoDatetime
from mibg.web.audit.trail import log_view
from mibg.web.authenticated import AuthenticatedHttpRequest
from mibg.web.course_record import numbers_hidden
from mibg.web.courses.models import Course
from mibg.web.courses.services import current_directive
from mibg.web.permissions import require
from mibg.web.plan import services
from mibg.web.plan.calendars import course_ics, ics_response, user_feed
from mibg.web.plan.worklist import UPCOMING, entries_for

router = Router(tags=["plan"])


CALENDAR = {"responses": {200: {"description": "An iCalendar file (RFC 5545)",
                                "content": {"text/calendar": {"schema": {"type": "string"}}}}}}


class DueOut(Schema):
    due_at: datetime
    status: str
    recorded_at: datetime | None
    done: bool | None
    by: str | None
    note: str | None


class DoseOut(Schema):
    text: str
    amount: str
    unit: str
    formula: str
    status: str


class OrderOut(Schema):
    code: str
    name: str
    resource: str
    role: str
    start: datetime
    end: datetime | None
    schedule: str
    source: str
    status: str
    dose: DoseOut | None
    instructions: str
    explanation: str
    protocol: str
    due: list[DueOut]


class RecordIn(Schema):
    code: str
    due_at: IsoDatetime
    done: bool = True
    at: IsoDatetime
    note: str = ""
    medications: str = ""


class RecordOut(Schema):
    id: int
    code: str
    due_at: datetime
    done: bool
    at: datetime
    note: str
    interfering: list[str]
    recorded_by: str


class WorklistOut(Schema):
    role: str
    kind: str
    what: str
    due: str
    overdue: bool
    patient: str
    course_id: int | None
    url: str


def _course(course_id: int) -> Course:
    return get_object_or_404(Course.objects.select_related("patient"), pk=course_id)


@router.get("/courses/{course_id}/orders", response={200: list[OrderOut], **ERRORS}, summary="The course's order set")
def list_orders(request: AuthenticatedHttpRequest, course_id: int) -> list[dict[str, Any]]:
    """Empty until the written directive is signed."""
    require(request.user, "patient.view")
    course = _course(course_id)
    log_view(request.user, course.patient, f"API: course {course.number} orders")
    plan = services.course_plan(course)
    if plan is None:
        return []
    # 10 CFR 35.41: a possible verifier sees no weight-based dose until the directive is verified.
    hidden = numbers_hidden(request.user, course, current_directive(course))
    now = timezone.now()
    items = services.occurrences(plan, course.order_records.all(), now)
    out = []
    for order in plan.orders:
        d = order.dose
        out.append({
            "code": order.code, "name": order.name, "resource": order.resource, "role": order.role,
            "start": order.start, "end": order.end, "schedule": order.schedule, "source": order.source,
            "status": services.order_status(items, order, now),
            "dose": None if d is None or hidden else {"text": d.text, "amount": str(d.amount), "unit": d.unit, "formula": d.formula,
                                             "status": d.status},
            "instructions": order.instructions, "explanation": order.explanation, "protocol": plan.protocol_label,
            "due": [{"due_at": i.due_at, "status": i.status, "recorded_at": i.record.at if i.record else None,
                     "done": i.record.done if i.record else None, "by": i.record.recorded_name if i.record else None,
                     "note": i.record.note if i.record else None} for i in items if i.order.code == order.code],
        })
    return out


def _aware(name: str, value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InputError(name, _("has no time zone: add the UTC offset, e.g. 2026-03-02T09:30:00-08:00"))
    return value


@router.post("/courses/{course_id}/order-records", response={201: RecordOut, **ERRORS},
             summary="Record one due time of an order")
def record_order(request: AuthenticatedHttpRequest, course_id: int, payload: RecordIn) -> Any:
    """Given, checked, or not done (``done`` false, with the reason in ``note``). ``due_at`` is one of the order's
    due times as ``GET /orders`` lists them."""
    require(request.user, "care.record")
    course = _course(course_id)
    entry = services.record(request.user, course, payload.code, _aware("due_at", payload.due_at), done=payload.done,
                            at=_aware("at", payload.at), note=payload.note, medications=payload.medications)
    return Status(201, {"id": entry.pk, "code": entry.code, "due_at": entry.due_at, "done": entry.done, "at": entry.at,
                        "note": entry.note, "interfering": [x for x in entry.interfering.split("\n") if x],
                        "recorded_by": entry.recorded_name})


@router.get("/courses/{course_id}/calendar.ics", response={200: None, **ERRORS}, openapi_extra=CALENDAR,
            summary="The course calendar (iCalendar)")
def course_calendar(request: AuthenticatedHttpRequest, course_id: int) -> HttpResponse:
    require(request.user, "patient.view")
    course = _course(course_id)
    text = course_ics(course)
    if text is None:
        raise Http404
    log_view(request.user, course.patient, f"API: course {course.number} calendar")
    return ics_response(text, f"course-{course.pk}.ics")


@router.get("/calendar.ics", response={200: None, **ERRORS}, openapi_extra=CALENDAR,
            summary="My calendar feed (iCalendar)")
def my_calendar(request: AuthenticatedHttpRequest) -> HttpResponse:
    require(request.user, "patient.view")
    return ics_response(user_feed(request.user), "mibg-my-calendar.ics")


@router.get("/worklist", response={200: list[WorklistOut], **ERRORS}, summary="My worklist: due today and overdue")
def my_worklist(request: AuthenticatedHttpRequest) -> list[dict[str, Any]]:
    require(request.user, "patient.view")
    return [{"role": e.role, "kind": e.kind, "what": e.what, "due": e.due.isoformat(), "overdue": e.overdue,
             "patient": e.patient, "course_id": e.course_id, "url": e.url} for e in entries_for(request.user)
            if e.bucket != UPCOMING]




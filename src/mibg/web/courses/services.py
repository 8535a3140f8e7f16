"""Patients, courses and their steps: every change audited, every step through mibg.core.course_state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Max

from mibg.core import course_state
from mibg.core.course_state import CourseFacts, CourseState
from mibg.web.audit.trail import log_changes, log_event
from mibg.web.courses.models import Course, StateChange
from mibg.web.errors import CourseStillOpen
from mibg.web.page_reads import once
from mibg.web.patients.models import Patient
from mibg.web.patients.services import create_patient, update_patient  # noqa: F401  (the one patient service, moved)
from mibg.web.safety import update_versioned


def create_course(user: Any, patient: Patient) -> Course:
    with transaction.atomic():
        # Lock the patient row so two coordinators cannot both create "course 2", and check for an open
        # course under that lock: checked before it, two people starting a course at the same moment both
        # passed and the patient had two open courses (found by tests/web/test_concurrency.py).
        Patient.objects.select_for_update().get(pk=patient.pk)
        still_open = patient.courses.exclude(state=CourseState.CLOSED.value).order_by("number").first()
        if still_open is not None:
            raise CourseStillOpen(still_open.number)
        number = (patient.courses.aggregate(n=Max("number"))["n"] or 0) + 1
        course = Course.objects.create(patient=patient, number=number, created_by=user)
        log_changes(user, "create", course, patient)
    return course


# ---- facts and steps ----------------------------------------------------------------------------------


def current_directive(course: Course) -> Any:
    return once(course, "current_directive",
                lambda: course.directives.filter(status="signed").order_by("-version").first())


def latest_administration(course: Course) -> Any:
    """The course's administration (the latest by its start; A0 at the start of the infusion), with its directive."""
    return once(course, "administration",
                lambda: course.administrations.select_related("directive").order_by("-started_at").first())


def advance(user: Any, course: Course, event: str, version: int, *, facts: CourseFacts, note: str = "",
            occurred_at: datetime | None = None) -> StateChange:
    """Take one step; raises TransitionRefused (illegal or not yet allowed) or Conflict (someone else moved it).

    ``facts``: what the records say, gathered by the caller: a step's service knows its own (the directive it
    signed, the assay it accepted); the steps that need the whole course (confirm eligibility, close, stop)
    are taken through :func:`mibg.web.course_record.take_step`. Call inside a transaction together with the
    record that justifies the step.
    """
    target = course_state.apply(event, course.state, facts)
    before = course.state
    update_versioned(course, version, {"state": target.value, **({"closed_reason": note} if target is CourseState.CLOSED else {})},
                     "This course")
    change = StateChange.objects.create(course=course, event=event, from_state=before, to_state=target.value, by=user,
                                        occurred_at=occurred_at, note=note)
    log_event(user, "transition", course, course.patient, field="state", old=before, new=target.value,
              note=f"{course_state.transition(event).title}{': ' + note if note else ''}")
    return change

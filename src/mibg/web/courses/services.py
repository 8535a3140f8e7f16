"""Patients, courses and their steps: every change audited, every step through mibg.core.course_state."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from mibg.core import course_state
from mibg.core.course_state import CourseFacts, CourseState
from mibg.core.cumulative import (
    GIVEN_HERE,
    RECORDED_AT_SCREENING,
    PriorCourse,
    course_mci_per_kg,
    cumulative_dose,
)
from mibg.web.audit.trail import log_changes, log_event
from mibg.web.courses.models import Course, StateChange
from mibg.web.patients.models import Patient
from mibg.web.patients.services import create_patient, update_patient  # noqa: F401  (the one patient service, moved)
from mibg.web.safety import update_versioned


class CourseStillOpen(Exception):
    """A patient has one open course at a time: the next is started once the last is closed."""

    def __init__(self, number: int) -> None:
        self.number = number
        self.message = f"Course {number} is still open: close or stop it before starting another."
        super().__init__(self.message)


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
    return course.directives.filter(status="signed").order_by("-version").first()


def course_facts(course: Course, *, reason_given: bool = False) -> CourseFacts:
    from mibg.web.treatment.models import Administration

    latest = course.evaluations.order_by("-evaluated_at", "-id").first()
    directive = current_directive(course)
    assay = course.assays.filter(directive=directive).order_by("-recorded_at", "-id").first() if directive else None
    return CourseFacts(
        eligible_evaluation=latest is not None and latest.overall == "eligible",
        signed_directive=directive is not None and directive.dose_plan.status == "ok",
        verification_accepted=directive is not None and directive.verifications.filter(accepted=True).exists(),
        assay_accepted=assay is not None and assay.accepted,
        administration_recorded=course.administrations.exists(),
        open_medical_event=Administration.objects.filter(course=course, possible_medical_event=True,
                                                         reviewed_at__isnull=True).exists(),
        open_serious_adverse_event=_open_serious_adverse_event(course),
        reason_given=reason_given,
    )


def _open_serious_adverse_event(course: Course) -> bool:
    """An SAE not yet reviewed by a physician keeps the course open (issue 5: highlighted until reviewed)."""
    from mibg.web.followup.models import AdverseEvent

    events = AdverseEvent.objects.filter(course=course, serious=True, voided_at__isnull=True).prefetch_related("reviews")
    return any(event.needs_review for event in events)


def advance(user: Any, course: Course, event: str, version: int, *, note: str = "",
            occurred_at: datetime | None = None, facts: CourseFacts | None = None) -> StateChange:
    """Take one step; raises TransitionRefused (illegal or not yet allowed) or Conflict (someone else moved it).

    Call inside a transaction together with the record that justifies the step.
    """
    facts = facts or course_facts(course, reason_given=bool(note.strip()))
    target = course_state.apply(event, course.state, facts)
    before = course.state
    update_versioned(course, version, {"state": target.value, **({"closed_reason": note} if target is CourseState.CLOSED else {})},
                     "This course")
    change = StateChange.objects.create(course=course, event=event, from_state=before, to_state=target.value, by=user,
                                        occurred_at=occurred_at, note=note)
    log_event(user, "transition", course, course.patient, field="state", old=before, new=target.value,
              note=f"{course_state.transition(event).title}{': ' + note if note else ''}")
    return change


def take_step(user: Any, course: Course, event: str, version: int, note: str = "",
              occurred_at: datetime | None = None) -> StateChange:
    with transaction.atomic():
        return advance(user, course, event, version, note=note, occurred_at=occurred_at)


# ---- the patient's MIBG history (decisions.md A14; the rule and its rounding: mibg.core.cumulative) -----------


def administered_courses(patient: Patient, exclude: Course | None = None) -> list[dict[str, Any]]:
    """Courses given here, as the snapshot's prior courses. mCi/kg = administered mCi / that course's weight,
    rounded up so the cumulative total is never understated (:func:`mibg.core.cumulative.course_mci_per_kg`)."""
    from mibg.web.treatment.models import Administration

    rows = Administration.objects.filter(course__patient=patient).select_related("directive", "course")
    if exclude is not None:
        rows = rows.exclude(course=exclude)
    out = []
    for a in rows.order_by("started_at"):
        out.append({
            "infusion_date": timezone.localtime(a.started_at).date().isoformat(),
            "mci_per_kg": str(course_mci_per_kg(a.administered_mci, a.directive.weight_kg)),
            "weight_kg": str(a.directive.weight_kg),
            "total_mci": str(a.administered_mci),
        })
    return out


def _prior(entry: dict[str, Any], where: str) -> PriorCourse:
    def number(key: str) -> Decimal | None:
        return Decimal(str(entry[key])) if entry.get(key) not in (None, "") else None

    return PriorCourse(date.fromisoformat(str(entry["infusion_date"])), Decimal(str(entry["mci_per_kg"])),
                       number("weight_kg"), number("total_mci"), where)


def cumulative(patient: Patient, courses: list[Course]) -> dict[str, Any]:
    """Cumulative 131I-MIBG (:func:`mibg.core.cumulative.cumulative_dose`): courses given here plus earlier ones
    recorded at the latest screening."""
    recorded: list[dict[str, Any]] = []
    for course in sorted(courses, key=lambda c: -c.number):
        if course.snapshot_json:
            recorded = json.loads(course.snapshot_json).get("prior_mibg_courses", [])
            break
    dose = cumulative_dose([_prior(c, GIVEN_HERE) for c in administered_courses(patient)],
                           [_prior(c, RECORDED_AT_SCREENING) for c in recorded])
    entries = [{"infusion_date": c.infusion_date.isoformat(), "mci_per_kg": str(c.mci_per_kg),
                "weight_kg": "" if c.weight_kg is None else str(c.weight_kg),
                "total_mci": "" if c.total_mci is None else str(c.total_mci), "where": c.where} for c in dose.courses]
    return {"entries": entries, "mci_per_kg": dose.mci_per_kg, "total_mci": dose.total_mci}

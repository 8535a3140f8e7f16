"""The course as a whole: the reads that rest on several steps' records, in one module above the steps.

A step's services read their own records and the steps before them (the directive reads the screening; the
assay reads the directive), never a step after them: import-linter checks this order (pyproject.toml, "The
steps in the course's order"). What needs the whole course is here: the facts behind the steps anyone may
take (confirm eligibility, close, stop), the patient's MIBG history across courses (decisions.md A14), what a
new course's screening carries over (A15), and whether the directive's numbers are hidden from the person
asking (10 CFR 35.41). The doors (pages, API, commands) and the documents call it; no step does.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from mibg.core.course_state import CourseFacts, CourseState
from mibg.core.cumulative import (
    GIVEN_HERE,
    RECORDED_AT_SCREENING,
    PriorCourse,
    course_mci_per_kg,
    cumulative_dose,
)
from mibg.web.courses.models import Course, StateChange
from mibg.web.courses.services import advance, current_directive
from mibg.web.followup.carryover import remaining_stem_cell_products
from mibg.web.followup.models import AdverseEvent
from mibg.web.patients.models import Patient
from mibg.web.permissions import allowed
from mibg.web.screening.services import CARRIED, fixed_values
from mibg.web.treatment.models import Administration

# ---- the facts behind a step --------------------------------------------------------------------------


def course_facts(course: Course, *, reason_given: bool = False) -> CourseFacts:
    latest = course.evaluations.order_by("-evaluated_at", "-id").first()
    directive = current_directive(course)
    assay = course.assays.filter(directive=directive).order_by("-recorded_at", "-id").first() if directive else None
    return CourseFacts(
        eligible_evaluation=latest is not None and latest.overall == "eligible",
        signed_directive=directive is not None and directive.dose_plan.status == "ok",
        verification_accepted=directive is not None and directive.verifications.filter(result_json__accepted=True).exists(),
        assay_accepted=assay is not None and assay.accepted,
        administration_recorded=course.administrations.exists(),
        open_medical_event=Administration.objects.filter(course=course, result_json__possible_medical_event=True,
                                                         reviewed_at__isnull=True).exists(),
        open_serious_adverse_event=open_serious_adverse_event(course),
        reason_given=reason_given,
    )


def open_serious_adverse_event(course: Course) -> bool:
    """An SAE not yet reviewed by a physician keeps the course open (issue 5: highlighted until reviewed)."""
    events = AdverseEvent.objects.filter(course=course, serious=True, voided_at__isnull=True).prefetch_related("reviews")
    return any(event.needs_review for event in events)


def take_step(user: Any, course: Course, event: str, version: int, note: str = "",
              occurred_at: datetime | None = None) -> StateChange:
    """A step that rests on the whole course (confirm eligibility, admit, start follow-up, close, stop): its facts
    read from every step's records, in one transaction with the step."""
    with transaction.atomic():
        return advance(user, course, event, version, note=note, occurred_at=occurred_at,
                       facts=course_facts(course, reason_given=bool(note.strip())))


# ---- the patient's MIBG history (decisions.md A14) ------------------------------------------------------


def administered_courses(patient: Patient, exclude: Course | None = None) -> list[dict[str, Any]]:
    """Courses given here, as the snapshot's prior courses. mCi/kg = administered mCi / that course's weight,
    rounded up so the cumulative total is never understated (:func:`mibg.core.cumulative.course_mci_per_kg`)."""
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


def cumulative(patient: Patient, courses: Sequence[Course]) -> dict[str, Any]:
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


# ---- what a new course's screening starts from (decisions.md A15) ---------------------------------------


def screening_form_data(course: Course) -> dict[str, Any]:
    """The data the screening form opens with: this course's snapshot, or what carries over from the last one."""
    if course.snapshot_json:
        data: dict[str, Any] = json.loads(course.snapshot_json)
    else:
        data = {}
        previous = (Course.objects.filter(patient=course.patient).exclude(pk=course.pk).exclude(snapshot_json="")
                    .order_by("-number").first())
        if previous is not None:
            old = json.loads(previous.snapshot_json)
            data = {k: old[k] for k in CARRIED if k in old}
            # minus the stem cells given back since (decisions.md A15)
            data["stem_cell_products"] = remaining_stem_cell_products(
                course.patient, data.get("stem_cell_products", []), from_course=previous.number, before_course=course.number)
    given = administered_courses(course.patient, exclude=course)
    dates = {c["infusion_date"] for c in given}
    data["prior_mibg_courses"] = [c for c in data.get("prior_mibg_courses", []) if c["infusion_date"] not in dates] + given
    data.update(fixed_values(course))
    return data


# ---- who may see the directive's numbers (10 CFR 35.41) -------------------------------------------------


def numbers_hidden(user: Any, course: Course, directive: object) -> bool:
    """10 CFR 35.41: until the directive is verified, a possible verifier does not see its numbers."""
    return (directive is not None and course.state_enum is CourseState.DIRECTIVE_SIGNED
            and allowed(user, "directive.verify") and getattr(directive, "signed_by_id", None) != user.pk)


def hidden_course(user: Any, patient: Patient) -> Course | None:
    """A course of the patient whose directive ``user`` may not see yet (10 CFR 35.41), if any."""
    for course in patient.courses.all():
        if numbers_hidden(user, course, current_directive(course)):
            return course
    return None

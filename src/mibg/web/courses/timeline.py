"""The times already on a course, for the one chronology rule (mibg.core.chronology, decisions.md A29).

Every step that records a time calls :func:`check`: the assay, the administration, readings, the stem-cell
infusion, and their corrections (A37). Times are given to the core in the site's zone, so a refusal shows
them as the clinic reads them, with the offset.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from mibg.core.chronology import Entered, Event, check_times
from mibg.web.courses.models import Course


def recorded_times(course: Course, *, without: Any = None) -> dict[Event, datetime]:
    """The course's current times; ``without``: a record being corrected, whose own times do not count."""
    from mibg.web.courses.services import current_directive, latest_administration

    times: dict[Event, datetime] = {}
    directive = current_directive(course)
    if directive is not None:
        times[Event.SIGNATURE] = directive.signed_at
        verification = directive.verifications.filter(result_json__accepted=True).order_by("-at").first()
        if verification is not None:
            times[Event.VERIFICATION] = verification.at
        assay = course.assays.filter(directive=directive).order_by("-recorded_at", "-id").first()
        if assay is not None and assay.accepted and assay != without:
            times[Event.ASSAY] = assay.measured_at
    administration = latest_administration(course)
    if administration is not None and administration != without:
        times[Event.INFUSION_START] = administration.started_at
        times[Event.INFUSION_END] = administration.ended_at
        times[Event.RESIDUAL] = administration.residual_measured_at
    readings = course.exposure_readings.filter(voided_at__isnull=True)
    if without is not None and without._meta.model_name == "exposurereading":
        readings = readings.exclude(pk=without.pk)
    reading = readings.order_by("measured_at").first()
    if reading is not None:
        times[Event.READING] = reading.measured_at
    infusion = course.stem_cell_infusions.order_by("infused_at").first()
    if infusion is not None and infusion != without:
        times[Event.STEM_CELLS] = infusion.infused_at
    if hasattr(course, "release_record"):
        times[Event.RELEASE] = course.release_record.released_at
    return times


def now() -> datetime:
    return timezone.localtime(timezone.now())


def check(course: Course, *entered: tuple[Event, str, datetime], without: Any = None) -> None:
    """Refuse (InputError naming the field and the time it conflicts with) a time out of the course's order."""
    check_times(tuple(Entered(event, field, timezone.localtime(at)) for event, field, at in entered),
                recorded_times(course, without=without), now())

"""Assay before administration (10 CFR 35.63) and the administration record (10 CFR 35.3045)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from mibg.core.administration import administered_activity, check_assay
from mibg.core.course_state import CourseState
from mibg.core.plausibility import plausible, plausible_range
from mibg.protocol import load_protocol
from mibg.web.audit.trail import field_values, log_changes
from mibg.web.courses.models import Course
from mibg.web.courses.services import advance, current_directive
from mibg.web.directives.services import Refused
from mibg.web.eventreports import services as event_reports
from mibg.web.treatment.models import Administration, Assay

STORED = Decimal("0.0001")  # computed activities are stored to 0.0001 mCi, half to even
PERCENT = Decimal("0.001")


def _stored(value: Decimal, step: Decimal = STORED) -> Decimal:
    return value.quantize(step, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True)
class AssayInput:
    lot: str
    calibration_time: datetime
    specific_activity: Decimal
    measured_mci: Decimal
    measured_at: datetime
    calibrator_id: str


def record_assay(user: Any, course: Course, version: int, entry: AssayInput) -> Assay:
    directive = current_directive(course)
    if directive is None or course.state_enum is not CourseState.VERIFIED:
        raise Refused(f"An assay is recorded after independent verification; this course is '{course.state_enum.label}'.")
    # The check text shows both times in the site's zone with the offset (no UTC/local mix).
    check = check_assay(directive.activity, entry.measured_mci, entry.measured_at, directive.administration_time,
                        display_zone=timezone.get_current_timezone())
    with transaction.atomic():
        assay = Assay.objects.create(
            course=course, directive=directive, lot=entry.lot, calibration_time=entry.calibration_time,
            specific_activity=entry.specific_activity,
            specific_activity_unit=load_protocol().preparations[directive.preparation].specific_activity_unit,
            measured_mci=entry.measured_mci, measured_at=entry.measured_at, calibrator_id=entry.calibrator_id,
            corrected_mci=_stored(check.corrected.mci), deviation_percent=_stored(check.deviation_percent, PERCENT),
            within_tolerance=check.within_tolerance, message=check.message, recorded_by=user)
        log_changes(user, "create", assay, course.patient, note=check.message)
        if check.within_tolerance:
            advance(user, course, "accept_assay", version)
    return assay


def override_assay(user: Any, signed_name: str, assay: Assay, version: int, reason: str) -> None:
    """10 CFR 35.63: the authorised user directs administration of a dosage outside the tolerance, with a reason."""
    course = assay.course
    if assay.accepted or course.state_enum is not CourseState.VERIFIED:
        raise Refused("Only an assay outside the tolerance, on a verified course, can be overridden.")
    if assay.directive_id != getattr(current_directive(course), "pk", None):
        raise Refused("This assay belongs to a directive that is no longer current.")
    if not reason.strip():
        raise Refused("The override needs the reason.", "reason")
    with transaction.atomic():
        before = field_values(assay)
        Assay.objects.filter(pk=assay.pk, override_at__isnull=True).update(
            override_by=user, override_name=signed_name, override_at=timezone.now(), override_reason=reason)
        assay.refresh_from_db()
        log_changes(user, "override", assay, course.patient, before, note="authorised user override (10 CFR 35.63)")
        advance(user, course, "accept_assay", version)


@dataclass(frozen=True)
class AdministrationInput:
    started_at: datetime
    ended_at: datetime
    route: str
    volume_ml: Decimal
    residual_mci: Decimal
    residual_measured_at: datetime


def record_administration(user: Any, course: Course, version: int, entry: AdministrationInput) -> Administration:
    directive = current_directive(course)
    if directive is None or course.state_enum is not CourseState.ASSAYED:
        raise Refused(f"The administration is recorded after an accepted assay; this course is '{course.state_enum.label}'.")
    assay = course.assays.filter(directive=directive).order_by("-recorded_at", "-id").first()
    if assay is None or not assay.accepted:
        raise Refused("There is no accepted assay of the current directive's dose.")
    plausible("volume_ml", "volume_ml", entry.volume_ml)  # InputError outside the definition's 1-1000 mL
    if entry.ended_at < entry.started_at:
        raise Refused("The infusion cannot end before it starts.", "ended_at")
    longest = plausible_range("infusion_min").maximum  # site parameter plausible_infusion_min_max (1440 min)
    if entry.ended_at - entry.started_at > timedelta(minutes=int(longest)):
        # The protocol's infusions last 30-120 minutes; a day or more is a wrong date, not an infusion.
        raise Refused(f"The infusion would have lasted more than {longest / 60:g} hours ({longest} min, site parameter "
                      "plausible_infusion_min_max): check the end's date and time.", "ended_at")
    if entry.residual_measured_at < entry.ended_at:
        raise Refused("The residual is measured after the infusion ends.", "residual_measured_at")
    result = administered_activity(directive.activity, assay.measured_mci, assay.measured_at, entry.residual_mci,
                                   entry.residual_measured_at, entry.started_at)
    with transaction.atomic():
        administration = Administration.objects.create(
            course=course, directive=directive, assay=assay, started_at=entry.started_at, ended_at=entry.ended_at,
            route=entry.route, volume_ml=entry.volume_ml, residual_mci=entry.residual_mci,
            residual_measured_at=entry.residual_measured_at,
            pre_corrected_mci=_stored(result.before.activity_to.mci),
            residual_corrected_mci=_stored(result.residual.activity_to.mci),
            administered_mci=_stored(result.administered.mci),
            deviation_percent=_stored(result.deviation_percent, PERCENT),
            possible_medical_event=result.possible_medical_event, message=result.message, recorded_by=user)
        log_changes(user, "create", administration, course.patient, note=result.message)
        advance(user, course, "administer", version, occurred_at=entry.started_at)
        # 10 CFR 35.3045: a possible medical event opens its report, with its deadlines (issue 13 §3).
        event_reports.open_for_administration(user, administration)
    return administration


def review_medical_event(user: Any, signed_name: str, administration: Administration, note: str) -> None:
    """10 CFR 35.3045: a physician reviews the possible medical event; the review closes it on the course."""
    if not administration.medical_event_open:
        raise Refused("There is no open possible medical event on this administration.")
    if not note.strip():
        raise Refused("The review needs its conclusion.", "note")
    with transaction.atomic():
        before = field_values(administration)
        Administration.objects.filter(pk=administration.pk, reviewed_at__isnull=True).update(
            reviewed_by=user, reviewed_name=signed_name, reviewed_at=timezone.now(), review_note=note)
        administration.refresh_from_db()
        log_changes(user, "review", administration, administration.course.patient, before,
                    note="possible medical event reviewed (10 CFR 35.3045)")

"""Assay before administration (10 CFR 35.63) and the administration record (10 CFR 35.3045)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mibg.core.administration import administered_activity, check_assay
from mibg.core.bedside import Identity, check_two_identifiers
from mibg.core.chronology import Event, administration_window
from mibg.core.course_state import CourseFacts, CourseState
from mibg.core.plausibility import plausible, plausible_range
from mibg.core.recheck import recheck_at_infusion
from mibg.protocol import load_protocol
from mibg.web.audit.trail import field_values, log_changes
from mibg.web.changes import changed
from mibg.web.corrections import need_reason, supersede
from mibg.web.courses import timeline
from mibg.web.courses.models import Course
from mibg.web.courses.services import advance, current_directive
from mibg.web.errors import Refused
from mibg.web.eventreports import services as event_reports
from mibg.web.safety import hold_version
from mibg.web.screening.services import dosing_snapshot
from mibg.web.treatment.models import Administration, Assay, administration_fields


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
        raise Refused(_("An assay is recorded after independent verification; this course is '%(state)s'.")
                      % {"state": course.state_enum.label})
    timeline.check(course, (Event.ASSAY, "measured_at", entry.measured_at))  # decisions.md A29
    # The check text shows both times in the site's zone with the offset (no UTC/local mix).
    check = check_assay(directive.activity, entry.measured_mci, entry.measured_at, directive.administration_time,
                        display_zone=timezone.get_current_timezone())
    with transaction.atomic():
        assay = Assay.objects.create(
            course=course, directive=directive, lot=entry.lot, calibration_time=entry.calibration_time,
            specific_activity=entry.specific_activity,
            specific_activity_unit=load_protocol().preparations[directive.preparation].specific_activity_unit,
            calibrator_id=entry.calibrator_id, result_json=check.to_json(), recorded_by=user)
        log_changes(user, "create", assay, course.patient, note=check.message)
        if check.within_tolerance:
            advance(user, course, "accept_assay", version, facts=CourseFacts(assay_accepted=True))
    return assay


def override_assay(user: Any, signed_name: str, assay: Assay, version: int, reason: str) -> None:
    """10 CFR 35.63: the authorised user directs administration of a dosage outside the tolerance, with a reason."""
    course = assay.course
    if assay.accepted or assay.superseded or course.state_enum not in (CourseState.VERIFIED, CourseState.ASSAYED):
        raise Refused(_("Only a current assay outside the tolerance, before the administration, can be overridden."))
    if assay.directive_id != getattr(current_directive(course), "pk", None):
        raise Refused(_("This assay belongs to a directive that is no longer current."))
    if not reason.strip():
        raise Refused(_("The override needs the reason."), "reason")
    with transaction.atomic():
        before = field_values(assay)
        Assay.objects.filter(pk=assay.pk, override_at__isnull=True).update(
            override_by=user, override_name=signed_name, override_at=timezone.now(), override_reason=reason)
        assay.refresh_from_db()
        log_changes(user, "override", assay, course.patient, before, note="authorised user override (10 CFR 35.63)")
        if course.state_enum is CourseState.VERIFIED:
            advance(user, course, "accept_assay", version, facts=CourseFacts(assay_accepted=True))
        else:  # a corrected assay on an assayed course, signed again (decisions.md A37)
            hold_version(course, version, "This course")


@dataclass(frozen=True)
class AdministrationInput:
    started_at: datetime
    ended_at: datetime
    route: str
    volume_ml: Decimal
    residual_mci: Decimal
    residual_measured_at: datetime
    # decisions.md A36: two identifiers read at the bedside, checked against the directive's patient
    patient_name: str = ""
    patient_birth_date: date | None = None
    patient_mrn: str = ""


def identify(course: Course, entry: AdministrationInput) -> None:
    patient = course.patient
    check_two_identifiers(Identity(patient.given_name, patient.family_name, patient.birth_date, patient.mrn),
                          entry.patient_name, entry.patient_birth_date, entry.patient_mrn)


def _check_administration(course: Course, directive: Any, entry: AdministrationInput, without: Any = None) -> None:
    """The checks every door and every correction of the administration passes (A29, A36)."""
    identify(course, entry)  # decisions.md A36: the right patient first
    plausible("volume_ml", "volume_ml", entry.volume_ml)  # InputError outside the definition's 1-1000 mL
    # decisions.md A29: after the signature, the verification and the assay; never in the future; end after start.
    timeline.check(course, (Event.INFUSION_START, "started_at", entry.started_at),
                   (Event.INFUSION_END, "ended_at", entry.ended_at),
                   (Event.RESIDUAL, "residual_measured_at", entry.residual_measured_at), without=without)
    longest = plausible_range("infusion_min").maximum  # site parameter plausible_infusion_min_max (1440 min)
    if entry.ended_at - entry.started_at > timedelta(minutes=int(longest)):
        # The protocol's infusions last 30-120 minutes; a day or more is a wrong date, not an infusion.
        raise Refused(_("The infusion would have lasted more than %(hours)s hours (%(minutes)s min, site parameter "
                        "plausible_infusion_min_max): check the end's date and time.")
                      % {"hours": f"{longest / 60:g}", "minutes": longest}, "ended_at")
    window = administration_window(timezone.localtime(directive.administration_time), timezone.localtime(entry.started_at))
    if not window.within:
        raise Refused(window.message, "started_at")
    snapshot = dosing_snapshot(course)
    if snapshot is not None:  # decisions.md A30: the time-dependent criteria again, at the actual start
        recheck = recheck_at_infusion(snapshot, timezone.localtime(entry.started_at))
        if not recheck.passed:
            raise Refused(recheck.message, "started_at")


def record_administration(user: Any, course: Course, version: int, entry: AdministrationInput) -> Administration:
    directive = current_directive(course)
    if directive is None or course.state_enum is not CourseState.ASSAYED:
        raise Refused(_("The administration is recorded after an accepted assay; this course is '%(state)s'.")
                      % {"state": course.state_enum.label})
    assay = course.assays.filter(directive=directive).order_by("-recorded_at", "-id").first()
    if assay is None or not assay.accepted:
        raise Refused(_("There is no accepted assay of the current directive's dose."))
    _check_administration(course, directive, entry)
    result = administered_activity(directive.activity, assay.measured_mci, assay.measured_at, entry.residual_mci,
                                   entry.residual_measured_at, entry.started_at)
    with transaction.atomic():
        administration = Administration.objects.create(
            course=course, directive=directive, assay=assay, ended_at=entry.ended_at, route=entry.route,
            volume_ml=entry.volume_ml, **administration_fields(result), recorded_by=user)
        log_changes(user, "create", administration, course.patient, note=result.message)
        advance(user, course, "administer", version, occurred_at=entry.started_at,
                facts=CourseFacts(administration_recorded=True))
        # 10 CFR 35.3045: a possible medical event opens its report, with its deadlines (issue 13 §3).
        event_reports.open_for_administration(user, administration)
        changed(user, course, f"infusion start recorded (administration {administration.pk})")  # day 0 of follow-up
    return administration


def review_medical_event(user: Any, signed_name: str, administration: Administration, note: str) -> None:
    """10 CFR 35.3045: a physician reviews the possible medical event; the review closes it on the course."""
    if not administration.medical_event_open:
        raise Refused(_("There is no open possible medical event on this administration."))
    if not note.strip():
        raise Refused(_("The review needs its conclusion."), "note")
    with transaction.atomic():
        before = field_values(administration)
        Administration.objects.filter(pk=administration.pk, reviewed_at__isnull=True).update(
            reviewed_by=user, reviewed_name=signed_name, reviewed_at=timezone.now(), review_note=note)
        administration.refresh_from_db()
        log_changes(user, "review", administration, administration.course.patient, before,
                    note="possible medical event reviewed (10 CFR 35.3045)")


# ---- corrections (decisions.md A37) ---------------------------------------------------------------------

#: An assay is corrected until the administration is recorded (the administration rests on it afterwards).
ASSAY_CORRECTABLE = (CourseState.VERIFIED, CourseState.ASSAYED)
#: The administration is corrected until the release, which the physicist signed on the readings timed from it.
ADMINISTRATION_CORRECTABLE = (CourseState.ADMINISTERED, CourseState.INPATIENT)


def correct_assay(user: Any, assay: Assay, version: int, entry: AssayInput, reason: str) -> Assay:
    """A37: a new assay supersedes ``assay``; the old one, and any override of it, stay on record. A corrected
    assay outside the tolerance needs the authorised user's override again (the signature is renewed)."""
    course = assay.course
    text = need_reason(reason)
    if assay.superseded:
        raise Refused(_("This assay has been corrected already: correct the current one."))
    if course.state_enum not in ASSAY_CORRECTABLE:
        raise Refused(_("An assay is corrected before the administration is recorded; this course is '%(state)s'. "
                        "Correct the administration instead.")
                      % {"state": course.state_enum.label})
    directive = current_directive(course)
    if directive is None or assay.directive_id != directive.pk:
        raise Refused(_("This assay belongs to a directive that is no longer current."))
    timeline.check(course, (Event.ASSAY, "measured_at", entry.measured_at), without=assay)  # decisions.md A29
    check = check_assay(directive.activity, entry.measured_mci, entry.measured_at, directive.administration_time,
                        display_zone=timezone.get_current_timezone())
    with transaction.atomic():
        hold_version(course, version, "This course")
        new = Assay.objects.create(
            course=course, directive=directive, lot=entry.lot, calibration_time=entry.calibration_time,
            specific_activity=entry.specific_activity, specific_activity_unit=assay.specific_activity_unit,
            calibrator_id=entry.calibrator_id, result_json=check.to_json(), recorded_by=user,
            supersedes=assay, correction_reason=text)
        supersede(user, assay, new, text)
        log_changes(user, "create", new, course.patient, note=f"correction ({text}): {check.message}")
        if check.within_tolerance and course.state_enum is CourseState.VERIFIED:
            advance(user, course, "accept_assay", version, facts=CourseFacts(assay_accepted=True))
    return new


def correct_administration(user: Any, administration: Administration, version: int, entry: AdministrationInput,
                           reason: str) -> Administration:
    """A37: a new administration record supersedes ``administration`` (e.g. an infusion entered 7 days ahead).

    Its activity is computed again from the same assay; a possible medical event is judged again, and one that
    was reviewed needs a new review when the record changed (the signature is renewed). Readings and the
    stem-cell infusion already recorded must still come after the corrected infusion (A29).
    """
    course = administration.course
    text = need_reason(reason)
    if administration.superseded:
        raise Refused(_("This administration record has been corrected already: correct the current one."))
    if course.state_enum not in ADMINISTRATION_CORRECTABLE:
        raise Refused(_("The administration is corrected until the release; this course is '%(state)s', and the "
                        "signed release rests on readings timed from this infusion.")
                      % {"state": course.state_enum.label})
    _check_administration(course, administration.directive, entry, without=administration)
    assay = administration.assay
    result = administered_activity(administration.directive.activity, assay.measured_mci, assay.measured_at,
                                   entry.residual_mci, entry.residual_measured_at, entry.started_at)
    with transaction.atomic():
        hold_version(course, version, "This course")
        new = Administration.objects.create(
            course=course, directive=administration.directive, assay=assay, ended_at=entry.ended_at,
            route=entry.route, volume_ml=entry.volume_ml, **administration_fields(result), recorded_by=user,
            supersedes=administration, correction_reason=text)
        supersede(user, administration, new, text)
        log_changes(user, "create", new, course.patient, note=f"correction ({text}): {result.message}")
        # 10 CFR 35.3045: a corrected record that is a possible medical event opens its own report
        event_reports.open_for_administration(user, new)
        # The infusion start is day 0 of follow-up and the limit of the labs' baselines (decisions.md A33).
        changed(user, course, f"administration {administration.pk} corrected by administration {new.pk}")
    return new

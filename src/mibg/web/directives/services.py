"""The written directive (10 CFR 35.40) and its independent verification (10 CFR 35.41)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mibg.core import course_state
from mibg.core.course_state import CourseFacts
from mibg.core.dosing import (
    SPECIFIC_ACTIVITY_FIELDS,
    DosePlan,
    dose_request_from_snapshot,
    plan_dose,
    specific_activity_field,
)
from mibg.core.errors import InputError
from mibg.core.times import site_time
from mibg.core.verification import Prescription, VerificationStop, verification_stop, verify
from mibg.protocol import load_protocol
from mibg.web.audit.trail import field_values, log_changes, log_event
from mibg.web.courses.models import Course
from mibg.web.courses.services import advance, current_directive
from mibg.web.directives.models import ROUTES, Verification, WrittenDirective
from mibg.web.errors import Refused
from mibg.web.safety import hold_version
from mibg.web.screening.services import dosing_snapshot


@dataclass(frozen=True)
class DirectiveInput:
    mci_per_kg: Decimal
    preparation: str
    specific_activity: Decimal | None
    final_volume_ml: Decimal
    infusion_min: Decimal
    route: str
    calibration_time: datetime
    administration_time: datetime
    #: decisions.md A38: the stock's activity concentration at its calibration time; None: the label's, if any.
    stock_concentration_mci_per_ml: Decimal | None = None


def _specific_activity_field(preparation: str) -> str:
    """Where ``preparation``'s specific activity goes, by the unit the protocol definition states it in (an unknown
    preparation is refused by the planner, naming the field)."""
    chosen = load_protocol().preparations.get(preparation)
    return specific_activity_field(chosen) if chosen is not None else SPECIFIC_ACTIVITY_FIELDS["Ci/mmol"]


def plan_for(course: Course, entry: DirectiveInput) -> DosePlan:
    """The dose plan for ``entry`` on this course's screening snapshot; InputError names a bad field."""
    snapshot = dosing_snapshot(course)
    if snapshot is None:
        raise InputError("screening", _("the course has no screening evaluation yet"))
    sa_field = _specific_activity_field(entry.preparation)
    request = dose_request_from_snapshot(
        snapshot, mci_per_kg=entry.mci_per_kg, preparation=entry.preparation, protocol=load_protocol(),
        **{sa_field: entry.specific_activity},
        final_volume_ml=entry.final_volume_ml, infusion_min=entry.infusion_min,
        stock_concentration_mci_per_ml=entry.stock_concentration_mci_per_ml,
        calibration_time=entry.calibration_time, administration_time=entry.administration_time)
    return plan_dose(request)


def signature_meaning(name: str, course: Course, entry: DirectiveInput, plan: DosePlan) -> str:
    when = timezone.localtime(entry.administration_time)
    route = dict(ROUTES)[entry.route]
    prep = load_protocol().preparations[entry.preparation].name
    return (f"I, {name}, authorised user, direct the administration of {plan.activity.display()} of 131I-MIBG "
            f"({prep}) = {plan.request.mci_per_kg} mCi/kg x {plan.request.weight_kg} kg, intravenously ({route}), "
            f"in {entry.final_volume_ml} mL over {entry.infusion_min} min, to {course.patient.name} "
            f"(MRN {course.patient.mrn}), course {course.number}, at {site_time(when)}, "
            f"under protocol {plan.protocol_label}.")


def sign(user: Any, signed_name: str, course: Course, version: int, entry: DirectiveInput, change_reason: str = "") -> WrittenDirective:
    """Sign a directive (a new version when one is signed already: the old signature is voided)."""
    plan = plan_for(course, entry)
    if plan.blocked:
        raise Refused(_("The dose plan is blocked by a protocol limit: a blocked plan cannot be signed."))
    with transaction.atomic():
        hold_version(course, version, "This course")  # two signers at once: one signs, the other is told
        previous = current_directive(course)
        event = "revise_directive" if previous is not None else "sign_directive"
        if previous is not None and not change_reason.strip():
            raise Refused(_("A new version of a signed directive needs the reason for the change."), "change_reason")
        if previous is not None:
            before = field_values(previous)
            WrittenDirective.objects.filter(pk=previous.pk).update(
                status=WrittenDirective.VOID, voided_at=timezone.now(), voided_by=user,
                void_reason=f"replaced by version {previous.version + 1}: {change_reason}")
            previous.refresh_from_db()
            log_changes(user, "void", previous, course.patient, before)
        directive = WrittenDirective.objects.create(
            course=course, version=(previous.version + 1) if previous else 1,
            weight_kg=plan.request.weight_kg, mci_per_kg=entry.mci_per_kg, activity_mci=plan.activity.mci,
            preparation=entry.preparation,
            **{field: entry.specific_activity if field == _specific_activity_field(entry.preparation) else None
               for field in SPECIFIC_ACTIVITY_FIELDS.values()},
            final_volume_ml=entry.final_volume_ml, infusion_min=entry.infusion_min, route=entry.route,
            stock_concentration_mci_per_ml=entry.stock_concentration_mci_per_ml,
            calibration_time=entry.calibration_time, administration_time=entry.administration_time,
            plan_json=json.dumps(plan.to_json()), protocol_label=plan.protocol_label,
            signed_by=user, signed_name=signed_name, signature_meaning=signature_meaning(signed_name, course, entry, plan),
            change_reason=change_reason)
        log_changes(user, "sign", directive, course.patient, note=directive.signature_meaning)
        # The step's facts are this directive's own: signed, its plan not blocked, the reason for a new version.
        facts = CourseFacts(signed_directive=directive.dose_plan.status == "ok",
                            reason_given=bool(change_reason.strip()))
        advance(user, course, event, version, note=change_reason, facts=facts)
    return directive


def verify_directive(user: Any, course: Course, version: int, weight_kg: object, mci_per_kg: object,
                     signed_name: str) -> Verification:
    """10 CFR 35.41, decisions.md A36: record the signed comparison; an exact match verifies the course.

    ``signed_name``: the verifier's printed name, given by the door after the password was re-entered
    (mibg.web.signing.check_signature). After the site's number of mismatches the verification is stopped.
    """
    directive = current_directive(course)
    if directive is None or course.state_enum is not course_state.CourseState.DIRECTIVE_SIGNED:
        raise Refused(_("There is no signed directive awaiting verification on this course."))
    stop = verification_stop(refused_verification_attempts(course))
    if stop.stopped:
        raise Refused(stop.message)
    result = verify(Prescription(directive.weight_kg, directive.mci_per_kg, directive.activity_mci),
                    signed_by=str(directive.signed_by_id), verifier=str(user.pk), weight_kg=weight_kg, mci_per_kg=mci_per_kg)
    with transaction.atomic():
        verification = Verification.objects.create(
            directive=directive, by=user, signed_name=signed_name, weight_kg=Decimal(str(weight_kg)),
            mci_per_kg=Decimal(str(mci_per_kg)), result_json=result.to_json())
        log_changes(user, "verify", verification, course.patient, note=result.message)
        if result.accepted:
            advance(user, course, "verify", version, facts=CourseFacts(verification_accepted=True))
        elif verification_stop(refused_verification_attempts(course)).stopped:
            log_event(user, "refused", directive, course.patient,
                      note="independent verification stopped: the discrepancy goes to the authorised user (A36)")
    return verification


def verification_status(course: Course) -> VerificationStop:
    return verification_stop(refused_verification_attempts(course))


def refused_verification_attempts(course: Course) -> int:
    directive = current_directive(course)
    return directive.verifications.filter(result_json__accepted=False).count() if directive else 0


def log_print(user: Any, directive: WrittenDirective) -> None:
    log_event(user, "view", directive, directive.course.patient, note="order sheet printed / viewed")

"""The JSON API (django-ninja): the same services and the same permission table as the pages.

Authentication: a personal token, ``Authorization: Bearer <token>`` (API tokens page). Errors are JSON
``{"message": ..., "field": ...}``. Numbers are exact: JSON numbers in requests are read as decimals (never
binary floats) and decimals in responses are strings. OpenAPI: /api/openapi.json; docs: /api/docs.
"""

from __future__ import annotations

import json
import logging
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe
from ninja import NinjaAPI, Schema
from ninja.errors import HttpError
from ninja.parser import Parser
from ninja.responses import Status
from ninja.security import HttpBearer

from mibg.core.errors import InputError
from mibg.core.vocabulary import Sex
from mibg.web.accounts.models import ApiToken
from mibg.web.accounts.two_factor import required_for
from mibg.web.api_types import ERRORS, IsoDatetime
from mibg.web.audit.trail import log_view
from mibg.web.authenticated import AuthenticatedHttpRequest
from mibg.web.course_record import numbers_hidden
from mibg.web.courses import services as course_services
from mibg.web.courses.models import Course
from mibg.web.courses.services import current_directive
from mibg.web.directives import services as directive_services
from mibg.web.directives.models import ROUTES, Verification, WrittenDirective
from mibg.web.errors import UNEXPECTED, CourseStillOpen, Refused, answer
from mibg.web.listout import ListOut
from mibg.web.patients import services as patient_services
from mibg.web.patients.models import Patient
from mibg.web.patients.services import matching
from mibg.web.permissions import require
from mibg.web.safety import Signature, signed
from mibg.web.screening import services as screening_services
from mibg.web.screening.models import Evaluation
from mibg.web.treatment import services as treatment_services
from mibg.web.treatment.models import Administration, Assay


def storable_text(value: Any, where: str = "") -> None:
    """Refuse text that no database column can hold, naming where it is (JSON path).

    A NUL character (U+0000) is refused by PostgreSQL text columns and JSON; an unpaired surrogate
    (e.g. "\\udb7a", legal in JSON text) cannot be encoded as UTF-8 at all. Either would be a server error at
    the first query instead of a refusal naming the field.
    """
    if isinstance(value, dict):
        for key, item in value.items():
            storable_text(key, where or "body")
            storable_text(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            storable_text(item, f"{where}.{i}" if where else str(i))
    elif isinstance(value, str):
        if "\x00" in value:
            raise InputError(where or "body", _("contains a NUL character (U+0000), which cannot be stored"))
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise InputError(where or "body", _("contains an unpaired surrogate (not valid Unicode text)")) from None


class DecimalParser(Parser):
    def parse_body(self, request: HttpRequest) -> Any:
        # django-ninja turns any exception here into a 400 whose __cause__ is this one (see _http_error).
        data = json.loads(request.body or b"{}", parse_float=Decimal)
        storable_text(data)
        return data


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        found = ApiToken.token_for(token)
        if found is None:
            return None
        user = found.user
        # A token is a credential of its own: when the user's role requires the second factor, only a
        # token made in a session verified with it is accepted (mibg.web.accounts.two_factor).
        if not found.second_factor and required_for(user):
            raise HttpError(401, "Your role requires a second factor: this token was made without one. Log in "
                                 "with your code and make a new token.")
        request.user = user
        return user


class ClinicAPI(NinjaAPI):
    """The NinjaAPI with one exception handler: every error is answered from the one table in
    :func:`mibg.web.errors.answer`, as ``{"message": ..., "field": ...}`` (schema :class:`ErrorOut`)."""

    def set_default_exception_handlers(self) -> None:
        self.add_exception_handler(Exception, self.answer_error)

    def answer_error(self, request: HttpRequest, exc: Exception | type[Exception]) -> HttpResponse:
        # django-ninja types a handler's argument as the exception or its class; it passes the one raised.
        said = answer(exc if isinstance(exc, Exception) else exc())
        if said is UNEXPECTED:
            logging.getLogger("mibg.api").exception("unexpected error in %s", request.path)
        return self.create_response(request, {"message": str(said.message), "field": said.field},
                                    status=said.status)


# The OpenAPI document and its docs page hold no patient data and need no token; they answer GET and HEAD only
# (django-ninja would answer any method with the document).
api = ClinicAPI(title="mibg API", version="1", description=__doc__, auth=TokenAuth(), parser=DecimalParser(),
                urls_namespace="api", docs_decorator=require_safe)


# ---- schemas ----------------------------------------------------------------------------------------


class PatientIn(Schema):
    mrn: str
    family_name: str
    given_name: str
    birth_date: date
    sex: Sex = Sex.UNKNOWN


class PatientOut(ListOut):
    id: int
    mrn: str
    family_name: str
    given_name: str
    birth_date: date
    sex: str
    version: int


class CourseOut(ListOut):
    id: int
    patient_id: int
    number: int
    state: str
    planned_treatment_date: date | None
    version: int


class EvaluationOut(Schema):
    id: int
    course_id: int
    overall: str
    protocol_label: str
    evaluated_at: datetime
    evaluated_by: str
    result: dict[str, Any]
    snapshot: dict[str, Any]


class ScreeningIn(Schema):
    version: int
    snapshot: dict[str, Any]


class DirectiveIn(Schema):
    version: int
    mci_per_kg: Decimal
    preparation: str
    specific_activity: Decimal | None = None
    final_volume_ml: Decimal
    stock_concentration_mci_per_ml: Decimal | None = None
    infusion_min: Decimal
    route: str
    calibration_time: IsoDatetime
    administration_time: IsoDatetime
    change_reason: str = ""
    password: str = ""


class DirectiveOut(Schema):
    id: int
    course_id: int
    version: int
    status: str
    weight_kg: str | None
    mci_per_kg: str | None
    activity_mci: str | None
    activity_mbq: str | None
    preparation: str
    route: str
    calibration_time: datetime
    administration_time: datetime
    signed_name: str
    signed_at: datetime
    signature_meaning: str | None
    plan: dict[str, Any] | None


class VerificationIn(Schema):
    version: int
    weight_kg: Decimal
    mci_per_kg: Decimal
    password: str  # the verifier signs (decisions.md A36)


class VerificationOut(Schema):
    id: int
    accepted: bool
    message: str  # a mismatch says that the entries differ, not which one (decisions.md A36)
    attempts_left: int


class VerificationRecordOut(Schema):
    id: int
    directive_id: int
    directive_version: int
    signed_name: str
    at: datetime
    weight_kg: str  # what the verifier entered
    mci_per_kg: str
    #: The verification's one shape, ``VerificationResult.to_json()`` (mibg.verification version 1), as stored:
    #: with the differing fields, which only the authorised user reviews (decisions.md A36).
    result: dict[str, Any]


class AssayIn(Schema):
    version: int
    lot: str
    calibration_time: IsoDatetime
    specific_activity: Decimal
    measured_mci: Decimal
    measured_at: IsoDatetime
    calibrator_id: str


class AssayOut(Schema):
    id: int
    directive_id: int
    lot: str
    calibrator_id: str
    accepted: bool  # within the tolerance, or outside it with the authorised user's direction (10 CFR 35.63)
    #: The check's one shape, ``AssayCheck.to_json()`` (mibg.assay version 1): the measured activity and time, the
    #: decay correction, the deviation, the verdict and the message; every number exact text (issue 11).
    result: dict[str, Any]
    # decisions.md A37: a superseded entry stays listed; a correction names the entry it supersedes and why
    superseded: bool = False
    supersedes_id: int | None = None
    correction_reason: str = ""


class AdministrationIn(Schema):
    version: int
    started_at: IsoDatetime
    ended_at: IsoDatetime
    route: str
    volume_ml: Decimal
    residual_mci: Decimal
    residual_measured_at: IsoDatetime
    # decisions.md A36: two identifiers read at the bedside (the name, and the date of birth or the MRN)
    patient_name: str
    patient_birth_date: date | None = None
    patient_mrn: str = ""


class AssayCorrectionIn(AssayIn):
    reason: str  # decisions.md A37: a correction is a new entry, with the reason


class AdministrationCorrectionIn(AdministrationIn):
    reason: str  # decisions.md A37


class AdministrationOut(Schema):
    id: int
    started_at: datetime
    ended_at: datetime
    route: str
    volume_ml: str
    medical_event_open: bool
    #: The administered activity's one shape, ``AdministeredActivity.to_json()`` (mibg.administration version 1):
    #: both decay corrections, the activity given, the deviation and the possible-medical-event flag (issue 11).
    result: dict[str, Any]
    superseded: bool = False  # decisions.md A37
    supersedes_id: int | None = None
    correction_reason: str = ""


def _aware(name: str, value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InputError(name, _("has no time zone: add the UTC offset, e.g. 2026-03-02T09:30:00-08:00"))
    return value


def _course(pk: int) -> Course:
    return get_object_or_404(Course.objects.select_related("patient"), pk=pk)


def _patient_out(p: Patient) -> dict[str, Any]:
    return {k: getattr(p, k) for k in ("id", "mrn", "family_name", "given_name", "birth_date", "sex", "version")}


def _course_out(c: Course) -> dict[str, Any]:
    return {k: getattr(c, k) for k in ("id", "patient_id", "number", "state", "planned_treatment_date", "version")}


# ---- patients and courses -------------------------------------------------------------------------------


#: The most patients one answer of GET /patients holds; ``offset`` reads the next ones.
PATIENT_PAGE_MAX = 500
#: The largest ``offset``: the largest 32-bit integer, which every database takes as an OFFSET (a larger one
#: overflowed SQLite's and PostgreSQL's integers: a server error instead of a refusal naming the field).
OFFSET_MAX = 2**31 - 1


@api.get("/patients", response={200: list[PatientOut], **ERRORS}, tags=["patients"])
def list_patients(request: AuthenticatedHttpRequest, response: HttpResponse, q: str = "", offset: int = 0, limit: int = 200) -> list[dict[str, Any]]:
    """Patients in the list's order (family name, given name, MRN), ``limit`` at a time from ``offset``; the
    ``X-Total-Count`` header says how many match, so a client knows when it has them all."""
    require(request.user, "patient.view")
    storable_text(q, "q")
    if not 1 <= limit <= PATIENT_PAGE_MAX:
        raise InputError("limit", _("must be between 1 and %(most)s")
                                  % {"most": PATIENT_PAGE_MAX})
    if not 0 <= offset <= OFFSET_MAX:
        raise InputError("offset", _("must be between 0 and %(most)s") % {"most": OFFSET_MAX})
    patients = matching(Patient.objects.all(), q)
    response["X-Total-Count"] = str(patients.count())
    return [_patient_out(p) for p in patients[offset:offset + limit]]


@api.post("/patients", response={201: PatientOut, **ERRORS}, tags=["patients"])
def create_patient(request: AuthenticatedHttpRequest, payload: PatientIn) -> Status[dict[str, Any]]:
    require(request.user, "patient.create")
    # The patient service applies decisions.md A34 (trimmed, 1-40 / 1-100 characters, one patient per MRN
    # whatever its spaces or case), as for the form, the import and the command.
    patient = patient_services.create_patient(request.user, payload.dict())
    return Status(201, _patient_out(patient))


@api.get("/patients/{patient_id}", response={200: PatientOut, **ERRORS}, tags=["patients"])
def get_patient(request: AuthenticatedHttpRequest, patient_id: int) -> dict[str, Any]:
    require(request.user, "patient.view")
    patient = get_object_or_404(Patient, pk=patient_id)
    log_view(request.user, patient, "API: patient")
    return _patient_out(patient)


@api.get("/patients/{patient_id}/courses", response={200: list[CourseOut], **ERRORS}, tags=["courses"])
def list_courses(request: AuthenticatedHttpRequest, patient_id: int) -> list[dict[str, Any]]:
    require(request.user, "patient.view")
    patient = get_object_or_404(Patient, pk=patient_id)
    log_view(request.user, patient, "API: courses")
    return [_course_out(c) for c in patient.courses.order_by("number")]


@api.post("/patients/{patient_id}/courses", response={201: CourseOut, **ERRORS}, tags=["courses"])
def create_course(request: AuthenticatedHttpRequest, patient_id: int) -> Status[dict[str, Any]]:
    require(request.user, "course.create")
    patient = get_object_or_404(Patient, pk=patient_id)
    if patient.courses.exclude(state="closed").exists():
        raise Refused(_("A course is still open: close or stop it before starting another."))
    try:
        course = course_services.create_course(request.user, patient)
    except CourseStillOpen:  # opened by someone else since the check above
        raise Refused(_("A course is still open: close or stop it before starting another.")) from None
    return Status(201, _course_out(course))


@api.get("/courses/{course_id}", response={200: CourseOut, **ERRORS}, tags=["courses"])
def get_course(request: AuthenticatedHttpRequest, course_id: int) -> dict[str, Any]:
    require(request.user, "patient.view")
    course = _course(course_id)
    log_view(request.user, course.patient, f"API: course {course.number}")
    return _course_out(course)


# ---- screening ---------------------------------------------------------------------------------------


def _evaluation_out(e: Evaluation) -> dict[str, Any]:
    return {"id": e.pk, "course_id": e.course_id, "overall": e.overall, "protocol_label": e.protocol_label,
            "evaluated_at": e.evaluated_at, "evaluated_by": e.evaluated_by.signature_name(),
            "result": e.eligibility.to_json(), "snapshot": json.loads(e.snapshot_json)}


@api.get("/courses/{course_id}/screening", response={200: EvaluationOut, **ERRORS}, tags=["screening"])
def latest_screening(request: AuthenticatedHttpRequest, course_id: int) -> dict[str, Any]:
    require(request.user, "patient.view")
    course = _course(course_id)
    evaluation = screening_services.latest_evaluation(course)
    if evaluation is None:
        raise Http404
    log_view(request.user, course.patient, "API: screening result")
    return _evaluation_out(evaluation)


@api.post("/courses/{course_id}/screening", response={201: EvaluationOut, **ERRORS}, tags=["screening"])
def submit_screening(request: AuthenticatedHttpRequest, course_id: int, payload: ScreeningIn) -> Status[dict[str, Any]]:
    """Save the course's screening data (a PatientSnapshot without the patient's fixed fields) and evaluate it."""
    require(request.user, "screening.edit")
    course = _course(course_id)
    data = {**payload.snapshot, **screening_services.fixed_values(course)}
    snapshot = screening_services.snapshot_for(course, {k: v for k, v in data.items() if k != "chair_decisions"})
    with transaction.atomic():
        evaluation = screening_services.save_and_evaluate(request.user, course, payload.version, snapshot)
    return Status(201, _evaluation_out(evaluation))


# ---- directives ---------------------------------------------------------------------------------------


def _directive_entry(payload: DirectiveIn) -> directive_services.DirectiveInput:
    if payload.route not in dict(ROUTES):
        raise InputError("route", _("one of %(choices)s") % {"choices": ", ".join(dict(ROUTES))})
    return directive_services.DirectiveInput(
        payload.mci_per_kg, payload.preparation, payload.specific_activity, payload.final_volume_ml, payload.infusion_min,
        payload.route, _aware("calibration_time", payload.calibration_time),
        _aware("administration_time", payload.administration_time), payload.stock_concentration_mci_per_ml)


def _directive_out(request: AuthenticatedHttpRequest, d: WrittenDirective) -> dict[str, Any]:
    hidden = numbers_hidden(request.user, d.course, d) and d.status == "signed"
    return {
        "id": d.pk, "course_id": d.course_id, "version": d.version, "status": d.status,
        "weight_kg": None if hidden else str(d.weight_kg), "mci_per_kg": None if hidden else str(d.mci_per_kg),
        "activity_mci": None if hidden else str(d.activity_mci), "activity_mbq": None if hidden else str(d.activity.mbq),
        "preparation": d.preparation, "route": d.route, "calibration_time": d.calibration_time,
        "administration_time": d.administration_time, "signed_name": d.signed_name, "signed_at": d.signed_at,
        "signature_meaning": None if hidden else d.signature_meaning, "plan": None if hidden else d.dose_plan.to_json(),
    }


@api.get("/courses/{course_id}/directives", response={200: list[DirectiveOut], **ERRORS}, tags=["directives"])
def list_directives(request: AuthenticatedHttpRequest, course_id: int) -> list[dict[str, Any]]:
    """Every version. Until verified, a physicist or pharmacist who could verify sees no numbers (10 CFR 35.41)."""
    require(request.user, "patient.view")
    course = _course(course_id)
    log_view(request.user, course.patient, "API: directives")
    return [_directive_out(request, d) for d in course.directives.select_related("course").order_by("-version")]


@api.post("/courses/{course_id}/directives/plan", response={200: dict[str, Any], **ERRORS}, tags=["directives"])
def plan_directive(request: AuthenticatedHttpRequest, course_id: int, payload: DirectiveIn) -> dict[str, Any]:
    """The dose plan for these choices, with every finding and formula. Nothing is saved."""
    require(request.user, "directive.sign")
    plan = directive_services.plan_for(_course(course_id), _directive_entry(payload))
    return plan.to_json()


@api.post("/courses/{course_id}/directives", response={201: DirectiveOut, **ERRORS}, tags=["directives"])
def sign_directive(request: AuthenticatedHttpRequest, course_id: int, payload: DirectiveIn) -> Status[dict[str, Any]]:
    """Sign (10 CFR 35.40): ``password`` is the signer's own password; a second call makes a new version."""
    require(request.user, "directive.sign")
    course = _course(course_id)
    entry = _directive_entry(payload)
    directive = signed(request, Signature(payload.password, course, course.patient, "written directive (API)"),
                       lambda name: directive_services.sign(request.user, name, course, payload.version, entry,
                                                            payload.change_reason), form=False)
    return Status(201, _directive_out(request, directive))


@api.post("/courses/{course_id}/verifications", response={201: VerificationOut, **ERRORS}, tags=["directives"])
def verify_directive(request: AuthenticatedHttpRequest, course_id: int, payload: VerificationIn) -> Status[dict[str, Any]]:
    require(request.user, "directive.verify")
    course = _course(course_id)
    directive = current_directive(course)
    if directive is None:
        raise Refused(_("There is no signed directive awaiting verification on this course."))
    status = directive_services.verification_status(course)
    if status.stopped:  # decisions.md A36: refused before the password is asked
        raise Refused(status.message)
    v = signed(request, Signature(payload.password, directive, course.patient, "independent verification (API)"),
               lambda name: directive_services.verify_directive(request.user, course, payload.version,
                                                                payload.weight_kg, payload.mci_per_kg, name), form=False)
    return Status(201, {"id": v.pk, "accepted": v.accepted, "message": v.message,
                        "attempts_left": directive_services.verification_status(course).attempts_left})


@api.get("/courses/{course_id}/verifications", response={200: list[VerificationRecordOut], **ERRORS},
         tags=["directives"])
def list_verifications(request: AuthenticatedHttpRequest, course_id: int) -> list[dict[str, Any]]:
    """Every verification of the course's directives, each its stored result's one shape. For the authorised user
    (who signs directives) only: a mismatch names the differing fields, which the verifier is never shown
    (decisions.md A36)."""
    require(request.user, "directive.sign")
    course = _course(course_id)
    log_view(request.user, course.patient, "API: verifications")
    return [{"id": v.pk, "directive_id": v.directive_id, "directive_version": v.directive.version,
             "signed_name": v.signed_name, "at": v.at, "weight_kg": str(v.weight_kg), "mci_per_kg": str(v.mci_per_kg),
             "result": v.result.to_json()}
            for v in Verification.objects.filter(directive__course=course).select_related("directive")]


# ---- assays and administrations ---------------------------------------------------------------------------


def _assay_out(a: Assay) -> dict[str, Any]:
    return {"id": a.pk, "directive_id": a.directive_id, "lot": a.lot, "calibrator_id": a.calibrator_id,
            "accepted": a.accepted, "result": a.result.to_json(), **_correction_out(a)}


def _correction_out(a: Any) -> dict[str, Any]:
    return {"superseded": a.superseded, "supersedes_id": a.supersedes_id, "correction_reason": a.correction_reason}


@api.get("/courses/{course_id}/assays", response={200: list[AssayOut], **ERRORS}, tags=["assays"])
def list_assays(request: AuthenticatedHttpRequest, course_id: int) -> list[dict[str, Any]]:
    require(request.user, "patient.view")
    course = _course(course_id)
    log_view(request.user, course.patient, "API: assays")
    return [_assay_out(a) for a in Assay.history.filter(course=course)]  # superseded ones too (A37)


@api.post("/courses/{course_id}/assays", response={201: AssayOut, **ERRORS}, tags=["assays"])
def record_assay(request: AuthenticatedHttpRequest, course_id: int, payload: AssayIn) -> Status[dict[str, Any]]:
    require(request.user, "assay.record")
    course = _course(course_id)
    if payload.measured_mci <= 0:
        raise InputError("measured_mci", _("must be greater than zero"))
    entry = treatment_services.AssayInput(payload.lot, _aware("calibration_time", payload.calibration_time),
                                          payload.specific_activity, payload.measured_mci,
                                          _aware("measured_at", payload.measured_at), payload.calibrator_id)
    try:
        assay = treatment_services.record_assay(request.user, course, payload.version, entry)
    except InputError as error:  # the core names the measured activity as the assay module does; name the API's field
        raise InputError(ASSAY_FIELDS.get(error.field, error.field), error.message) from None
    return Status(201, _assay_out(assay))


#: The core's field names -> this API's (AssayIn).
ASSAY_FIELDS = {"measured_activity_mci": "measured_mci"}


def _administration_out(a: Administration) -> dict[str, Any]:
    return {"id": a.pk, "started_at": a.started_at, "ended_at": a.ended_at, "route": a.route, "volume_ml": str(a.volume_ml),
            "medical_event_open": a.medical_event_open, "result": a.result.to_json(), **_correction_out(a)}


@api.get("/courses/{course_id}/administrations", response={200: list[AdministrationOut], **ERRORS}, tags=["administrations"])
def list_administrations(request: AuthenticatedHttpRequest, course_id: int) -> list[dict[str, Any]]:
    require(request.user, "patient.view")
    course = _course(course_id)
    log_view(request.user, course.patient, "API: administrations")
    return [_administration_out(a) for a in Administration.history.filter(course=course)]  # superseded too (A37)


@api.post("/courses/{course_id}/administrations", response={201: AdministrationOut, **ERRORS}, tags=["administrations"])
def record_administration(request: AuthenticatedHttpRequest, course_id: int, payload: AdministrationIn) -> Status[dict[str, Any]]:
    require(request.user, "administration.record")
    course = _course(course_id)
    if payload.route not in dict(ROUTES):
        raise InputError("route", _("one of %(choices)s") % {"choices": ", ".join(dict(ROUTES))})
    if payload.volume_ml <= 0:
        raise InputError("volume_ml", _("must be greater than zero"))
    entry = treatment_services.AdministrationInput(
        _aware("started_at", payload.started_at), _aware("ended_at", payload.ended_at), payload.route, payload.volume_ml,
        payload.residual_mci, _aware("residual_measured_at", payload.residual_measured_at), payload.patient_name,
        payload.patient_birth_date, payload.patient_mrn)
    return Status(201, _administration_out(treatment_services.record_administration(request.user, course, payload.version, entry)))


# ---- corrections (decisions.md A37): the same services as the pages -------------------------------------


@api.post("/assays/{assay_id}/corrections", response={201: AssayOut, **ERRORS}, tags=["assays"])
def correct_assay(request: AuthenticatedHttpRequest, assay_id: int, payload: AssayCorrectionIn) -> Status[dict[str, Any]]:
    """A new assay supersedes this one, with the reason; the old one stays, marked superseded."""
    require(request.user, "assay.record")
    assay = get_object_or_404(Assay.history.select_related("course__patient"), pk=assay_id)
    if payload.measured_mci <= 0:
        raise InputError("measured_mci", _("must be greater than zero"))
    entry = treatment_services.AssayInput(payload.lot, _aware("calibration_time", payload.calibration_time),
                                          payload.specific_activity, payload.measured_mci,
                                          _aware("measured_at", payload.measured_at), payload.calibrator_id)
    try:
        new = treatment_services.correct_assay(request.user, assay, payload.version, entry, payload.reason)
    except InputError as error:
        raise InputError(ASSAY_FIELDS.get(error.field, error.field), error.message) from None
    return Status(201, _assay_out(new))


@api.post("/administrations/{administration_id}/corrections", response={201: AdministrationOut, **ERRORS},
          tags=["administrations"])
def correct_administration(request: AuthenticatedHttpRequest, administration_id: int, payload: AdministrationCorrectionIn) -> Status[dict[str, Any]]:
    """A new administration record supersedes this one, with the reason (e.g. an infusion entered days ahead)."""
    require(request.user, "administration.record")
    administration = get_object_or_404(Administration.history.select_related("course__patient"), pk=administration_id)
    if payload.route not in dict(ROUTES):
        raise InputError("route", _("one of %(choices)s") % {"choices": ", ".join(dict(ROUTES))})
    if payload.volume_ml <= 0:
        raise InputError("volume_ml", _("must be greater than zero"))
    entry = treatment_services.AdministrationInput(
        _aware("started_at", payload.started_at), _aware("ended_at", payload.ended_at), payload.route, payload.volume_ml,
        payload.residual_mci, _aware("residual_measured_at", payload.residual_measured_at), payload.patient_name,
        payload.patient_birth_date, payload.patient_mrn)
    new = treatment_services.correct_administration(request.user, administration, payload.version, entry, payload.reason)
    return Status(201, _administration_out(new))


@api.get("/courses/{course_id}/current-directive", response={200: DirectiveOut, **ERRORS}, tags=["directives"])
def get_current_directive(request: AuthenticatedHttpRequest, course_id: int) -> dict[str, Any]:
    require(request.user, "patient.view")
    course = _course(course_id)
    directive = current_directive(course)
    if directive is None:
        raise Http404
    log_view(request.user, course.patient, "API: current directive")
    return _directive_out(request, directive)


api.add_router("", "mibg.web.radiation.api.router")  # readings, dosimetry, release
api.add_router("", "mibg.web.followup.api.router")  # follow-up laboratory results
api.add_router("", "mibg.web.documents.api.router")  # a patient's record as a FHIR R4 Bundle
api.add_router("", "mibg.web.plan.api.router")  # orders, calendars and worklists (issue 13)

"""Assay (10 CFR 35.63), the authorised user's override, the administration, and the medical-event review."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from mibg.core.course_state import CourseState
from mibg.protocol import load_protocol
from mibg.web.courses.services import current_directive
from mibg.web.courses.views import get_course
from mibg.web.forms import set_unit
from mibg.web.permissions import action_required
from mibg.web.safety import Signature, form_token, save_once
from mibg.web.treatment import services
from mibg.web.treatment.forms import (
    AdministrationCorrectionForm,
    AdministrationForm,
    AssayCorrectionForm,
    AssayForm,
    SignedReasonForm,
)
from mibg.web.treatment.models import Administration, Assay


@action_required(get="assay.record", post="assay.record")
def assay(request: HttpRequest, pk: int) -> HttpResponse:
    course = get_course(pk)
    directive = current_directive(course)
    if directive is None or course.state_enum is not CourseState.VERIFIED:
        messages.error(request, _("The assay is recorded after the independent verification; this course is "
                                  "'%(state)s'.") % {"state": course.state_enum.label})
        return redirect("courses:detail", pk=pk)
    form = AssayForm(request.POST or None, initial={"form_token": form_token(request), "version": course.version})
    unit = load_protocol().preparations[directive.preparation].specific_activity_unit  # protocol data
    set_unit(form, "specific_activity", unit)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        entry = services.AssayInput(d["lot"], d["calibration_time"], d["specific_activity"], d["measured_mci"],
                                    d["measured_at"], d["calibrator_id"])
        done = save_once(request, form, lambda: services.record_assay(request.user, course, d["version"], entry),
                         then=lambda: redirect("courses:detail", pk=pk), said=lambda record: record.message,
                         notice=lambda record: messages.success if record.within_tolerance else messages.error)
        if done is not None:
            return done
    return render(request, "mibg/treatment/assay.html", {
        "form": form, "course": course, "patient": course.patient, "directive": directive,
        "tolerance": load_protocol().site("assay_tolerance_percent")})


@action_required(get="assay.override", post="assay.override")
def assay_override(request: HttpRequest, pk: int) -> HttpResponse:
    record = get_object_or_404(Assay.objects.select_related("course__patient"), pk=pk)
    course = record.course
    form = SignedReasonForm(request.POST or None, initial={"form_token": form_token(request), "version": course.version})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        done = save_once(request, form, lambda name: services.override_assay(request.user, name, record, d["version"] or 0,
                                                                             d["reason"]),
                         signature=Signature(d["password"], record, course.patient, "assay override (10 CFR 35.63)"),
                         then=lambda: redirect("courses:detail", pk=course.pk),
                         said=lambda _saved: _("Override recorded: the dose may be administered as directed by the authorised user."),
                         notice=lambda _: messages.warning)
        if done is not None:
            return done
    return render(request, "mibg/treatment/signed_reason.html", {
        "form": form, "course": course, "patient": course.patient, "title": _("Authorised user override (10 CFR 35.63)"),
        "explain": record.message, "button": _("Sign the override")})


@action_required(get="administration.record", post="administration.record")
def administration(request: HttpRequest, pk: int) -> HttpResponse:
    course = get_course(pk)
    directive = current_directive(course)
    if directive is None or course.state_enum is not CourseState.ASSAYED:
        messages.error(request, _("The administration is recorded after an accepted assay; this course is "
                                  "'%(state)s'.") % {"state": course.state_enum.label})
        return redirect("courses:detail", pk=pk)
    form = AdministrationForm(request.POST or None, initial={"form_token": form_token(request), "version": course.version,
                                                             "route": directive.route})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        entry = services.AdministrationInput(d["started_at"], d["ended_at"], d["route"], d["volume_ml"], d["residual_mci"],
                                             d["residual_measured_at"], d["patient_name"], d["patient_birth_date"],
                                             d["patient_mrn"])
        done = save_once(request, form, lambda: services.record_administration(request.user, course, d["version"], entry),
                         then=lambda: redirect("courses:detail", pk=pk), said=lambda record: record.message,
                         notice=lambda record: messages.error if record.possible_medical_event else messages.success)
        if done is not None:
            return done
    accepted = course.assays.filter(directive=directive).order_by("-recorded_at", "-id").first()
    return render(request, "mibg/treatment/administration.html", {
        "form": form, "course": course, "patient": course.patient, "directive": directive, "assay": accepted,
        "threshold": load_protocol().site("medical_event_percent")})


@action_required(get="medical_event.review", post="medical_event.review")
def medical_event_review(request: HttpRequest, pk: int) -> HttpResponse:
    record = get_object_or_404(Administration.objects.select_related("course__patient"), pk=pk)
    course = record.course
    form = SignedReasonForm(request.POST or None, initial={"form_token": form_token(request)})
    form.fields["reason"].label = "Review and conclusion (e.g. reported as a medical event / not a medical event, and why)"
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        done = save_once(request, form, lambda name: services.review_medical_event(request.user, name, record, d["reason"]),
                         signature=Signature(d["password"], record, course.patient, "medical event review"),
                         then=lambda: redirect("courses:detail", pk=course.pk), said=lambda _saved: _("Review recorded and signed."))
        if done is not None:
            return done
    return render(request, "mibg/treatment/signed_reason.html", {
        "form": form, "course": course, "patient": course.patient,
        "title": _("Review of a possible medical event (10 CFR 35.3045)"), "explain": record.message, "button": _("Sign the review")})


# ---- corrections (decisions.md A37): a new entry supersedes the old one, which stays visible ----------------


@action_required(get="assay.record", post="assay.record")
def assay_correct(request: HttpRequest, pk: int) -> HttpResponse:
    record = get_object_or_404(Assay.history.select_related("course__patient", "directive"), pk=pk)
    course = record.course
    initial = {"form_token": form_token(request), "version": course.version,
               **{k: getattr(record, k) for k in ("lot", "calibration_time", "specific_activity", "measured_mci",
                                                  "measured_at", "calibrator_id")}}
    form = AssayCorrectionForm(request.POST or None, initial=initial)
    set_unit(form, "specific_activity", record.specific_activity_unit)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        entry = services.AssayInput(d["lot"], d["calibration_time"], d["specific_activity"], d["measured_mci"],
                                    d["measured_at"], d["calibrator_id"])
        done = save_once(request, form,
                         lambda: services.correct_assay(request.user, record, d["version"], entry, d["reason"]),
                         then=lambda: redirect("courses:detail", pk=course.pk),
                         said=lambda new: _("Assay corrected (the old entry stays, marked superseded). %(message)s") % {"message": new.message},
                         stop_notice=messages.error,
                         notice=lambda new: messages.success if new.within_tolerance else messages.error)
        if done is not None:
            return done
    return render(request, "mibg/treatment/assay.html", {
        "form": form, "course": course, "patient": course.patient, "directive": record.directive,
        "tolerance": load_protocol().site("assay_tolerance_percent"), "correcting": record})


@action_required(get="administration.record", post="administration.record")
def administration_correct(request: HttpRequest, pk: int) -> HttpResponse:
    record = get_object_or_404(Administration.history.select_related("course__patient", "directive", "assay"), pk=pk)
    course = record.course
    initial = {"form_token": form_token(request), "version": course.version,
               **{k: getattr(record, k) for k in ("started_at", "ended_at", "route", "volume_ml", "residual_mci",
                                                  "residual_measured_at")}}
    form = AdministrationCorrectionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        entry = services.AdministrationInput(d["started_at"], d["ended_at"], d["route"], d["volume_ml"], d["residual_mci"],
                                             d["residual_measured_at"], d["patient_name"], d["patient_birth_date"],
                                             d["patient_mrn"])
        done = save_once(request, form,
                         lambda: services.correct_administration(request.user, record, d["version"], entry, d["reason"]),
                         then=lambda: redirect("courses:detail", pk=course.pk),
                         said=lambda new: _("Administration corrected (the old record stays, marked superseded). %(message)s")
                         % {"message": new.message},
                         stop_notice=messages.error,
                         notice=lambda new: messages.error if new.possible_medical_event else messages.success)
        if done is not None:
            return done
    return render(request, "mibg/treatment/administration.html", {
        "form": form, "course": course, "patient": course.patient, "directive": record.directive, "assay": record.assay,
        "threshold": load_protocol().site("medical_event_percent"), "correcting": record})

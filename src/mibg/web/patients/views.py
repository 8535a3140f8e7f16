"""Patients: the list with search, the patient page (timeline, cumulative dose, what is due), create and edit."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from mibg.core.course_state import NEXT_STEP, ORDER, CourseState
from mibg.web import protocol_text
from mibg.web.audit.trail import log_view
from mibg.web.course_record import cumulative
from mibg.web.courses import services
from mibg.web.courses.models import Course
from mibg.web.directives.models import WrittenDirective
from mibg.web.errors import STOPS, CourseStillOpen
from mibg.web.patients import services as patient_services
from mibg.web.patients.forms import PatientForm
from mibg.web.patients.models import Patient
from mibg.web.patients.services import matching
from mibg.web.permissions import action_required, allowed
from mibg.web.safety import form_token, save_once
from mibg.web.treatment.models import Administration

PAGE = 50


@action_required(get="patient.view")
def patient_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    # One query for the page's courses, without their screening JSON (the list shows number and state only).
    courses = Course.objects.order_by("number").only("id", "patient_id", "number", "state")
    patients = Patient.objects.prefetch_related(Prefetch("courses", queryset=courses, to_attr="course_list"))
    found = matching(patients, q)
    page = Paginator(found, PAGE).get_page(request.GET.get("page"))
    return render(request, "mibg/patients/list.html", {"page": page, "q": q})


@action_required(get="patient.create", post="patient.create")
def patient_new(request: HttpRequest) -> HttpResponse:
    form = PatientForm(request.POST or None, initial={"form_token": form_token(request)})
    if request.method == "POST" and form.is_valid():
        done = save_once(request, form, lambda: patient_services.create_patient(request.user, form.cleaned_data),
                         then=lambda: redirect("patients:list"), said=lambda patient: _("Patient %(patient)s created.") % {"patient": patient},
                         done=lambda patient: redirect("patients:detail", pk=patient.pk))
        if done is not None:
            return done
    return render(request, "mibg/patients/form.html", {"form": form, "title": _("New patient")})


@action_required(get="patient.edit", post="patient.edit")
def patient_edit(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=pk)
    initial = {"form_token": form_token(request), "version": patient.version,
               **{k: getattr(patient, k) for k in patient_services.PATIENT_FIELDS}}
    form = PatientForm(request.POST or None, initial=initial, instance=patient)
    if request.method == "POST" and form.is_valid():
        done = save_once(request, form, lambda: patient_services.update_patient(request.user, patient,
                                                                                form.cleaned_data["version"] or 0,
                                                                                form.cleaned_data),
                         then=lambda: redirect("patients:detail", pk=patient.pk), said=lambda _saved: _("Patient record saved."))
        if done is not None:
            return done
    return render(request, "mibg/patients/form.html", {"form": form, "title": _("Edit %(patient)s")
                                                                              % {"patient": patient}, "patient": patient})


@action_required(get="patient.view")
def patient_detail(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=pk)
    courses = list(patient.courses.order_by("number").prefetch_related(
        Prefetch("directives", queryset=WrittenDirective.objects.filter(status="signed").order_by("-version"),
                 to_attr="signed_directives"),
        Prefetch("administrations", queryset=Administration.objects.order_by("-started_at"), to_attr="given"),
    ))
    due = []
    for course in courses:
        if any(a.medical_event_open for a in course.given):
            due.append((course, "A physician reviews the possible medical event (10 CFR 35.3045)"))
        step = NEXT_STEP.get(CourseState(course.state))
        if step:
            due.append((course, step.what))
    log_view(request.user, patient, "patient page")
    return render(request, "mibg/patients/detail.html", {
        "patient": patient, "courses": courses, "due": due, "order": ORDER,
        "cumulative": cumulative(patient, courses),
        "cumulative_maximum": protocol_text.cumulative_maximum(),
        # a token (a row written) only for someone who may start a course: the button is shown to them alone
        "new_course_token": form_token(request) if allowed(request.user, "course.create") else "",
    })


@action_required(post="course.create")
def course_new(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=pk)
    open_courses = [c for c in patient.courses.all() if c.state != CourseState.CLOSED.value]
    if open_courses:
        messages.error(request, _("Course %(number)s is still open: close or stop it before starting another.")
                       % {"number": open_courses[0].number})
        return redirect("patients:detail", pk=pk)
    # CourseStillOpen: opened by someone else since the check above.
    return save_once(request, None, lambda: services.create_course(request.user, patient),
                     then=lambda: redirect("patients:detail", pk=pk), stop_errors=(*STOPS, CourseStillOpen),
                     said=lambda course: _("Course %(number)s started in screening.") % {"number": course.number},
                     done=lambda course: redirect("courses:screening", pk=course.pk)) or redirect("patients:detail", pk=pk)

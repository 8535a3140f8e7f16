"""Patients: the list with search, the patient page (timeline, cumulative dose, what is due), create and edit."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Prefetch, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from mibg.core.course_state import NEXT_STEP, ORDER, CourseState
from mibg.core.errors import InputError
from mibg.web import protocol_text
from mibg.web.audit.trail import log_view
from mibg.web.courses import services
from mibg.web.courses.models import Course
from mibg.web.directives.models import WrittenDirective
from mibg.web.patients import services as patient_services
from mibg.web.patients.forms import PatientForm
from mibg.web.patients.models import Patient
from mibg.web.permissions import action_required
from mibg.web.safety import AlreadySubmitted, Conflict, consume_form_token, form_token
from mibg.web.treatment.models import Administration

PAGE = 50


def matching(patients: QuerySet[Patient], q: str) -> QuerySet[Patient]:
    """Patients whose MRN, family name or given name contains each word of ``q`` ("ava mart" finds Ava Martin)."""
    for word in q.split():
        patients = patients.filter(Q(mrn__icontains=word) | Q(family_name__icontains=word) | Q(given_name__icontains=word))
    return patients


@action_required(get="patient.view")
def patient_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    # One query for the page's courses, without their screening JSON (the list shows number and state only).
    courses = Course.objects.order_by("number").only("id", "patient_id", "number", "state")
    patients = Patient.objects.prefetch_related(Prefetch("courses", queryset=courses, to_attr="course_list"))
    patients = matching(patients, q)
    page = Paginator(patients, PAGE).get_page(request.GET.get("page"))
    return render(request, "mibg/patients/list.html", {"page": page, "q": q})


@action_required(get="patient.create", post="patient.create")
def patient_new(request: HttpRequest) -> HttpResponse:
    form = PatientForm(request.POST or None, initial={"form_token": form_token(request)})
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                consume_form_token(request)
                patient = patient_services.create_patient(request.user, form.cleaned_data)
        except AlreadySubmitted as error:
            messages.warning(request, error.message)
            return redirect("patients:list")
        except InputError as error:  # e.g. the same MRN stored by someone else since the form was checked
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, f"Patient {patient} created.")
            return redirect("patients:detail", pk=patient.pk)
    return render(request, "mibg/patients/form.html", {"form": form, "title": "New patient"})


@action_required(get="patient.edit", post="patient.edit")
def patient_edit(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=pk)
    initial = {"form_token": form_token(request), "version": patient.version,
               **{k: getattr(patient, k) for k in patient_services.PATIENT_FIELDS}}
    form = PatientForm(request.POST or None, initial=initial, instance=patient)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                consume_form_token(request)
                patient_services.update_patient(request.user, patient, form.cleaned_data["version"] or 0,
                                                form.cleaned_data)
        except (AlreadySubmitted, Conflict) as error:
            messages.error(request, error.message)
            return redirect("patients:detail", pk=patient.pk)
        except InputError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, "Patient record saved.")
            return redirect("patients:detail", pk=patient.pk)
    return render(request, "mibg/patients/form.html", {"form": form, "title": f"Edit {patient}", "patient": patient})


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
            due.append((course, step[0]))
    log_view(request.user, patient, "patient page")
    return render(request, "mibg/patients/detail.html", {
        "patient": patient, "courses": courses, "due": due, "order": ORDER,
        "cumulative": services.cumulative(patient, courses),
        "cumulative_maximum": protocol_text.cumulative_maximum(),
        "new_course_token": form_token(request),
    })


@action_required(post="course.create")
def course_new(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=pk)
    open_courses = [c for c in patient.courses.all() if c.state != CourseState.CLOSED.value]
    if open_courses:
        messages.error(request, f"Course {open_courses[0].number} is still open: close or stop it before starting another.")
        return redirect("patients:detail", pk=pk)
    try:
        with transaction.atomic():
            consume_form_token(request)
            course = services.create_course(request.user, patient)
    except AlreadySubmitted as error:
        messages.warning(request, error.message)
        return redirect("patients:detail", pk=pk)
    except services.CourseStillOpen as error:  # opened by someone else since the check above
        messages.error(request, error.message)
        return redirect("patients:detail", pk=pk)
    messages.success(request, f"Course {course.number} started in screening.")
    return redirect("courses:screening", pk=course.pk)

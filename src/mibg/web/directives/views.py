"""The written directive page with its live dose plan, the signature, the order sheet, and verification."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from mibg.core.course_state import CourseState
from mibg.core.dosing import DosePlan
from mibg.core.errors import InputError
from mibg.web.course_record import numbers_hidden
from mibg.web.courses.models import Course
from mibg.web.courses.services import current_directive
from mibg.web.courses.views import get_course
from mibg.web.directives import services
from mibg.web.directives.forms import DirectiveForm, VerificationForm
from mibg.web.directives.models import Verification, WrittenDirective
from mibg.web.errors import STOPS, Refused
from mibg.web.permissions import action_required
from mibg.web.safety import Signature, field_error, form_token, save_once
from mibg.web.screening.services import dosing_snapshot

SIGNABLE = {CourseState.ELIGIBLE, CourseState.DIRECTIVE_SIGNED, CourseState.VERIFIED, CourseState.ASSAYED}


def _entry(form: DirectiveForm) -> services.DirectiveInput:
    d = form.cleaned_data
    return services.DirectiveInput(d["mci_per_kg"], d["preparation"], d["specific_activity"], d["final_volume_ml"],
                                   d["infusion_min"], d["route"], d["calibration_time"], d["administration_time"],
                                   d.get("stock_concentration_mci_per_ml"))


def _initial(course: Course, request: HttpRequest) -> dict[str, object]:
    initial: dict[str, object] = {"form_token": form_token(request), "version": course.version}
    previous = current_directive(course)
    if previous is not None:
        initial.update({k: getattr(previous, k) for k in ("mci_per_kg", "preparation", "final_volume_ml", "infusion_min",
                                                          "route", "calibration_time", "administration_time",
                                                          "stock_concentration_mci_per_ml")})
        initial["specific_activity"] = previous.specific_activity_mci_per_mg or previous.specific_activity_ci_per_mmol
        return initial
    snapshot = dosing_snapshot(course)
    if snapshot is not None:
        initial["mci_per_kg"] = snapshot.planned_mci_per_kg
        initial["administration_time"] = snapshot.planned_infusion_start
    return initial


def _plan_context(course: Course, form: DirectiveForm) -> dict[str, object]:
    """The plan for a valid form, or why there is none."""
    if not form.is_valid():
        return {"plan": None, "form": form}
    try:
        plan = services.plan_for(course, _entry(form))
    except InputError as error:  # e.g. a dose of 0 mCi/kg: on its field, so the page names what to correct
        field_error(form, error)
        return {"plan": None, "form": form, "input_error": error}
    return {"plan": plan, "form": form,
            "meaning": services.signature_meaning("[your name]", course, _entry(form), plan)}


@action_required(get="directive.sign", post="directive.sign")
def directive_form(request: HttpRequest, pk: int) -> HttpResponse:
    course = get_course(pk)
    if course.state_enum not in SIGNABLE:
        messages.error(request, _("A written directive is signed after eligibility is confirmed and before the "
                                  "administration; this course is '%(state)s'.") % {"state": course.state_enum.label})
        return redirect("courses:detail", pk=pk)
    snapshot = dosing_snapshot(course)
    previous = current_directive(course)
    form = DirectiveForm(request.POST or None, initial=_initial(course, request))
    context: dict[str, object] = {"course": course, "patient": course.patient, "snapshot": snapshot, "previous": previous}
    if request.method == "POST":
        context.update(_plan_context(course, form))
        plan = context.get("plan")
        if isinstance(plan, DosePlan):
            data = form.cleaned_data
            if not data["confirm"]:
                form.add_error("confirm", _("Tick to confirm you have read the plan and the statement."))
            elif plan.blocked:
                form.add_error(None, _("The dose plan is blocked by a protocol limit: a blocked plan cannot be signed."))
            else:
                done = save_once(
                    request, form, lambda name: services.sign(request.user, name, course, data["version"], _entry(form),
                                                              data["change_reason"]),
                    signature=Signature(data["password"], course, course.patient, "written directive"),
                    then=lambda: redirect("courses:detail", pk=pk),
                    said=lambda directive: _("Written directive version %(version)s signed.") % {"version": directive.version})
                if done is not None:
                    return done
    else:
        # Show the plan for the values the page opens with (a previous version's, or the screening's).
        opening = DirectiveForm(data={name: form[name].value() for name in form.fields if form[name].value() is not None})
        context.update(_plan_context(course, opening))
        context["form"] = form
    return render(request, "mibg/directives/form.html", context)


@action_required(post="directive.sign")
def directive_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The htmx partial: the plan recalculated for what is in the form now. Saves nothing."""
    course = get_course(pk)
    form = DirectiveForm(request.POST)
    context = {"course": course, "patient": course.patient, **_plan_context(course, form)}
    return render(request, "mibg/directives/plan.html", context)


@action_required(get="patient.view")
def directive_print(request: HttpRequest, pk: int) -> HttpResponse:
    directive = get_object_or_404(WrittenDirective.objects.select_related("course__patient", "signed_by"), pk=pk)
    course = directive.course
    if numbers_hidden(request.user, course, directive):
        messages.error(request, _("The order sheet shows the directive's numbers: it opens for you after the independent "
                                "verification (10 CFR 35.41)."))
        return redirect("courses:detail", pk=course.pk)
    services.log_print(request.user, directive)
    # The lot is known from the assay of this directive's dose (decisions.md A38); none before the assay.
    assay = course.assays.filter(directive=directive).order_by("-recorded_at", "-id").first()
    return render(request, "mibg/directives/print.html", {"d": directive, "course": course, "patient": course.patient,
                                                          "plan": directive.dose_plan,
                                                          "lot": assay.lot if assay is not None else ""})


@action_required(get="directive.verify", post="directive.verify")
def verify(request: HttpRequest, pk: int) -> HttpResponse:
    course = get_course(pk)
    directive = current_directive(course)
    if directive is None or course.state_enum is not CourseState.DIRECTIVE_SIGNED:
        messages.error(request, _("There is no signed directive awaiting verification on this course."))
        return redirect("courses:detail", pk=pk)
    if directive.signed_by_id == request.user.pk:
        messages.error(request, _("You signed this directive: another physicist or pharmacist must verify it (10 CFR 35.41)."))
        return redirect("courses:detail", pk=pk)
    status = services.verification_status(course)
    if status.stopped:  # decisions.md A36: the discrepancy is with the authorised user now
        messages.error(request, status.message)
        return redirect("courses:detail", pk=pk)
    form = VerificationForm(request.POST or None, initial={"form_token": form_token(request), "version": course.version})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        def verified(verification: Verification) -> HttpResponse:
            if verification.accepted:
                messages.success(request, verification.message)
                return redirect("courses:detail", pk=pk)
            messages.error(request, verification.message)
            after = services.verification_status(course)
            if after.stopped:  # decisions.md A36
                messages.error(request, after.message)
                return redirect("courses:detail", pk=pk)
            return render(request, "mibg/directives/verify.html", {  # a mismatch: the form again, empty
                "form": VerificationForm(initial={"form_token": form_token(request), "version": course.version}),
                "course": course, "patient": course.patient, "directive": directive,
                "attempts": after.mismatches, "attempts_left": after.attempts_left})

        done = save_once(request, form, lambda name: services.verify_directive(request.user, course, data["version"],
                                                                               data["weight_kg"], data["mci_per_kg"], name),
                         signature=Signature(data["password"], directive, course.patient, "independent verification"),
                         then=lambda: redirect("courses:detail", pk=pk), done=verified,
                         field_errors=(InputError,), stop_errors=(*STOPS, Refused))
        if done is not None:
            return done
    return render(request, "mibg/directives/verify.html", {
        "form": form, "course": course, "patient": course.patient, "directive": directive,
        "attempts": status.mismatches, "attempts_left": services.verification_status(course).attempts_left})

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from mibg.web.eventreports.models import EventReport
from mibg.web.forms import bool3_field, datetime_field


def _text(label: str, rows: int = 3) -> forms.CharField:
    return forms.CharField(label=label, required=False, widget=forms.Textarea(attrs={"rows": rows}))


class ReportForm(forms.Form):
    """The draft's fields; which of them a kind of report shows is decided by :func:`report_form`."""

    form_token = forms.CharField(widget=forms.HiddenInput, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)
    discovered_at = datetime_field(_("Discovered at (starts every clock)"), required=True)
    description = _text("What happened", 4)
    cause = _text("Why the event occurred")
    effect_on_patient = _text("Effect on the patient")
    corrective_actions = _text("Actions taken to prevent a recurrence")
    referring_physician = forms.CharField(label=_("Referring physician"), max_length=200, required=False)
    expectedness = forms.ChoiceField(label=_("Expected or unexpected (21 CFR 312.32)"), required=False,
                                     choices=EventReport.EXPECTEDNESS)
    life_threatening = bool3_field(_("Life-threatening (immediate risk of death)"))


MEDICAL_EVENT_ONLY = ("cause", "effect_on_patient", "corrective_actions", "referring_physician")
SAE_ONLY = ("expectedness", "life_threatening")


def report_form(report: EventReport, data: Any = None, initial: dict[str, Any] | None = None) -> ReportForm:
    form = ReportForm(data, initial=initial)
    for name in SAE_ONLY if report.kind == "medical_event" else MEDICAL_EVENT_ONLY:
        del form.fields[name]
    return form


class StepForm(forms.Form):
    form_token = forms.CharField(widget=forms.HiddenInput, required=False)
    code = forms.CharField(widget=forms.HiddenInput)
    done_at = datetime_field(_("Done at"), required=True)
    note = forms.CharField(label=_("How (who was reached, by what means, reference)"), max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 2}))
    waived = forms.BooleanField(label=_("Not made, for the documented reason above"), required=False)


class SubmitForm(forms.Form):
    form_token = forms.CharField(widget=forms.HiddenInput, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)
    password = forms.CharField(widget=forms.PasswordInput, label=_("Your password (signature)"))


class AcknowledgeForm(forms.Form):
    form_token = forms.CharField(widget=forms.HiddenInput, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)
    acknowledged_at = datetime_field(_("Acknowledged at"), required=True)
    acknowledgement = forms.CharField(label=_("Receiver's reference, or who confirmed receipt"), max_length=2000,
                                      widget=forms.Textarea(attrs={"rows": 2}))

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from mibg.core.errors import InputError
from mibg.core.plausibility import plausible
from mibg.core.units import parse_activity_mci
from mibg.web.directives.models import ROUTES
from mibg.web.forms import datetime_field, decimal_field


class AssayForm(forms.Form):
    form_token = forms.CharField(widget=forms.HiddenInput, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)
    lot = forms.CharField(label=_("Lot"), max_length=60)
    calibration_time = datetime_field(_("Calibration time (from the vial label)"), required=True)
    specific_activity = decimal_field(_("Specific activity (lot certificate)"), required=True, max_digits=10, decimal_places=3)
    measured_mci = decimal_field(_("Measured activity"), required=True, max_digits=10, decimal_places=3, unit="mCi")
    measured_at = datetime_field(_("Measured at"), required=True)
    calibrator_id = forms.CharField(label=_("Dose calibrator"), max_length=60, help_text=_("instrument ID"))

    def clean_measured_mci(self) -> Decimal:
        value: Decimal = self.cleaned_data["measured_mci"]
        if value <= 0:
            raise forms.ValidationError(_("The measured activity must be greater than zero."))
        try:  # the plausible range of the protocol definition, as the service and every other door check it
            return parse_activity_mci(value, "measured_mci")
        except InputError as error:
            raise forms.ValidationError(error.message[:1].upper() + error.message[1:] + ".") from None

    def clean_specific_activity(self) -> Decimal:
        value: Decimal = self.cleaned_data["specific_activity"]
        if value <= 0:
            raise forms.ValidationError(_("The specific activity must be greater than zero."))
        return value


class SignedReasonForm(forms.Form):
    form_token = forms.CharField(widget=forms.HiddenInput, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label=_("Reason"))
    password = forms.CharField(widget=forms.PasswordInput, label=_("Your password (signature)"))


class AdministrationForm(forms.Form):
    form_token = forms.CharField(widget=forms.HiddenInput, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)
    patient_name = forms.CharField(label=_("Patient's name, read on the wristband"), max_length=210,
                                   help_text=_("first identifier, checked against the written directive's patient"))
    patient_birth_date = forms.DateField(label=_("Date of birth, read on the wristband"), required=False,
                                         widget=forms.DateInput(attrs={"type": "date"}),
                                         help_text=_("second identifier: the date of birth or the MRN"))
    patient_mrn = forms.CharField(label=_("MRN, read on the wristband"), max_length=60, required=False)
    started_at = datetime_field(_("Infusion started"), required=True)
    ended_at = datetime_field(_("Infusion ended"), required=True)
    route = forms.ChoiceField(choices=[("", "—"), *ROUTES])
    volume_ml = decimal_field(_("Volume infused"), required=True, max_digits=7, decimal_places=2, unit="mL")
    residual_mci = decimal_field(_("Residual activity (syringe, lines, bag)"), required=True, max_digits=10, decimal_places=3, unit="mCi")
    residual_measured_at = datetime_field(_("Residual measured at"), required=True)

    def clean_route(self) -> str:
        route: str = self.cleaned_data["route"]
        if not route:
            raise forms.ValidationError(_("Choose the route."))
        return route

    def clean_volume_ml(self) -> Decimal:
        value: Decimal = self.cleaned_data["volume_ml"]
        if value <= 0:
            raise forms.ValidationError(_("The volume must be greater than zero."))
        try:  # the plausible range of the protocol definition, as the service checks it for every door
            return plausible("volume_ml", "volume_ml", value)
        except InputError as error:
            raise forms.ValidationError(error.message[:1].upper() + error.message[1:] + ".") from None

    def clean_residual_mci(self) -> Decimal:
        value: Decimal = self.cleaned_data["residual_mci"]
        if value < 0:
            raise forms.ValidationError(_("The residual cannot be negative."))
        return value


class AssayCorrectionForm(AssayForm):
    """decisions.md A37: the corrected assay is a new entry superseding the old one, with the reason."""

    reason = forms.CharField(label=_("Reason for the correction"), widget=forms.Textarea(attrs={"rows": 2}))


class AdministrationCorrectionForm(AdministrationForm):
    """decisions.md A37: the corrected administration record is a new entry superseding the old one."""

    reason = forms.CharField(label=_("Reason for the correction"), widget=forms.Textarea(attrs={"rows": 2}))

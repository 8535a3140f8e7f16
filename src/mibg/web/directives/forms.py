from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from mibg.protocol import load_protocol
from mibg.web import protocol_text
from mibg.web.directives.models import ROUTES
from mibg.web.forms import datetime_field, decimal_field


def _preparations() -> list[tuple[str, str]]:
    return [(key, p.name + (" — production discontinued" if p.discontinued else ""))
            for key, p in load_protocol().preparations.items()]


class DirectiveForm(forms.Form):
    """The authorised user's choices (10 CFR 35.40). Weight comes from the screening snapshot, not from here."""

    form_token = forms.CharField(widget=forms.HiddenInput, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)
    mci_per_kg = decimal_field(_("Dose"), required=True, max_digits=7, decimal_places=3, unit="mCi/kg",
                               help_text=protocol_text.dose_range())
    preparation = forms.ChoiceField(choices=[("", "—"), *_preparations()])
    specific_activity = decimal_field(_("Specific activity of the lot"), max_digits=10, decimal_places=3,
                                      unit="Ci/mmol (DraxImage) or mCi/mg (AZEDRA)",
                                      help_text=protocol_text.specific_activity())
    stock_concentration_mci_per_ml = decimal_field(
        _("Stock concentration at calibration"), max_digits=9, decimal_places=4, unit="mCi/mL",
        help_text=protocol_text.stock_concentration())
    final_volume_ml = decimal_field(_("Final infusion volume"), required=True, max_digits=7, decimal_places=2, unit="mL",
                                    help_text=protocol_text.final_volume())
    infusion_min = decimal_field(_("Infusion duration"), required=True, max_digits=6, decimal_places=1, unit="min",
                                 help_text=protocol_text.infusion_durations())
    route = forms.ChoiceField(choices=[("", "—"), *ROUTES], help_text=_("central line if present, else peripheral IV (R5)"))
    calibration_time = datetime_field(_("Calibration time of the dose"), required=True)
    administration_time = datetime_field(_("Planned administration time"), required=True)
    change_reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}),
                                    label=_("Reason for the change (new version only)"))
    password = forms.CharField(required=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
                               label=_("Your password (signature)"))
    confirm = forms.BooleanField(required=False, label=_("I have read the plan, its findings and the statement below."))

    def clean_preparation(self) -> str:
        value: str = self.cleaned_data["preparation"]
        if not value:
            raise forms.ValidationError(_("Choose the preparation."))
        return value

    def clean_route(self) -> str:
        value: str = self.cleaned_data["route"]
        if not value:
            raise forms.ValidationError(_("Choose the route."))
        return value


class VerificationForm(forms.Form):
    """10 CFR 35.41: the verifier's own entry. The directive's numbers are not on this page."""

    form_token = forms.CharField(widget=forms.HiddenInput, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)
    weight_kg = decimal_field(_("Patient weight"), required=True, max_digits=7, decimal_places=3, unit="kg",
                              help_text=_("from the patient's chart, not from the directive"))
    mci_per_kg = decimal_field(_("Prescribed dose"), required=True, max_digits=7, decimal_places=3, unit="mCi/kg")
    password = forms.CharField(widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
                               label=_("Your password (you sign the verification)"))

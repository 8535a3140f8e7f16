from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from mibg.web.forms import date_field, datetime_field, decimal_field
from mibg.web.radiation.models import StemCellInfusion
from mibg.web.radiation.services import ReadingInput, ReleaseInput, StemCellInput

#: The one place the other unit is named (issue 15): every exposure rate is in mR/h, as the survey meter reads.
EXPOSURE_RATE_HELP = _("as the survey meter reads it, in mR/h (1 mR/h ≈ 1 mrem/h for the gamma rays of I-131)")


class ReadingForm(forms.Form):
    """One exposure-rate reading at 1 m. Types are checked here; what depends on the course (times, the
    pre-void reading, the meter's calibration) by mibg.web.radiation.services.reading_errors."""

    form_token = forms.CharField(widget=forms.HiddenInput, required=False)
    measured_at = datetime_field(_("Time of the reading"), required=True)
    mr_per_h = decimal_field(_("Exposure rate at 1 m"), required=True, max_digits=8, decimal_places=3, unit="mR/h",
                             help_text=EXPOSURE_RATE_HELP)
    background_mr_per_h = decimal_field(_("Background (optional)"), max_digits=8, decimal_places=3, unit="mR/h",
                                        help_text=_("measured away from the patient; subtracted from the reading"))
    before_first_void = forms.BooleanField(
        label=_("Before the first void (the first reading after the infusion: 100 % retention)"), required=False)
    instrument_id = forms.CharField(label=_("Survey meter ID"), max_length=60)
    instrument_calibration_due = date_field(_("Meter calibration due"), required=True)
    measured_by = forms.CharField(label=_("Measured by"), max_length=150)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def entry(self) -> ReadingInput:
        d = self.cleaned_data
        return ReadingInput(d["measured_at"], d["mr_per_h"], d["background_mr_per_h"], d["before_first_void"],
                            d["instrument_id"], d["instrument_calibration_due"], d["measured_by"], d["note"])


class CorrectionForm(ReadingForm):
    version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(label=_("Reason for the correction"), widget=forms.Textarea(attrs={"rows": 2}))


class VoidForm(forms.Form):
    form_token = forms.CharField(widget=forms.HiddenInput, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(label=_("Why is this reading void? (e.g. wrong patient, not at 1 m)"),
                             widget=forms.Textarea(attrs={"rows": 2}))


class ReleaseForm(forms.Form):
    form_token = forms.CharField(widget=forms.HiddenInput, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)
    basis = forms.CharField(widget=forms.HiddenInput)
    released_at = datetime_field(_("Released at"), required=True)
    instructions_given_to = forms.CharField(label=_("Written instructions given to (name and relationship)"),
                                            max_length=200)
    instructions_explained = forms.BooleanField(
        label=_("I gave and explained the written instructions to the parent or guardian"), required=True,
        error_messages={"required": _("Give and explain the written instructions before release (decisions.md "
                                      "'Release').")})
    password = forms.CharField(widget=forms.PasswordInput, label=_("Your password (signature)"))

    def entry(self) -> ReleaseInput:
        d = self.cleaned_data
        return ReleaseInput(d["released_at"], d["instructions_given_to"], d["basis"])


class StemCellForm(forms.Form):
    form_token = forms.CharField(widget=forms.HiddenInput, required=False)
    infused_at = datetime_field(_("Infused at"), required=True)
    product_type = forms.ChoiceField(label=_("Product type"), choices=StemCellInfusion.PRODUCT_TYPES)
    product = forms.CharField(label=_("Product (bag or lot, as labelled)"), max_length=120)
    cells_per_kg = decimal_field(_("Cell dose"), required=True, max_digits=15, decimal_places=0, unit="cells/kg",
                                 help_text=_("CD34+ cells/kg for PBSC, mononuclear cells/kg for marrow; e.g. 3.2e6"))
    given_by = forms.CharField(label=_("Given by"), max_length=150)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    early_reason = forms.CharField(label=_("Reason for an infusion before day +10 (the treating physician's)"),
                                   required=False, widget=forms.Textarea(attrs={"rows": 2}),
                                   help_text=_("needed before day +10 after the 131I-MIBG infusion; the planned day is +14 "
                                             "(site parameters)"))
    early_reason_by = forms.CharField(label=_("Treating physician who gave the reason"), max_length=150, required=False)

    def entry(self) -> StemCellInput:
        d = self.cleaned_data
        return StemCellInput(d["infused_at"], d["product_type"], d["product"], d["cells_per_kg"], d["given_by"],
                             d["note"], d["early_reason"], d["early_reason_by"])


class StemCellCorrectionForm(StemCellForm):
    """A37: the corrected infusion, as a new record superseding the old one, with the reason."""

    reason = forms.CharField(label=_("Reason for the correction"), widget=forms.Textarea(attrs={"rows": 2}))

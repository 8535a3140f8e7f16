from __future__ import annotations

from typing import Any

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from mibg.core.identity import MRN_MAX_LENGTH, NAME_MAX_LENGTH
from mibg.core.vocabulary import Sex
from mibg.web.forms import SafeForm, date_field
from mibg.web.patients import services
from mibg.web.patients.models import Patient
from mibg.web.words import CLINIC_WORDS


class PatientForm(SafeForm):
    """The patient's identity; the rules are the patient service's (decisions.md A34), as at every other door."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    mrn = forms.CharField(label=_("MRN"), max_length=MRN_MAX_LENGTH)
    family_name = forms.CharField(label=_("Family name"), max_length=NAME_MAX_LENGTH)
    given_name = forms.CharField(label=_("Given name"), max_length=NAME_MAX_LENGTH)
    birth_date = date_field(_("Date of birth"), required=True)
    # No default: a clinical field with no sure default starts empty and must be chosen (issue 15).
    # The clinic's word, marked for translation and read when the form is shown (capfirst keeps it lazy).
    sex = forms.ChoiceField(label=_("Sex"), choices=[("", _("— choose —")),
                                                     *((s.value, capfirst(CLINIC_WORDS[s.value])) for s in Sex)])

    def __init__(self, *args: Any, instance: Patient | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance = instance

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name, message in services.problems(cleaned, self.instance).items():
            if name in cleaned:  # a field refused already (blank, too long, not a date) keeps its own error
                self.add_error(name, message[:1].upper() + message[1:] + ("" if message.endswith(".") else "."))
        return cleaned

from __future__ import annotations

from datetime import date

from django import forms

from mibg.core.vocabulary import Sex
from mibg.web.forms import SafeForm, date_field
from mibg.web.patients.models import Patient


class PatientForm(SafeForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    mrn = forms.CharField(label="MRN", max_length=40)
    family_name = forms.CharField(label="Family name", max_length=100)
    given_name = forms.CharField(label="Given name", max_length=100)
    birth_date = date_field("Date of birth", required=True)
    sex = forms.ChoiceField(choices=[(s.value, s.value) for s in Sex])

    def __init__(self, *args, instance: Patient | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance = instance

    def clean_mrn(self) -> str:
        mrn = self.cleaned_data["mrn"].strip()
        clash = Patient.objects.filter(mrn=mrn)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError("Another patient has this MRN.")
        return mrn

    def clean_birth_date(self):
        problem = birth_date_problem(self.cleaned_data["birth_date"])
        if problem:
            raise forms.ValidationError(problem)
        return self.cleaned_data["birth_date"]


#: No one alive was born before this day; an earlier date is a typing error (e.g. 1018 for 2018), and the
#: age it gives would enter the eligibility criteria. Product choice.
EARLIEST_BIRTH_DATE = date(1900, 1, 1)


def birth_date_problem(value: date) -> str | None:
    """Why ``value`` cannot be a patient's date of birth (the form and the API say the same), or None."""
    from django.utils import timezone

    if value > timezone.localdate():
        return "The date of birth is in the future."
    if value < EARLIEST_BIRTH_DATE:
        return f"The date of birth is before {EARLIEST_BIRTH_DATE.isoformat()}: check the year."
    return None

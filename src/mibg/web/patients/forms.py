from __future__ import annotations

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
        from django.utils import timezone

        value = self.cleaned_data["birth_date"]
        if value > timezone.localdate():
            raise forms.ValidationError("The date of birth is in the future.")
        return value

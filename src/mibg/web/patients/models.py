"""A patient: identity and demographics. Clinical data for screening lives with each course's snapshot."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from mibg.core.vocabulary import Sex


class Patient(models.Model):
    mrn = models.CharField("MRN", max_length=40, unique=True)
    family_name = models.CharField(max_length=100)
    given_name = models.CharField(max_length=100)
    birth_date = models.DateField()
    sex = models.CharField(max_length=10, choices=[(s.value, s.value) for s in Sex], default=Sex.UNKNOWN.value)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["family_name", "given_name", "mrn"]
        # The patient list is read in this order, a page at a time: the index gives any page without sorting
        # every patient (bench/RESULTS.md).
        indexes = [models.Index(fields=["family_name", "given_name", "mrn"], name="patient_list_order")]

    def __str__(self) -> str:
        return f"{self.family_name.upper()}, {self.given_name} (MRN {self.mrn})"

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}"

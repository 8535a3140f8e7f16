"""A patient: identity and demographics. Clinical data for screening lives with each course's snapshot."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from mibg.core.identity import mrn_key
from mibg.core.vocabulary import Sex


class Patient(models.Model):
    mrn = models.CharField("MRN", max_length=40, unique=True)
    #: The MRN as compared (decisions.md A34: no spaces, upper case), set on every save; unique among patients
    #: not flagged as duplicates, so "DEMO-1006 " cannot be stored beside "DEMO-1006".
    mrn_key = models.CharField(max_length=40, editable=False, default="")
    #: Set by migration 0003 on a record stored before A34 whose MRN is the same as an older patient's (it
    #: differed only in spaces or case): a wrong-patient risk that a person must resolve; never set by a door.
    mrn_duplicate_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                         editable=False)
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
        constraints = [models.UniqueConstraint(fields=["mrn_key"], condition=models.Q(mrn_duplicate_of__isnull=True),
                                               name="patient_mrn_key_unique")]

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.mrn_key = mrn_key(self.mrn)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "mrn" in update_fields:
            kwargs["update_fields"] = {*update_fields, "mrn_key"}
        super().save(*args, **kwargs)

    def __str__(self) -> str:
        return f"{self.family_name.upper()}, {self.given_name} (MRN {self.mrn})"

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}"

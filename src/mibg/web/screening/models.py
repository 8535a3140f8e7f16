"""Screening evaluations (each with the exact snapshot it read) and the study chair's signed decisions."""

from __future__ import annotations

import json

from django.conf import settings
from django.db import models
from django.utils import timezone

from mibg.core.eligibility import EligibilityResult


class Evaluation(models.Model):
    course = models.ForeignKey("courses.Course", on_delete=models.PROTECT, related_name="evaluations")
    snapshot_json = models.TextField()  # PatientSnapshot.model_dump_json(), exactly what was evaluated
    result_json = models.TextField()  # EligibilityResult.to_json()
    overall = models.CharField(max_length=20)
    protocol_label = models.CharField(max_length=60)
    evaluated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    evaluated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-evaluated_at", "-id"]
        get_latest_by = "evaluated_at"

    def __str__(self) -> str:
        return f"Evaluation {self.pk} of {self.course}: {self.overall}"

    @property
    def eligibility(self) -> EligibilityResult:
        """The result as it was evaluated, read from its one stored shape (``EligibilityResult.to_json()``)."""
        return EligibilityResult.from_json(json.loads(self.result_json), f"evaluation {self.pk}.result")


class ChairDecision(models.Model):
    """The study chair's recorded, signed decision on a 'needs review' criterion or a clearable dose limit
    (decisions.md H5, X1, A2, A3; clinical-reference §1.5 A21: who approved is recorded)."""

    course = models.ForeignKey("courses.Course", on_delete=models.PROTECT, related_name="chair_decisions")
    criterion = models.CharField(max_length=10)
    cleared = models.BooleanField()
    reason = models.TextField()
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_name = models.CharField(max_length=150)
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["decided_at", "id"]

    def __str__(self) -> str:
        return f"{self.criterion}: {'cleared' if self.cleared else 'not cleared'} by {self.signed_name}"

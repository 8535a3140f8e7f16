"""Written directives (10 CFR 35.40) and their independent verifications (10 CFR 35.41).

A directive row is created only when it is signed, and is never edited afterwards: a change is a new
version, and the old one is voided (its signature no longer directs anything).
"""

from __future__ import annotations

import json
from functools import cached_property

from django.conf import settings
from django.db import models
from django.utils import timezone

from mibg.core.dosing import DosePlan
from mibg.core.units import Activity
from mibg.core.verification import VerificationResult

ROUTES = [("central_line", "IV via central line"), ("peripheral_iv", "Peripheral IV")]


class WrittenDirective(models.Model):
    SIGNED, VOID = "signed", "void"

    course = models.ForeignKey("courses.Course", on_delete=models.PROTECT, related_name="directives")
    version = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=[(SIGNED, "signed"), (VOID, "void")], default=SIGNED)
    weight_kg = models.DecimalField(max_digits=7, decimal_places=3)
    mci_per_kg = models.DecimalField(max_digits=7, decimal_places=3)
    activity_mci = models.DecimalField(max_digits=12, decimal_places=6)  # = weight x mCi/kg, exact
    preparation = models.CharField(max_length=20)
    specific_activity_ci_per_mmol = models.DecimalField(max_digits=10, decimal_places=3, null=True, blank=True)
    specific_activity_mci_per_mg = models.DecimalField(max_digits=10, decimal_places=3, null=True, blank=True)
    final_volume_ml = models.DecimalField(max_digits=7, decimal_places=2)
    # The stock's activity concentration at its calibration time (decisions.md A38); null: the preparation's label
    # value when it has one (AZEDRA 15 mCi/mL), else no volume to draw.
    stock_concentration_mci_per_ml = models.DecimalField(max_digits=9, decimal_places=4, null=True, blank=True)
    infusion_min = models.DecimalField(max_digits=6, decimal_places=1)
    route = models.CharField(max_length=20, choices=ROUTES)
    calibration_time = models.DateTimeField()
    administration_time = models.DateTimeField()
    plan_json = models.TextField()  # DosePlan.to_json(): the plan the signer saw, with its findings, formulas, inputs
    protocol_label = models.CharField(max_length=60)
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_name = models.CharField(max_length=150)
    signed_at = models.DateTimeField(default=timezone.now)
    signature_meaning = models.TextField()
    change_reason = models.TextField(blank=True)  # why this version replaced the previous one
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    void_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["course", "-version"]
        constraints = [models.UniqueConstraint(fields=["course", "version"], name="one_directive_version")]

    def __str__(self) -> str:
        return f"Written directive v{self.version} ({self.status}) for {self.course}"

    @property
    def activity(self) -> Activity:
        return Activity(self.activity_mci)

    @property
    def dose_plan(self) -> DosePlan:
        """The plan as it was signed, read from its one stored shape (``DosePlan.to_json()``)."""
        return DosePlan.from_json(json.loads(self.plan_json), f"directive v{self.version}.plan")

    def get_preparation_display(self) -> str:
        from mibg.protocol import load_protocol

        prep = load_protocol().preparations.get(self.preparation)
        return prep.name if prep else self.preparation


class Verification(models.Model):
    directive = models.ForeignKey(WrittenDirective, on_delete=models.PROTECT, related_name="verifications")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_name = models.CharField(max_length=150)
    at = models.DateTimeField(default=timezone.now)
    # What the verifier typed (the entries, kept as entered for the authorised user's review).
    weight_kg = models.DecimalField(max_digits=7, decimal_places=3)
    mci_per_kg = models.DecimalField(max_digits=7, decimal_places=3)
    #: ``VerificationResult.to_json()``: the result's one stored shape (issue 11). There is no parallel column:
    #: queries read the verdict from it (``result_json__accepted=True``).
    result_json = models.JSONField()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"Verification of {self.directive}: {'accepted' if self.accepted else 'refused'}"

    @cached_property
    def result(self) -> VerificationResult:
        """The verification as it was made, read from its one stored shape."""
        return VerificationResult.from_json(self.result_json, f"verification {self.pk}")

    @property
    def accepted(self) -> bool:
        return self.result.accepted

    @property
    def message(self) -> str:
        return self.result.message

"""Preparation and assay (10 CFR 35.63), administration and possible medical events (10 CFR 35.3045).

Computed activities are stored to 0.0001 mCi (half to even); the accept/stop and medical-event decisions are
made on the unrounded values by mibg.core.administration and stored as they were made.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from mibg.core.units import Activity
from mibg.web.corrections import Superseding
from mibg.web.directives.models import ROUTES


class Assay(Superseding):
    course = models.ForeignKey("courses.Course", on_delete=models.PROTECT, related_name="assays")
    directive = models.ForeignKey("directives.WrittenDirective", on_delete=models.PROTECT, related_name="assays")
    lot = models.CharField(max_length=60)
    calibration_time = models.DateTimeField()
    specific_activity = models.DecimalField(max_digits=10, decimal_places=3)
    specific_activity_unit = models.CharField(max_length=10, choices=[("Ci/mmol", "Ci/mmol"), ("mCi/mg", "mCi/mg")])
    measured_mci = models.DecimalField(max_digits=10, decimal_places=3)
    measured_at = models.DateTimeField()
    calibrator_id = models.CharField("dose calibrator", max_length=60)
    corrected_mci = models.DecimalField(max_digits=12, decimal_places=4)  # at the directive's administration time
    deviation_percent = models.DecimalField(max_digits=9, decimal_places=3)
    within_tolerance = models.BooleanField()
    message = models.TextField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    # "unless the authorised user directs otherwise" (10 CFR 35.63): who, when, why.
    override_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    override_name = models.CharField(max_length=150, blank=True)
    override_at = models.DateTimeField(null=True, blank=True)
    override_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-recorded_at", "-id"]

    def __str__(self) -> str:
        return f"Assay of lot {self.lot} for {self.course}"

    @property
    def accepted(self) -> bool:
        return self.within_tolerance or self.override_at is not None

    @property
    def measured(self) -> Activity:
        return Activity(self.measured_mci)

    @property
    def corrected(self) -> Activity:
        return Activity(self.corrected_mci)


class Administration(Superseding):
    course = models.ForeignKey("courses.Course", on_delete=models.PROTECT, related_name="administrations")
    directive = models.ForeignKey("directives.WrittenDirective", on_delete=models.PROTECT, related_name="+")
    assay = models.ForeignKey(Assay, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField()
    route = models.CharField(max_length=20, choices=ROUTES)
    volume_ml = models.DecimalField(max_digits=7, decimal_places=2)
    residual_mci = models.DecimalField(max_digits=10, decimal_places=3)
    residual_measured_at = models.DateTimeField()
    pre_corrected_mci = models.DecimalField(max_digits=12, decimal_places=4)
    residual_corrected_mci = models.DecimalField(max_digits=12, decimal_places=4)
    administered_mci = models.DecimalField(max_digits=12, decimal_places=4)
    deviation_percent = models.DecimalField(max_digits=9, decimal_places=3)
    possible_medical_event = models.BooleanField()
    message = models.TextField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    reviewed_name = models.CharField(max_length=150, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"Administration for {self.course}"

    @property
    def administered(self) -> Activity:
        return Activity(self.administered_mci)

    @property
    def medical_event_open(self) -> bool:
        return self.possible_medical_event and self.reviewed_at is None and self.superseded_at is None

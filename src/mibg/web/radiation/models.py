"""Exposure-rate readings at 1 m, the signed release, and the stem-cell infusion (clinical-reference §3, §4;
decisions.md "Radiation safety and dosimetry", Dose "Stem-cell infusion").

Readings are the physicist's measurements: entered as read on the meter (mR/h at 1 m, the survey meter's unit),
corrected only with a reason (every change in the audit trail), voided rather than deleted, and locked once the
patient is released, because the release record rests on them. The dosimetry itself is not stored: it is
computed from the readings each time (mibg.web.radiation.services), except at release, where the assessment
the physicist signed is kept exactly as it was shown.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from mibg.core.dosimetry import RetentionFit, WholeBodyDose
from mibg.core.release import ReleaseAssessment
from mibg.core.serial import Reader
from mibg.core.times import site_time
from mibg.core.vocabulary import StemCellProductType
from mibg.web.corrections import Corrects, Superseding


class ExposureReading(Corrects):
    course = models.ForeignKey("courses.Course", on_delete=models.PROTECT, related_name="exposure_readings")
    measured_at = models.DateTimeField("Time of the reading")
    mr_per_h = models.DecimalField("Exposure rate at 1 m", max_digits=8, decimal_places=3)
    background_mr_per_h = models.DecimalField("Background", max_digits=8, decimal_places=3, null=True, blank=True)
    #: decisions.md "Readings": the first reading after the end of the infusion, before the first void, is 100 %.
    before_first_void = models.BooleanField("Before the first void", default=False)
    instrument_id = models.CharField("Survey meter", max_length=60)
    instrument_calibration_due = models.DateField("Meter calibration due")
    measured_by = models.CharField("Measured by", max_length=150)
    note = models.TextField(blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+")
    void_reason = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["measured_at", "id"]
        constraints = [
            # Readings may be entered in any order, but two readings of one course never share a time.
            models.UniqueConstraint(fields=["course", "measured_at"], condition=Q(voided_at__isnull=True),
                                    name="one_reading_per_time"),
            models.UniqueConstraint(fields=["course"], condition=Q(voided_at__isnull=True, before_first_void=True),
                                    name="one_pre_void_reading"),
        ]

    def __str__(self) -> str:
        return f"Reading {self.mr_per_h} mR/h at 1 m, {site_time(self.measured_at)}, {self.course}"

    @property
    def net_mr_per_h(self) -> Any:
        return self.mr_per_h - (self.background_mr_per_h or 0)

    @property
    def active(self) -> bool:
        return self.voided_at is None


@dataclass(frozen=True, slots=True)
class SignedAssessment:
    """What the physicist saw and signed at release: three core results in their one exact shape, and the
    fingerprint of the readings they rest on."""

    release: ReleaseAssessment
    retention: RetentionFit
    whole_body_dose: WholeBodyDose
    readings_basis: str

    def to_json(self) -> dict[str, Any]:
        return {"release": self.release.to_json(), "retention": self.retention.to_json(),
                "whole_body_dose": self.whole_body_dose.to_json(), "readings_basis": self.readings_basis}

    @classmethod
    def from_json(cls, data: object, path: str) -> SignedAssessment:
        r = Reader(data, path)
        return cls(ReleaseAssessment.from_json(r.raw("release"), f"{path}.release"),
                   RetentionFit.from_json(r.raw("retention"), f"{path}.retention"),
                   WholeBodyDose.from_json(r.raw("whole_body_dose"), f"{path}.whole_body_dose"),
                   r.text("readings_basis"))


class ReleaseRecord(models.Model):
    """The basis for release (10 CFR 35.75, record per 10 CFR 35.2075), signed by the physicist.

    ``assessment_json`` is what the physicist saw and signed: the core's release assessment, retention fit and
    whole-body dose (each in its one exact shape, ``to_json()``), so the record stays as it was if the readings' method or a site parameter
    changes later. ``instructions_json`` holds the written instructions' computed durations and dates.
    """

    course = models.OneToOneField("courses.Course", on_delete=models.PROTECT, related_name="release_record")
    released_at = models.DateTimeField("Released at")
    reading = models.ForeignKey(ExposureReading, on_delete=models.PROTECT, related_name="+")
    dose_rate_mr_per_h = models.DecimalField(max_digits=8, decimal_places=3)  # net, at 1 m, the reading above
    site_limit_mr_per_h = models.DecimalField(max_digits=8, decimal_places=3)
    criteria_met = models.CharField(max_length=200)  # ids of the criteria met, comma-separated
    rule = models.TextField()  # the criteria in words, with their numbers
    assessment_json = models.TextField()
    instructions_json = models.TextField()
    instructions_given_to = models.CharField("Instructions given to", max_length=200)
    protocol_label = models.CharField(max_length=60)
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_name = models.CharField(max_length=150)
    signed_at = models.DateTimeField(default=timezone.now)
    signature_meaning = models.TextField()

    def __str__(self) -> str:
        return f"Release of {self.course}"

    @property
    def signed_assessment(self) -> SignedAssessment:
        """What was signed, typed, read from its one stored shape (each result's ``to_json()``)."""
        return SignedAssessment.from_json(json.loads(self.assessment_json), f"release record {self.pk}.assessment")

    @property
    def instructions(self) -> dict[str, Any]:
        stored: dict[str, Any] = json.loads(self.instructions_json)
        return stored


class StemCellInfusion(Superseding):
    """Autologous stem cells given after 131I-MIBG (decisions.md Dose "Stem-cell infusion")."""

    PRODUCT_TYPES = [(StemCellProductType.PBSC.value, "Peripheral blood stem cells (CD34+ cells/kg)"),
                     (StemCellProductType.BONE_MARROW.value, "Bone marrow (mononuclear cells/kg)")]

    course = models.ForeignKey("courses.Course", on_delete=models.PROTECT, related_name="stem_cell_infusions")
    infused_at = models.DateTimeField("Infused at")
    product_type = models.CharField(max_length=20, choices=PRODUCT_TYPES)
    product = models.CharField("Product", max_length=120)  # the bag or lot as labelled
    cells_per_kg = models.DecimalField("Cells per kg", max_digits=15, decimal_places=0)
    given_by = models.CharField("Given by", max_length=150)
    note = models.TextField(blank=True)
    # decisions.md A31: before day +10 the treating physician's reason, and who gave it
    early_reason = models.TextField("Reason for an infusion before day +10", blank=True)
    early_reason_by = models.CharField("Treating physician", max_length=150, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["infused_at", "id"]

    def __str__(self) -> str:
        return f"Stem-cell infusion ({self.product}) for {self.course}"

    @property
    def unit(self) -> str:
        return "CD34+ cells/kg" if self.product_type == StemCellProductType.PBSC.value else "MNC/kg"

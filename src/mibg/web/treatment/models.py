"""Preparation and assay (10 CFR 35.63), administration and possible medical events (10 CFR 35.3045).

Each check is stored as its core result's one shape (issue 11): ``Assay.result_json`` holds
``AssayCheck.to_json()`` and ``Administration.result_json`` holds ``AdministeredActivity.to_json()``, with every
activity and percentage as exact decimal text, unrounded, and the accept/stop and medical-event decisions as
they were made. The readings entered (activity and time) live in the shape too; the properties below read the
typed result back (``from_json``), so no column holds a second copy of a result.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from functools import cached_property
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from mibg.core.administration import AdministeredActivity, AssayCheck
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
    calibrator_id = models.CharField("dose calibrator", max_length=60)
    #: ``AssayCheck.to_json()``: the measured activity and time, decay-corrected to the directive's administration
    #: time, the deviation and the verdict (mibg.assay version 1).
    result_json = models.JSONField()
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

    @cached_property
    def result(self) -> AssayCheck:
        """The 10 CFR 35.63 check as it was made, read from its one stored shape."""
        return AssayCheck.from_json(self.result_json, f"assay {self.pk}")

    @property
    def accepted(self) -> bool:
        return self.within_tolerance or self.override_at is not None

    @property
    def measured(self) -> Activity:
        return self.result.correction.activity_from

    @property
    def measured_mci(self) -> Decimal:
        return self.measured.mci

    @property
    def measured_at(self) -> datetime:
        return self.result.correction.time_from

    @property
    def corrected(self) -> Activity:
        """The measured activity at the directive's administration time."""
        return self.result.corrected

    @property
    def corrected_mci(self) -> Decimal:
        return self.corrected.mci

    @property
    def deviation_percent(self) -> Decimal:
        return self.result.deviation_percent

    @property
    def within_tolerance(self) -> bool:
        return self.result.within_tolerance

    @property
    def message(self) -> str:
        return self.result.message


def administration_fields(result: AdministeredActivity) -> dict[str, Any]:
    """The stored fields an administered activity gives: its shape, and the start of the infusion (the time both
    assays were decay-corrected to), kept as a column because the course's records are ordered and looked up by
    it. The one place ``started_at`` is derived from the shape."""
    return {"result_json": result.to_json(), "started_at": result.before.time_to}


class Administration(Superseding):
    course = models.ForeignKey("courses.Course", on_delete=models.PROTECT, related_name="administrations")
    directive = models.ForeignKey("directives.WrittenDirective", on_delete=models.PROTECT, related_name="+")
    assay = models.ForeignKey(Assay, on_delete=models.PROTECT, related_name="+")
    #: = the shape's administration time (``administration_fields``): ordering and queries need the column.
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField()
    route = models.CharField(max_length=20, choices=ROUTES)
    volume_ml = models.DecimalField(max_digits=7, decimal_places=2)
    #: ``AdministeredActivity.to_json()``: the pre-administration assay and the residual, each decay-corrected to
    #: the start, the administered activity, the deviation and the possible-medical-event flag (mibg.administration
    #: version 1). Queries read the flag from it (``result_json__possible_medical_event=True``).
    result_json = models.JSONField()
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

    @cached_property
    def result(self) -> AdministeredActivity:
        """The administered activity as it was computed, read from its one stored shape."""
        return AdministeredActivity.from_json(self.result_json, f"administration {self.pk}")

    @property
    def administered(self) -> Activity:
        return self.result.administered

    @property
    def administered_mci(self) -> Decimal:
        return self.administered.mci

    @property
    def residual_mci(self) -> Decimal:
        return self.result.residual.activity_from.mci

    @property
    def residual_measured_at(self) -> datetime:
        return self.result.residual.time_from

    @property
    def pre_corrected_mci(self) -> Decimal:
        return self.result.before.activity_to.mci

    @property
    def residual_corrected_mci(self) -> Decimal:
        return self.result.residual.activity_to.mci

    @property
    def deviation_percent(self) -> Decimal:
        return self.result.deviation_percent

    @property
    def possible_medical_event(self) -> bool:
        return self.result.possible_medical_event

    @property
    def message(self) -> str:
        return self.result.message

    @property
    def medical_event_open(self) -> bool:
        return self.possible_medical_event and self.reviewed_at is None and self.superseded_at is None

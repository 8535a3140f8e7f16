"""Event reports (issue 13 §3): a possible medical event (10 CFR 35.3045) or a serious adverse event under an IND
(21 CFR 312.32), each a structured report with a status (draft, submitted, acknowledged) and its regulatory clock.

The deadlines are not stored: mibg.core.event_reports computes them from the protocol definition and the report's
facts whenever they are shown, so they can never disagree with the rule; each change of the facts that moves a
deadline is written to the audit trail with the new deadlines. What was done against each deadline (a telephone
call, a written report, a notification, or the documented reason it was not made) is a :class:`ReportStep`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from mibg.core.event_reports import MEDICAL_EVENT, SAE


class EventReport(models.Model):
    KINDS = [(MEDICAL_EVENT, "possible medical event (10 CFR 35.3045)"),
             (SAE, "serious adverse event (21 CFR 312.32)")]
    DRAFT, SUBMITTED, ACKNOWLEDGED = "draft", "submitted", "acknowledged"
    STATUSES = [(DRAFT, "draft"), (SUBMITTED, "submitted"), (ACKNOWLEDGED, "acknowledged")]
    EXPECTEDNESS = [("", "not assessed yet"), ("unexpected", "unexpected"), ("expected", "expected")]

    course = models.ForeignKey("courses.Course", on_delete=models.PROTECT, related_name="event_reports")
    kind = models.CharField(max_length=20, choices=KINDS)
    administration = models.OneToOneField("treatment.Administration", on_delete=models.PROTECT, null=True, blank=True,
                                          related_name="event_report")
    adverse_event = models.OneToOneField("followup.AdverseEvent", on_delete=models.PROTECT, null=True, blank=True,
                                         related_name="event_report")
    discovered_at = models.DateTimeField()
    status = models.CharField(max_length=20, choices=STATUSES, default=DRAFT)
    description = models.TextField(blank=True)
    # A possible medical event: what the receivers need (10 CFR 35.3045 report contents, as issue 13 lists them).
    cause = models.TextField("why the event occurred", blank=True)
    effect_on_patient = models.TextField("effect on the patient", blank=True)
    corrective_actions = models.TextField("actions taken to prevent a recurrence", blank=True)
    referring_physician = models.CharField(max_length=200, blank=True)
    # A serious adverse event: expectedness and life-threatening as the physician assesses them.
    expectedness = models.CharField(max_length=12, choices=EXPECTEDNESS, blank=True)
    life_threatening = models.BooleanField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")
    submitted_name = models.CharField(max_length=150, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                        related_name="+")
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledgement = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-discovered_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(kind=MEDICAL_EVENT, administration__isnull=False, adverse_event__isnull=True)
                           | models.Q(kind=SAE, adverse_event__isnull=False, administration__isnull=True)),
                name="event_report_has_its_source"),
        ]

    def __str__(self) -> str:
        return f"Event report {self.pk} ({self.get_kind_display()}), {self.get_status_display()}"


class ReportStep(models.Model):
    """One deadline met: when it was done, by whom, how; or, for a waivable one, the documented reason it was not."""

    report = models.ForeignKey(EventReport, on_delete=models.PROTECT, related_name="steps")
    code = models.CharField(max_length=40)
    done_at = models.DateTimeField()
    waived = models.BooleanField(default=False)
    note = models.TextField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["done_at", "id"]
        constraints = [models.UniqueConstraint(fields=["report", "code"], name="one_step_per_deadline")]

    def __str__(self) -> str:
        return f"{self.code} of event report {self.report_id}: {'waived' if self.waived else 'done'}"

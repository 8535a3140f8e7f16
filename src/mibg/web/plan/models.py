"""What is recorded against a course's order set (issue 13 §1), and the pharmacist's confirmation of the site's
iodide weight-band table."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from mibg.core.times import site_time


class OrderRecord(models.Model):
    """One due time of one order, given or checked (or not done, with the reason): by whom and when.

    Never edited (decisions.md A37): a record entered in error is voided with the reason, stays visible, and the due
    time can be recorded again. One live record per due time (a form posted twice saves once)."""

    course = models.ForeignKey("courses.Course", on_delete=models.PROTECT, related_name="order_records")
    code = models.CharField(max_length=40)  # the order's code in the protocol's care plan
    due_at = models.DateTimeField()  # the due time this record answers
    done = models.BooleanField()  # False: not done; ``note`` says why
    at = models.DateTimeField("When it was done")
    note = models.TextField(blank=True)
    medications = models.TextField(blank=True)  # the medication list checked (interfering-medications order)
    interfering = models.TextField(blank=True)  # what the check found in it, "drug (class)" per line
    protocol_label = models.CharField(max_length=60)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_name = models.CharField(max_length=150)
    recorded_at = models.DateTimeField(default=timezone.now)
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+")
    void_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["course", "due_at", "code"]
        constraints = [models.UniqueConstraint(fields=["course", "code", "due_at"], condition=models.Q(voided_at=None),
                                               name="one_live_record_per_due_time")]

    def __str__(self) -> str:
        return f"{self.code} due {site_time(self.due_at)} of course {self.course_id}: {'done' if self.done else 'not done'}"


class IodideConfirmation(models.Model):
    """A pharmacist's signature on the site's iodide weight-band table, exactly as it stands (its fingerprint)."""

    fingerprint = models.CharField(max_length=400)
    table_json = models.TextField()
    protocol_label = models.CharField(max_length=60)
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_name = models.CharField(max_length=150)
    signed_at = models.DateTimeField(default=timezone.now)
    signature_meaning = models.TextField()

    class Meta:
        ordering = ["-signed_at", "-id"]

    def __str__(self) -> str:
        if not self.pk:
            return "iodide weight-band table (not confirmed)"
        return f"Iodide table confirmed by {self.signed_name} at {site_time(self.signed_at)}"

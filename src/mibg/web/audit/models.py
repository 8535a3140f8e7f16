"""The audit trail: who did what to which record, when (UTC), field by field, old and new value.

Records are only ever added. The model refuses to save an existing record or delete one, and its queryset
refuses bulk update and delete, so nothing in the application can change the trail.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditImmutable(Exception):
    pass


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise AuditImmutable("audit records cannot be changed")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditImmutable("audit records cannot be deleted")


class AuditEvent(models.Model):
    CREATE, UPDATE, DELETE, SIGN, VIEW, EXPORT = "create", "update", "delete", "sign", "view", "export"
    ACTIONS = [(a, a) for a in (CREATE, UPDATE, DELETE, SIGN, VIEW, EXPORT, "void", "verify", "override", "review",
                                "transition", "login", "refused")]

    at = models.DateTimeField(default=timezone.now, db_index=True)  # stored in UTC (USE_TZ)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    username = models.CharField(max_length=150)
    action = models.CharField(max_length=20, choices=ACTIONS)
    model = models.CharField(max_length=60)
    object_id = models.CharField(max_length=40, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    field = models.CharField(max_length=200, blank=True)
    old_value = models.TextField(blank=True)
    new_value = models.TextField(blank=True)
    note = models.TextField(blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["patient", "at"]), models.Index(fields=["user", "at"])]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AuditImmutable("audit records cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditImmutable("audit records cannot be deleted")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.username} {self.action} {self.model} {self.object_id} {self.field}"

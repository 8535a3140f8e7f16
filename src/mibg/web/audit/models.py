"""The audit trail: who did what to which record, when (UTC), field by field, old and new value.

Records are only ever added. The model refuses to save an existing record or delete one, and its queryset
refuses bulk update and delete, so nothing in the application can change the trail. Every record is sealed
into a hash chain when it is written (:func:`seal`, under the chain head's lock; the canonical serialization
is mibg.web.audit.hashing, the verification mibg.web.audit.chain), so a change made around the application is
seen by ``mibg audit verify``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from mibg.web.audit.hashing import GENESIS, AuditChainError, link


class AuditImmutable(Exception):
    pass


class AuditQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise AuditImmutable("audit records cannot be changed")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditImmutable("audit records cannot be deleted")

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> list[Any]:
        events = list(objs)
        with transaction.atomic(using=self.db):
            seal(events)
            return super().bulk_create(events, *args, **kwargs)


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
    # The hash chain (mibg.web.audit.chain): position, the previous record's hash, this record's hash.
    seq = models.BigIntegerField(unique=True, editable=False)
    prev_hash = models.CharField(max_length=64, editable=False)
    record_hash = models.CharField(max_length=64, db_index=True, editable=False)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["patient", "at"]), models.Index(fields=["user", "at"])]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AuditImmutable("audit records cannot be changed")
        with transaction.atomic(using=kwargs.get("using")):
            seal([self])
            super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditImmutable("audit records cannot be deleted")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.username} {self.action} {self.model} {self.object_id} {self.field}"


class AuditChainHead(models.Model):
    """One row (id 1): the last record the application chained. Locked by every append (see chain.py)."""

    seq = models.BigIntegerField()
    record_hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"audit chain head: seq {self.seq}, {self.record_hash}"


def seal(events: Sequence[Any]) -> None:
    """Give ``events`` (unsaved AuditEvents) their place in the chain. Call inside the transaction that inserts
    them: the chain head stays locked until that transaction ends (PostgreSQL: the row lock of ``FOR UPDATE``;
    SQLite: the database's write lock, held from ``BEGIN IMMEDIATE``). The head is read and written with two
    plain statements: every append does it (mibg.web.audit.group)."""
    if not events:
        return
    table = connection.ops.quote_name(AuditChainHead._meta.db_table)
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT seq, record_hash FROM {table} WHERE id = 1{lock}")
        head = cursor.fetchone()
        if head is None:
            # A fresh database (or one emptied by a test's flush): the head is made with the first record. If
            # records exist without a head, someone removed it: refuse, loudly, rather than start a second chain.
            if AuditEvent.objects.exists():
                raise AuditChainError("the audit chain head is missing while audit records exist; run 'mibg audit "
                                      "verify'")
            AuditChainHead.objects.get_or_create(pk=1, defaults={"seq": 0, "record_hash": GENESIS})
            cursor.execute(f"SELECT seq, record_hash FROM {table} WHERE id = 1{lock}")
            head = cursor.fetchone()
        seq, previous = link(events, head[0], head[1])
        cursor.execute(f"UPDATE {table} SET seq = %s, record_hash = %s WHERE id = 1", [seq, previous])

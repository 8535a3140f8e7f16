"""The audit trail as a hash chain: every record carries the hash of the record before it and its own hash.

Why: a monitor or an inspector must be able to tell whether the trail is the one the application wrote
(21 CFR 11.10(e): secure, computer-generated, time-stamped audit trails; ALCOA+ "original"). The model already
refuses to change or delete a record; the chain makes a change made *around* the application (raw SQL, a
restored file, a database console) visible, and says where.

The canonical serialization and the hash are in :mod:`mibg.web.audit.hashing`; appending (sealing records
under the chain head's lock) is in :mod:`mibg.web.audit.models`. This module reads the chain back: the walk,
what a break is and where, and the consistent snapshot a walk or a backup reads in.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction

from mibg.web.audit.hashing import GENESIS, HASHED_FIELDS, AuditChainError, record_hash, serialize, utc_text
from mibg.web.audit.models import AuditChainHead, AuditEvent, seal

__all__ = ["GENESIS", "AuditChainError", "Break", "ChainReport", "read_snapshot", "record_hash", "seal", "serialize",
           "utc_text", "verify", "walk"]

# Verification --------------------------------------------------------------------------------------------------

OWN_HASH, LINK, SEQUENCE, HEAD, ANCHOR = "own hash", "previous-hash link", "sequence", "chain head", "anchor"


@dataclass(frozen=True)
class Break:
    """The first place where the chain is not what the application wrote."""

    record_id: int | None
    seq: int | None
    at: datetime | None
    check: str  # OWN_HASH, LINK, SEQUENCE, HEAD or ANCHOR: which check failed
    kind: str  # "edited", "deleted", "inserted" or "reordered": what that check says happened
    detail: str

    def line(self) -> str:
        where = (f"record id {self.record_id} (seq {self.seq}, {utc_text(self.at)})" if self.record_id is not None
                 and self.at is not None else "the end of the trail")
        return f"BROKEN at {where}: {self.check} check failed ({self.kind}): {self.detail}"


@dataclass(frozen=True)
class ChainReport:
    records: int
    head_seq: int
    head_hash: str
    broken: Break | None

    @property
    def intact(self) -> bool:
        return self.broken is None


_ROW = ("id", "seq", "record_hash", *HASHED_FIELDS)


@dataclass(frozen=True)
class _Row:
    id: int
    seq: int
    record_hash: str
    values: dict[str, Any]

    @property
    def at(self) -> datetime:
        at: datetime = self.values["at"]
        return at

    @property
    def prev_hash(self) -> str:
        prev: str = self.values["prev_hash"]
        return prev


def _rows(chunk_size: int) -> Iterator[_Row]:
    for raw in AuditEvent.objects.order_by("seq").values_list(*_ROW).iterator(chunk_size=chunk_size):
        yield _Row(raw[0], raw[1], raw[2], dict(zip(HASHED_FIELDS, raw[3:], strict=True)))


def _by_hash(value: str) -> Any:
    return AuditEvent.objects.filter(record_hash=value).order_by("seq").first()


def _break(row: Any, check: str, kind: str, detail: str) -> Break:
    return Break(row.id, row.seq, row.at, check, kind, detail)


def _link_break(row: _Row, previous: _Row | None, expected_seq: int, missing: bool) -> Break:
    """Why ``row`` does not link to the record before it, and at which record the tampering is. ``missing``: the
    trail holds fewer records than the application wrote (the head's seq)."""
    target = _by_hash(row.prev_hash)
    if target is None:
        if row.seq > expected_seq or previous is None or missing:
            return _break(row, LINK, "deleted", "the record it links to is not in the trail: a record before it was deleted")
        # Nothing is missing by number, so the record before it is no longer the one this record linked to.
        return _break(previous, LINK, "edited", f"the next record (id {row.id}, seq {row.seq}) links to a hash no record "
                      "has: this record was changed and hashed again, or replaced")
    if target.seq > row.seq:
        return _break(row, LINK, "reordered", f"it links to record id {target.id} (seq {target.seq}), which comes after "
                      "it: records were moved out of order")
    # It links back past the record(s) before it: those were put in between.
    inserted = AuditEvent.objects.filter(seq__gt=target.seq).order_by("seq").first()
    return _break(inserted, LINK, "inserted", f"the records after it link past it to record id {target.id} (seq "
                  f"{target.seq}): it was inserted into the trail")


def walk(chunk_size: int = 5000, anchors: Sequence[tuple[int, str]] = ()) -> ChainReport:
    """:func:`verify` without opening a snapshot: call inside :func:`read_snapshot`."""
    return _walk(chunk_size, anchors)


def _walk(chunk_size: int, anchors: Sequence[tuple[int, str]] = ()) -> ChainReport:
    """Anchors: (seq, hash) pairs kept outside the database (a backup manifest's head, a printed verify line).
    A chain recomputed from end to end by someone with the database in hand passes every other check; it
    cannot give an anchored record its old hash again."""
    head = AuditChainHead.objects.filter(pk=1).first()
    count = AuditEvent.objects.count()
    head_seq, head_hash = (head.seq, head.record_hash) if head else (0, GENESIS)

    def report(broken: Break | None) -> ChainReport:
        return ChainReport(count, head_seq, head_hash, broken)

    anchor_at = dict(anchors)
    previous: _Row | None = None
    for row in _rows(chunk_size):
        expected = previous.seq + 1 if previous else 1
        if head is None:
            return report(_break(row, HEAD, "deleted", "the chain head (the last seq and hash the application wrote) is "
                                 "missing"))
        if row.seq > head.seq:
            return report(_break(row, HEAD, "inserted", f"it comes after the last record the application wrote (seq "
                                 f"{head.seq}): it was added around the application"))
        if record_hash(row.values) != row.record_hash:
            return report(_break(row, OWN_HASH, "edited", "its content does not give its hash: it was changed after it "
                                 "was written, or forged"))
        if row.prev_hash != (previous.record_hash if previous else GENESIS):
            return report(_link_break(row, previous, expected, count < head_seq))
        if row.seq != expected:
            return report(_break(row, SEQUENCE, "deleted", f"seq {expected} to {row.seq - 1} are missing: records before "
                                 "it were deleted"))
        anchored = anchor_at.get(row.seq)
        if anchored is not None and anchored != row.record_hash:
            return report(_break(row, ANCHOR, "edited", f"its hash is not {anchored}, the one kept outside the database "
                                 "for this seq: the trail up to this record was rewritten"))
        previous = row
    last_seq = previous.seq if previous else 0
    if head_seq > last_seq:
        return report(Break(None, None, None, HEAD, "deleted", f"the application wrote {head_seq} records; the trail ends "
                            f"at seq {last_seq}: the last {head_seq - last_seq} were deleted"))
    if previous is not None and head_hash != previous.record_hash:
        return report(_break(previous, HEAD, "edited", "the last record is not the one the application wrote last"))
    beyond = sorted(seq for seq in anchor_at if seq > last_seq)
    if beyond:
        return report(Break(None, None, None, ANCHOR, "deleted", f"an anchor kept outside the database names seq {beyond[0]}; "
                            f"the trail ends at seq {last_seq}"))
    return report(None)


@contextmanager
def read_snapshot(export: bool = False) -> Iterator[str | None]:
    """One consistent, read-only view of the database for a walk, a count or a backup.

    PostgreSQL: a REPEATABLE READ, READ ONLY transaction (writers are not held up); with ``export`` its
    snapshot id is given, for ``pg_dump --snapshot``. SQLite: a deferred read transaction begun by hand (the
    configured IMMEDIATE mode would block every writer for the whole walk). Inside an open transaction (a
    test), that transaction is the view.
    """
    if connection.in_atomic_block:
        yield None
        return
    if connection.vendor == "postgresql":
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                snapshot = None
                if export:
                    cursor.execute("SELECT pg_export_snapshot()")
                    snapshot = cursor.fetchone()[0]
            yield snapshot
        return
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("BEGIN DEFERRED")
    try:
        yield None
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ROLLBACK")


def verify(chunk_size: int = 5000, anchors: Sequence[tuple[int, str]] = ()) -> ChainReport:
    """Walk the whole chain in one consistent snapshot (:func:`read_snapshot`); stop at the first break."""
    with read_snapshot():
        return _walk(chunk_size, anchors)



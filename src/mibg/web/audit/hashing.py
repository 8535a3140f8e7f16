"""The audit chain's canonical serialization and hash: pure functions of a record's values (no database).

Canonical serialization, version 1 (``mibg-audit-chain-v1``)
-------------------------------------------------------------
A record's hash is the SHA-256 (FIPS 180-4) of the concatenation of these 14 fields, in this order, each
written as a netstring: the decimal ASCII length in bytes of its UTF-8 encoding, ``:``, the UTF-8 bytes, ``,``
(e.g. ``"abc"`` -> ``3:abc,``; ``""`` -> ``0:,``). The hash is written as 64 lowercase hexadecimal digits.

 1. the version tag, the text ``mibg-audit-chain-v1``
 2. ``at``: the time in UTC, ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (always six digits of microseconds, a literal Z)
 3. ``user_id``: the user's id in decimal digits, or the empty text when no user
 4. ``username``
 5. ``action``
 6. ``model``
 7. ``object_id``
 8. ``object_repr``
 9. ``patient_id``: the patient's id in decimal digits, or the empty text when none
10. ``field``
11. ``old_value``
12. ``new_value``
13. ``note``
14. ``prev_hash``: the hash of the record before it in the chain; for the first record, 64 zeros (``GENESIS``)

Not hashed: ``id`` and ``seq`` (the row's key and its position). The order is fixed by the ``prev_hash``
links; ``seq`` (1, 2, 3, ... with no gap, given under the chain lock) lets a deletion be named by number.
A new serialization gets a new version tag; a record's version is the tag it was hashed with (only v1 exists).

Appending
---------
One row, :class:`~mibg.web.audit.models.AuditChainHead`, holds the last ``seq`` and hash. Every append locks
it (``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite the write transaction is already exclusive, settings
``transaction_mode`` IMMEDIATE) in the same transaction as the records and the change they record, so two
writers never link to the same record (no fork) and a rolled-back change leaves no record and no gap.
``seq`` is unique in the database as a second guard. The head also lets a deletion of the *last* records be
seen. What the chain cannot show: someone with write access to the database who recomputes every hash from
the edit to the end and the head too; against that, keep the head hash that ``mibg audit verify`` prints and
that every backup manifest records somewhere else (a later head must still contain it).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

VERSION = "mibg-audit-chain-v1"
GENESIS = "0" * 64

#: The hashed fields after the version tag, in order (see the module docstring).
HASHED_FIELDS = ("at", "user_id", "username", "action", "model", "object_id", "object_repr", "patient_id", "field",
                 "old_value", "new_value", "note", "prev_hash")


class AuditChainError(Exception):
    """The chain cannot be appended to (its head is missing while records exist): nothing is written."""


def utc_text(at: datetime) -> str:
    if at.tzinfo is None:
        raise ValueError("audit time without a time zone")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _text(name: str, value: Any) -> str:
    if name == "at":
        return utc_text(value)
    if value is None:
        return ""
    return str(value)


def serialize(values: dict[str, Any]) -> bytes:
    """The canonical bytes of a record (version 1), from its field values."""
    parts = [VERSION, *(_text(name, values[name]) for name in HASHED_FIELDS)]
    out = bytearray()
    for part in parts:
        data = part.encode("utf-8")
        out += f"{len(data)}:".encode("ascii") + data + b","
    return bytes(out)


def record_hash(values: dict[str, Any]) -> str:
    return hashlib.sha256(serialize(values)).hexdigest()


def values_of(event: Any) -> dict[str, Any]:
    """The hashed field values of an AuditEvent (saved or not)."""
    return {name: getattr(event, name) for name in HASHED_FIELDS}


def link(events: Iterable[Any], seq: int, previous: str) -> tuple[int, str]:
    """Give ``events`` (in the order they are written) their ``seq``, ``prev_hash`` and ``record_hash`` after the
    record (``seq``, ``previous``); returns the last seq and hash."""
    for event in events:
        seq += 1
        event.seq, event.prev_hash = seq, previous
        event.record_hash = record_hash(values_of(event))
        previous = event.record_hash
    return seq, previous


def hash_existing(events: Iterable[Any], start: tuple[int, str] = (0, GENESIS)) -> tuple[int, str]:
    """For the migration: chain existing records (given in the order they were written) after ``start`` (the last
    seq and hash so far). Returns the new last seq and hash."""
    return link(events, *start)

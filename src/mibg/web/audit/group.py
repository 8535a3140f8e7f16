"""Group commit of the audit chain: the records that requests write outside a transaction of their own (the audited
reads) are chained and committed together, and each request waits for the commit that holds its record.

Why: every view of a patient's record writes one audit record before its answer is sent. Appending takes the chain
head's lock and commits (an ``fsync``); one transaction per read made the chain the server's bottleneck
(bench/RESULTS.md, issue 14). A group commit pays the lock, the round trips and the ``fsync`` once per group.

The guarantee is unchanged: :func:`write` returns only when the transaction holding the caller's records has
committed, and raises that transaction's error otherwise, so an answer is sent only after its audit record is
committed. A caller inside a transaction of its own (a save and the audit records of what it changed) is not
grouped: its records are chained in its transaction, which holds the chain head until it ends, as before.

Within a process
    The first thread to queue a record leads: it takes every record queued so far (its own first), chains them in
    one transaction (:func:`mibg.web.audit.models.seal`: lock the head, link each record after the one before,
    move the head), commits, and wakes the threads whose records it committed. Records queued meanwhile wait for
    the next group, led by the thread that queued first among them. Records are chained in the order they were
    queued; a thread's records stay together and in its order.

Across processes and servers
    There is still one chain with one head row, and every group locks it: on PostgreSQL ``SELECT ... FOR UPDATE`` of
    the head (held to the commit: the next process's group links after the head this one wrote); on SQLite the
    database's single write lock, taken at ``BEGIN IMMEDIATE`` (settings: ``transaction_mode``). SQLite's own wait
    for that lock polls, sleeping up to 100 ms between tries, so the lock would sit idle between groups: the group
    leaders of a SQLite server's processes first queue on an advisory file lock beside the database file
    (``fcntl.flock``, released by the kernel if a process dies), which wakes the next one as soon as it is free.
    Other writers (a save with its own records) still take SQLite's lock directly; no one who holds SQLite's lock
    waits for the file lock, so they cannot deadlock.

A group whose transaction fails (a record that cannot be stored) is tried again record by record (each request's
records in a transaction of their own), so one bad record fails only its own request.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator, Sequence

from django.db import connection

from mibg.web.audit.models import AuditEvent


class _Request:
    """One request's records in the queue, and how its wait ends."""

    __slots__ = ("error", "events", "lead", "settled", "woken")

    def __init__(self, events: Sequence[AuditEvent]) -> None:
        self.events = events
        self.woken = threading.Event()
        self.lead = False  # woken to lead the next group (not yet committed)
        self.settled = False  # its group committed (error None) or failed (error set)
        self.error: BaseException | None = None


_queue: list[_Request] = []
_queue_lock = threading.Lock()
_leading = False  # a thread of this process is committing a group


def write(events: Sequence[AuditEvent]) -> None:
    """Store ``events`` (new AuditEvents, in order) in the chain; return once they are committed.

    Inside a transaction of the caller's, they are chained in it (committed with it). Otherwise they join this
    process's next group commit and the call waits for it."""
    if not events:
        return
    if connection.in_atomic_block or not connection.get_autocommit():
        AuditEvent.objects.bulk_create(events)
        return
    mine = _Request(events)
    global _leading
    with _queue_lock:
        _queue.append(mine)
        if not _leading:
            _leading = mine.lead = True
    if not mine.lead:
        mine.woken.wait()
    if mine.lead and not mine.settled:
        _lead()
    if mine.error is not None:
        raise mine.error


def _lead() -> None:
    """Commit every queued request's records in one group, then hand the lead to the first request queued since."""
    global _leading
    with _queue_lock:
        group = list(_queue)
        _queue.clear()
    try:
        _commit_group(group)
    finally:
        with _queue_lock:
            if _queue:
                _queue[0].lead = True
                _queue[0].woken.set()
            else:
                _leading = False
        for request in group:
            request.settled = True
            request.woken.set()


def _commit_group(group: list[_Request]) -> None:
    try:
        _commit([event for request in group for event in request.events])
    except BaseException as error:
        if len(group) == 1:
            group[0].error = error
            return
        # Which request's records failed? Each in a transaction of its own; the others are stored.
        for request in group:
            try:
                _commit(request.events)
            except BaseException as own:  # given to the request's own thread, which raises it
                request.error = own


def _commit(events: Sequence[AuditEvent]) -> None:
    for event in events:  # a failed try leaves its rows marked as saved and numbered: start again clean
        event._state.adding, event.pk = True, None
    with _writer_turn():
        AuditEvent.objects.bulk_create(events)  # its own transaction: lock the head, link, insert, commit


# SQLite: the processes' group leaders take turns on a file lock ------------------------------------------------------

_lock_file: tuple[int, int] | None = None  # (pid, descriptor): a forked process opens its own


def _lock_path() -> str | None:
    if connection.vendor != "sqlite":
        return None
    name = str(connection.settings_dict["NAME"])
    if not name or name == ":memory:" or "mode=memory" in name:  # a test's database in memory: one process
        return None
    return f"{name}-audit.lock"


@contextlib.contextmanager
def _writer_turn() -> Iterator[None]:
    global _lock_file
    path = _lock_path()
    if path is None:
        yield
        return
    import fcntl

    if _lock_file is None or _lock_file[0] != os.getpid():
        _lock_file = (os.getpid(), os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600))
    descriptor = _lock_file[1]
    fcntl.flock(descriptor, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(descriptor, fcntl.LOCK_UN)


def pending() -> int:
    """Requests queued and not yet committed in this process (for tests and diagnostics)."""
    with _queue_lock:
        return len(_queue)


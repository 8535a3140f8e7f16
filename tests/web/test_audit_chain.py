"""The audit trail is a hash chain: an edit, a deletion, an insertion or a reordering made around the application
(raw SQL) is found by ``mibg audit verify`` at the record where it was made.

Expected hashes are computed here with hashlib on the serialization as documented in mibg.web.audit.chain
(netstrings of 14 fields, UTF-8, SHA-256), never by calling the code under test.
"""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.db import connection, connections, transaction

from mibg.cli import main
from mibg.web.audit.chain import ChainReport, verify
from mibg.web.audit.models import AuditChainHead, AuditEvent
from mibg.web.audit.trail import log_event

ZEROS = "0" * 64
TABLE = AuditEvent._meta.db_table


def netstring(text: str) -> bytes:
    data = text.encode("utf-8")
    return str(len(data)).encode("ascii") + b":" + data + b","


def hand_hash(event: AuditEvent, prev_hash: str) -> str:
    """The documented v1 serialization, written out again for the test."""
    fields = ["mibg-audit-chain-v1", event.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
              "" if event.user_id is None else str(event.user_id), event.username, event.action, event.model,
              event.object_id, event.object_repr, "" if event.patient_id is None else str(event.patient_id),
              event.field, event.old_value, event.new_value, event.note, prev_hash]
    return hashlib.sha256(b"".join(netstring(f) for f in fields)).hexdigest()


def chain():
    return list(AuditEvent.objects.order_by("seq"))


def sql(statement: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement.replace("{t}", TABLE), params or [])


def renumber_from(seq: int, by: int) -> None:
    """Move every record from ``seq`` on by ``by`` places (in two steps: seq is unique row by row)."""
    sql("UPDATE {t} SET seq = -(seq + %s) WHERE seq >= %s", [by, seq])
    sql("UPDATE {t} SET seq = -seq WHERE seq < 0")


def copy_forged(source_seq: int, seq: int, note: str, prev_hash: str) -> AuditEvent:
    """Insert with raw SQL a record like ``source_seq`` with another note, hashed correctly by the forger, who has
    read the documented serialization. Returns it."""
    source = AuditEvent.objects.get(seq=source_seq)
    source.note = note
    forged_hash = hand_hash(source, prev_hash)
    sql("INSERT INTO {t} (at, user_id, username, action, model, object_id, object_repr, patient_id, field, old_value, "
        "new_value, note, seq, prev_hash, record_hash) SELECT at, user_id, username, action, model, object_id, "
        "object_repr, patient_id, field, old_value, new_value, %s, %s, %s, %s FROM {t} WHERE seq = %s",
        [note, seq, prev_hash, forged_hash, source_seq])
    return AuditEvent.objects.get(seq=seq)


@pytest.fixture
def trail(make_course):
    """A course taken through administration: a few hundred records, written by the application."""
    make_course(until="administered", days_ahead=-1)
    events = chain()
    assert len(events) > 100
    return events


def test_a_record_carries_the_sha256_of_its_documented_serialization_and_the_previous_hash(db):
    event = AuditEvent(at=datetime(2026, 11, 25, 22, 0, tzinfo=UTC), username="nora", action="view",
                       model="patients.Patient", object_id="7", note="Zoë")
    event.save()
    # Written out by hand from the docstring: 14 netstrings; "Zoë" is 4 bytes in UTF-8; the first record links to zeros.
    expected = (b"19:mibg-audit-chain-v1,27:2026-11-25T22:00:00.000000Z,0:,4:nora,4:view,16:patients.Patient,1:7,0:,0:,"
                b"0:,0:,0:,4:Zo\xc3\xab,64:" + ZEROS.encode() + b",")
    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.seq, stored.prev_hash) == (1, ZEROS)
    assert stored.record_hash == hashlib.sha256(expected).hexdigest()


def test_every_record_of_a_real_course_links_to_the_one_before_it(trail):
    previous = ZEROS
    for position, event in enumerate(trail, start=1):
        assert (event.seq, event.prev_hash) == (position, previous)
        assert event.record_hash == hand_hash(event, previous)
        previous = event.record_hash
    head = AuditChainHead.objects.get(pk=1)
    assert (head.seq, head.record_hash) == (len(trail), previous)


def test_an_intact_chain_of_many_records_passes(trail):
    AuditEvent.objects.bulk_create([AuditEvent(username="nora", action="view", model="patients.Patient", note=f"view {i}")
                                    for i in range(3000)])
    report = verify(chunk_size=500)
    assert report.intact
    assert report.records == len(trail) + 3000 == report.head_seq


def test_a_note_edited_with_raw_sql_is_found_at_that_record_by_its_own_hash(trail):
    target = trail[40]
    sql("UPDATE {t} SET new_value = %s WHERE id = %s", ["396 mCi", target.pk])
    broken = verify().broken
    assert (broken.record_id, broken.seq, broken.check, broken.kind) == (target.pk, 41, "own hash", "edited")
    assert broken.at == target.at


def test_a_record_edited_and_hashed_again_by_a_forger_is_found_at_that_record(trail):
    target = trail[40]
    target.new_value = "396 mCi"
    sql("UPDATE {t} SET new_value = %s, record_hash = %s WHERE id = %s",
        ["396 mCi", hand_hash(target, target.prev_hash), target.pk])
    broken = verify().broken
    assert (broken.record_id, broken.check, broken.kind) == (target.pk, "previous-hash link", "edited")


def test_a_deleted_record_is_found_at_the_record_after_it(trail):
    sql("DELETE FROM {t} WHERE id = %s", [trail[40].pk])
    broken = verify().broken
    assert (broken.record_id, broken.seq, broken.check, broken.kind) == (trail[41].pk, 42, "previous-hash link", "deleted")


def test_a_deleted_record_with_the_rest_renumbered_is_still_found_at_the_record_after_it(trail):
    sql("DELETE FROM {t} WHERE id = %s", [trail[40].pk])
    renumber_from(42, -1)
    broken = verify().broken
    assert (broken.record_id, broken.seq, broken.kind) == (trail[41].pk, 41, "deleted")


def test_the_last_records_deleted_are_found_by_the_chain_head(trail):
    sql("DELETE FROM {t} WHERE seq > %s", [len(trail) - 3])
    broken = verify().broken
    assert (broken.record_id, broken.check, broken.kind) == (None, "chain head", "deleted")
    assert "the last 3 were deleted" in broken.detail


def test_a_forged_record_inserted_in_the_middle_is_found_at_the_forged_record(trail):
    renumber_from(42, 1)
    forged = copy_forged(41, 42, "assay within 20 %", trail[40].record_hash)
    sql("UPDATE audit_auditchainhead SET seq = seq + 1")  # the forger moves the head on too
    broken = verify().broken
    assert (broken.record_id, broken.seq, broken.check, broken.kind) == (forged.pk, 42, "previous-hash link", "inserted")


def test_a_forged_record_appended_at_the_end_around_the_application_is_found(trail):
    forged = copy_forged(len(trail), len(trail) + 1, "released", trail[-1].record_hash)
    broken = verify().broken
    assert (broken.record_id, broken.check, broken.kind) == (forged.pk, "chain head", "inserted")


def test_two_records_swapped_in_order_are_found_at_the_first_place_they_differ(trail):
    sql("UPDATE {t} SET seq = -1 WHERE seq = 41")
    sql("UPDATE {t} SET seq = 41 WHERE seq = 42")
    sql("UPDATE {t} SET seq = 42 WHERE seq = -1")
    broken = verify().broken
    assert (broken.record_id, broken.seq, broken.check, broken.kind) == (trail[41].pk, 41, "previous-hash link", "reordered")


def test_mibg_audit_verify_says_intact_and_records_the_check_the_audit_page_shows(trail, capsys, login):
    assert main(["audit", "verify"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"mibg audit verify: {len(trail)} records; intact; head seq {len(trail)} sha256 ")
    last = AuditEvent.objects.order_by("-seq").first()
    assert (last.action, last.model, last.username) == ("verify", "audit.AuditEvent", "system")
    for who in ("morgan", "admin"):
        client = login(who)  # a login is itself an audit record (mibg.web.accounts.security)
        now = AuditEvent.objects.count()
        page = client.get("/audit/").content.decode()
        assert "Hash chain:" in page
        assert f'<span class="badge ok">intact</span> {len(trail)} records at the last verification' in page
        assert now > len(trail) + 1  # the verification and the login were recorded after it
        assert f"{now} records now" in page


def test_mibg_audit_verify_exits_1_naming_the_first_broken_record(trail, capsys):
    sql("UPDATE {t} SET username = %s WHERE id = %s", ["chen", trail[9].pk])
    assert main(["audit", "verify", "--no-record"]) == 1
    out = capsys.readouterr().out
    assert f"BROKEN at record id {trail[9].pk} (seq 10, " in out
    assert "own hash check failed (edited)" in out
    assert AuditEvent.objects.count() == len(trail)  # --no-record writes nothing


def test_the_audit_page_shows_a_broken_chain_and_an_unverified_one(trail, capsys, login):
    page = login("morgan").get("/audit/").content.decode()
    assert "not verified yet" in page
    sql("UPDATE {t} SET note = %s WHERE id = %s", ["x", trail[2].pk])
    assert main(["audit", "verify"]) == 1
    page = login("morgan").get("/audit/").content.decode()
    assert '<span class="badge blocked">BROKEN</span>' in page
    assert f"BROKEN at record id {trail[2].pk} (seq 3, " in page


def test_mibg_audit_verify_as_json(trail, capsys):
    import json

    assert main(["audit", "verify", "--json", "--no-record"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["records"], data["intact"], data["broken"]) == (len(trail), True, None)
    assert data["head_hash"] == trail[-1].record_hash


def test_mibg_audit_without_an_action_is_bad_input(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["audit"])
    assert stop.value.code == 2
    assert "required: ACTION" in capsys.readouterr().err


@contextlib.contextmanager
def writers_database(tmp_path: Path) -> Iterator[Callable[[], None]]:
    """What each writer thread calls first to reach the test database as a server process does.

    PostgreSQL: the test database itself (each thread has its own connection). SQLite: pytest-django's test
    database is in memory with a shared cache, where a second writer is refused at once ("database table is
    locked") instead of waiting for the first; so the threads get a file copy of it (schema, people and records
    so far), opened with the settings' own options (WAL, ``BEGIN IMMEDIATE``, the wait), as the processes of a
    SQLite server are. The checks after the writers run on that copy too."""
    if connection.vendor != "sqlite":
        yield lambda: None
        return
    path = tmp_path / "writers.sqlite3"
    connection.ensure_connection()
    target = sqlite3.connect(path)
    connection.connection.backup(target)
    target.close()
    settings = {**connection.settings_dict, "NAME": str(path)}
    wrapper = type(connections["default"])

    def use_file() -> None:
        connections["default"] = wrapper(settings, "default")  # this thread's only

    yield use_file


def in_thread(prepare: Callable[[], None], work: Callable[[], object]) -> object:
    """``work()`` on a thread of its own (after ``prepare()``), its result or its error given back here."""
    out: list[object] = []

    def run() -> None:
        try:
            prepare()
            out.append(work())
        except BaseException as error:
            out.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if isinstance(out[0], BaseException):
        raise out[0]
    return out[0]


@pytest.mark.django_db(transaction=True)
def test_two_nurses_and_a_physicist_writing_at_once_never_fork_the_chain(people, tmp_path):
    """Four writers append at the same moment, many times; every append must take the next place exactly once.
    Each writes in a transaction of its own (a save with its records), so each transaction holds the chain head."""
    writers, rounds = ["nora", "patel", "sam", "riley"], 25
    start = threading.Barrier(len(writers))
    errors: list[BaseException] = []
    before = AuditEvent.objects.count()
    with writers_database(tmp_path) as prepare:

        def write(name: str) -> None:
            try:
                prepare()
                start.wait()
                user = people[name]
                for i in range(rounds):
                    with transaction.atomic():
                        log_event(user, "view", user, None, note=f"{name} {i} a")
                        AuditEvent.objects.bulk_create([AuditEvent(username=name, action="view",
                                                                   model="accounts.User", note=f"{name} {i} b")])
            except BaseException as error:  # reported below, in the test's thread
                errors.append(error)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=write, args=(name,)) for name in writers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []

        def check() -> tuple[ChainReport, list[int], list[tuple[str, str]]]:
            notes = list(AuditEvent.objects.filter(note__endswith=" a").order_by("seq")
                         .values_list("username", "note"))
            return verify(), list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True)), notes

        report, seqs, notes = in_thread(prepare, check)  # type: ignore[misc]
    assert report.intact, report.broken
    assert report.records == report.head_seq == before + len(writers) * rounds * 2
    assert seqs == list(range(1, len(seqs) + 1))
    # Each writer's records are in its own order.
    for name in writers:
        assert [note for user, note in notes if user == name] == [f"{name} {i} a" for i in range(rounds)]


@pytest.mark.django_db(transaction=True)
def test_eight_reads_at_once_are_committed_in_groups_and_each_waits_for_its_own_record(people, tmp_path,
                                                                                        monkeypatch):
    """Audited reads (records written outside a transaction) from 8 threads at once, 10 times each: they are
    chained in groups of more than one request, every record is in the chain exactly once, and each thread's
    write returns only when its record is committed: another connection sees it at once."""
    from mibg.web.audit import group

    readers, rounds = 8, 10
    groups: list[int] = []
    commit = group._commit

    def slow_commit(events):  # a slower disk: the others queue while a group commits
        groups.append(len(events))
        time.sleep(0.01)
        commit(events)

    monkeypatch.setattr(group, "_commit", slow_commit)
    start = threading.Barrier(readers)
    errors: list[BaseException] = []
    unseen: list[str] = []
    before = AuditEvent.objects.count()
    with writers_database(tmp_path) as prepare:

        def read(n: int) -> None:
            try:
                prepare()
                user = people["nora"]
                start.wait()
                for i in range(rounds):
                    note = f"reader {n} view {i}"
                    log_event(user, "view", user, None, note=note)
                    # Not this thread's transaction (it has none open): committed, seen by any connection.
                    if not in_other_connection(prepare, note):
                        unseen.append(note)
            except BaseException as error:
                errors.append(error)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=read, args=(n,)) for n in range(readers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert unseen == []
        report, notes = in_thread(prepare, lambda: (verify(), list(
            AuditEvent.objects.filter(note__startswith="reader ").order_by("seq").values_list("note", flat=True))))
    assert report.intact, report.broken
    assert report.records == report.head_seq == before + readers * rounds
    assert sorted(notes) == sorted(f"reader {n} view {i}" for n in range(readers) for i in range(rounds))
    for n in range(readers):  # each reader's records in its order
        assert [x for x in notes if x.startswith(f"reader {n} ")] == [f"reader {n} view {i}" for i in range(rounds)]
    assert sum(groups) == readers * rounds
    assert max(groups) > 1, groups  # grouped: fewer commits than records


def in_other_connection(prepare: Callable[[], None], note: str) -> bool:
    return bool(in_thread(prepare, lambda: AuditEvent.objects.filter(note=note).exists()))


@pytest.mark.django_db(transaction=True)
def test_the_migration_chains_the_records_written_before_it_in_the_order_they_were_written():
    from django.db.migrations.executor import MigrationExecutor

    before = [("audit", "0001_initial")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        old = MigrationExecutor(connection).loader.project_state(before).apps.get_model("audit", "AuditEvent")
        times = [datetime(2026, 5, 1, 8, 0, i, 250 * i, tzinfo=UTC) for i in range(5)]
        # Written out of time order on purpose: the chain follows the order of writing (the id), not the time.
        rows = [old.objects.create(at=times[i], username="nora", action="update", model="courses.Course",
                                   object_id="3", field="weight_kg", old_value=str(i), new_value=str(i + 1))
                for i in (3, 0, 4, 1, 2)]
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        # Every app's latest, not only the audit app's: going back to audit 0001 also unapplied the later
        # migrations of other apps that depend on the audit trail (the stored-shape conversions).
        executor.migrate(executor.loader.graph.leaf_nodes())
    events = list(AuditEvent.objects.order_by("seq"))
    assert [e.pk for e in events] == [r.pk for r in rows]
    previous = ZEROS
    for position, event in enumerate(events, start=1):
        assert (event.seq, event.prev_hash, event.record_hash) == (position, previous, hand_hash(event, previous))
        previous = event.record_hash
    assert verify().intact
    log_event(None, "view", events[0], None, note="after the migration")
    assert AuditEvent.objects.order_by("-seq").first().prev_hash == previous


def rewrite_from(seq: int, new_value: str) -> None:
    """The forger with the database in hand: change one record, hash it and every later record again, move the head."""
    events = chain()
    previous = events[seq - 2].record_hash if seq > 1 else ZEROS
    for event in events[seq - 1:]:
        if event.seq == seq:
            event.new_value = new_value
        event.record_hash = hand_hash(event, previous)
        sql("UPDATE {t} SET new_value = %s, prev_hash = %s, record_hash = %s WHERE id = %s",
            [event.new_value, previous, event.record_hash, event.pk])
        previous = event.record_hash
    sql("UPDATE audit_auditchainhead SET record_hash = %s", [previous])


def test_a_chain_rewritten_from_end_to_end_passes_alone_but_not_against_an_anchor_kept_elsewhere(trail, capsys):
    anchor = trail[60]  # what an earlier `mibg audit verify` printed, or a backup manifest kept off the server
    rewrite_from(41, "396 mCi")
    assert verify().intact  # the limit of a hash chain without a key: said in the module docstring
    broken = verify(anchors=[(anchor.seq, anchor.record_hash)]).broken
    assert (broken.record_id, broken.seq, broken.check, broken.kind) == (anchor.pk, 61, "anchor", "edited")
    assert main(["audit", "verify", "--no-record", "--anchor", f"{anchor.seq}:{anchor.record_hash}"]) == 1
    assert f"BROKEN at record id {anchor.pk} (seq 61, " in capsys.readouterr().out


def test_an_anchor_from_a_backup_manifest_is_checked_and_a_bad_anchor_is_bad_input(trail, tmp_path, capsys):
    manifest = tmp_path / "clinic.backup.manifest.json"
    manifest.write_text(f'{{"audit_chain": {{"head_seq": {len(trail)}, "head_hash": "{trail[-1].record_hash}"}}}}')
    assert main(["audit", "verify", "--no-record", "--anchor", str(manifest)]) == 0
    assert main(["audit", "verify", "--no-record", "--anchor", f"{len(trail) + 5}:{trail[-1].record_hash}"]) == 1
    assert "an anchor kept outside the database names seq" in capsys.readouterr().out
    for bad in ("12:abc", str(tmp_path / "nothing.json"), "twelve"):
        assert main(["audit", "verify", "--no-record", "--anchor", bad]) == 2
        err = capsys.readouterr().err
        assert err.startswith("mibg: error: audit verify: --anchor ")
        assert err.count("\n") == 1


def test_a_forged_record_with_a_made_up_hash_is_found_at_the_forged_record_by_its_own_hash(trail):
    renumber_from(42, 1)
    sql("INSERT INTO {t} (at, user_id, username, action, model, object_id, object_repr, patient_id, field, old_value, "
        "new_value, note, seq, prev_hash, record_hash) SELECT at, user_id, username, action, model, object_id, "
        "object_repr, patient_id, field, old_value, new_value, %s, 42, %s, %s FROM {t} WHERE seq = 41",
        ["verified by sam", trail[40].record_hash, "f" * 64])
    forged = AuditEvent.objects.get(seq=42)
    broken = verify().broken
    assert (broken.record_id, broken.seq, broken.check, broken.kind) == (forged.pk, 42, "own hash", "edited")


def test_a_deleted_chain_head_is_reported_and_the_application_then_refuses_to_write_audit_records(trail, capsys):
    from mibg.web.audit.chain import AuditChainError

    sql("DELETE FROM audit_auditchainhead")
    assert main(["audit", "verify"]) == 1
    captured = capsys.readouterr()
    assert f"BROKEN at record id {trail[0].pk} (seq 1, " in captured.out
    assert "chain head check failed (deleted)" in captured.out
    assert captured.err == ("mibg audit verify: the result was not added to the trail: the audit chain head is missing "
                            "while audit records exist; run 'mibg audit verify'\n")
    with pytest.raises(AuditChainError):
        log_event(None, "view", trail[0], None, note="after the head was deleted")
    assert AuditEvent.objects.count() == len(trail)

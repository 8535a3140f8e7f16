"""Durability: the server is killed with ``kill -9`` in the middle of a stream of writes, and nothing it
acknowledged is lost, changed or half-written.

A nurse's API client (Nora) streams new patients, and opens a first course for every fourth of them, at the
real server (``mibg serve``) from four threads at once. Every write the server acknowledged (201 with the
stored record) is kept with its returned id and body. In the middle of the stream the server's whole process
group gets SIGKILL; it is restarted on the same database and the clients carry on. Then the database is
read by a separate process and checked: every acknowledged write is there with exactly the acknowledged
values; a write in flight at the kill is either wholly there (record and audit trail) or not at all; there is
nothing that nobody sent; each record's creation is in the audit trail field by field; on SQLite the file
passes ``PRAGMA integrity_check`` and ``foreign_key_check``. Runs on SQLite (a file) and, when the settings
point at PostgreSQL, on a scratch PostgreSQL database.
"""

from __future__ import annotations

import http.client
import sqlite3
import threading
import time
from datetime import date, timedelta

from server_process import KeptAliveClient, ServerProcess, on_postgresql, scratch_database

PATIENTS = 1000  # plus a course for every fourth: 1,250 writes
WRITERS = 4
KILL_AFTER = 600  # acknowledged writes before the kill: the middle of the stream
COURSE_EVERY = 4

# What reading back a patient, a course and the creation audit records gives; run in a separate process on the
# server's own settings, after the restart.
DUMP = """
from mibg.web.audit.models import AuditEvent
from mibg.web.courses.models import Course
from mibg.web.patients.models import Patient
patients = {str(p.pk): {"id": p.pk, "mrn": p.mrn, "family_name": p.family_name, "given_name": p.given_name,
                        "birth_date": p.birth_date.isoformat(), "sex": p.sex, "version": p.version,
                        "created_by": p.created_by.username} for p in Patient.objects.select_related("created_by")}
courses = {str(c.pk): {"id": c.pk, "patient_id": c.patient_id, "number": c.number, "state": c.state,
                       "planned_treatment_date": c.planned_treatment_date, "version": c.version}
           for c in Course.objects.all()}
audit = [{"model": e.model, "object_id": e.object_id, "action": e.action, "field": e.field, "old": e.old_value,
          "new": e.new_value, "patient_id": e.patient_id, "username": e.username}
         for e in AuditEvent.objects.exclude(action="view")]
print(json.dumps({"patients": patients, "courses": courses, "audit": audit}))
"""


def patient_body(j: int) -> dict[str, str]:
    # Text beyond ASCII and an apostrophe: what is stored must be exactly what was sent.
    return {"mrn": f"F-{j:05d}", "family_name": f"O'Brien-{j}", "given_name": f"Zoë {j}",
            "birth_date": (date(2012, 1, 1) + timedelta(days=j % 3000)).isoformat(),
            "sex": ("female", "male", "other", "unknown")[j % 4]}


class Stream:
    """Writers that record what the server acknowledged and what was in flight when it went away."""

    def __init__(self, server: ServerProcess, token: str) -> None:
        self.server, self.token = server, token
        self.lock = threading.Lock()
        self.sent: dict[str, dict[str, str]] = {}  # mrn -> body, every patient sent
        self.patients: dict[int, dict] = {}  # acknowledged: id -> returned body
        self.courses: dict[int, dict] = {}
        self.unacknowledged_courses: set[int] = set()  # patient ids whose course request got no answer
        self.refused: list[tuple[str, int, object]] = []  # an answer other than 201: none expected
        self.lost_connection = 0
        self.attempted = 0
        self.acknowledged_after_restart = 0
        self.restarted = False
        self.back = threading.Event()
        self.back.set()

    @property
    def acknowledged(self) -> int:
        return len(self.patients) + len(self.courses)

    def _call(self, client: KeptAliveClient, path: str, body: object) -> tuple[int, object] | None:
        """The answer, or None when the connection failed (the server was killed before it answered)."""
        self.back.wait(timeout=120)
        with self.lock:
            self.attempted += 1
        try:
            return client.api("POST", path, body)
        except (OSError, http.client.HTTPException, ValueError):  # refused, reset, or cut off mid-answer
            with self.lock:
                self.lost_connection += 1
            return None

    def write(self, indexes: range) -> None:
        client = KeptAliveClient(self.server, self.token)
        try:
            self._write(client, indexes)
        finally:
            client.close()

    def _write(self, client: KeptAliveClient, indexes: range) -> None:
        for j in indexes:
            body = patient_body(j)
            with self.lock:
                self.sent[body["mrn"]] = body
            answer = self._call(client, "/patients", body)
            if answer is None:
                continue
            status, out = answer
            if status != 201:
                with self.lock:
                    self.refused.append(("/patients", status, out))
                continue
            with self.lock:
                self.patients[out["id"]] = out
                self.acknowledged_after_restart += self.restarted
            if j % COURSE_EVERY == 0:
                answer = self._call(client, f"/patients/{out['id']}/courses", None)
                if answer is None:
                    with self.lock:
                        self.unacknowledged_courses.add(out["id"])
                    continue
                status, course = answer
                with self.lock:
                    if status == 201:
                        self.courses[course["id"]] = course
                        self.acknowledged_after_restart += self.restarted
                    else:
                        self.refused.append(("/courses", status, course))


def _audit_by_record(audit: list[dict]) -> dict[tuple[str, str], list[dict]]:
    out: dict[tuple[str, str], list[dict]] = {}
    for event in audit:
        out.setdefault((event["model"], event["object_id"]), []).append(event)
    return out


def _check_sqlite_file(server: ServerProcess) -> None:
    with sqlite3.connect(server.sqlite_file) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_nothing_the_server_acknowledged_is_lost_or_half_written_when_it_is_killed_mid_stream(tmp_path):
    """Nora's API client streams 1,250 writes; the server is killed with SIGKILL halfway and restarted."""
    with scratch_database("fault") as database_url:
        server = ServerProcess(tmp_path, database_url)
        tokens = server.prepare(("nora",))["tokens"]
        server.start()
        stream = Stream(server, tokens["nora"])
        share = PATIENTS // WRITERS
        writers = [threading.Thread(target=stream.write, args=(range(w * share, (w + 1) * share),), daemon=True)
                   for w in range(WRITERS)]
        try:
            started = time.monotonic()
            for writer in writers:
                writer.start()
            while stream.acknowledged < KILL_AFTER and time.monotonic() - started < 120:
                time.sleep(0.005)
            assert stream.acknowledged >= KILL_AFTER, f"only {stream.acknowledged} writes in 120 s"
            stream.back.clear()  # writers that lose their connection wait for the restart
            server.kill_hard()
            killed_at = stream.acknowledged
            server.start()
            stream.restarted = True
            stream.back.set()
            for writer in writers:
                writer.join(timeout=180)
            assert not any(w.is_alive() for w in writers), "a writer did not finish"
            elapsed = time.monotonic() - started

            # A new write after the restart is acknowledged and reads back exactly.
            status, late = server.api("POST", "/patients", tokens["nora"], patient_body(PATIENTS + 1))
            assert status == 201, late
            assert server.api("GET", f"/patients/{late['id']}", tokens["nora"]) == (200, late)
            stored = server.django(DUMP)
        finally:
            server.stop()
        if not database_url:
            _check_sqlite_file(server)

    print(f"\n{'PostgreSQL' if on_postgresql() else 'SQLite'}: {stream.acknowledged} acknowledged writes "
          f"of {stream.attempted} ({killed_at} before the kill, {stream.acknowledged_after_restart} after the restart), "
          f"{stream.lost_connection} lost with the connection, {elapsed:.1f} s")
    assert stream.refused == []
    assert stream.attempted >= 1000
    assert stream.acknowledged + stream.lost_connection == stream.attempted
    # The kill was in the middle of the stream: many writes were acknowledged by the restarted server.
    assert stream.acknowledged_after_restart > PATIENTS // 4

    # Every acknowledged write is stored with exactly the acknowledged values (and those are what was sent).
    patients, courses = stored["patients"], stored["courses"]
    for pk, acknowledged in stream.patients.items():
        sent = stream.sent[acknowledged["mrn"]]
        assert {k: acknowledged[k] for k in sent} == sent
        assert {**patients[str(pk)]} == {**acknowledged, "created_by": "nora"}
    for pk, acknowledged in stream.courses.items():
        assert courses[str(pk)] == acknowledged
        assert (acknowledged["number"], acknowledged["state"]) == (1, "screening")

    # Nothing nobody sent; a patient in flight at the kill is either wholly stored or not at all.
    late_mrn = patient_body(PATIENTS + 1)["mrn"]
    assert {p["mrn"] for p in patients.values()} <= {*stream.sent, late_mrn}
    unacknowledged = {pk for pk in patients if int(pk) not in stream.patients and patients[pk]["mrn"] != late_mrn}
    assert len(unacknowledged) <= WRITERS  # at most one request in flight per writer
    for pk in unacknowledged:
        sent = stream.sent[patients[pk]["mrn"]]
        assert {k: patients[pk][k] for k in sent} == sent
    assert {c["patient_id"] for c in courses.values() if c["id"] not in stream.courses} <= (
        stream.unacknowledged_courses | {int(pk) for pk in unacknowledged})
    assert all(str(c["patient_id"]) in patients for c in courses.values())

    # Each stored record's creation is in the audit trail, field by field, with the stored values.
    trail = _audit_by_record(stored["audit"])
    for pk, patient in patients.items():
        events = trail.pop(("patients.Patient", pk), [])
        assert events, f"patient {patient['mrn']} is stored without the audit record of its creation"
        assert {e["action"] for e in events} == {"create"}
        assert {e["username"] for e in events} == {"nora"}
        assert {e["patient_id"] for e in events} == {int(pk)}
        fields = {e["field"]: e["new"] for e in events}
        assert {k: fields[k] for k in ("mrn", "family_name", "given_name", "birth_date", "sex")} == {
            k: patient[k] for k in ("mrn", "family_name", "given_name", "birth_date", "sex")}
        assert all(e["old"] == "" for e in events)
    for pk, course in courses.items():
        events = trail.pop(("courses.Course", pk), [])
        assert events, f"course {pk} is stored without the audit record of its creation"
        fields = {e["field"]: e["new"] for e in events}
        assert (fields["patient_id"], fields["number"], fields["state"]) == (str(course["patient_id"]), "1", "screening")
    # No audit record of a creation that is not stored (an audit without its record would be half a write).
    assert [key for key in trail if key[0] in ("patients.Patient", "courses.Course")] == []


def test_the_sqlite_database_keeps_a_write_ahead_log_synced_at_every_commit(tmp_path):
    """journal_mode=WAL and synchronous=FULL (2) on every new connection; writers still wait 20 s for each other."""
    server = ServerProcess(tmp_path, None)  # SQLite whatever the test run uses: this is the SQLite settings block
    reported = server.django(
        "from django.db import connection\n"
        "with connection.cursor() as c:\n"
        "    modes = [c.execute(f'PRAGMA {p}').fetchone()[0] for p in ('journal_mode', 'synchronous', 'busy_timeout')]\n"
        "print(json.dumps(modes))\n")
    assert reported == ["wal", 2, 20_000]
    # WAL is a property of the file: a plain connection opened afterwards sees it too.
    with sqlite3.connect(server.sqlite_file) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)

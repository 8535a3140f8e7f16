"""Durability: the server is killed with ``kill -9`` in the middle of a stream of writes, and nothing it
acknowledged is lost, changed or half-written.

A nurse's API client (Nora) streams new patients, and opens a first course for every fourth of them, at the
real server (``mibg serve``) from four threads at once, while a fifth client saves one course's screening
data over and over (an update of a versioned record with its evaluation and audit records). Every write the server acknowledged (201 with the
stored record) is kept with its returned id and body. In the middle of the stream the server's whole process
group gets SIGKILL; it is restarted on the same database and the clients carry on. Then the database is
read by a separate process and checked: every acknowledged write is there with exactly the acknowledged
values; a write in flight at the kill is either wholly there (record and audit trail) or not at all; there is
nothing that nobody sent; each record's creation is in the audit trail field by field; the edited course's
version, evaluations and audit trail tell the same story of its saves; on SQLite the file
passes ``PRAGMA integrity_check`` and ``foreign_key_check``. Runs on SQLite (a file) and, when the settings
point at PostgreSQL, on a scratch PostgreSQL database.
"""

from __future__ import annotations

import http.client
import sqlite3
import threading
import time
from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone
from server_process import KeptAliveClient, ServerProcess, on_postgresql, scratch_database

from mibg.web.demo import snapshot_data

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
                       "planned_treatment_date": c.planned_treatment_date and c.planned_treatment_date.isoformat(),
                       "version": c.version}
           for c in Course.objects.all()}
audit = [{"model": e.model, "object_id": e.object_id, "action": e.action, "field": e.field, "old": e.old_value,
          "new": e.new_value, "patient_id": e.patient_id, "username": e.username}
         for e in AuditEvent.objects.exclude(action="view")]
edited = Course.objects.get(pk=EDITED)
edits = {"version": edited.version, "weight": json.loads(edited.snapshot_json)["weight_kg"],
         "trail": [[e.old_value, e.new_value] for e in AuditEvent.objects.filter(
             model="courses.Course", object_id=str(edited.pk), field="snapshot_json:weight_kg").order_by("id")],
         "evaluations": [json.loads(e.snapshot_json)["weight_kg"] for e in edited.evaluations.order_by("id")]}
print(json.dumps({"patients": patients, "courses": courses, "audit": audit, "edits": edits}))
"""

# Setup: a course in screening that Nora's second client edits over and over during the stream.
SETUP = """
from datetime import timedelta
from django.utils import timezone
from mibg.web.courses import services
from mibg.web.patients import services as patient_services
from mibg.web.demo import run_course
patient = patient_services.create_patient(people["nora"], {"mrn": "EDITED-1", "given_name": "Ida", "family_name": "Edited",
                                                           "sex": "female", "birth_date": timezone.localdate() - timedelta(days=2555)})
course = services.create_course(people["nora"], patient)
run_course(people, course, timezone.localdate() + timedelta(days=3), until="screening")
out["edited"] = [patient.pk, course.pk]
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


class Editor:
    """Nora's second client: edits one course's screening data (a versioned update of the course with a new
    evaluation and the audit records, in one transaction) one save after another, through the kill."""

    def __init__(self, server: ServerProcess, token: str, course_id: int, back: threading.Event) -> None:
        self.server, self.token, self.course_id, self.back = server, token, course_id, back
        self.stop = threading.Event()
        self.acknowledged: list[str] = []  # the weights of the saves the server acknowledged, in order
        self.unacknowledged: list[str] = []  # sent, but the connection went before the answer
        self.refused: list[tuple[int, object]] = []

    def run(self) -> None:
        client = KeptAliveClient(self.server, self.token)
        t = timezone.localdate() + timedelta(days=3)
        n = 0
        try:
            while not self.stop.is_set():
                self.back.wait(timeout=120)
                try:
                    status, course = client.api("GET", f"/courses/{self.course_id}")
                except (OSError, http.client.HTTPException, ValueError):
                    continue
                weight = str(Decimal("15.00") + n * Decimal("0.01"))  # each save its own weight
                n += 1
                try:
                    status, answer = client.api("POST", f"/courses/{self.course_id}/screening",
                                                {"version": course["version"], "snapshot": snapshot_data(t, weight=weight)})
                except (OSError, http.client.HTTPException, ValueError):
                    self.unacknowledged.append(weight)
                    continue
                (self.acknowledged.append(weight) if status == 201 else self.refused.append((status, answer)))
                self.stop.wait(0.1)  # a person's pace, more or less: the stream of new patients is the load
        finally:
            client.close()


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
        setup = server.prepare(("nora",), SETUP)
        tokens, (edited_patient, edited_course) = setup["tokens"], setup["edited"]
        server.start()
        stream = Stream(server, tokens["nora"])
        editor = Editor(server, tokens["nora"], edited_course, stream.back)
        share = PATIENTS // WRITERS
        writers = [threading.Thread(target=stream.write, args=(range(w * share, (w + 1) * share),), daemon=True)
                   for w in range(WRITERS)]
        editing = threading.Thread(target=editor.run, daemon=True)
        try:
            started = time.monotonic()
            editing.start()
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
            editor.stop.set()
            editing.join(timeout=120)
            assert not editing.is_alive(), "the editor did not finish"
            elapsed = time.monotonic() - started

            # A new write after the restart is acknowledged and reads back exactly.
            status, late = server.api("POST", "/patients", tokens["nora"], patient_body(PATIENTS + 1))
            assert status == 201, late
            assert server.api("GET", f"/patients/{late['id']}", tokens["nora"]) == (200, late)
            stored = server.django(f"EDITED = {edited_course}\n" + DUMP)
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

    # The edited course: each save's update of the course, its evaluation and its audit record were stored
    # together or not at all; every acknowledged save is there, in order, each starting from the one before.
    edits = stored["edits"]
    assert editor.refused == []
    assert len(editor.acknowledged) > 20
    print(f"the edited course: {len(editor.acknowledged)} saves acknowledged, {len(editor.unacknowledged)} lost with the connection")
    assert edits["trail"][0] == ["", "22.0"]  # the setup's screening
    assert all(edits["trail"][i][0] == edits["trail"][i - 1][1] for i in range(1, len(edits["trail"])))
    saved = [new for _old, new in edits["trail"][1:]]
    assert [w for w in saved if w in editor.acknowledged] == editor.acknowledged
    assert set(saved) - set(editor.acknowledged) <= set(editor.unacknowledged)
    assert edits["evaluations"] == ["22.0", *saved]
    assert (edits["version"], edits["weight"]) == (2 + len(saved), saved[-1])

    # Nothing nobody sent; a patient in flight at the kill is either wholly stored or not at all.
    patients.pop(str(edited_patient))
    courses.pop(str(edited_course))
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
    trail.pop(("patients.Patient", str(edited_patient)))
    trail.pop(("courses.Course", str(edited_course)))
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

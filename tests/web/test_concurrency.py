"""Concurrency against the real server (``mibg serve``, one thread and one database connection per request):
two people editing the same course at the same moment lose no update, and a form posted twice at the same
moment stores one record. Runs on a SQLite file and, when the settings point at PostgreSQL, on a scratch
PostgreSQL database.

"Editing a course" is saving its screening data (the PatientSnapshot the eligibility evaluation and the
dose plan are made from): the page and the API both name the course ``version`` they started from, and
mibg.web.safety.update_versioned stores the edit only if the course is still at that version.
"""

from __future__ import annotations

import html
import threading
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.utils import timezone
from server_process import ServerProcess, form_values, scratch_database

from clinic_helpers import PASSWORD
from mibg.web.demo import snapshot_data

ROUNDS = 50
CONFLICT_TAIL = (" was changed by someone else after you opened it. Nothing of yours was saved. Reload the page to see "
                 "the current record, then make your change again.")
CONFLICT = "This course's screening data" + CONFLICT_TAIL

SIGNING_ROUNDS = 5
SETUP = f"SIGNING_ROUNDS = {SIGNING_ROUNDS}\n" + """
from datetime import timedelta
from django.conf import settings
from django.test import Client
from django.utils import timezone
from mibg.web.courses import services
from mibg.web.patients import services as patients
from mibg.web.demo import run_course

def new_course(mrn, days_ahead, until):
    patient = patients.create_patient(people["nora"], {
        "mrn": mrn, "given_name": "Ada", "family_name": "Concurrent", "sex": "female",
        "birth_date": timezone.localdate() - timedelta(days=7 * 365)})
    course = services.create_course(people["nora"], patient)
    run_course(people, course, timezone.localdate() + timedelta(days=days_ahead), until=until)
    return course.pk

out["screening_course"] = new_course("CC-1", 3, "screening")
out["screening_page_course"] = new_course("CC-3", 3, "screening")
out["followup_course"] = new_course("CC-2", -10, "administered")
out["eligible_courses"] = [new_course(f"CC-E{i}", 3, "eligible") for i in range(SIGNING_ROUNDS)]
out["sessions"] = {}
for name in ("nora", "patel"):
    browser = Client()
    browser.force_login(people[name])
    out["sessions"][name] = browser.cookies[settings.SESSION_COOKIE_NAME].value
out["session_cookie"] = settings.SESSION_COOKIE_NAME
"""

EVERYONE = ("patel", "okoye", "chen", "sam", "riley", "nora")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One server for the module (its setup is the slow part); each test works on records of its own."""
    with scratch_database("concurrency") as database_url:
        process = ServerProcess(tmp_path_factory.mktemp("concurrency"), database_url)
        process.setup = process.prepare(EVERYONE, SETUP)
        process.start()
        try:
            yield process
        finally:
            process.stop()


def weight_for(user: str, round_: int) -> str:
    """A weight no other edit uses, so the stored record shows whose edit of which round it is."""
    return str(Decimal({"nora": "16.00", "patel": "20.00"}[user]) + Decimal(round_) * Decimal("0.01"))


class Browser:
    """One person's browser: their session cookie, the CSRF cookie the pages set, forms posted as rendered."""

    def __init__(self, server: ServerProcess, user: str) -> None:
        self.server = server
        self.cookies = {server.setup["session_cookie"]: server.setup["sessions"][user]}

    def _headers(self) -> dict[str, str]:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}

    def _keep(self, headers) -> None:
        for cookie in headers.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]

    def get(self, path: str) -> str:
        status, page, headers = self.server.exchange("GET", path, headers=self._headers())
        assert status == 200, (path, status, page[:300])
        self._keep(headers)
        return page.decode()

    def post(self, path: str, values: dict[str, str]) -> str:
        """Post the form; the page it redirects to (a save or a refusal is always followed by a redirect)."""
        status, page, headers = self.server.exchange(
            "POST", path, urlencode(values).encode(),
            headers={**self._headers(), "Content-Type": "application/x-www-form-urlencoded"})
        assert status == 302, (path, status, page[:300])
        self._keep(headers)
        return headers["Location"]


def test_nora_and_dr_patel_edit_the_same_course_at_the_same_moment_50_times_and_no_update_is_lost(server):
    tokens, course_id = server.setup["tokens"], server.setup["screening_course"]
    t = timezone.localdate() + timedelta(days=3)
    read_together, post_together = threading.Barrier(2, timeout=60), threading.Barrier(2, timeout=60)
    answers: list[tuple[int, str, str, int, int, dict]] = []  # round, user, weight, version used, status, body
    lock = threading.Lock()
    failures: list[BaseException] = []

    def edit(user: str) -> None:
        try:
            for round_ in range(ROUNDS):
                read_together.wait()
                status, course = server.api("GET", f"/courses/{course_id}", tokens[user])
                assert status == 200, course
                post_together.wait()  # both have read the same version; both save now
                weight = weight_for(user, round_)
                status, body = server.api("POST", f"/courses/{course_id}/screening", tokens[user],
                                          {"version": course["version"], "snapshot": snapshot_data(t, weight=weight)})
                with lock:
                    answers.append((round_, user, weight, course["version"], status, body))
        except BaseException as error:
            failures.append(error)
            read_together.abort()
            post_together.abort()

    editors = [threading.Thread(target=edit, args=(user,)) for user in ("nora", "patel")]
    for editor in editors:
        editor.start()
    for editor in editors:
        editor.join(timeout=300)
    assert failures == []

    # Each round: both started from the same version; exactly one edit landed and the other was refused
    # with the conflict message naming the version (nothing overwritten silently, nothing refused for nothing).
    landed: list[tuple[str, str]] = []  # (user, weight) in round order
    for round_ in range(ROUNDS):
        both = sorted((a for a in answers if a[0] == round_), key=lambda a: a[4])
        assert [a[4] for a in both] == [201, 409], both
        assert both[0][3] == both[1][3]
        assert both[1][5] == {"message": CONFLICT, "field": "version"}
        landed.append((both[0][1], both[0][2]))
    refused = [a[2] for a in answers if a[4] == 409]

    record = server.django(f"""
from mibg.web.audit.models import AuditEvent
from mibg.web.courses.models import Course
course = Course.objects.get(pk={course_id})
trail = AuditEvent.objects.filter(model="courses.Course", object_id=str(course.pk), field="snapshot_json:weight_kg")
print(json.dumps({{
    "version": course.version, "weight": json.loads(course.snapshot_json)["weight_kg"],
    "trail": [[e.username, e.old_value, e.new_value] for e in trail.order_by("id")],
    "evaluations": [[e.evaluated_by.username, json.loads(e.snapshot_json)["weight_kg"]]
                    for e in course.evaluations.select_related("evaluated_by").order_by("id")],
    "refused_in_trail": AuditEvent.objects.filter(new_value__in={refused!r}).count(),
}}))
""")
    # The setup's screening (22.0 kg, version 1 -> 2) and then exactly the landed edits, in order, each one
    # starting from the value the previous one left: no edit was lost and none was stored twice.
    assert record["version"] == 2 + ROUNDS
    assert record["weight"] == landed[-1][1]
    before = ["22.0"] + [weight for _, weight in landed[:-1]]
    assert record["trail"][1:] == [[user, old, weight] for (user, weight), old in zip(landed, before, strict=True)]
    assert record["evaluations"][1:] == [[user, weight] for user, weight in landed]
    assert record["trail"][0] == ["nora", "", "22.0"]
    assert record["evaluations"][0] == ["nora", "22.0"]
    assert record["refused_in_trail"] == 0  # a refused edit left nothing behind


def test_nora_and_dr_patel_save_the_same_screening_page_at_the_same_moment_and_one_is_told_of_the_conflict(server):
    """The same race through the pages: both open the screening form of one course, both change the weight and
    press Save together. One save lands (its evaluation is shown); the other is refused with the conflict message."""
    course_id = server.setup["screening_page_course"]
    path = f"/courses/{course_id}/screening/"
    rounds = 15
    outcomes: list[tuple[int, str, str, str]] = []  # round, user, weight, the message the user was shown
    lock = threading.Lock()
    failures: list[BaseException] = []
    opened, saved = threading.Barrier(2, timeout=120), threading.Barrier(2, timeout=120)

    def edit(user: str) -> None:
        browser = Browser(server, user)
        try:
            for round_ in range(rounds):
                opened.wait()
                values = form_values(browser.get(path))
                saved.wait()  # both forms carry the same version; both save now
                weight = weight_for(user, round_ + ROUNDS)
                where = browser.post(path, {**values, "weight_kg": weight})
                page = html.unescape(browser.get(where))
                shown = (CONFLICT if CONFLICT in page else "saved" if "Screening data saved and evaluated" in page
                         else page[page.find('<ul class="messages">'):][:400])
                with lock:
                    outcomes.append((round_, user, weight, shown))
        except BaseException as error:
            failures.append(error)
            opened.abort()
            saved.abort()

    editors = [threading.Thread(target=edit, args=(user,)) for user in ("nora", "patel")]
    for editor in editors:
        editor.start()
    for editor in editors:
        editor.join(timeout=600)
    assert failures == []
    landed = []
    for round_ in range(rounds):
        both = sorted((o for o in outcomes if o[0] == round_), key=lambda o: o[3] != "saved")
        assert [o[3] for o in both] == ["saved", CONFLICT], both
        landed.append((both[0][1], both[0][2]))
    record = server.django(f"""
from mibg.web.audit.models import AuditEvent
from mibg.web.courses.models import Course
course = Course.objects.get(pk={course_id})
trail = AuditEvent.objects.filter(model="courses.Course", object_id=str(course.pk), field="snapshot_json:weight_kg")
print(json.dumps({{"version": course.version, "trail": [[e.username, e.new_value] for e in trail.order_by("id")]}}))
""")
    assert record["trail"][1:] == [list(edit) for edit in landed]
    assert record["version"] == 2 + rounds


def test_a_transfusion_form_posted_twice_at_the_same_moment_stores_one_transfusion(server):
    """Nora's browser sends the same transfusion form twice at once (a double click), 20 times over."""
    course_id = server.setup["followup_course"]
    path = f"/followup/courses/{course_id}/transfusions/new/"
    given_at = timezone.localtime() - timedelta(hours=5)
    rounds = 20
    landed_on: list[str] = []
    lock = threading.Lock()
    browser = Browser(server, "nora")
    for round_ in range(rounds):
        values = {**form_values(browser.get(path)), "product": "platelets",
                  "given_at": given_at.strftime("%Y-%m-%dT%H:%M:%S"), "note": f"double click {round_}"}
        together = threading.Barrier(2, timeout=60)

        def click(values=values, together=together) -> None:
            together.wait()
            where = browser.post(path, values)
            with lock:
                landed_on.append(where)

        clicks = [threading.Thread(target=click) for _ in range(2)]
        for thread in clicks:
            thread.start()
        for thread in clicks:
            thread.join(timeout=60)

    # Both posts of every round end on the follow-up page (one stored, one told it was already stored).
    assert landed_on == [f"/followup/courses/{course_id}/#transfusions"] * (2 * rounds)
    stored = server.django(f"""
from mibg.web.audit.models import AuditEvent
from mibg.web.followup.models import Transfusion
rows = Transfusion.objects.filter(course_id={course_id})
print(json.dumps({{
    "notes": sorted(t.note for t in rows),
    "created": sorted(e.new_value for e in AuditEvent.objects.filter(model="followup.Transfusion", action="create",
                                                                     field="note")),
}}))
""")
    expected = sorted(f"double click {r}" for r in range(rounds))
    assert stored["notes"] == expected
    assert stored["created"] == expected


def test_nora_and_dr_patel_starting_a_course_for_the_same_patient_at_once_open_one_course(server):
    """A patient has one open course at a time; two people pressing "Start a course" together must not open two."""
    tokens = server.setup["tokens"]
    rounds = 15
    answers: list[tuple[int, str, int, dict]] = []
    lock = threading.Lock()
    patients = []
    for round_ in range(rounds):
        status, patient = server.api("POST", "/patients", tokens["nora"], {
            "mrn": f"TWO-{round_}", "family_name": "Race", "given_name": "Ben", "birth_date": "2018-05-06", "sex": "male"})
        assert status == 201, patient
        patients.append(patient["id"])
        together = threading.Barrier(2, timeout=60)

        def start(user: str, round_=round_, patient_id=patient["id"], together=together) -> None:
            together.wait()
            status, body = server.api("POST", f"/patients/{patient_id}/courses", tokens[user])
            with lock:
                answers.append((round_, user, status, body))

        both = [threading.Thread(target=start, args=(user,)) for user in ("nora", "patel")]
        for thread in both:
            thread.start()
        for thread in both:
            thread.join(timeout=60)

    for round_ in range(rounds):
        statuses = sorted(a[2] for a in answers if a[0] == round_)
        assert statuses == [201, 409], [a for a in answers if a[0] == round_]
    refusals = [a[3] for a in answers if a[2] == 409]
    assert {r["message"] for r in refusals} == {"A course is still open: close or stop it before starting another."}
    counts = server.django(f"""
from mibg.web.courses.models import Course
print(json.dumps([Course.objects.filter(patient_id=pk).count() for pk in {patients!r}]))
""")
    assert counts == [1] * rounds


def test_the_same_lab_result_sent_by_nora_and_dr_patel_at_the_same_moment_is_stored_once(server):
    """The labs' "already stored" check (same test, time and value) holds when both arrive together."""
    tokens, course_id = server.setup["tokens"], server.setup["followup_course"]
    rounds = 10
    answers: list[tuple[int, int, dict]] = []
    lock = threading.Lock()
    for round_ in range(rounds):
        collected_at = (timezone.localtime() - timedelta(hours=2, minutes=round_)).isoformat()
        lab = {"test": "platelets", "value": str(40 + round_), "unit": "10^9/L", "lln": "150", "collected_at": collected_at}
        together = threading.Barrier(2, timeout=60)

        def send(user: str, round_=round_, lab=lab, together=together) -> None:
            together.wait()
            status, body = server.api("POST", f"/courses/{course_id}/labs", tokens[user], lab)
            with lock:
                answers.append((round_, status, body))

        both = [threading.Thread(target=send, args=(user,)) for user in ("nora", "patel")]
        for thread in both:
            thread.start()
        for thread in both:
            thread.join(timeout=60)

    for round_ in range(rounds):
        assert sorted(a[1] for a in answers if a[0] == round_) == [201, 422], [a for a in answers if a[0] == round_]
    assert {a[2]["field"] for a in answers if a[1] == 422} == {"collected_at"}
    assert all("this result is already stored" in a[2]["message"] for a in answers if a[1] == 422)
    values = server.django(f"""
from mibg.web.followup.models import LabResult
print(json.dumps(sorted(r.value for r in LabResult.objects.filter(course_id={course_id}, test="platelets"))))
""")
    assert values == sorted(str(40 + r) for r in range(rounds))


def test_dr_patel_and_dr_okoye_signing_the_same_course_at_the_same_moment_sign_one_directive(server):
    """Two authorised users sign a written directive for the same course together: one signature, one conflict."""
    tokens = server.setup["tokens"]
    t = timezone.localdate() + timedelta(days=3)
    answers: list[tuple[int, str, int, dict]] = []
    lock = threading.Lock()
    for course_id in server.setup["eligible_courses"]:
        status, course = server.api("GET", f"/courses/{course_id}", tokens["patel"])
        assert status == 200, course
        body = {"version": course["version"], "mci_per_kg": 18, "preparation": "draximage", "specific_activity": 12,
                "final_volume_ml": 50, "infusion_min": 100, "route": "central_line", "password": PASSWORD,
                "calibration_time": f"{t}T07:00:00-08:00", "administration_time": f"{t}T09:00:00-08:00"}
        together = threading.Barrier(2, timeout=60)

        def sign(user: str, course_id=course_id, body=body, together=together) -> None:
            together.wait()
            status, answer = server.api("POST", f"/courses/{course_id}/directives", tokens[user], body)
            with lock:
                answers.append((course_id, user, status, answer))

        both = [threading.Thread(target=sign, args=(user,)) for user in ("patel", "okoye")]
        for thread in both:
            thread.start()
        for thread in both:
            thread.join(timeout=60)

    for course_id in server.setup["eligible_courses"]:
        mine = sorted((a for a in answers if a[0] == course_id), key=lambda a: a[2])
        assert [a[2] for a in mine] == [201, 409], mine
        assert mine[1][3] == {"message": "This course" + CONFLICT_TAIL, "field": "version"}
    stored = server.django(f"""
from mibg.web.directives.models import WrittenDirective
print(json.dumps([[d.course_id, d.version, d.status, d.signed_by.username]
                  for d in WrittenDirective.objects.filter(course_id__in={server.setup["eligible_courses"]!r}).order_by("course_id")]))
""")
    signers = {a[0]: a[1] for a in answers if a[2] == 201}
    assert stored == [[pk, 1, "signed", signers[pk]] for pk in server.setup["eligible_courses"]]


def test_the_same_new_patient_sent_by_nora_and_dr_patel_at_the_same_moment_is_stored_once(server):
    """The MRN is unique: the second of two simultaneous registrations is refused naming the field, not a 500."""
    tokens = server.setup["tokens"]
    rounds = 10
    answers: list[tuple[int, int, dict]] = []
    lock = threading.Lock()
    for round_ in range(rounds):
        body = {"mrn": f"SAME-{round_}", "family_name": "Twice", "given_name": "Noor", "birth_date": "2017-09-10",
                "sex": "female"}
        together = threading.Barrier(2, timeout=60)

        def register(user: str, round_=round_, body=body, together=together) -> None:
            together.wait()
            status, answer = server.api("POST", "/patients", tokens[user], body)
            with lock:
                answers.append((round_, status, answer))

        both = [threading.Thread(target=register, args=(user,)) for user in ("nora", "patel")]
        for thread in both:
            thread.start()
        for thread in both:
            thread.join(timeout=60)

    for round_ in range(rounds):
        mine = sorted((a for a in answers if a[0] == round_), key=lambda a: a[1])
        assert [a[1] for a in mine] == [201, 422], mine
        assert mine[1][2] == {"message": "another patient has this MRN: MRNs that differ only in spaces or case are "
                                         "the same patient (decisions.md A34)", "field": "mrn"}
    counts = server.django(f"""
from mibg.web.patients.models import Patient
print(json.dumps([Patient.objects.filter(mrn=f"SAME-{{r}}").count() for r in range({rounds})]))
""")
    assert counts == [1] * rounds


def test_a_course_is_not_started_while_the_patients_last_course_is_open_even_past_the_pages_check(people, make_course):
    """The check under the patient lock that the race above needs, called as a second request would reach it."""
    from mibg.web.courses import services

    course = make_course(until="eligible")
    with pytest.raises(services.CourseStillOpen) as refused:
        services.create_course(people["patel"], course.patient)
    assert refused.value.message == "Course 1 is still open: close or stop it before starting another."
    assert course.patient.courses.count() == 1

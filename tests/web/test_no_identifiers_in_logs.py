"""No patient identifier and no secret in the logs or on an error page.

Every logger is captured at DEBUG while Nora, Dr Patel, Sam and Riley take a patient through the clinic on
the pages and the API, while bad input from the corpus is refused (Django logs each 4xx), and while the
server fails (a forced 500 with DEBUG off). Then none of the patient's identifiers (MRN, family and given
name, date of birth) and none of the secrets (the password, the bearer token, the form tokens, the session
id, the secret key) may appear in any log record, traceback included, nor on the 500 page.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from clinic_helpers import PASSWORD
from mibg.web.accounts.models import ApiToken
from mibg.web.courses.models import Course
from mibg.web.patients.models import Patient

MRN, FAMILY, GIVEN, BORN = "LOG-4471", "Quillfeather", "Zephyrine", "2017-05-06"


class Everything(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(self.format(record))  # the formatted message, with its traceback when there is one


@pytest.fixture
def logs():
    handler, root = Everything(), logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler.lines
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def _token(page):
    return page.context["form"]["form_token"].value()


def _flow(client, people, make_course):
    """The patient's course through the pages and the API; returns the secrets that went over the wire."""
    secrets = []
    client.force_login(people["nora"])
    page = client.get("/patients/new/")
    secrets.append(_token(page))
    response = client.post("/patients/new/", {"form_token": _token(page), "mrn": MRN, "family_name": FAMILY,
                                              "given_name": GIVEN, "birth_date": BORN, "sex": "female"})
    assert response.status_code == 302
    patient = Patient.objects.get(mrn=MRN)
    client.get(f"/patients/?q={FAMILY}")
    client.get(f"/patients/{patient.pk}/")

    # the rest of the course through the services, then every page and API read of it
    course = make_course(until="follow-up", days_ahead=-20, mrn="LOG-0002")
    Course.objects.filter(pk=course.pk).update(patient=patient)
    for name, urls in {
        "nora": [f"/courses/{course.pk}/", f"/followup/courses/{course.pk}/", f"/patients/{patient.pk}/"],
        "sam": [f"/courses/{course.pk}/readings/", f"/courses/{course.pk}/release/instructions/"],
        "morgan": ["/audit/", f"/documents/patients/{patient.pk}/fhir.json", "/documents/study-record/"],
    }.items():
        client.force_login(people[name])
        for url in urls:
            assert client.get(url).status_code in (200, 302), url
    page = client.get(f"/followup/courses/{course.pk}/labs/new/")  # morgan may not: a 403 is logged
    assert page.status_code == 403

    # the API with a bearer token
    _token_row, raw = ApiToken.issue(people["patel"], "logs")
    secrets.append(raw)
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    assert client.get(f"/api/patients?q={FAMILY}", **bearer).json()[0]["mrn"] == MRN
    assert client.get(f"/api/patients/{patient.pk}", **bearer).status_code == 200
    assert client.get(f"/api/patients/{patient.pk}/fhir", **bearer).status_code == 200
    assert client.get("/api/patients/987654", **bearer).status_code == 404
    assert client.get("/api/patients", HTTP_AUTHORIZATION=f"Bearer {raw}x").status_code == 401

    # a slice of the bad-input corpus, each refused (and logged by Django as a 4xx)
    bad = [("mrn", MRN), ("birth_date", "2017-02-30"), ("family_name", FAMILY + "\x00")]
    for field, value in bad:
        body = {"mrn": "LOG-9", "family_name": FAMILY, "given_name": GIVEN, "birth_date": BORN, field: value}
        assert client.post("/api/patients", json.dumps(body), content_type="application/json", **bearer).status_code == 422
    assert client.post("/api/patients", "{" + MRN, content_type="application/json", **bearer).status_code == 400
    when = (timezone.localtime(course.administrations.get().started_at) + timedelta(days=3)).isoformat()
    lab = {"test": "anc", "value": "NaN", "unit": "/uL", "collected_at": when}
    assert client.post(f"/api/courses/{course.pk}/labs", json.dumps(lab), content_type="application/json",
                       **bearer).status_code == 422
    client.force_login(people["nora"])
    page = client.get(f"/patients/{patient.pk}/edit/")
    secrets.append(_token(page))
    refused = client.post(f"/patients/{patient.pk}/edit/", {"form_token": _token(page), "version": patient.version,
                                                           "mrn": MRN, "family_name": FAMILY, "given_name": GIVEN,
                                                           "birth_date": "1850-01-01", "sex": "female"})
    assert refused.status_code == 200

    # a real login (with a wrong password first), so the session id is one the server issued
    client.logout()
    assert client.post("/accounts/login/", {"username": "nora", "password": PASSWORD + "x"}).status_code == 200
    assert client.post("/accounts/login/", {"username": "nora", "password": PASSWORD}).status_code == 302
    secrets.append(client.cookies[settings.SESSION_COOKIE_NAME].value)
    return patient, secrets


def _leaks(lines, patient, secrets):
    needles = {"MRN": MRN, "family name": FAMILY, "given name": GIVEN, "birth date": BORN,
               "password": PASSWORD, "secret key": settings.SECRET_KEY, **{f"secret {i}": s for i, s in enumerate(secrets)}}
    return [(what, line[:300]) for line in lines for what, needle in needles.items() if needle and needle in line]


def test_a_whole_course_on_the_pages_and_the_api_logs_no_identifier_and_no_secret(client, people, make_course, logs):
    patient, secrets = _flow(client, people, make_course)
    assert any("Forbidden" in line for line in logs)  # Django's request log was captured: the check can fail
    assert any("Unprocessable" in line or "Bad Request" in line for line in logs)
    assert _leaks(logs, patient, secrets) == []


@override_settings(DEBUG=False, DEBUG_PROPAGATE_EXCEPTIONS=False)
def test_a_server_error_shows_and_logs_no_identifier_and_no_traceback(client, people, make_course, logs, monkeypatch):
    patient, secrets = _flow(client, people, make_course)
    client.force_login(people["nora"])
    client.raise_request_exception = False

    def broken(*args, **kwargs):
        raise RuntimeError("the page could not be drawn")

    monkeypatch.setattr("mibg.web.patients.views.render", broken)
    page = client.get(f"/patients/{patient.pk}/")
    assert page.status_code == 500
    monkeypatch.setattr("mibg.web.api.log_view", broken)
    _row, raw = ApiToken.issue(people["patel"], "500")
    api = client.get(f"/api/patients/{patient.pk}", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.status_code == 500
    assert api.json() == {"message": "An unexpected error occurred; nothing was saved. It has been logged.", "field": None}

    for body in (page.content.decode(), api.content.decode()):
        assert "Traceback" not in body
        assert "RuntimeError" not in body
        assert not [n for n in (MRN, FAMILY, GIVEN, BORN, PASSWORD, raw, settings.SECRET_KEY) if n in body]
    assert any("Internal Server Error" in line and "Traceback" in line for line in logs)  # logged, with the trace
    assert _leaks(logs, patient, [*secrets, raw]) == []


def test_the_servers_request_line_for_a_patient_search_is_logged_without_the_query(client, people):
    """``mibg serve`` (Django's server) logs every request line; Nora's search for a name must not be in it."""
    import io

    server_log = logging.getLogger("django.server")
    handler = next(h for h in server_log.handlers if h.filters)
    stream = io.StringIO()
    # Swapped by hand, not with setStream: that flushes the old stream, which an earlier test's captured stderr
    # (Django set up again inside pytest's capture) may have closed.
    previous, handler.stream = handler.stream, stream
    try:
        server_log.info('"%s" %s %s', f"GET /patients/?q={FAMILY}&page=2 HTTP/1.1", "200", "5120",
                        extra={"server_time": "25/Nov/2026 09:30:00", "status_code": 200})
    finally:
        handler.stream = previous
    assert stream.getvalue() == '[25/Nov/2026 09:30:00] "GET /patients/ HTTP/1.1" 200 5120\n'

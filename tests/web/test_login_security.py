"""Login lockout (5 failures per user and address, 30 minutes), signature re-entries counted, idle timeout.

The clock is moved, never slept on: the ``clock`` fixture pins Django's and django-axes' "now".
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from axes.models import AccessAttempt

from clinic_helpers import PASSWORD
from mibg.web.accounts.models import ApiToken
from mibg.web.audit.models import AuditEvent

WRONG = "Tr0ub4dor&3-not-hers"
LOGIN = "/accounts/login/"
# 2026-11-25 22:00 UTC is 14:00 in Los Angeles (PST, UTC-8, the clinic's zone in the test settings).
START = datetime(2026, 11, 25, 22, 0, tzinfo=UTC)


@pytest.fixture
def clock(monkeypatch):
    """A clock that stands still until moved: ``clock.advance(minutes=29)``."""
    import axes.attempts
    import axes.handlers.proxy
    from django.utils import timezone

    state = {"now": START}

    def now():
        return state["now"]

    # Django's modules call timezone.now(); axes imported ``now`` by name, so both are pinned.
    monkeypatch.setattr(timezone, "now", now)
    monkeypatch.setattr(axes.handlers.proxy, "now", now)
    monkeypatch.setattr(axes.attempts, "now", now)

    class Clock:
        def advance(self, **delta):
            state["now"] += timedelta(**delta)

    return Clock()


def _login(client, username, password, address="127.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def _fail(client, times, username="patel", address="127.0.0.1"):
    return [_login(client, username, WRONG, address) for _ in range(times)]


def _logged_in_as(client):
    response = client.get("/patients/")
    return response.status_code == 200 and response.wsgi_request.user.username


# Lockout at exactly 4, 5 and 6 failures.

def test_after_four_wrong_passwords_dr_patel_still_logs_in(client, people, clock):
    assert [r.status_code for r in _fail(client, 4)] == [200, 200, 200, 200]  # the form again, with its error
    response = _login(client, "patel", PASSWORD)
    assert response.status_code == 302
    assert _logged_in_as(client) == "patel"


def test_the_fifth_wrong_password_locks_dr_patel_out_with_a_page_saying_when_to_retry_and_whom_to_call(client, people, clock):
    responses = _fail(client, 5)
    assert responses[3].status_code == 200
    locked = responses[4]
    assert locked.status_code == 429
    page = locked.content.decode()
    assert "Locked out" in page
    assert "Try again after <strong>2026-11-25 14:30 PST</strong>" in page  # 14:00 PST + 30 minutes
    assert "call <strong>the site administrator</strong>" in page
    assert WRONG not in page
    # Even the right password is refused now, and nobody is logged in.
    right = _login(client, "patel", PASSWORD)
    assert right.status_code == 429
    assert _logged_in_as(client) is False


def test_a_sixth_attempt_while_locked_is_refused_and_does_not_move_the_time_to_retry(client, people, clock):
    _fail(client, 5)
    clock.advance(minutes=10)
    sixth = _login(client, "patel", WRONG)
    assert sixth.status_code == 429
    assert "2026-11-25 14:30 PST" in sixth.content.decode()
    assert AccessAttempt.objects.get(username="patel").failures_since_start == 5


def test_after_the_thirty_minute_cool_off_dr_patel_can_log_in_again(client, people, clock):
    _fail(client, 5)
    clock.advance(minutes=29, seconds=59)
    assert _login(client, "patel", PASSWORD).status_code == 429
    clock.advance(seconds=2)
    assert _login(client, "patel", PASSWORD).status_code == 302
    assert _logged_in_as(client) == "patel"


def test_a_lockout_of_dr_patel_at_one_workstation_locks_neither_her_at_another_nor_nora_at_the_same(client, people, clock):
    _fail(client, 5, address="10.1.1.5")
    assert _login(client, "patel", PASSWORD, address="10.1.1.5").status_code == 429
    assert _login(client, "patel", PASSWORD, address="10.1.1.6").status_code == 302
    client.logout()
    assert _login(client, "nora", PASSWORD, address="10.1.1.5").status_code == 302


def test_a_success_before_the_fifth_failure_starts_the_count_again(client, people, clock):
    _fail(client, 4)
    assert _login(client, "patel", PASSWORD).status_code == 302
    client.post("/accounts/logout/")
    assert [r.status_code for r in _fail(client, 4)] == [200, 200, 200, 200]
    assert _login(client, "patel", PASSWORD).status_code == 302


def test_a_lockout_is_in_the_audit_trail_with_the_address_and_never_the_password(client, people, clock):
    _fail(client, 5, address="10.9.8.7")
    lockout = AuditEvent.objects.get(note__startswith="login locked out")
    assert lockout.action == "refused"
    assert lockout.object_repr == "patel"
    assert lockout.object_id == str(people["patel"].pk)
    assert lockout.user is None  # whoever typed is unknown: not attributed to Dr Patel
    assert "10.9.8.7" in lockout.note
    assert AuditEvent.objects.filter(note__startswith="failed login (wrong password) from 10.9.8.7").count() == 5
    for event in AuditEvent.objects.all():
        assert WRONG not in f"{event.note}{event.old_value}{event.new_value}{event.field}"
    for attempt in AccessAttempt.objects.all():  # axes' own record keeps no form field either
        assert WRONG not in attempt.post_data + attempt.get_data


def test_the_administrator_sees_the_lockout_and_unlocks_dr_patel_and_that_is_recorded(client, people, clock):
    _fail(client, 5, address="10.1.1.5")
    client.force_login(people["admin"])
    page = client.get("/accounts/lockouts/")
    assert page.status_code == 200
    assert "10.1.1.5" in page.content.decode()
    assert "2026-11-25 14:30" in page.content.decode()
    attempt = AccessAttempt.objects.get(username="patel")
    response = client.post("/accounts/lockouts/", {"attempt": attempt.pk})
    assert response.status_code == 302
    assert not AccessAttempt.objects.exists()
    unlock = AuditEvent.objects.get(note__startswith="lockout cleared")
    assert unlock.user == people["admin"]
    assert "patel" in unlock.note
    assert "10.1.1.5" in unlock.note
    client.logout()
    assert _login(client, "patel", PASSWORD, address="10.1.1.5").status_code == 302


def test_nora_the_nurse_cannot_see_or_clear_lockouts(login, people):
    client = login("nora")
    assert client.get("/accounts/lockouts/").status_code == 403
    assert client.post("/accounts/lockouts/", {"attempt": "1"}).status_code == 403


def test_an_unknown_lockout_to_clear_is_named_not_a_crash(client, people):
    client.force_login(people["admin"])
    response = client.post("/accounts/lockouts/", {"attempt": "not-a-number"}, follow=True)
    assert response.status_code == 200
    assert "attempt: that lockout is no longer there" in response.content.decode()


# Signature password re-entry counts toward the same lockout.

@pytest.fixture
def directive_call(client, people, make_course):
    """Dr Patel signing a written directive through the API, with a given password."""
    course = make_course(until="eligible")
    _token, raw = ApiToken.issue(people["patel"], "tests")
    t = course.planned_treatment_date
    body = {"version": course.version, "mci_per_kg": 18, "preparation": "draximage", "specific_activity": 12,
            "final_volume_ml": 50, "infusion_min": 100, "route": "central_line",
            "calibration_time": f"{t}T07:00:00-08:00", "administration_time": f"{t}T09:00:00-08:00"}

    def sign(password):
        import json

        return client.post(f"/api/courses/{course.pk}/directives", json.dumps({**body, "password": password}),
                           content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw}")

    sign.course = course
    return sign


def test_five_wrong_signature_passwords_lock_dr_patel_out_of_signing_and_of_logging_in(client, directive_call, clock):
    statuses = [directive_call(WRONG).status_code for _ in range(5)]
    assert statuses == [403, 403, 403, 403, 429]
    assert directive_call(PASSWORD).status_code == 429  # even the right password signs nothing while locked
    assert not directive_call.course.directives.exists()
    refused = directive_call(WRONG).json()
    assert refused["field"] == "password"
    assert "Try again after 2026-11-25 14:30 PST" in refused["message"]
    assert _login(client, "patel", PASSWORD).status_code == 429


def test_a_correct_signature_clears_the_count_of_wrong_ones(client, directive_call, clock):
    assert [directive_call(WRONG).status_code for _ in range(4)] == [403] * 4
    assert directive_call(PASSWORD).status_code == 201
    assert [r.status_code for r in _fail(client, 4)] == [200] * 4
    assert _login(client, "patel", PASSWORD).status_code == 302


def test_five_wrong_signature_passwords_on_a_page_end_dr_patels_session(client, people, make_course, clock):
    course = make_course(until="administered", days_ahead=-1, residual="100")  # 20 % or more off: a possible medical event
    administration = course.administrations.first()
    client.force_login(people["patel"])
    url = f"/administrations/{administration.pk}/review/"
    token = client.get(url).context["form"]["form_token"].value()
    data = {"form_token": token, "reason": "Residual activity in the line; not a medical event.", "password": WRONG}
    answers = [client.post(url, data) for _ in range(5)]
    assert [a.status_code for a in answers] == [200, 200, 200, 200, 429]
    assert b"password does not match" in answers[3].content
    assert _logged_in_as(client) is False  # the session ended with the lockout
    assert AuditEvent.objects.filter(note__startswith="signature refused", model="treatment.Administration").count() == 5
    administration.refresh_from_db()
    assert not administration.reviewed_at


# Idle timeout: 30 minutes without a request.

def test_a_session_idle_for_just_under_thirty_minutes_goes_on_and_each_request_extends_it(login, clock):
    client = login("nora")
    assert client.get("/patients/").status_code == 200
    for _ in range(3):  # 3 x 29:59 = nearly 90 minutes of work, never 30 idle
        clock.advance(minutes=29, seconds=59)
        assert client.get("/patients/").status_code == 200


def test_after_thirty_idle_minutes_the_next_page_goes_to_the_login_page(login, clock):
    client = login("nora")
    assert client.get("/patients/").status_code == 200
    clock.advance(minutes=30)
    response = client.get("/patients/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/patients/"
    page = client.get(response["Location"]).content.decode()
    assert "Your session ended after 30 minutes without activity" in page
    assert client.get("/patients/").status_code == 302  # the session is gone, not just paused
    assert AuditEvent.objects.filter(username="nora", note__startswith="session ended after 30 idle minutes").exists()


def test_a_form_posted_after_thirty_idle_minutes_is_not_saved(login, clock):
    from mibg.web.patients.models import Patient

    client = login("nora")
    token = client.get("/patients/new/").context["form"]["form_token"].value()
    data = {"form_token": token, "mrn": "IDLE-1", "family_name": "Late", "given_name": "Form", "birth_date": "2019-01-01",
            "sex": "female"}
    clock.advance(minutes=30)
    response = client.post("/patients/new/", data)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert not Patient.objects.filter(mrn="IDLE-1").exists()


def test_an_htmx_request_after_thirty_idle_minutes_sends_the_whole_page_to_the_login_page(login, clock):
    client = login("nora")
    client.get("/patients/")
    clock.advance(minutes=31)
    response = client.get("/patients/", HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response["HX-Redirect"] == "/accounts/login/?next=/patients/"


def test_the_same_form_posted_at_twenty_nine_minutes_is_saved(login, clock):
    from mibg.web.patients.models import Patient

    client = login("nora")
    token = client.get("/patients/new/").context["form"]["form_token"].value()
    clock.advance(minutes=29, seconds=59)
    response = client.post("/patients/new/", {"form_token": token, "mrn": "IDLE-2", "family_name": "Prompt",
                                              "given_name": "Form", "birth_date": "2019-01-01", "sex": "female"})
    assert response.status_code == 302
    assert Patient.objects.filter(mrn="IDLE-2").exists()


# The address the lockout counts by.

def _request(remote, forwarded=None):
    from django.test import RequestFactory

    extra = {"REMOTE_ADDR": remote}
    if forwarded:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_without_a_configured_proxy_a_forwarded_address_is_ignored(settings):
    from mibg.web.accounts.security import client_address

    settings.PROXY_COUNT = 0
    assert client_address(_request("10.0.0.9", "6.6.6.6")) == "10.0.0.9"


def test_behind_one_proxy_the_address_it_appended_counts_not_one_the_client_wrote(settings):
    from mibg.web.accounts.security import client_address

    settings.PROXY_COUNT = 1
    # The client sent "X-Forwarded-For: 6.6.6.6"; the proxy (10.0.0.1) appended the real 192.168.4.20.
    assert client_address(_request("10.0.0.1", "6.6.6.6, 192.168.4.20")) == "192.168.4.20"
    assert client_address(_request("10.0.0.1")) == "10.0.0.1"

"""The TOTP second factor: enrolment, login in two steps, removal, the per-role policy, API tokens.

Expected codes are computed here from RFC 6238 (HMAC-SHA1, 30 s steps, 6 digits) with the standard library,
from the secret the page shows a person to type in; the helper is itself checked against the RFC's vectors.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic_helpers import PASSWORD
from mibg.web.accounts.models import ApiToken, SecondFactorPolicy
from mibg.web.audit.models import AuditEvent

STEP = 30


def rfc6238(secret: bytes, at: float, digits: int = 6) -> str:
    """RFC 6238 section 4 over RFC 4226 section 5.3: HOTP(K, floor(T / 30)) with dynamic truncation."""
    counter = int(at // STEP)
    mac = hmac.new(secret, counter.to_bytes(8, "big"), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = (int.from_bytes(mac[offset:offset + 4], "big") & 0x7FFFFFFF) % 10 ** digits
    return f"{value:0{digits}d}"


@pytest.mark.parametrize(("at", "expected"), [(59, "94287082"), (1111111109, "07081804"), (1234567890, "89005924"),
                                              (20000000000, "65353130")])
def test_the_code_helper_gives_the_rfc_6238_appendix_b_sha1_values(at, expected):
    assert rfc6238(b"12345678901234567890", at, digits=8) == expected


@pytest.fixture
def clock(monkeypatch):
    """Django's clock (sessions, django-otp's wait after a wrong code), moved by hand. Codes use real time."""
    from django.utils import timezone

    state = {"now": datetime.now(UTC)}
    monkeypatch.setattr(timezone, "now", lambda: state["now"])

    class Clock:
        def advance(self, **delta):
            state["now"] += timedelta(**delta)

    return Clock()


def _secret_from_page(page) -> bytes:
    typed = re.search(r'<code id="secret">([A-Z2-7 ]+)</code>', page.content.decode()).group(1).replace(" ", "")
    return base64.b32decode(typed + "=" * (-len(typed) % 8))


def _enrol(client) -> bytes:
    """Set up the app with the previous step's code (accepted: one step either side), so that the current
    code is still unused for the login that follows (a code is accepted once only)."""
    page = client.get("/accounts/two-factor/")
    secret = _secret_from_page(page)
    response = client.post("/accounts/two-factor/", {"code": rfc6238(secret, time.time() - STEP)})
    assert response.status_code == 302, response.content
    return secret


def _password_step(client, username="patel"):
    return client.post("/accounts/login/", {"username": username, "password": PASSWORD})


def _verified(client, secret, at=None):
    return client.post("/accounts/login/code/", {"code": rfc6238(secret, at or time.time()), "next": "/patients/"})


@pytest.fixture
def enrolled(client, people):
    """Dr Patel with a confirmed authenticator app, logged out again; returns the secret."""
    client.force_login(people["patel"])
    secret = _enrol(client)
    client.post("/accounts/logout/")
    return secret


def test_dr_patel_sees_a_qr_code_as_inline_svg_and_the_secret_to_type_in(login):
    client = login("patel")
    page = client.get("/accounts/two-factor/")
    html = page.content.decode()
    assert page.status_code == 200
    assert '<div class="qr" id="qr"><svg' in html
    secret = _secret_from_page(page)
    assert len(secret) == 20  # 160 bits, RFC 4226 section 4's recommended length for HMAC-SHA1
    device = TOTPDevice.objects.get(user__username="patel")
    assert device.confirmed is False  # nothing counts until a code proves the app has the secret
    assert device.bin_key == secret
    assert client.get("/accounts/two-factor/").content.decode().count(_fmt(secret)) == 1  # same secret on reload


def _fmt(secret: bytes) -> str:
    raw = base64.b32encode(secret).decode().rstrip("=")
    return " ".join(raw[i:i + 4] for i in range(0, len(raw), 4))


def test_a_wrong_code_does_not_turn_the_second_factor_on_and_the_current_one_does(login, clock):
    client = login("patel")
    secret = _secret_from_page(client.get("/accounts/two-factor/"))
    right = rfc6238(secret, time.time())
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    refused = client.post("/accounts/two-factor/", {"code": wrong})
    assert refused.status_code == 200
    assert "This code does not match the secret shown" in refused.content.decode()
    assert not TOTPDevice.objects.filter(confirmed=True).exists()
    clock.advance(seconds=2)  # django-otp makes one wait 1 s after a wrong code
    assert client.post("/accounts/two-factor/", {"code": right}).status_code == 302
    assert TOTPDevice.objects.get(user__username="patel").confirmed is True
    event = AuditEvent.objects.get(note__startswith="TOTP second factor set up")
    assert event.user.username == "patel"
    assert right not in event.note
    assert _fmt(secret) not in event.note


def test_a_code_that_is_not_six_digits_is_named_as_such(login):
    client = login("patel")
    client.get("/accounts/two-factor/")
    response = client.post("/accounts/two-factor/", {"code": "12ab56"})
    assert response.context["code_form"].errors["code"] == ["Enter the 6 digits your authenticator app shows now."]


def test_with_a_device_login_is_password_then_code_and_nothing_opens_between(client, enrolled, clock):
    from mibg.web.patients.models import Patient

    response = _password_step(client)
    assert response.status_code == 302
    gated = client.get("/patients/")
    assert gated.status_code == 302
    assert gated["Location"] == "/accounts/login/code/?next=%2Fpatients%2F"
    # A form post between the two steps is redirected, not handled.
    posted = client.post("/patients/new/", {"mrn": "GATE-1", "family_name": "X", "given_name": "Y",
                                            "birth_date": "2019-01-01", "sex": "female"})
    assert posted.status_code == 302
    assert posted["Location"].startswith("/accounts/login/code/")
    assert not Patient.objects.filter(mrn="GATE-1").exists()
    # Nor can the second factor be removed with the password alone.
    assert client.get("/accounts/two-factor/")["Location"].startswith("/accounts/login/code/")
    assert client.get("/accounts/tokens/")["Location"].startswith("/accounts/login/code/")
    done = _verified(client, enrolled)
    assert done.status_code == 302
    assert done["Location"] == "/patients/"
    assert client.get("/patients/").status_code == 200
    assert AuditEvent.objects.filter(username="patel", note__startswith="second factor verified (TOTP)").count() == 1


def test_a_wrong_code_then_an_old_code_are_refused_and_a_used_code_cannot_be_used_again(client, enrolled, clock):
    _password_step(client)
    now = time.time()
    current = rfc6238(enrolled, now)
    wrong = f"{(int(current) + 500_000) % 1_000_000:06d}"
    assert "This code is not right" in client.post("/accounts/login/code/", {"code": wrong}).content.decode()
    clock.advance(seconds=2)
    old = rfc6238(enrolled, now - 3 * STEP)  # 90 s ago: outside the one step either side that is accepted
    if old != current:
        assert "This code is not right" in client.post("/accounts/login/code/", {"code": old}).content.decode()
    clock.advance(seconds=4)
    assert _verified(client, enrolled, now).status_code == 302
    client.post("/accounts/logout/")
    _password_step(client)
    clock.advance(seconds=8)
    replay = client.post("/accounts/login/code/", {"code": current})
    assert "This code is not right, or it was already used" in replay.content.decode()
    assert client.get("/patients/").status_code == 302


def test_five_wrong_codes_lock_dr_patel_out_and_end_the_half_open_session(client, enrolled, clock):
    _password_step(client)
    current = rfc6238(enrolled, time.time())
    wrong = f"{(int(current) + 123_457) % 1_000_000:06d}"
    statuses = []
    for _ in range(5):
        clock.advance(seconds=20)  # past django-otp's growing wait (1, 2, 4, 8 s), so each code is checked
        statuses.append(client.post("/accounts/login/code/", {"code": wrong}).status_code)
    assert statuses == [200, 200, 200, 200, 429]
    assert client.get("/patients/")["Location"].startswith("/accounts/login/")  # logged out, not only gated
    assert _password_step(client).status_code == 429
    assert AuditEvent.objects.filter(note__startswith="failed login (wrong second-factor code)").count() == 5


def test_wrong_codes_still_count_after_a_new_password_login_so_the_password_buys_no_fresh_guesses(client, enrolled, clock):
    _password_step(client)
    current = rfc6238(enrolled, time.time())
    wrong = f"{(int(current) + 250_001) % 1_000_000:06d}"
    for _ in range(4):
        clock.advance(seconds=20)
        assert client.post("/accounts/login/code/", {"code": wrong}).status_code == 200
    client.post("/accounts/logout/")
    assert _password_step(client).status_code == 302  # the password is right: no lockout yet
    clock.advance(seconds=20)
    assert client.post("/accounts/login/code/", {"code": wrong}).status_code == 429  # the 5th wrong code


def test_the_right_code_clears_the_count_of_wrong_ones(client, enrolled, clock):
    from axes.models import AccessAttempt

    _password_step(client)
    current = rfc6238(enrolled, time.time())
    wrong = f"{(int(current) + 250_001) % 1_000_000:06d}"
    for _ in range(4):
        clock.advance(seconds=20)
        client.post("/accounts/login/code/", {"code": wrong})
    assert AccessAttempt.objects.get(username="patel").failures_since_start == 4
    clock.advance(seconds=20)
    assert _verified(client, enrolled).status_code == 302
    assert not AccessAttempt.objects.filter(username="patel").exists()


def test_dr_patel_removes_the_second_factor_only_with_her_password(client, enrolled, clock):
    _password_step(client)
    _verified(client, enrolled)
    refused = client.post("/accounts/two-factor/", {"password": "not-my-password"})
    assert refused.status_code == 200
    assert "The password does not match: nothing was changed." in refused.content.decode()
    assert TOTPDevice.objects.filter(user__username="patel", confirmed=True).exists()
    assert client.post("/accounts/two-factor/", {"password": PASSWORD}).status_code == 302
    assert not TOTPDevice.objects.filter(user__username="patel").exists()
    assert AuditEvent.objects.filter(username="patel", note__startswith="TOTP second factor removed").exists()
    client.post("/accounts/logout/")
    _password_step(client)
    assert client.get("/patients/").status_code == 200  # password alone again


def test_demo_users_without_a_device_log_in_with_their_password_alone(client, people):
    for name in ("patel", "nora", "morgan", "admin"):
        assert _password_step(client, name).status_code == 302
        assert client.get("/accounts/tokens/").status_code == 200
        client.post("/accounts/logout/")


@pytest.fixture
def nurses_need_totp(people):
    return SecondFactorPolicy.objects.create(role="nurse", totp_required=True)


def test_when_nurses_must_use_totp_nora_without_a_device_reaches_only_enrolment(client, people, nurses_need_totp):
    from mibg.web.patients.models import Patient

    _password_step(client, "nora")
    for url in ("/patients/", "/accounts/tokens/", "/audit/", "/admin/"):
        response = client.get(url)
        assert (response.status_code, response["Location"]) == (302, "/accounts/two-factor/"), url
    posted = client.post("/patients/new/", {"mrn": "POL-1", "family_name": "X", "given_name": "Y",
                                            "birth_date": "2019-01-01", "sex": "female"})
    assert posted["Location"] == "/accounts/two-factor/"
    assert not Patient.objects.filter(mrn="POL-1").exists()
    page = client.get("/accounts/two-factor/")
    assert "Your role requires a second factor" in page.content.decode()
    _enrol(client)
    assert client.get("/patients/").status_code == 200


def test_the_policy_does_not_touch_other_roles(client, people, nurses_need_totp):
    _password_step(client, "patel")
    assert client.get("/patients/").status_code == 200


def test_api_tokens_made_without_the_second_factor_stop_working_when_the_role_requires_it(client, people):
    _old, old_raw = ApiToken.issue(people["nora"], "made with a password only")
    assert client.get("/api/patients", HTTP_AUTHORIZATION=f"Bearer {old_raw}").status_code == 200
    SecondFactorPolicy.objects.create(role="nurse", totp_required=True)
    refused = client.get("/api/patients", HTTP_AUTHORIZATION=f"Bearer {old_raw}")
    assert refused.status_code == 401
    assert "requires a second factor" in refused.json()["message"]
    # Nora enrols, logs in with her code, and makes a new token in that verified session: it works.
    _password_step(client, "nora")
    _enrol(client)
    created = client.post("/accounts/tokens/", {"form_token": client.get("/accounts/tokens/").context["form"]["form_token"].value(),
                                                "name": "laptop"})
    new_raw = re.search(r'<code id="new-token">([^<]+)</code>', created.content.decode()).group(1)
    assert ApiToken.objects.get(name="laptop").second_factor is True
    client.post("/accounts/logout/")
    assert client.get("/api/patients", HTTP_AUTHORIZATION=f"Bearer {new_raw}").status_code == 200


def test_the_administrator_changes_the_policy_in_the_admin_and_the_change_is_audited(client, people):
    client.force_login(people["admin"])
    response = client.post("/admin/accounts/secondfactorpolicy/add/", {"role": "physician", "totp_required": "on"})
    assert response.status_code == 302, response.content.decode()[:2000]
    policy = SecondFactorPolicy.objects.get(role="physician")
    assert policy.totp_required is True
    assert policy.changed_by == people["admin"]
    change = AuditEvent.objects.get(model="accounts.SecondFactorPolicy", field="totp_required")
    assert (change.action, change.new_value, change.user) == ("create", "True", people["admin"])
    client.post(f"/admin/accounts/secondfactorpolicy/{policy.pk}/change/", {"role": "physician"})
    off = AuditEvent.objects.filter(model="accounts.SecondFactorPolicy", field="totp_required", action="update").get()
    assert (off.old_value, off.new_value) == ("True", "False")


def test_the_code_page_without_a_password_step_goes_to_the_login_page(client, db):
    assert client.get("/accounts/login/code/")["Location"] == "/accounts/login/"


def test_the_code_page_does_not_send_anyone_to_another_site_afterwards(client, enrolled, clock):
    _password_step(client)
    response = client.post("/accounts/login/code/", {"code": rfc6238(enrolled, time.time()),
                                                     "next": "https://evil.example.com/"})
    assert response["Location"] == "/"  # the front door, which sends each person to their first page


def test_the_api_token_page_records_whether_the_session_was_verified(login, people):
    client = login("riley")
    token = client.get("/accounts/tokens/").context["form"]["form_token"].value()
    client.post("/accounts/tokens/", {"form_token": token, "name": "bench"})
    assert ApiToken.objects.get(name="bench").second_factor is False


def test_the_administrator_sees_devices_without_their_secret_and_removes_a_lost_one_on_the_record(client, people, enrolled):
    device = TOTPDevice.objects.get(user__username="patel")
    client.force_login(people["admin"])
    listing = client.get("/admin/otp_totp/totpdevice/")
    assert listing.status_code == 200
    assert device.key not in listing.content.decode()
    page = client.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/").content.decode()
    assert device.key not in page
    assert _fmt(enrolled).replace(" ", "") not in page
    assert client.get("/admin/otp_totp/totpdevice/add/").status_code == 403
    assert client.post(f"/admin/otp_totp/totpdevice/{device.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()
    removal = AuditEvent.objects.get(note__startswith="TOTP second factor of patel removed by the administrator")
    assert removal.user == people["admin"]

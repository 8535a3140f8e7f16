"""Dr Patel, in a real browser, turns on the second factor: the QR code and the secret, a code to confirm, then
logs out and back in with her password and a code. Codes are computed from the secret as shown (RFC 6238)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time

import pytest

from clinic_helpers import PASSWORD

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in the test thread

pytestmark = [pytest.mark.browser]


def rfc6238(secret: bytes, at: float) -> str:
    """RFC 6238: HMAC-SHA1 of the 30 s step counter, dynamic truncation (RFC 4226 section 5.3), 6 digits."""
    mac = hmac.new(secret, int(at // 30).to_bytes(8, "big"), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    return f"{(int.from_bytes(mac[offset:offset + 4], 'big') & 0x7FFFFFFF) % 1_000_000:06d}"


def test_dr_patel_enrols_an_authenticator_app_logs_out_and_logs_in_with_password_and_code(transactional_db, people,
                                                                                          as_person, shot):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    page = as_person("patel", PASSWORD)
    csp_violations = []
    page.on("console", lambda m: csp_violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.click("text=Second factor")
    page.wait_for_selector("#qr svg")
    box = page.locator("#qr svg").bounding_box()
    assert box["width"] > 100  # drawn at a scannable size
    typed = page.locator("#secret").inner_text().replace(" ", "")
    secret = base64.b32decode(typed + "=" * (-len(typed) % 8))
    shot(page, "two-factor-1-enrolment")

    # The previous step's code (accepted: one step either side) leaves the current one unused for the login.
    page.fill("#id_code", rfc6238(secret, time.time() - 30))
    page.click("text=Confirm and turn on")
    page.wait_for_selector("text=Second factor set up")
    assert "On." in page.locator("main").inner_text()
    assert TOTPDevice.objects.get(user__username="patel").confirmed
    shot(page, "two-factor-2-on")

    page.click("header button:has-text('Log out')")
    page.wait_for_url("**/accounts/login/")
    page.fill("#id_username", "patel")
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/accounts/login/code/**")
    assert "Second step: your code" in page.locator("h1").inner_text()
    shot(page, "two-factor-3-code-step")
    assert page.locator("header a").count() == 0  # no link leads anywhere before the code
    page.fill("#id_code", rfc6238(secret, time.time()))
    page.click("text=Continue")
    page.wait_for_url("**/patients/")
    assert "Dr Asha Patel" in page.locator("header .who").inner_text()
    shot(page, "two-factor-4-logged-in")
    assert csp_violations == []

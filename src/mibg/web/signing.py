"""Electronic signatures: the signer re-enters their password at the moment of signing.

A signature records the printed name, the time and what it means (10 CFR 35.40 for the written directive;
the study chair's decisions, the authorised user's override under 10 CFR 35.63 and the review of a
possible medical event under 10 CFR 35.3045 are signed the same way). A wrong password signs nothing
and is itself recorded.

The password is checked through Django's authenticate() with the request, so django-axes counts a wrong one
toward the login lockout exactly as a wrong password at login (mibg.web.accounts.security): someone
guessing a signer's password at an unattended workstation is stopped after 5 tries, and the session ends.
A correct one clears the count, as a successful login does.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.db import models
from django.http import HttpRequest

from mibg.web.accounts.security import clear_failures
from mibg.web.audit.trail import log_event
from mibg.web.errors import SignatureLockedOut, SignatureRefused


def check_signature(request: HttpRequest, password: str, obj: models.Model, patient: Any, what: str) -> str:
    """The signer's (``request.user``) printed name when the password matches; otherwise record the refusal and raise."""
    if not isinstance(request, HttpRequest):
        raise TypeError("check_signature needs the request (for the lockout count), not the user")
    user: Any = request.user
    signer = None
    if password:
        signer = authenticate(request, username=user.get_username(), password=password, mibg_what="signature")
    if signer is None or signer.pk != user.pk:
        locked = bool(getattr(request, "axes_locked_out", False))
        log_event(user, "refused", obj, patient, note=f"signature refused (wrong password{'; locked out' if locked else ''}): {what}")
        raise SignatureLockedOut() if locked else SignatureRefused()
    clear_failures(user.get_username(), request)
    return str(user.signature_name())

"""Electronic signatures: the signer re-enters their password at the moment of signing.

A signature records the printed name, the time and what it means (10 CFR 35.40 for the written directive;
the study chair's decisions, the authorised user's override under 10 CFR 35.63 and the review of a
possible medical event under 10 CFR 35.3045 are signed the same way). A wrong password signs nothing
and is itself recorded.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from mibg.web.audit.trail import log_event


class SignatureRefused(Exception):
    message = "The password does not match: nothing was signed. Enter your own password to sign."


def check_signature(user: Any, password: str, obj: models.Model, patient: Any, what: str) -> str:
    """The signer's printed name when the password matches; otherwise record the refusal and raise."""
    if not password or not user.check_password(password):
        log_event(user, "refused", obj, patient, note=f"signature refused (wrong password): {what}")
        raise SignatureRefused()
    return user.signature_name()

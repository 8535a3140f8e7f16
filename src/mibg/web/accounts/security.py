"""Login lockout (django-axes) and the audit of signing in and out.

The rule (values in mibg.web.settings): 5 failures for one username from one address lock that pair for
30 minutes. A failure is a wrong password at login, a wrong TOTP code at the second step, or a wrong
password re-entered to sign (mibg.web.signing): all three prove the same thing, that someone at that
address is guessing this person's secret. Another user, or the same user at another workstation, is not
locked. The administrator can unlock at once (/accounts/lockouts/). Every lockout, login, logout and failed
login is in the audit trail with the address; no password or code is ever recorded.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from axes.handlers.proxy import AxesProxyHandler
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model, logout
from django.db.models import Max
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import render
from django.utils import timezone

from mibg.core.times import site_time
from mibg.web.audit.models import AuditEvent

if TYPE_CHECKING:
    class AxesDatabaseHandler:
        """django-axes ships no types: the one method of its database handler that is overridden here."""

        def user_login_failed(self, sender: Any, credentials: dict[str, Any], request: Any = None,
                              **kwargs: Any) -> None: ...
else:
    from axes.handlers.database import AxesDatabaseHandler


def client_address(request: HttpRequest) -> str | None:
    """The address the lockout counts by: the connection's, or the one the configured proxies report.

    X-Forwarded-For is trusted only when MIBG_PROXY_COUNT says proxies are there, and then only the entries
    they appended (counted from the right): a client can write anything to the left of them.
    """
    remote = request.META.get("REMOTE_ADDR") or None  # None, not a made-up word: axes stores it as an address
    count = getattr(settings, "PROXY_COUNT", 0)
    if count <= 0:
        return remote
    entries = [e.strip() for e in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if e.strip()]
    return entries[-count] if len(entries) >= count else remote


class AttemptHandler(AxesDatabaseHandler):
    """Axes' database handler, without the submitted form.

    Axes keeps a failed request's form fields (passwords masked). A failed signature is posted with the
    clinical form it signs (a weight, a dose, a note about a patient), and the attempt log is readable by the
    administrator, who has no access to patient records (mibg.web.permissions): so no field is kept.
    """

    def user_login_failed(self, sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
        if request is None or not hasattr(request, "POST"):
            super().user_login_failed(sender, credentials, request, **kwargs)
            return
        posted, queried = request.POST, request.GET
        request.POST, request.GET = QueryDict(), QueryDict()
        try:
            super().user_login_failed(sender, credentials, request, **kwargs)
        finally:
            request.POST, request.GET = posted, queried


def retry_at(username: str, address: str | None) -> datetime | None:
    """When the pair may try again: the last failure plus the cool-off (None when not locked)."""
    last = AccessAttempt.objects.filter(username=username, ip_address=address).aggregate(t=Max("attempt_time"))["t"]
    return None if last is None else last + settings.AXES_COOLOFF_TIME


def _account(username: str) -> Any:
    return get_user_model().objects.filter(username=username).first() if username else None


def audit_account(username: str, action: str, note: str, *, actor: Any = None, proven: bool = True) -> None:
    """One audit record about an account (no patient).

    ``actor``: who acted when it is someone else (the administrator unlocking). ``proven`` False: whoever
    typed is unknown (a failed login), so the record names the account tried but is not attributed to it.
    """
    account = _account(username)
    user = actor if actor is not None else account if proven else None
    AuditEvent.objects.create(
        user=user, username=getattr(actor, "username", None) or username or "anonymous",
        action=action, model="accounts.User", object_id=str(getattr(account, "pk", "") or ""),
        object_repr=username[:200], note=note)


def lockout_response(request: HttpRequest, original_response: HttpResponse | None = None,
                     credentials: dict[str, Any] | None = None) -> HttpResponse:
    """The lockout page (or JSON for the API): when to retry and whom to call. A locked session ends."""
    username = (credentials or {}).get("username") or getattr(request.user, "username", "") or ""
    address = getattr(request, "axes_ip_address", None) or client_address(request)
    until = retry_at(username, address) or timezone.now() + settings.AXES_COOLOFF_TIME
    if getattr(request, "user", None) is not None and request.user.is_authenticated:
        # Locked while logged in (a signature or a code guessed 5 times): the session ends too.
        request.mibg_logout_reason = "session ended by the lockout"  # type: ignore[attr-defined]
        logout(request)
    when = site_time(until)
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    message = (f"Too many failed attempts ({settings.AXES_FAILURE_LIMIT}) for {username or 'this account'} from "
               f"this computer: locked for {minutes} minutes. Try again after {when}, or call "
               f"{settings.SECURITY_CONTACT} to unlock it sooner.")
    if request.path.startswith("/api/"):
        return JsonResponse({"message": message, "field": "password", "retry_after": until.isoformat()}, status=429)
    return render(request, "mibg/accounts/locked_out.html", {
        "username": username, "when": when, "minutes": minutes, "limit": settings.AXES_FAILURE_LIMIT,
        "contact": settings.SECURITY_CONTACT}, status=429)


def address_of(request: Any) -> str:
    found = getattr(request, "axes_ip_address", None) or (client_address(request) if request is not None else None)
    return found or "an unknown address"


def on_locked_out(sender: Any, request: Any = None, username: str | None = None, ip_address: str | None = None,
                  **kwargs: Any) -> None:
    first = getattr(request, "axes_failures_since_start", None) is not None
    what = (f"login locked out after {settings.AXES_FAILURE_LIMIT} failed attempts" if first
            else "attempt refused: account locked out")
    audit_account(username or "", "refused", f"{what} from {ip_address or address_of(request)} "
                                             f"(at {getattr(request, 'path', '')})", proven=False)


def on_login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    # Django hands over the credentials with the password already masked; only the username is kept.
    what = credentials.get("mibg_what", "wrong password")
    if what == "signature":
        return  # mibg.web.signing records the refused signature with its record and patient
    username = str(credentials.get("username") or "")
    audit_account(username, "refused", f"failed login ({what}) from {address_of(request)}", proven=False)


def clear_failures(username: str, request: Any) -> None:
    """A success clears the failures of this user at this address (none elsewhere)."""
    address = getattr(request, "axes_ip_address", None) or client_address(request)
    if address:
        AxesProxyHandler.reset_attempts(username=username, ip_address=address)


def on_logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit_account(user.username, "login", f"logged in (password) from {address_of(request)}")
    # For a user with a second factor the password is only half the login: the count is cleared by the
    # code (mibg.web.accounts.two_factor). Otherwise a password login between wrong codes would give
    # whoever knows the password 4 fresh guesses at the code each time.
    from django_otp.plugins.otp_totp.models import TOTPDevice

    if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        clear_failures(user.username, request)


def on_logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        reason = getattr(request, "mibg_logout_reason", "logged out")
        audit_account(user.username, "login", f"{reason} from {address_of(request)}")


def connect() -> None:
    from axes.signals import user_locked_out
    from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

    user_locked_out.connect(on_locked_out, dispatch_uid="mibg-audit-lockout")
    user_login_failed.connect(on_login_failed, dispatch_uid="mibg-audit-login-failed")
    user_logged_in.connect(on_logged_in, dispatch_uid="mibg-audit-login")
    user_logged_out.connect(on_logged_out, dispatch_uid="mibg-audit-logout")

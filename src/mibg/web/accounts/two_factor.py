"""The optional TOTP second factor (RFC 6238, django-otp), mandatory per role when the administrator says so.

- Enrolment (/accounts/two-factor/): a QR code (inline SVG, segno) and the secret in base32 for typing in;
  the device counts only once a current code from it has been entered. Removal needs the password again.
- Login: password first (Django's login page, with the lockout); a user with a confirmed device then enters
  a code (/accounts/login/code/) and reaches nothing else until it is right. Wrong codes count toward the
  lockout like wrong passwords (mibg.web.accounts.security).
- Policy: SecondFactorPolicy per role (Django admin, by the administrator). A holder of such a role without a
  device is sent to enrolment and reaches nothing else, pages or form posts, until enrolled and verified.
- API tokens are a separate credential: a token records whether its session was verified with the second
  factor, and a user whose role requires the factor can use only tokens made in such a session.
Everything here is in the audit trail; no secret and no code is ever recorded.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from functools import cache
from typing import Any
from urllib.parse import urlencode

import segno
from axes.handlers.proxy import AxesProxyHandler
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME, authenticate
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_login_failed
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from mibg.core.times import site_time
from mibg.web.accounts.models import SecondFactorPolicy, User
from mibg.web.accounts.security import address_of, audit_account, clear_failures, lockout_response
from mibg.web.permissions import action_required, roles_of

DEVICE_NAME = "Authenticator app"


def confirmed_device(user: Any) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def required_for(user: Any) -> bool:
    """Whether one of the user's roles requires the second factor (SecondFactorPolicy), read now.

    When the user's roles are not read yet in this request (an API call: the token's user), one query reads both
    and keeps the roles on the user object (mibg.web.permissions.roles_of)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if getattr(user, "_mibg_roles", None) is None:
        with connection.cursor() as cursor:
            cursor.execute(_roles_sql(connection.vendor), [True, user.pk])
            rows = cursor.fetchall()
        user._mibg_roles = frozenset(name for name, _ in rows)
        return any(bool(required) for _, required in rows)
    roles = roles_of(user)
    return bool(roles) and SecondFactorPolicy.objects.filter(role__in=roles, totp_required=True).exists()


@cache
def _roles_sql(vendor: str) -> str:
    """The user's roles, each with whether the policy requires the second factor for it: the ORM's
    ``user.groups.annotate(required=Exists(<the role's policy requiring it>)).values_list("name", "required")`` as one plain statement (its
    compiling was most of the check's CPU on every API call, issue 14). One text per database vendor."""
    def q(name: str | None) -> str:  # a column or table name (never None for these fields)
        return connection.ops.quote_name(str(name))

    through = User.groups.through._meta
    group, policy = Group._meta, SecondFactorPolicy._meta
    return (f"SELECT g.{q(group.get_field('name').column)}, EXISTS (SELECT 1 FROM {q(policy.db_table)} p "
            f"WHERE p.{q(policy.get_field('role').column)} = g.{q(group.get_field('name').column)} "
            f"AND p.{q(policy.get_field('totp_required').column)} = %s) "
            f"FROM {q(group.db_table)} g JOIN {q(through.db_table)} ug "
            f"ON ug.{q(through.get_field('group').column)} = g.{q(group.pk.column)} "
            f"WHERE ug.{q(through.get_field('user').column)} = %s")


def is_verified(user: Any) -> bool:
    check = getattr(user, "is_verified", None)
    return bool(check and check())


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME) or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return fallback


def _with_next(url: str, request: HttpRequest) -> str:
    target = request.get_full_path() if request.method == "GET" else ""
    return f"{url}?{urlencode({REDIRECT_FIELD_NAME: target})}" if target and target != "/" else url


def second_factor_gate(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    """A logged-in user who owes a code, or owes an enrolment, reaches only that page and the logout.

    A form posted meanwhile is redirected, not handled: nothing is stored. The API (bearer tokens, checked
    in mibg.web.api) and static files are outside the gate.
    """

    def middleware(request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        # The path first: an API call or a static file does not read the session or the user at all.
        if (not request.path.startswith(("/static/", "/api/")) and user is not None and user.is_authenticated
                and request.path not in (reverse("logout"), reverse("healthz")) and not is_verified(user)):
            code_url, enrol_url = reverse("login_code"), reverse("accounts:two_factor")
            if confirmed_device(user) is not None:
                if request.path != code_url:
                    return redirect(_with_next(code_url, request))
            elif required_for(user) and request.path != enrol_url:
                messages.warning(request, _("Your role requires a second factor: set up an authenticator app before "
                                          "anything else."))
                return redirect(enrol_url)
        return get_response(request)

    return middleware


class CodeForm(forms.Form):
    code = forms.CharField(label=_("6-digit code from your authenticator app"), max_length=10,
                           widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric",
                                                         "autofocus": True}))

    def clean_code(self) -> str:
        code = "".join(self.cleaned_data["code"].split())
        if len(code) != 6 or not code.isdigit():
            raise forms.ValidationError(_("Enter the 6 digits your authenticator app shows now."))
        return code


class PasswordForm(forms.Form):
    password = forms.CharField(label=_("Your password, to confirm"), widget=forms.PasswordInput, strip=False)


def login_code(request: HttpRequest) -> HttpResponse:
    """The second login step. Open to a user who has passed the password step (the gate sends them here)."""
    user = request.user
    if not user.is_authenticated:
        return redirect("login")
    next_url = _safe_next(request, reverse(settings.LOGIN_REDIRECT_URL))
    device = confirmed_device(user)
    if device is None or is_verified(user):
        return redirect(next_url)
    credentials = {"username": user.username}
    if not AxesProxyHandler.is_allowed(request, credentials):
        return lockout_response(request, None, credentials)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        allowed, throttle = device.verify_is_allowed()
        if not allowed:
            form.add_error("code", _("Too many wrong codes: wait until %(until)s, then enter the code your app shows "
                                     "then.") % {"until": site_time(throttle["locked_until"])})
        elif device.verify_token(form.cleaned_data["code"]):
            otp_login(request, device)
            request.session.cycle_key()
            clear_failures(user.username, request)
            audit_account(user.username, "login", f"second factor verified (TOTP) from {address_of(request)}")
            return redirect(next_url)
        else:
            # Counted toward the lockout exactly as a wrong password (axes listens to this signal).
            user_login_failed.send(sender=__name__, request=request,
                                   credentials={"username": user.username, "mibg_what": "wrong second-factor code"})
            form.add_error("code", _("This code is not right, or it was already used. Enter the code your app shows now."))
    return render(request, "mibg/accounts/login_code.html", {"form": form, "next": next_url})


def _pending_device(user: Any) -> TOTPDevice:
    """The device being set up: kept unconfirmed until a code from it is entered (same secret on reload)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    return device or TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


def _secret_base32(device: TOTPDevice) -> str:
    raw = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(raw[i:i + 4] for i in range(0, len(raw), 4))


# "account.tokens" is the action for one's own credentials (mibg.web.permissions): every role has it.
@action_required(get="account.tokens", post="account.tokens")
def two_factor(request: HttpRequest) -> HttpResponse:
    """Set up (QR code, secret, a code to confirm) or remove (password) the authenticator app."""
    user = request.user
    device = confirmed_device(user)
    code_form, password_form = CodeForm(), PasswordForm()
    if request.method == "POST" and device is None:
        pending = _pending_device(user)
        code_form = CodeForm(request.POST)
        if code_form.is_valid():
            with transaction.atomic():
                if pending.verify_token(code_form.cleaned_data["code"]):
                    TOTPDevice.objects.filter(user=user, confirmed=False).exclude(pk=pending.pk).delete()
                    pending.confirmed = True
                    pending.save(update_fields=["confirmed"])
                    otp_login(request, pending)
                    audit_account(user.username, "create", "TOTP second factor set up (authenticator app confirmed "
                                                           "with a current code)")
                    messages.success(request, _("Second factor set up: from now on you log in with your password and "
                                              "a code from the app."))
                    return redirect("accounts:two_factor")
            code_form.add_error("code", _("This code does not match the secret shown: check the app's clock and enter "
                                        "the code it shows now."))
    elif request.method == "POST" and device is not None:
        password_form = PasswordForm(request.POST)
        if password_form.is_valid():
            # A password re-entry goes through authenticate() with the request, so it counts toward the lockout.
            if authenticate(request, username=user.username, password=password_form.cleaned_data["password"],
                            mibg_what="password to remove the second factor") is not None:
                with transaction.atomic():
                    TOTPDevice.objects.filter(user=user).delete()
                    audit_account(user.username, "delete", "TOTP second factor removed (password re-entered)")
                messages.success(request, _("Second factor removed. Your role requires one: set up a new one now.")
                                 if required_for(user) else _("Second factor removed."))
                return redirect("accounts:two_factor")
            # At the 5th failure axes' middleware replaces this page with the lockout page.
            password_form.add_error("password", _("The password does not match: nothing was changed."))
    context: dict[str, Any] = {"device": device, "code_form": code_form, "password_form": password_form,
                               "required": required_for(user)}
    if device is None:
        pending = _pending_device(user)
        context["qr_svg"] = segno.make(pending.config_url, error="m").svg_inline(scale=5, border=2)
        context["secret"] = _secret_base32(pending)
    return render(request, "mibg/accounts/two_factor.html", context)

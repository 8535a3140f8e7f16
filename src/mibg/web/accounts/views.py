"""Personal API tokens: create (shown once), list, revoke. Login lockouts: list, unlock (the administrator)."""

from __future__ import annotations

from axes.models import AccessAttempt
from django import forms
from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mibg.web.accounts.models import ApiToken
from mibg.web.accounts.security import audit_account
from mibg.web.accounts.two_factor import is_verified
from mibg.web.authenticated import AuthenticatedHttpRequest
from mibg.web.errors import AlreadySubmitted
from mibg.web.permissions import action_required
from mibg.web.safety import form_token, once


class TokenForm(forms.Form):
    form_token = forms.CharField(widget=forms.HiddenInput, required=False)
    name = forms.CharField(max_length=100, label=_("What the token is for"))


@action_required(get="account.tokens", post="account.tokens")
def tokens(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = TokenForm(request.POST or None, initial={"form_token": form_token(request)})
    raw = None
    if request.method == "POST" and form.is_valid():
        try:
            # A token made in a session verified with the second factor says so (mibg.web.accounts.two_factor).
            _token, raw = once(request, lambda: ApiToken.issue(request.user, form.cleaned_data["name"],
                                                               second_factor=is_verified(request.user)))
        except AlreadySubmitted as error:
            messages.warning(request, error.message)
            return redirect("accounts:tokens")
        form = TokenForm(initial={"form_token": form_token(request)})
    return render(request, "mibg/accounts/tokens.html", {
        "form": form, "raw": raw, "tokens": request.user.api_tokens.all()})


@action_required(post="account.tokens")
def revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
    return redirect("accounts:tokens")


@action_required(get="account.unlock", post="account.unlock")
def lockouts(request: HttpRequest) -> HttpResponse:
    """Who is locked out now (user and address, until when); the administrator unlocks one, recorded."""
    if request.method == "POST":
        raw = request.POST.get("attempt", "")
        attempt = AccessAttempt.objects.filter(pk=int(raw)).first() if raw.isdigit() else None
        if attempt is None:
            messages.warning(request, _("attempt: that lockout is no longer there (it expired or was cleared)."))
        else:
            username, address = attempt.username or "", attempt.ip_address or ""
            with transaction.atomic():
                AccessAttempt.objects.filter(pk=attempt.pk).delete()
                audit_account(username, "update", f"lockout cleared by the administrator for {username} at {address} "
                                                  f"({attempt.failures_since_start} failures)", actor=request.user)
            messages.success(request, _("%(username)s can log in again from %(address)s.") % {"username": username, "address": address})
        return redirect("accounts:lockouts")
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    rows = [{"attempt": a, "locked": a.failures_since_start >= settings.AXES_FAILURE_LIMIT,
             "until": a.attempt_time + settings.AXES_COOLOFF_TIME}
            for a in AccessAttempt.objects.filter(attempt_time__gt=since).order_by("-attempt_time")]
    return render(request, "mibg/accounts/lockouts.html", {"rows": rows, "limit": settings.AXES_FAILURE_LIMIT})

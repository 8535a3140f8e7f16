"""Personal API tokens: create (shown once), list, revoke."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from mibg.web.accounts.models import ApiToken
from mibg.web.permissions import action_required
from mibg.web.safety import AlreadySubmitted, consume_form_token, form_token


class TokenForm(forms.Form):
    form_token = forms.CharField(widget=forms.HiddenInput, required=False)
    name = forms.CharField(max_length=100, label="What the token is for")


@action_required(get="account.tokens", post="account.tokens")
def tokens(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST or None, initial={"form_token": form_token(request)})
    raw = None
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                consume_form_token(request)
                _token, raw = ApiToken.issue(request.user, form.cleaned_data["name"])
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
    messages.success(request, f"Token “{token.name}” revoked.")
    return redirect("accounts:tokens")

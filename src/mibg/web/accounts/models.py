"""Users (roles are groups; see mibg.web.permissions), API tokens, one-time form tokens, the second-factor policy."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone


class User(AbstractUser):
    #: The name a signature carries, e.g. "Dr Asha Patel, MD" (10 CFR 35.40: the written directive is signed
    #: and dated by the authorised user).
    printed_name = models.CharField(max_length=150, blank=True)

    def signature_name(self) -> str:
        return self.printed_name or self.get_full_name() or self.get_username()


#: How precisely a token's last use is kept.
LAST_USE_STEP = timedelta(minutes=1)


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


class ApiToken(models.Model):
    """A personal API token. Only its SHA-256 is stored; the token itself is shown once when created."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=8)  # to recognise a token in the list without storing it
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    #: Made in a session verified with the second factor. When the owner's role requires one, only such
    #: tokens are accepted (a token made with a password alone would bypass the rule).
    second_factor = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]

    @classmethod
    def issue(cls, user: User, name: str, *, second_factor: bool = False) -> tuple[ApiToken, str]:
        raw = "mibg_" + secrets.token_urlsafe(32)
        token = cls.objects.create(user=user, name=name, prefix=raw[5:13], digest=_digest(raw),
                                   second_factor=second_factor)
        return token, raw

    @classmethod
    def token_for(cls, raw: str) -> ApiToken | None:
        """The live token of an active user for this raw token (its last use noted), or None."""
        token = cls.objects.select_related("user").filter(digest=_digest(raw), revoked_at__isnull=True).first()
        if token is None or not token.user.is_active:
            return None
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at >= LAST_USE_STEP:
            # Recorded to the minute: a write on every API request would make every read wait for the
            # database's writer (bench/RESULTS.md, bench_load.sh).
            cls.objects.filter(pk=token.pk).update(last_used_at=now)
        return token

    @classmethod
    def user_for(cls, raw: str) -> User | None:
        token = cls.token_for(raw)
        return None if token is None else token.user


class SubmissionToken(models.Model):
    """A one-time token in every form that saves: a second submission of the same form is refused."""

    key = models.CharField(max_length=43, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)


def role_choices() -> list[tuple[str, str]]:
    # Imported here: mibg.web.permissions imports Django's auth views, which need this module's User first.
    from mibg.web.permissions import ROLES

    return list(ROLES.items())


class SecondFactorPolicy(models.Model):
    """Per role: whether every holder must log in with a TOTP code. Edited by the administrator; audited."""

    role = models.CharField(max_length=20, choices=role_choices, unique=True)
    totp_required = models.BooleanField("TOTP second factor required", default=False)
    changed_at = models.DateTimeField(default=timezone.now)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")

    class Meta:
        ordering = ["role"]
        verbose_name = "second-factor policy"
        verbose_name_plural = "second-factor policy (per role)"

    def __str__(self) -> str:
        return f"{self.get_role_display()}: TOTP {'required' if self.totp_required else 'optional'}"

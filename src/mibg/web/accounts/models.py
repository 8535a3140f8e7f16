"""Users (roles are groups; see mibg.web.permissions), API tokens, one-time form tokens, the second-factor policy."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from functools import cache
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import connections, models, router
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
        """The live token of an active user for this raw token (its last use noted), or None.

        Read with its user in one plain statement (the ORM's ``select_related(...).filter(...).first()`` gave the
        same row; compiling it was most of the token check's CPU on every API call, issue 14)."""
        db = router.db_for_read(cls)
        with connections[db].cursor() as cursor:
            cursor.execute(_token_sql(db), [_digest(raw)])
            row = cursor.fetchone()
        if row is None:
            return None
        token_fields, user_fields = _token_columns()
        token = cls.from_db(db, [f.attname for f in token_fields], _converted(db, token_fields, row[:len(token_fields)]))
        user = User.from_db(db, [f.attname for f in user_fields], _converted(db, user_fields, row[len(token_fields):]))
        token.user = user
        if not user.is_active:
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


def _token_columns() -> tuple[list[models.Field[Any, Any]], list[models.Field[Any, Any]]]:
    return list(ApiToken._meta.concrete_fields), list(User._meta.concrete_fields)


_token_sql_by_vendor: dict[str, str] = {}


def _token_sql(db: str) -> str:
    """The live token with this digest, and its user: every column of both, in the models' field order."""
    connection = connections[db]
    sql = _token_sql_by_vendor.get(connection.vendor)
    if sql is None:
        def q(name: str | None) -> str:  # a column or table name (never None for these fields)
            return connection.ops.quote_name(str(name))

        token_fields, user_fields = _token_columns()
        columns = [f"t.{q(f.column)}" for f in token_fields] + [f"u.{q(f.column)}" for f in user_fields]
        sql = (f"SELECT {', '.join(columns)} FROM {q(ApiToken._meta.db_table)} t "
               f"JOIN {q(User._meta.db_table)} u ON u.{q(User._meta.pk.column)} = t.{q(ApiToken._meta.get_field('user').column)} "
               f"WHERE t.{q(ApiToken._meta.get_field('digest').column)} = %s "
               f"AND t.{q(ApiToken._meta.get_field('revoked_at').column)} IS NULL")
        _token_sql_by_vendor[connection.vendor] = sql
    return sql


@cache
def _column(field: models.Field[Any, Any]) -> Any:
    return field.get_col(field.model._meta.db_table)


def _converted(db: str, fields: list[models.Field[Any, Any]], values: tuple[Any, ...]) -> list[Any]:
    """Values as the ORM gives them: the backend's converters (SQLite's text datetimes and booleans) and the
    fields' own (``from_db_value``)."""
    connection = connections[db]
    out = []
    for field, value in zip(fields, values, strict=True):
        for convert in connection.ops.get_db_converters(_column(field)):
            value = convert(value, field, connection)
        from_db = getattr(field, "from_db_value", None)
        if from_db is not None:
            value = from_db(value, None, connection)
        out.append(value)
    return out


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

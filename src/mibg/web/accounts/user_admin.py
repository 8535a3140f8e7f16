"""Accounts managed outside the browser: add a user, set a password, give or take roles, deactivate.

One service for the ``mibg user`` command (and any other door that manages accounts). Every change is checked
here, refused with the field it concerns, and written to the audit trail with who ran it. A password is never
taken from a command-line argument (it would sit in the shell history and the process list): the door reads it
from a prompt or standard input and hands it over only to be hashed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from mibg.web import permissions as p
from mibg.web.accounts.models import ApiToken, User
from mibg.web.accounts.security import audit_account

__all__ = ["AccountError", "AccountSummary", "add_user", "change_roles", "deactivate", "list_users", "set_password"]


class AccountError(ValueError):
    """A refused account change; ``field`` names what was wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class AccountSummary:
    username: str
    printed_name: str
    roles: tuple[str, ...]
    active: bool

    def line(self) -> str:
        state = "active" if self.active else "deactivated"
        return f"{self.username:<16} {', '.join(self.roles) or '(no role)':<30} {state:<11} {self.printed_name}"


def _summary(user: User) -> AccountSummary:
    roles = tuple(sorted(user.groups.filter(name__in=list(p.ROLES)).values_list("name", flat=True)))
    return AccountSummary(user.username, user.printed_name, roles, user.is_active)


def _checked_roles(roles: Iterable[str], field: str = "role") -> list[str]:
    chosen = [r.strip().lower() for r in roles]
    unknown = [r for r in chosen if r not in p.ROLES]
    if unknown:
        raise AccountError(field, f"{', '.join(repr(u) for u in unknown)} is not a role; the roles are "
                                  f"{', '.join(p.ROLES)}")
    return sorted(set(chosen))


def _user(username: str) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        raise AccountError("username", f"no user {username!r}")
    return user


def _checked_password(password: str, user: User) -> None:
    if not password:
        raise AccountError("password", "empty")
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise AccountError("password", " ".join(error.messages)) from None


def _apply_roles(user: User, roles: list[str]) -> None:
    for role in p.ROLES:
        Group.objects.get_or_create(name=role)
    user.groups.set(Group.objects.filter(name__in=roles))
    # The admin role is the Django admin's: staff and superuser follow it, so taking the role takes the access.
    is_admin = p.ADMIN in roles
    if user.is_staff != is_admin or user.is_superuser != is_admin:
        user.is_staff = user.is_superuser = is_admin
        user.save(update_fields=["is_staff", "is_superuser"])


def add_user(username: str, roles: Iterable[str], password: str, *, operator: str, printed_name: str = "",
             first_name: str = "", last_name: str = "", email: str = "") -> AccountSummary:
    """Create an active user with these roles. ``operator`` names who ran the door (for the audit trail)."""
    username = username.strip()
    if not username:
        raise AccountError("username", "empty")
    try:
        User.username_validator(username)
    except ValidationError as error:
        raise AccountError("username", " ".join(error.messages)) from None
    if len(username) > 150:
        raise AccountError("username", "longer than 150 characters")
    chosen = _checked_roles(roles)
    if not chosen:
        raise AccountError("role", f"give at least one role ({', '.join(p.ROLES)})")
    if len(printed_name.strip()) > 150:
        raise AccountError("printed_name", "longer than 150 characters")
    if p.PHYSICIAN in chosen and not printed_name.strip():
        # A written directive carries the authorised user's printed name (10 CFR 35.40).
        raise AccountError("printed_name", "a physician signs written directives: give the name a signature prints")
    if User.objects.filter(username__iexact=username).exists():
        raise AccountError("username", f"a user {username!r} already exists")
    candidate = User(username=username, first_name=first_name.strip(), last_name=last_name.strip(),
                     email=email.strip(), printed_name=printed_name.strip())
    _checked_password(password, candidate)
    with transaction.atomic():
        candidate.set_password(password)
        candidate.save()
        _apply_roles(candidate, chosen)
        audit_account(username, "create", f"user added by 'mibg user add' ({operator}); roles: {', '.join(chosen)}",
                      proven=False)
    return _summary(candidate)


def set_password(username: str, password: str, *, operator: str) -> AccountSummary:
    user = _user(username)
    _checked_password(password, user)
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        audit_account(username, "update", f"password set by 'mibg user set-password' ({operator})", proven=False)
    return _summary(user)


def change_roles(username: str, *, add: Iterable[str] = (), remove: Iterable[str] = (),
                 operator: str) -> AccountSummary:
    user = _user(username)
    to_add, to_remove = _checked_roles(add, "add"), _checked_roles(remove, "remove")
    both = set(to_add) & set(to_remove)
    if both:
        raise AccountError("role", f"{', '.join(sorted(both))} is both added and removed")
    before = list(_summary(user).roles)
    after = sorted((set(before) | set(to_add)) - set(to_remove))
    if p.PHYSICIAN in after and not user.printed_name:
        raise AccountError("printed_name", "a physician signs written directives: set the user's printed name first")
    if after == before:
        return _summary(user)
    with transaction.atomic():
        _apply_roles(user, after)
        audit_account(username, "update", f"roles changed by 'mibg user roles' ({operator}): "
                                          f"{', '.join(before) or '(none)'} -> {', '.join(after) or '(none)'}",
                      proven=False)
    return _summary(user)


def deactivate(username: str, *, operator: str) -> AccountSummary:
    """The user can no longer log in and their API tokens stop working. Nothing they signed changes."""
    user = _user(username)
    if not user.is_active:
        return _summary(user)
    from django.utils import timezone

    with transaction.atomic():
        user.is_active = False
        user.save(update_fields=["is_active"])
        revoked = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
        audit_account(username, "update", f"deactivated by 'mibg user deactivate' ({operator}); "
                                          f"{revoked} API token(s) revoked", proven=False)
    return _summary(user)


def list_users() -> list[AccountSummary]:
    return [_summary(u) for u in User.objects.order_by("username").prefetch_related("groups")]

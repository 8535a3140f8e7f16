"""The request of a signed-in user, as django-stubs documents it: ``request.user`` is a :class:`User`.

A page behind :func:`mibg.web.permissions.action_required` (which sends an anonymous visitor to the login page
before the view runs) and an API operation behind :class:`mibg.web.api.TokenAuth` (which sets the token's user
on the request) only ever see a signed-in user; annotating their ``request`` with this type says so to the type
checker, so nothing reads ``request.user`` as ``User | AnonymousUser``.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.translation import gettext as _

from mibg.web.accounts.models import User


class AuthenticatedHttpRequest(HttpRequest):
    user: User


def signed_in_user(request: HttpRequest) -> User:
    """``request.user`` where only a signed-in user gets in (the admin site asks for a staff login first); any
    other visitor is refused."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied(_("Log in first."))
    return user

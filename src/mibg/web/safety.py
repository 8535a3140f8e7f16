"""Saves that are safe against double submission and against two people editing the same record.

- One-time form tokens: every form that saves carries a token; the save consumes it in the same
  transaction, so pressing "Save" twice (or re-posting after "Back") saves once and says so.
- Optimistic locking: records people edit carry a ``version``; an update names the version it was based
  on and is refused when someone saved in between, with a clear message. Nothing is overwritten silently.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.db import models, transaction
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from mibg.web.accounts.models import SubmissionToken

FIELD = "form_token"


class AlreadySubmitted(Exception):
    message = "This form was already submitted; it was saved once and not again."


class Conflict(Exception):
    def __init__(self, what: str) -> None:
        self.message = (f"{what} was changed by someone else after you opened it. Nothing of yours was saved. "
                        "Reload the page to see the current record, then make your change again.")
        super().__init__(self.message)


def issue_form_token(request: HttpRequest) -> str:
    # Tokens older than a day are of no further use; clearing them here keeps the table small.
    SubmissionToken.objects.filter(created_at__lt=timezone.now() - timedelta(days=1)).delete()
    key = secrets.token_urlsafe(32)
    SubmissionToken.objects.create(key=key, user=request.user)
    return key


def form_token(request: HttpRequest) -> str:
    """The token of the form being posted back (kept when the form is shown again with errors), or a new one."""
    posted = request.POST.get(FIELD, "") if request.method == "POST" else ""
    if posted and SubmissionToken.objects.filter(key=posted, user=request.user, used_at__isnull=True).exists():
        return posted
    return issue_form_token(request)


def consume_form_token(request: HttpRequest) -> None:
    """Mark the posted token used, or raise :class:`AlreadySubmitted`. Call inside the saving transaction."""
    key = request.POST.get(FIELD, "")
    used = SubmissionToken.objects.filter(key=key, user=request.user, used_at__isnull=True).update(used_at=timezone.now())
    if used != 1:
        raise AlreadySubmitted()


def field_error(form: Form, error: Any) -> None:
    """Put an error that names a field (``error.field``, ``error.message``) on that field, else on the form."""
    field = getattr(error, "field", None)
    form.add_error(field if field in form.fields else None, error.message)


Notify = Callable[[HttpRequest, str], None]


def save_once(request: HttpRequest, form: Form, save: Callable[[], Any], *, then: Callable[[], HttpResponse],
              said: Callable[[Any], str], field_errors: tuple[type[Exception], ...],
              stop_errors: tuple[type[Exception], ...] = (AlreadySubmitted,), stop_notice: Notify = messages.warning,
              notice: Callable[[Any], Notify] = lambda record: messages.success) -> HttpResponse | None:
    """Save with the one-time form token in one transaction, so a double submission saves once.

    An error naming a field goes back onto the form (returns None: show the form again); a stop (already
    submitted, a conflict, a refused step) is said and leads to ``then()``, as does a save.
    """
    try:
        with transaction.atomic():
            consume_form_token(request)
            record = save()
    except field_errors as error:
        field_error(form, error)
        return None
    except stop_errors as error:
        stop_notice(request, getattr(error, "message", str(error)))
        return then()
    notice(record)(request, said(record))
    return then()


def parse_version(raw: Any) -> int:
    try:
        return int(str(raw))
    except ValueError:
        return -1


def update_versioned(obj: models.Model, expected_version: int, fields: dict[str, Any], what: str) -> None:
    """Write ``fields`` to ``obj`` only if its stored version is still ``expected_version``; bump the version."""
    model = type(obj)
    count = model._default_manager.filter(pk=obj.pk, version=expected_version).update(
        **fields, version=expected_version + 1)
    if count != 1:
        raise Conflict(what)
    for name, value in fields.items():
        setattr(obj, name, value)
    obj.version = expected_version + 1  # type: ignore[attr-defined]


def hold_version(obj: models.Model, expected_version: int, what: str) -> None:
    """Lock ``obj``'s row to the end of the transaction and check it is still at ``expected_version``, else raise
    :class:`Conflict`. For a save that writes other records before its :func:`update_versioned`: two saves from the
    same version then meet here, the second waits for the first and is told of the conflict, rather than failing
    on a unique constraint (PostgreSQL) or being judged against the first one's records (SQLite)."""
    current = type(obj)._default_manager.select_for_update().values_list("version", flat=True).get(pk=obj.pk)
    if current != expected_version:
        raise Conflict(what)

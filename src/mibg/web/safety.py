"""Saves that are safe against double submission and against two people editing the same record.

- One-time form tokens: every form that saves carries a token; the save consumes it in the same
  transaction, so pressing "Save" twice (or re-posting after "Back") saves once and says so.
- One helper for every save a page makes (:func:`save_once`) and every signed action, page or API
  (:func:`signed`): password re-entry, one-time token, one transaction; the save writes its audit record in it.
- Optimistic locking: records people edit carry a ``version``; an update names the version it was based
  on and is refused when someone saved in between, with a clear message. Nothing is overwritten silently.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from django.contrib import messages
from django.db import models, transaction
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from mibg.core.errors import InputError
from mibg.web.accounts.models import SubmissionToken
from mibg.web.errors import STOPS, AlreadySubmitted, BadEntry, Conflict, Refused, SignatureRefused
from mibg.web.signing import check_signature

FIELD = "form_token"


def issue_form_token(request: HttpRequest) -> str:
    # Tokens older than a day are of no further use; clearing them here keeps the table small.
    SubmissionToken.objects.filter(created_at__lt=timezone.now() - timedelta(days=1)).delete()
    key = secrets.token_urlsafe(32)
    user: Any = request.user  # a logged-in user: every page that saves needs one (mibg.web.permissions)
    SubmissionToken.objects.create(key=key, user=user)
    return key


def form_token(request: HttpRequest) -> str:
    """The token of the form being posted back (kept when the form is shown again with errors), or a new one."""
    posted = request.POST.get(FIELD, "") if request.method == "POST" else ""
    user: Any = request.user
    if posted and SubmissionToken.objects.filter(key=posted, user=user, used_at__isnull=True).exists():
        return posted
    return issue_form_token(request)


def consume_form_token(request: HttpRequest) -> None:
    """Mark the posted token used, or raise :class:`AlreadySubmitted`. Call inside the saving transaction."""
    key = request.POST.get(FIELD, "")
    user: Any = request.user
    used = SubmissionToken.objects.filter(key=key, user=user, used_at__isnull=True).update(used_at=timezone.now())
    if used != 1:
        raise AlreadySubmitted()


def field_error(form: Form, error: Any) -> None:
    """Put an error that names a field (``error.field``, ``error.message``; a :class:`BadEntry`'s every field) on
    that field, else on the form."""
    errors = error.errors if isinstance(error, BadEntry) else {getattr(error, "field", None): error.message}
    for field, message in errors.items():
        form.add_error(field if field in form.fields else None, message)


T = TypeVar("T")
Notify = Callable[[HttpRequest, str], None]


@dataclass(frozen=True)
class Signature:
    """The signer's password re-entered for a signed action (mibg.web.signing), on ``record`` of ``patient``;
    ``what`` is how the audit trail names the action when the password is refused."""

    password: str
    record: models.Model
    patient: Any
    what: str


def once(request: HttpRequest, save: Callable[[], T]) -> T:
    """Save in one transaction with the posted form's one-time token consumed in it (:class:`AlreadySubmitted`
    when it was used): a double submission saves once."""
    with transaction.atomic():
        consume_form_token(request)
        return save()


def signed(request: HttpRequest, signature: Signature, save: Callable[[str], T], *, form: bool = True) -> T:
    """THE signed action, for every page and API operation that signs: the password re-entered (a wrong one
    signs nothing, is audited and counts toward the lockout: :class:`SignatureRefused`), then one transaction
    with the form's one-time token consumed (``form=False``: an API call, which has no form) and
    ``save(signer's printed name)``; the save records its own audit event in that transaction."""
    name = check_signature(request, signature.password, signature.record, signature.patient, signature.what)
    if not form:
        with transaction.atomic():
            return save(name)
    return once(request, lambda: save(name))


#: The errors a page puts on the form's field (or on the form): the person corrects and sends again.
FIELD_ERRORS: tuple[type[Exception], ...] = (InputError, Refused, BadEntry)


def _stop_notice(error: Exception) -> Notify:
    return messages.warning if isinstance(error, AlreadySubmitted) else messages.error


def save_once(request: HttpRequest, form: Form | None, save: Callable[..., T], *, then: Callable[[], HttpResponse],
              said: Callable[[T], str] | None = None, done: Callable[[T], HttpResponse] | None = None,
              signature: Signature | None = None, field_errors: tuple[type[Exception], ...] = FIELD_ERRORS,
              stop_errors: tuple[type[Exception], ...] = STOPS, stop_notice: Notify | None = None,
              notice: Callable[[T], Notify] = lambda record: messages.success) -> HttpResponse | None:
    """A page's save: once (:func:`once`), or signed (:func:`signed`: ``save`` then takes the signer's name).

    A refused signature goes onto the password field and an error naming a field onto that field (returns
    None: show the form again; without a ``form``, e.g. a button, it is said as a stop); a stop (already
    submitted, a conflict, a refused step: ``stop_errors``) is said and leads to ``then()``. A save is said (``said``, at the level ``notice`` gives) and leads to
    ``done(record)``, or ``then()``.
    """
    try:
        record = signed(request, signature, save) if signature is not None else once(request, save)
    except SignatureRefused as error:
        if form is None:
            messages.error(request, error.message)
            return then()
        form.add_error("password" if "password" in form.fields else None, error.message)
        return None
    except field_errors as error:
        if form is None:
            field = getattr(error, "field", None)
            messages.error(request, (f"{field}: " if field else "") + getattr(error, "message", str(error)))
            return then()
        field_error(form, error)
        return None
    except stop_errors as error:
        (stop_notice or _stop_notice(error))(request, getattr(error, "message", str(error)))
        return then()
    if said is not None:
        notice(record)(request, said(record))
    return done(record) if done is not None else then()


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

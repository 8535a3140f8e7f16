"""The web layer's one error hierarchy: every refusal names its field and carries its HTTP status.

A service refuses by raising one of these; every door says the same refusal in its own way from the same
object: the API answers ``{"message": ..., "field": ...}`` with ``status`` (:func:`answer`, used by the one
exception handler in :mod:`mibg.web.api`), a page puts the message on the named field of its form or, for a
stop, shows it and goes back to the course (:func:`mibg.web.submit.save_once`, :func:`refusals_shown`).

::

    Refusal                      the base: message, field (None: the whole request), status
    ├── BadEntry            422  a value entered cannot be used (several fields at once: ``errors``)
    ├── Refused             409  the step is not allowed now (the course's state, a missing reason, ...)
    ├── Conflict            409  someone else saved the record after it was opened (field "version")
    ├── NotEditable         409  screening data is changed only while the course is in screening
    ├── CourseStillOpen     409  a patient has one open course at a time
    ├── AlreadySubmitted    409  the form's one-time token was used: saved once and not again
    └── SignatureRefused    403  the password re-entered to sign does not match (field "password")
        └── SignatureLockedOut   too many wrong passwords: the login lockout answers 429 with its retry time

Errors raised below the web layer cannot derive from :class:`Refusal` (the core imports no Django and no
web module) and are answered through the same table in :func:`answer`:

- ``mibg.core.errors.InputError`` 422 with its field; ``mibg.core.course_state.TransitionRefused`` 409;
- Django's ``PermissionDenied`` 403 and ``Http404`` 404; django-ninja's and pydantic's validation errors
  422 naming the field; a missing or bad token 401; a body that is not JSON 400; a body over
  ``DATA_UPLOAD_MAX_MEMORY_SIZE`` 413.

Anything else is a server error (500): logged, and answered without detail ("nothing was saved").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, ClassVar

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_stubs_ext import StrOrPromise
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from pydantic import ValidationError as PydanticValidationError

from mibg.core.course_state import CourseState, TransitionRefused
from mibg.core.errors import InputError


class Refusal(Exception):
    """What a person asked for is refused: ``message`` says why, ``field`` names what to correct (None: the
    request as a whole), ``status`` is the HTTP status the API answers with."""

    status: ClassVar[int] = 409
    #: The field named when none is given (a class's own, e.g. "password" for a signature).
    default_field: ClassVar[str | None] = None
    #: The message said when none is given.
    default_message: ClassVar[StrOrPromise] = gettext_lazy("This is refused.")

    def __init__(self, message: StrOrPromise | None = None, field: str | None = None) -> None:
        # Said in the active language (English unless a door chose another), as text from here on.
        self.message = str(message if message is not None else self.default_message)
        self.field = field if field is not None else self.default_field
        super().__init__(self.message)


class BadEntry(Refusal):
    """What a person entered cannot be stored: ``errors`` maps each field (None: the whole form) to a message."""

    status = 422

    def __init__(self, errors: dict[str | None, str]) -> None:
        self.errors = errors
        first = next(iter(errors))
        super().__init__(errors[first], first)


class Refused(Refusal):
    """The step is not allowed now: the course's state, a missing reason, a rule of the protocol."""

    status = 409


class Conflict(Refusal):
    """Someone else saved the record after it was opened (each record's ``version``): nothing was saved."""

    default_field = "version"

    def __init__(self, what: str) -> None:
        super().__init__(_("%(what)s was changed by someone else after you opened it. Nothing of yours was saved. "
                           "Reload the page to see the current record, then make your change again.") % {"what": what})


class NotEditable(Refusal):
    """Screening data is changed only while the course is in screening."""

    def __init__(self, state: CourseState) -> None:
        super().__init__(_("Screening data can be changed only while the course is in screening; it is "
                           "'%(state)s'. Its snapshot is kept as it was evaluated.") % {"state": state.label})


class CourseStillOpen(Refusal):
    """A patient has one open course at a time: the next is started once the last is closed."""

    def __init__(self, number: int) -> None:
        self.number = number
        super().__init__(_("Course %(number)s is still open: close or stop it before starting another.")
                         % {"number": number})


class AlreadySubmitted(Refusal):
    """The form's one-time token was used (pressed twice, or posted again after "Back")."""

    status = 409
    default_message = gettext_lazy("This form was already submitted; it was saved once and not again.")


class SignatureRefused(Refusal):
    """The password re-entered to sign does not match the signer's: nothing was signed (and this is audited)."""

    status = 403
    default_field = "password"
    default_message = gettext_lazy("The password does not match: nothing was signed. Enter your own password to "
                                   "sign.")


class SignatureLockedOut(SignatureRefused):
    """Too many wrong passwords: the login lockout (django-axes) answers, with 429 and the time to retry."""

    default_message = gettext_lazy("Too many wrong passwords: nothing was signed, and this account is locked out "
                                   "from this computer. See the lockout page for when to try again and whom to call.")


@dataclass(frozen=True)
class Answer:
    """What a door says for an error: the HTTP status, the message and the field it names."""

    status: int
    message: StrOrPromise  # text, or marked text said in the active language when it is written out
    field: str | None = None


#: The server error's answer: no detail of the error reaches the caller.
UNEXPECTED = Answer(500, gettext_lazy("An unexpected error occurred; nothing was saved. It has been logged."))
#: A body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (2.5 MB; file uploads excepted).
TOO_LARGE = gettext_lazy("The request is too large (more than 2.5 MB of form or JSON data): nothing was read or "
                         "saved.")


def _validation_answer(errors: list[Any], drop: tuple[str, ...]) -> Answer:
    """The first validation error, naming its field (a JSON path); an empty or missing body names "body"."""
    first = errors[0] if errors else {"msg": _("invalid request"), "loc": []}
    where = [str(p) for p in first.get("loc", [])]
    field = ".".join(p for p in where if p not in drop) or ("body" if "body" in where else None)
    return Answer(422, str(first.get("msg", _("invalid request"))).removeprefix("Value error, "), field)


def _http_answer(exc: HttpError) -> Answer:
    cause = exc.__cause__
    if isinstance(cause, RequestDataTooBig):  # django-ninja reads the body inside its parser (a 400 caused by it)
        return answer(cause)
    if exc.status_code == 400 and isinstance(cause, InputError):  # JSON text that cannot be stored
        return answer(cause)
    if exc.status_code == 400:  # django-ninja's "Cannot parse request body": the body is not JSON (or not UTF-8)
        return Answer(400, _("The request body is not valid JSON (UTF-8): send a JSON object."), "body")
    return Answer(exc.status_code, str(exc))


def answer(exc: BaseException) -> Answer:
    """The answer for ``exc`` (see the table in this module's docstring): every refusal names the field to
    correct where there is one; anything that is not a refusal is :data:`UNEXPECTED`."""
    if isinstance(exc, Refusal):
        return Answer(exc.status, exc.message, exc.field)
    if isinstance(exc, InputError):
        return Answer(422, exc.message, exc.field)
    if isinstance(exc, TransitionRefused):
        return Answer(409, exc.message)
    if isinstance(exc, PermissionDenied):
        return Answer(403, str(exc) or _("Your role does not allow this."))
    if isinstance(exc, Http404):
        return Answer(404, _("No such record."))
    if isinstance(exc, RequestDataTooBig):
        return Answer(413, str(TOO_LARGE), "body")
    if isinstance(exc, AuthenticationError):
        return Answer(401, _("A valid API token is required: send 'Authorization: Bearer <token>'."))
    if isinstance(exc, NinjaValidationError):
        return _validation_answer(list(exc.errors), ("body", "payload", "query", "path"))
    if isinstance(exc, PydanticValidationError):
        return _validation_answer(list(exc.errors()), ())
    if isinstance(exc, HttpError):
        return _http_answer(exc)
    return UNEXPECTED


#: The errors a page shows as a stop (said, then back to where the person came from), not on a field.
STOPS: tuple[type[Exception], ...] = (AlreadySubmitted, Conflict, TransitionRefused)

ViewFunc = Callable[..., Any]


def refusals_shown(to: Callable[..., Any]) -> Callable[[ViewFunc], ViewFunc]:
    """Decorate a view: a refusal escaping it (any :class:`Refusal`, ``InputError`` or ``TransitionRefused``) is
    shown to the person as an error message on the page ``to(request, *args, **kwargs)`` returns (a redirect),
    never as a server error. Errors that are not refusals go on to the server-error page."""

    def decorate(view: ViewFunc) -> ViewFunc:
        @wraps(view)
        def wrapper(request: Any, *args: Any, **kwargs: Any) -> Any:
            from django.contrib import messages

            try:
                return view(request, *args, **kwargs)
            except (Refusal, InputError, TransitionRefused) as error:
                messages.error(request, answer(error).message)
                return to(request, *args, **kwargs)

        return wrapper

    return decorate

"""Field types and the error answers shared by the API's schemas.

pydantic reads a JSON number as a Unix timestamp for a ``datetime`` (1710000000 -> 2024-03-09T16:00:00Z): a
number typed into a time field would then be a real, wrong time. The API takes times as ISO 8601 text only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from ninja import Schema
from pydantic import BeforeValidator


def _iso_text(value: Any) -> Any:
    if not isinstance(value, (str, datetime)):
        raise ValueError("give the time as ISO 8601 text with its UTC offset, e.g. 2026-03-02T09:30:00-08:00")
    return value


#: A date and time given as ISO 8601 text (never a number).
IsoDatetime = Annotated[datetime, BeforeValidator(_iso_text)]


class LockedOut(Schema):
    """429: too many wrong passwords or codes for this user from this address (django-axes; see
    mibg.web.accounts.security). ``retry_after`` is when the lock ends (UTC, ISO 8601)."""

    message: str
    field: str | None = None
    retry_after: datetime


class ErrorOut(Schema):
    """Every refusal of the API (mibg.web.errors): what is wrong, and the field to correct (None: the request)."""

    message: str
    field: str | None = None


#: The error answers every operation documents (OpenAPI), one schema for all.
ERRORS: dict[int, type[Schema]] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut,
                                   413: ErrorOut, 422: ErrorOut, 429: LockedOut}

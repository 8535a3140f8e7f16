"""The one error the reports raise for a record they cannot build a correct document from."""

from __future__ import annotations


class ReportInputError(ValueError):
    """A record field is missing, malformed or inconsistent. ``field`` names it (e.g. ``directive.weight_kg``).

    A report is never built around bad data: a signed document with a wrong number is worse than none.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

"""Numbers as a person types them, read exactly (``Decimal``), or refused naming the field.

Apart from :mod:`mibg.core.units` so that the plausible ranges (:mod:`mibg.core.plausibility`), which
:mod:`mibg.core.units` uses for weights and activities, can parse without importing it back (no import circle).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from mibg.core.errors import InputError

#: A number as a person types it: ASCII digits, an optional sign, one decimal point and an optional exponent
#: (5e6 CD34+ cells/kg). No digit separators ("2_2"), no other scripts' digits, no spaces inside.
NUMBER_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)
#: NaN and the infinities are read (and then refused as not finite, with their own message).
_SPECIAL = re.compile(r"[+-]?(?:nan|snan|inf|infinity)", re.IGNORECASE)


def parse_decimal(
    field: str,
    raw: object,
    *,
    minimum: Decimal | None = None,
    maximum: Decimal | None = None,
    allow_zero: bool = True,
    unit: str = "",
) -> Decimal:
    """Parse a user-entered number exactly, or raise :class:`InputError` naming ``field``.

    Floats are refused (they are not exact); NaN and infinities are refused.
    """
    if isinstance(raw, bool) or raw is None:
        raise InputError(field, "a number is required")
    if isinstance(raw, float):
        raise InputError(field, "give the number as text or a Decimal, not a binary float")
    text = None if isinstance(raw, Decimal) else str(raw).strip()
    if text is not None and not NUMBER_TEXT.fullmatch(text) and not _SPECIAL.fullmatch(text):
        # Python's Decimal also reads "2_2" as 22 and other scripts' digits ("٢٢"): a typo would be a dose.
        raise InputError(field, f"'{raw}' is not a number (digits 0-9, one decimal point, optional exponent; "
                                "no digit separators)")
    try:
        value = raw if isinstance(raw, Decimal) else Decimal(str(text))
    except (InvalidOperation, ValueError):
        raise InputError(field, f"'{raw}' is not a number") from None
    if not value.is_finite():
        raise InputError(field, f"'{raw}' is not a finite number")
    suffix = f" {unit}" if unit else ""
    if not allow_zero and value == 0:
        raise InputError(field, "must be greater than zero")
    if minimum is not None and value < minimum:
        raise InputError(field, f"{value}{suffix} is below the smallest accepted value {minimum}{suffix}")
    if maximum is not None and value > maximum:
        raise InputError(field, f"{value}{suffix} is above the largest accepted value {maximum}{suffix}")
    return value


__all__ = [
    "NUMBER_TEXT",
    "parse_decimal",
]

"""FHIR JSON with exact decimals: numbers are written from ``Decimal`` text and read back as ``Decimal``.

FHIR R4 (§2.6.2 "decimal") keeps a decimal's precision significant, and JSON numbers are arbitrary
precision; Python's float would turn 0.1 into 0.1000000000000000055... on the way. fhir.resources models
serialise decimals through float, so the export builds plain dicts, validates them with the models, and
writes them with this writer: 0.75 stays 0.75 and 14652.000 stays 14652.000.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any


def dumps(value: Any, indent: int = 2) -> str:
    """JSON text; ``Decimal`` written exactly (no exponent), keys in insertion order."""
    return _write(value, indent, 0) + "\n"


def _number(value: Decimal) -> str:
    if not value.is_finite():
        raise ValueError(f"{value} is not a finite number and cannot be written to FHIR JSON")
    text = format(value, "f")
    return text


def _write(value: Any, indent: int, level: int) -> str:
    pad = " " * (indent * (level + 1))
    end = " " * (indent * level)
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [f"{pad}{json.dumps(str(k), ensure_ascii=False)}: {_write(v, indent, level + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + end + "}"
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        return "[\n" + ",\n".join(f"{pad}{_write(v, indent, level + 1)}" for v in value) + "\n" + end + "]"
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, Decimal):
        return _number(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        raise TypeError("a binary float reached the FHIR writer: give numbers as Decimal")
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    raise TypeError(f"cannot write {type(value).__name__} to FHIR JSON")


def _not_a_number(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number (RFC 8259)")


def loads(text: str | bytes) -> Any:
    """Parse JSON with every non-integer number as ``Decimal`` (integers stay ``int``).

    NaN and Infinity (which Python's parser accepts) are refused, as is nesting too deep to read: a ValueError
    the importer reports, rather than a value no laboratory sends or a RecursionError."""
    try:
        data = json.loads(text, parse_float=Decimal, parse_constant=_not_a_number)
    except RecursionError:
        raise ValueError("the JSON is nested too deeply to read") from None
    _unicode_text(data)
    return data


def _unicode_text(value: Any) -> None:
    """Refuse an unpaired surrogate ("\\udb7a" is legal JSON text but not Unicode): it can be neither stored
    nor shown on a page (UTF-8 cannot encode it)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("the JSON holds text that is not valid Unicode (an unpaired surrogate)") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _unicode_text(key)
            _unicode_text(item)
    elif isinstance(value, list):
        for item in value:
            _unicode_text(item)

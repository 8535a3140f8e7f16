"""The one exact shape of every core result: JSON-ready dictionaries with a schema name and version.

Each result type has ``to_json()`` (a ``dict`` of JSON values) and ``from_json(data)`` (the typed result
back, equal to the one written). The rules, the same for every result (issue 11 "One exact shape per
result"; decisions.md "Units"):

* every Decimal is written as its exact text (``str(Decimal)``: ``"396"``, ``"9.0779"``, ``"1E+12"``) and
  read back only from text, so a stored or reported dose is never a binary float;
* every time is ISO 8601 with its UTC offset (``2026-12-10T09:00:00-08:00``) and is refused without one;
  dates are ``YYYY-MM-DD``;
* every result carries ``schema`` (what it is) and ``schema_version`` (its layout); ``from_json`` refuses any
  other schema or version: a stored shape is converted by a migration, never guessed at while reading;
* values a reader may want beside the exact ones (MBq and GBq beside mCi, a status) are written too and
  checked on reading: a document must never show two different numbers for one quantity.

Reading refuses bad data with :class:`ShapeError` (an :class:`InputError`) naming the path of the field,
e.g. ``dose_plan.request.weight_kg``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any, TypeVar

from mibg.core.errors import InputError

__all__ = [
    "JSON",
    "Reader",
    "ShapeError",
    "day",
    "dec",
    "envelope",
    "moment",
    "num",
]

JSON = dict[str, Any]
E = TypeVar("E", bound=Enum)
T = TypeVar("T")


class ShapeError(InputError):
    """Stored or received JSON that is not the shape it claims to be; ``field`` is the path of the bad value."""


def dec(value: Decimal | None) -> str | None:
    """A Decimal as its exact text (None stays None)."""
    if value is None:
        return None
    if not isinstance(value, Decimal):
        raise TypeError(f"expected a Decimal, not {type(value).__name__}")
    return str(value)


NON_FINITE = {"Infinity": math.inf, "-Infinity": -math.inf, "NaN": math.nan}


def num(value: float | None) -> float | str | None:
    """A fitted float (curve fits only) as a JSON number, which ``repr`` writes exactly; a non-finite one as text
    (``Infinity``, ``-Infinity``, ``NaN``), which JSON has no number for."""
    if value is None or math.isfinite(value):
        return value
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


def moment(value: datetime | None) -> str | None:
    """An aware time as ISO 8601 with its offset; a naive time is a programming error."""
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{value.isoformat()} has no time zone")
    return value.isoformat()


def day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def envelope(schema: str, version: int) -> JSON:
    return {"schema": schema, "schema_version": version}


class Reader:
    """Reads one JSON object field by field, naming the path of whatever is wrong."""

    __slots__ = ("data", "path")

    def __init__(self, data: object, path: str) -> None:
        if not isinstance(data, Mapping):
            raise ShapeError(path, f"expected an object, not {type(data).__name__}")
        self.data: Mapping[str, Any] = data
        self.path = path

    @classmethod
    def result(cls, data: object, schema: str, version: int, path: str) -> Reader:
        """The reader of a top-level result, after checking its schema name and version."""
        reader = cls(data, path)
        found = reader.data.get("schema")
        if found != schema:
            raise ShapeError(f"{path}.schema", f"expected '{schema}', found {found!r}")
        found_version = reader.data.get("schema_version")
        if found_version != version or isinstance(found_version, bool):
            raise ShapeError(f"{path}.schema_version", f"expected version {version}, found {found_version!r}: "
                                                       "a stored result of another version is converted by a migration")
        return reader

    def _at(self, key: str) -> str:
        return f"{self.path}.{key}"

    def raw(self, key: str) -> Any:
        if key not in self.data:
            raise ShapeError(self._at(key), "is missing")
        return self.data[key]

    def _optional(self, key: str) -> Any:
        return self.data.get(key)

    # ---- scalars -------------------------------------------------------------------------------------------

    def decimal(self, key: str) -> Decimal:
        value = self.opt_decimal(key)
        if value is None:
            raise ShapeError(self._at(key), "is required")
        return value

    def opt_decimal(self, key: str) -> Decimal | None:
        raw = self.raw(key)
        if raw is None:
            return None
        if not isinstance(raw, str):
            raise ShapeError(self._at(key), f"an exact number is written as text, not as {type(raw).__name__} {raw!r}")
        try:
            value = Decimal(raw)
        except (InvalidOperation, ValueError):
            raise ShapeError(self._at(key), f"'{raw}' is not a number") from None
        if not value.is_finite():
            raise ShapeError(self._at(key), f"'{raw}' is not a finite number")
        return value

    def text(self, key: str) -> str:
        raw = self.raw(key)
        if not isinstance(raw, str):
            raise ShapeError(self._at(key), f"expected text, not {raw!r}")
        return raw

    def opt_text(self, key: str) -> str | None:
        raw = self.raw(key)
        return None if raw is None else self.text(key)

    def boolean(self, key: str) -> bool:
        raw = self.raw(key)
        if not isinstance(raw, bool):
            raise ShapeError(self._at(key), f"expected true or false, not {raw!r}")
        return raw

    def opt_boolean(self, key: str) -> bool | None:
        return None if self.raw(key) is None else self.boolean(key)

    def integer(self, key: str) -> int:
        raw = self.raw(key)
        if not isinstance(raw, int) or isinstance(raw, bool):
            raise ShapeError(self._at(key), f"expected a whole number, not {raw!r}")
        return raw

    def opt_integer(self, key: str) -> int | None:
        return None if self.raw(key) is None else self.integer(key)

    def floating(self, key: str) -> float:
        """A fitted value that is a float in the core (curve fits only), written by :func:`num`."""
        raw = self.raw(key)
        if isinstance(raw, str) and raw in NON_FINITE:
            return NON_FINITE[raw]
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise ShapeError(self._at(key), f"expected a number, not {raw!r}")
        return float(raw)

    def floats(self, key: str) -> tuple[float, ...]:
        raw = self.raw(key)
        if not isinstance(raw, Sequence) or isinstance(raw, str):
            raise ShapeError(self._at(key), "expected a list of numbers")
        return tuple(Reader({"v": v}, f"{self._at(key)}[{i}]").floating("v") for i, v in enumerate(raw))

    def opt_floating(self, key: str) -> float | None:
        return None if self.raw(key) is None else self.floating(key)

    def time(self, key: str) -> datetime:
        value = self.opt_time(key)
        if value is None:
            raise ShapeError(self._at(key), "is required")
        return value

    def opt_time(self, key: str) -> datetime | None:
        raw = self.raw(key)
        if raw is None:
            return None
        if not isinstance(raw, str):
            raise ShapeError(self._at(key), f"expected an ISO 8601 date-time, not {raw!r}")
        try:
            value = datetime.fromisoformat(raw)
        except ValueError:
            raise ShapeError(self._at(key), f"'{raw}' is not an ISO 8601 date-time") from None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ShapeError(self._at(key), f"'{raw}' has no UTC offset")
        return value

    def day(self, key: str) -> date:
        value = self.opt_day(key)
        if value is None:
            raise ShapeError(self._at(key), "is required")
        return value

    def opt_day(self, key: str) -> date | None:
        raw = self.raw(key)
        if raw is None:
            return None
        if not isinstance(raw, str) or len(raw) != 10:
            raise ShapeError(self._at(key), f"expected a date YYYY-MM-DD, not {raw!r}")
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise ShapeError(self._at(key), f"'{raw}' is not a date YYYY-MM-DD") from None

    def enum(self, key: str, kind: type[E]) -> E:
        raw = self.raw(key)
        try:
            return kind(raw)
        except ValueError:
            known = ", ".join(str(m.value) for m in kind)
            raise ShapeError(self._at(key), f"{raw!r} is not one of {known}") from None

    def opt_enum(self, key: str, kind: type[E]) -> E | None:
        return None if self.raw(key) is None else self.enum(key, kind)

    # ---- nested ---------------------------------------------------------------------------------------------

    def child(self, key: str) -> Reader:
        return Reader(self.raw(key), self._at(key))

    def opt_child(self, key: str) -> Reader | None:
        return None if self.raw(key) is None else self.child(key)

    def items(self, key: str) -> list[Reader]:
        raw = self.raw(key)
        if not isinstance(raw, Sequence) or isinstance(raw, str):
            raise ShapeError(self._at(key), f"expected a list, not {type(raw).__name__}")
        return [Reader(item, f"{self._at(key)}[{i}]") for i, item in enumerate(raw)]

    def texts(self, key: str) -> tuple[str, ...]:
        raw = self.raw(key)
        if not isinstance(raw, Sequence) or isinstance(raw, str) or not all(isinstance(v, str) for v in raw):
            raise ShapeError(self._at(key), "expected a list of text")
        return tuple(raw)

    def decimals(self, key: str) -> tuple[Decimal, ...]:
        raw = self.raw(key)
        if not isinstance(raw, Sequence) or isinstance(raw, str):
            raise ShapeError(self._at(key), "expected a list of exact numbers")
        return tuple(Reader({"v": v}, f"{self._at(key)}[{i}]").decimal("v") for i, v in enumerate(raw))

    def each(self, key: str, read: Callable[[Reader], T]) -> tuple[T, ...]:
        return tuple(read(item) for item in self.items(key))

    # ---- consistency ----------------------------------------------------------------------------------------

    def check(self, key: str, expected: object) -> None:
        """A derived value written for readers must equal the one computed from the exact values."""
        found = self.raw(key)
        if found != expected:
            raise ShapeError(self._at(key), f"{found!r} disagrees with {expected!r} computed from the exact values")

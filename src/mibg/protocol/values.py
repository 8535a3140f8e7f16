"""A constant, site parameter or care-plan parameter of the protocol definition (its value, unit and source), and a
threshold with its unit (:class:`Quantity`).

Apart from :mod:`mibg.protocol.model` so that the sections parsed when first read (:mod:`mibg.protocol.sections`)
and the definition itself share it without importing each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

__all__ = ["Constant", "Quantity", "parse_constant", "parse_params", "quantity_in"]


@dataclass(frozen=True, slots=True)
class Quantity:
    """A number with its unit, e.g. ``Quantity(Decimal("0.75"), "10^9/L")``."""

    value: Decimal
    unit: str

    def __str__(self) -> str:
        return f"{self.value} {self.unit}"


@dataclass(frozen=True, slots=True)
class Constant:
    name: str
    value: Decimal | None
    unit: str
    source: str


def parse_constant(name: str, raw: Mapping[str, Any]) -> Constant:
    """A constant, site parameter or care-plan parameter: its value (exact, or None), unit and source."""
    value = raw.get("value")
    return Constant(
        name=name,
        value=None if value is None else Decimal(str(value)),
        unit=raw["unit"],
        source=raw["source"],
    )


def quantity_in(params: Mapping[str, Any], name: str, owner: str) -> Quantity:
    value = params.get(name)
    if not isinstance(value, Quantity):
        raise KeyError(f"{owner} has no quantity parameter {name}")
    return value


def parse_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Thresholds written as {"value": "0.75", "unit": "10^9/L"} become Quantity objects once, at load time."""
    parsed: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, Mapping) and set(value) == {"value", "unit"}:
            parsed[key] = Quantity(Decimal(str(value["value"])), str(value["unit"]))
        else:
            parsed[key] = value
    return parsed

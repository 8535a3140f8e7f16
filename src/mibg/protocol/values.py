"""A constant, site parameter or care-plan parameter of the protocol definition: its value, unit and source.

Apart from :mod:`mibg.protocol.model` so that the sections parsed when first read (:mod:`mibg.protocol.sections`)
and the definition itself share it without importing each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

__all__ = ["Constant", "parse_constant"]


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

"""Plausibility limits: the range a typed value must lie in before any clinical rule looks at it.

A value outside its range is not "blocked by the protocol": it is bad input (a unit or decimal-point slip, a
wrong year), refused naming the field. The limits are site parameters of the protocol definition
(``nct01370330.json``, ``plausible_<quantity>_min`` / ``plausible_<quantity>_max``), each with its source, so a
site can change one with a recorded reason (``ProtocolDefinition.with_site_parameter``) and every door (form, API,
FHIR import, command) refuses the same values with the same words (issue 11, item 2).

Quantities: ``weight_kg``, ``activity_mci`` (prescribed, assayed, administered: not a residual), ``volume_ml``,
``infusion_min``, ``mci_per_kg``, ``cumulative_mci_per_kg``, ``specific_activity_ci_per_mmol``,
``specific_activity_mci_per_mg``, ``cells_per_kg``, ``decay_span_days``, ``reading_hours``,
``exposure_rate_mr_per_h``, ``birth_year``. Where the definition has no ``_min``, the lower bound is "greater
than zero" (or "zero or more" with ``allow_zero``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from mibg.core.errors import InputError
from mibg.core.numbers import parse_decimal
from mibg.protocol import ProtocolDefinition, load_protocol

PREFIX = "plausible_"
_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class PlausibleRange:
    """The plausible range of one quantity, read from the protocol definition."""

    quantity: str
    minimum: Decimal | None  # None: greater than zero (or zero or more, where the caller allows zero)
    maximum: Decimal
    unit: str
    protocol_label: str

    @property
    def minimum_parameter(self) -> str:
        return f"{PREFIX}{self.quantity}_min"

    @property
    def maximum_parameter(self) -> str:
        return f"{PREFIX}{self.quantity}_max"

    def describe(self) -> str:
        """``2 to 250 kg (site parameters plausible_weight_kg_min/_max, NCT01370330 v1.0.0)``"""
        low = f"{self.minimum}" if self.minimum is not None else "more than 0"
        return f"{low} to {self.maximum} {self.unit} (site parameters {PREFIX}{self.quantity}_min/_max, {self.protocol_label})"


def plausible_range(quantity: str, protocol: ProtocolDefinition | None = None) -> PlausibleRange:
    """The range of ``quantity`` in ``protocol`` (default: the loaded definition)."""
    definition = protocol or load_protocol()
    high = definition.site_parameters.get(f"{PREFIX}{quantity}_max")
    if high is None or high.value is None:
        raise KeyError(f"the protocol definition has no plausibility limit {PREFIX}{quantity}_max")
    low = definition.site_parameters.get(f"{PREFIX}{quantity}_min")
    return PlausibleRange(quantity, None if low is None else low.value, high.value, high.unit, definition.label)


def plausible(quantity: str, field: str, raw: object, *, allow_zero: bool = False,
              protocol: ProtocolDefinition | None = None) -> Decimal:
    """``raw`` parsed exactly (:func:`mibg.core.numbers.parse_decimal`) and inside the plausible range of
    ``quantity``, or :class:`InputError` naming ``field`` and the range with the parameter that sets it."""
    definition = protocol or load_protocol()
    parameters = definition.site_parameters
    high = parameters.get(f"{PREFIX}{quantity}_max")
    low = parameters.get(f"{PREFIX}{quantity}_min")
    if high is not None and high.value is not None:
        # The common case first, without building the range and its label (every door checks these per request).
        value = parse_decimal(field, raw, minimum=_ZERO, allow_zero=allow_zero, unit=high.unit)
        if (low is None or low.value is None or value >= low.value) and value <= high.value:
            return value
    limits = plausible_range(quantity, definition)
    value = parse_decimal(field, raw, minimum=_ZERO, allow_zero=allow_zero, unit=limits.unit)
    if limits.minimum is not None and value < limits.minimum:
        raise InputError(field, f"{value} {limits.unit} is below the smallest plausible value {limits.minimum} "
                                f"{limits.unit} ({limits.minimum_parameter}, {limits.protocol_label}): "
                                "check the unit and the decimal point")
    if value > limits.maximum:
        raise InputError(field, f"{value} {limits.unit} is above the largest plausible value {limits.maximum} "
                                f"{limits.unit} ({limits.maximum_parameter}, {limits.protocol_label}): "
                                "check the unit and the decimal point")
    return value


def earliest_birth_date(protocol: ProtocolDefinition | None = None) -> date:
    """1 January of ``plausible_birth_year_min`` (1900): an earlier date of birth is a typing error."""
    return date(int((protocol or load_protocol()).site(f"{PREFIX}birth_year_min")), 1, 1)


def birth_date_problem(value: date, today: date, protocol: ProtocolDefinition | None = None) -> str | None:
    """Why ``value`` cannot be a patient's date of birth on ``today``, or None (form, API, import, command)."""
    definition = protocol or load_protocol()
    if value > today:
        return "The date of birth is in the future."
    earliest = earliest_birth_date(definition)
    if value < earliest:
        return (f"The date of birth is before {earliest.isoformat()} ({PREFIX}birth_year_min, "
                f"{definition.label}): check the year.")
    return None


#: The module's public surface: what the other layers may import (tests/unit/test_architecture.py).
__all__ = [
    "PREFIX",
    "PlausibleRange",
    "birth_date_problem",
    "earliest_birth_date",
    "plausible",
    "plausible_range",
]

"""Laboratory tests: LOINC codes, UCUM units, and conversion of common unit variants to one canonical unit.

Canonical units (the protocol's own where it states one): counts in 10^9/L, haemoglobin in g/dL,
bilirubin and creatinine in mg/dL (decisions.md A6), AST and ALT in U/L. Anything else is refused with a
message naming the accepted units: a value is never guessed into a unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from mibg.core.errors import InputError


@dataclass(frozen=True, slots=True)
class LabDefinition:
    test: str
    name: str
    loinc: str
    ucum: str  # canonical UCUM unit
    display_unit: str  # the canonical unit as clinicians write it
    factors: dict[str, tuple[Decimal, Decimal]]  # accepted unit spelling -> (multiply by, divide by) to get canonical


_COUNT = {
    "10^9/l": (Decimal(1), Decimal(1)),
    "10*9/l": (Decimal(1), Decimal(1)),
    "x10^9/l": (Decimal(1), Decimal(1)),
    "x 10^9/l": (Decimal(1), Decimal(1)),
    "10e9/l": (Decimal(1), Decimal(1)),
    "10^3/ul": (Decimal(1), Decimal(1)),
    "10*3/ul": (Decimal(1), Decimal(1)),
    "k/ul": (Decimal(1), Decimal(1)),
    "/ul": (Decimal(1), Decimal(1000)),
    "cells/ul": (Decimal(1), Decimal(1000)),
    "/mm3": (Decimal(1), Decimal(1000)),
    "cells/mm3": (Decimal(1), Decimal(1000)),
}

#: Bilirubin: 1 mg/dL = 17.1 umol/L (molar mass 584.66 g/mol); creatinine: 1 mg/dL = 88.4 umol/L (decisions.md A6).
BILIRUBIN_UMOL_PER_MG_DL = Decimal("17.1")
CREATININE_UMOL_PER_MG_DL = Decimal("88.4")

LABS: dict[str, LabDefinition] = {
    "anc": LabDefinition("anc", "Absolute neutrophil count", "751-8", "10*9/L", "10^9/L", _COUNT),
    "platelets": LabDefinition("platelets", "Platelets", "777-3", "10*9/L", "10^9/L", _COUNT),
    "hemoglobin": LabDefinition(
        "hemoglobin", "Haemoglobin", "718-7", "g/dL", "g/dL", {"g/dl": (Decimal(1), Decimal(1)), "g/l": (Decimal(1), Decimal(10))}
    ),
    "bilirubin": LabDefinition(
        "bilirubin",
        "Total bilirubin",
        "1975-2",
        "mg/dL",
        "mg/dL",
        {"mg/dl": (Decimal(1), Decimal(1)), "umol/l": (Decimal(1), BILIRUBIN_UMOL_PER_MG_DL), "µmol/l": (Decimal(1), BILIRUBIN_UMOL_PER_MG_DL)},
    ),
    "ast": LabDefinition("ast", "AST", "1920-8", "U/L", "U/L", {"u/l": (Decimal(1), Decimal(1)), "iu/l": (Decimal(1), Decimal(1))}),
    "alt": LabDefinition("alt", "ALT", "1742-6", "U/L", "U/L", {"u/l": (Decimal(1), Decimal(1)), "iu/l": (Decimal(1), Decimal(1))}),
    "creatinine": LabDefinition(
        "creatinine",
        "Creatinine",
        "2160-0",
        "mg/dL",
        "mg/dL",
        {"mg/dl": (Decimal(1), Decimal(1)), "umol/l": (Decimal(1), CREATININE_UMOL_PER_MG_DL), "µmol/l": (Decimal(1), CREATININE_UMOL_PER_MG_DL)},
    ),
}


def _unit_key(unit: str) -> str:
    return unit.strip().lower().replace("μ", "µ").replace("mcl", "ul").replace("µl", "ul").replace(" ", "")


def lab_definition(test: str) -> LabDefinition:
    try:
        return LABS[test]
    except KeyError:
        raise InputError("test", f"unknown laboratory test '{test}'; known: {', '.join(LABS)}") from None


def conversion_factor(test: str, unit: str) -> tuple[Decimal, Decimal]:
    """(multiplier, divisor) from ``unit`` to the canonical unit of ``test``; :class:`InputError` if unknown."""
    definition = lab_definition(test)
    key = _unit_key(unit)
    for spelling, factor in definition.factors.items():
        if _unit_key(spelling) == key:
            return factor
    accepted = ", ".join(sorted({s for s in definition.factors}))
    raise InputError("unit", f"'{unit}' is not an accepted unit for {definition.name}; accepted: {accepted}")


def to_canonical(test: str, value: Decimal, unit: str) -> Decimal:
    """``value`` in ``unit`` expressed in the canonical unit of ``test``.

    >>> to_canonical("anc", Decimal("750"), "/uL")
    Decimal('0.75')
    >>> to_canonical("creatinine", Decimal("176.8"), "umol/L")
    Decimal('2')
    """
    multiplier, divisor = conversion_factor(test, unit)
    return value * multiplier / divisor

"""Laboratory tests: LOINC codes, UCUM units, and conversion of common unit variants to one canonical unit.

Canonical units (the protocol's own where it states one): counts (ANC, platelets) in 10^9/L, haemoglobin in
g/dL, bilirubin and creatinine in mg/dL (decisions.md A6), AST and ALT in U/L, TSH in mIU/L, free T4 in ng/dL, blood
pressure in mmHg (the last three are graded clinically: mibg.core.clinical_rows). Anything else is refused with a
message naming the accepted units: a value is never guessed into a unit. Haemoglobin in mmol/L is refused on
purpose: its factor is not exact and would move values across the CTCAE boundaries (clinical-reference §6.1).

A :class:`LabValue` keeps its reference range (LLN, ULN) converted with the value, and the value as entered.
:func:`parse_labs_csv` reads a labs file and returns every row it accepted and every error, each with its line
number and field: a row with any bad field is refused as a whole, never accepted in part.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TypeVar

from mibg.core.errors import InputError
from mibg.core.units import parse_aware_datetime, parse_decimal


@dataclass(frozen=True, slots=True)
class LabDefinition:
    test: str
    name: str
    loinc: str
    ucum: str  # canonical UCUM unit
    display_unit: str  # the canonical unit as clinicians write it
    factors: dict[str, tuple[Decimal, Decimal]]  # accepted unit spelling -> (multiply by, divide by) to get canonical

    @property
    def accepted_units(self) -> tuple[str, ...]:
        """The accepted unit spellings, as written (matching ignores case and spaces)."""
        return tuple(self.factors)


_ONE = (Decimal(1), Decimal(1))
_PER_UL = (Decimal(1), Decimal(1000))  # 1 /uL = 1 /mm3 = 10^6/L = 0.001 x 10^9/L

_COUNT = {
    "10^9/L": _ONE,
    "10*9/L": _ONE,  # UCUM
    "x10^9/L": _ONE,
    "10e9/L": _ONE,
    "10^3/uL": _ONE,
    "10*3/uL": _ONE,  # UCUM
    "x10^3/uL": _ONE,
    "K/uL": _ONE,
    "10^3/mm3": _ONE,
    "/uL": _PER_UL,  # UCUM
    "cells/uL": _PER_UL,
    "/mm3": _PER_UL,  # UCUM
    "cells/mm3": _PER_UL,
}

#: Bilirubin: 1 mg/dL = 17.1 umol/L (molar mass 584.66 g/mol); creatinine: 1 mg/dL = 88.4 umol/L (decisions.md A6).
BILIRUBIN_UMOL_PER_MG_DL = Decimal("17.1")
CREATININE_UMOL_PER_MG_DL = Decimal("88.4")

_ENZYME = {"U/L": _ONE, "IU/L": _ONE}

LABS: dict[str, LabDefinition] = {
    "anc": LabDefinition("anc", "Absolute neutrophil count", "751-8", "10*9/L", "10^9/L", _COUNT),
    "platelets": LabDefinition("platelets", "Platelets", "777-3", "10*9/L", "10^9/L", _COUNT),
    "hemoglobin": LabDefinition(
        "hemoglobin", "Haemoglobin", "718-7", "g/dL", "g/dL", {"g/dL": _ONE, "g/L": (Decimal(1), Decimal(10))}
    ),
    "bilirubin": LabDefinition(
        "bilirubin",
        "Total bilirubin",
        "1975-2",
        "mg/dL",
        "mg/dL",
        {"mg/dL": _ONE, "umol/L": (Decimal(1), BILIRUBIN_UMOL_PER_MG_DL), "µmol/L": (Decimal(1), BILIRUBIN_UMOL_PER_MG_DL)},
    ),
    "ast": LabDefinition("ast", "AST", "1920-8", "U/L", "U/L", _ENZYME),
    "alt": LabDefinition("alt", "ALT", "1742-6", "U/L", "U/L", _ENZYME),
    "creatinine": LabDefinition(
        "creatinine",
        "Creatinine",
        "2160-0",
        "mg/dL",
        "mg/dL",
        {"mg/dL": _ONE, "umol/L": (Decimal(1), CREATININE_UMOL_PER_MG_DL), "µmol/L": (Decimal(1), CREATININE_UMOL_PER_MG_DL)},
    ),
    # Graded clinically, not from the value (mibg.core.clinical_rows; CTCAE v5.0 Hypothyroidism, Hyperthyroidism and
    # Hypertension): the thyroid values are flagged against the site's reference range, the blood pressure is read
    # against the Hypertension thresholds. 1 uIU/mL = 1 mIU/L; 1 ng/dL = 10 ng/L. Free T4 in pmol/L is refused on
    # purpose, as haemoglobin in mmol/L: its factor (12.87) is not exact.
    "tsh": LabDefinition("tsh", "TSH", "3016-3", "m[IU]/L", "mIU/L",
                         {"mIU/L": _ONE, "mU/L": _ONE, "m[IU]/L": _ONE, "uIU/mL": _ONE, "µIU/mL": _ONE, "u[IU]/mL": _ONE}),
    "free_t4": LabDefinition("free_t4", "Free T4", "3024-7", "ng/dL", "ng/dL",
                             {"ng/dL": _ONE, "ng/L": (Decimal(1), Decimal(10))}),
    "systolic_bp": LabDefinition("systolic_bp", "Systolic blood pressure", "8480-6", "mm[Hg]", "mmHg",
                                 {"mmHg": _ONE, "mm[Hg]": _ONE}),
    "diastolic_bp": LabDefinition("diastolic_bp", "Diastolic blood pressure", "8462-4", "mm[Hg]", "mmHg",
                                  {"mmHg": _ONE, "mm[Hg]": _ONE}),
}

#: LOINC code -> our test key.
LOINC_TESTS: dict[str, str] = {definition.loinc: key for key, definition in LABS.items()}


def _unit_key(unit: str) -> str:
    return (
        unit.strip()
        .lower()
        .replace("μ", "µ")
        .replace("mcl", "ul")
        .replace("µl", "ul")
        .replace("³", "3")
        .replace("mm^3", "mm3")
        .replace(" ", "")
    )


def lab_definition(test: str) -> LabDefinition:
    """The definition of ``test``, given as our key (``anc``) or its LOINC code (``751-8``)."""
    key = test.strip().lower()
    key = LOINC_TESTS.get(key, key)
    try:
        return LABS[key]
    except KeyError:
        known = ", ".join(f"{k} ({d.loinc})" for k, d in LABS.items())
        raise InputError("test", f"unknown laboratory test '{test}'; known: {known}") from None


def conversion_factor(test: str, unit: str) -> tuple[Decimal, Decimal]:
    """(multiplier, divisor) from ``unit`` to the canonical unit of ``test``; :class:`InputError` if unknown."""
    known = _KNOWN_FACTORS.get((test, unit))
    if known is not None:
        return known
    factor = _conversion_factor(test, unit)
    if len(_KNOWN_FACTORS) < 1000:  # the same few spellings recur: screening converts every lab it reads
        _KNOWN_FACTORS[(test, unit)] = factor
    return factor


_KNOWN_FACTORS: dict[tuple[str, str], tuple[Decimal, Decimal]] = {}


def _conversion_factor(test: str, unit: str) -> tuple[Decimal, Decimal]:
    definition = lab_definition(test)
    key = _unit_key(unit)
    for spelling, factor in definition.factors.items():
        if _unit_key(spelling) == key:
            return factor
    accepted = ", ".join(definition.accepted_units)
    shown = unit.strip() or "(empty)"
    raise InputError("unit", f"'{shown}' is not an accepted unit for {definition.name}; accepted: {accepted}")


def to_canonical(test: str, value: Decimal, unit: str) -> Decimal:
    """``value`` in ``unit`` expressed in the canonical unit of ``test``.

    >>> to_canonical("anc", Decimal("750"), "/uL")
    Decimal('0.75')
    >>> to_canonical("creatinine", Decimal("176.8"), "umol/L")
    Decimal('2')
    """
    multiplier, divisor = conversion_factor(test, unit)
    return value * multiplier / divisor


@dataclass(frozen=True, slots=True)
class LabValue:
    """One laboratory result in its canonical unit, with its reference range converted alongside.

    ``value``, ``lln`` and ``uln`` are in :attr:`unit` (the canonical unit: 10^9/L, g/dL, mg/dL or U/L).
    ``entered_*`` keep the numbers and unit as they were given; the LLN and ULN were given in the same unit as
    the value, so comparisons against multiples of them can be made exactly in the entered unit.
    """

    test: str
    value: Decimal
    lln: Decimal | None
    uln: Decimal | None
    entered_value: Decimal
    entered_unit: str
    entered_lln: Decimal | None = None
    entered_uln: Decimal | None = None
    collected_at: datetime | None = None

    @property
    def definition(self) -> LabDefinition:
        return LABS[self.test]

    @property
    def unit(self) -> str:
        """The canonical unit as clinicians write it, e.g. ``10^9/L``."""
        return LABS[self.test].display_unit

    @property
    def factor(self) -> tuple[Decimal, Decimal]:
        """(multiplier, divisor) from the entered unit to the canonical unit."""
        return conversion_factor(self.test, self.entered_unit)

    def as_dict(self) -> dict[str, object]:
        def text(value: Decimal | None) -> str | None:
            return None if value is None else str(value)

        return {
            "test": self.test,
            "loinc": self.definition.loinc,
            "value": str(self.value),
            "unit": self.unit,
            "lln": text(self.lln),
            "uln": text(self.uln),
            "entered_value": str(self.entered_value),
            "entered_unit": self.entered_unit,
            "entered_lln": text(self.entered_lln),
            "entered_uln": text(self.entered_uln),
            "collected_at": None if self.collected_at is None else self.collected_at.isoformat(),
        }


def lab_value(
    test: str,
    value: object,
    unit: str,
    *,
    lln: object = None,
    uln: object = None,
    collected_at: datetime | None = None,
) -> LabValue:
    """Parse and convert one result. ``lln`` and ``uln`` are in the same ``unit`` as ``value``; blank = not given.

    Raises :class:`InputError` naming ``test``, ``value``, ``unit``, ``lln``, ``uln`` or ``collected_at``.

    >>> lab_value("anc", "750", "/uL", lln="1500").lln
    Decimal('1.5')
    """
    definition = lab_definition(test)
    entered = _non_negative("value", value)
    multiplier, divisor = conversion_factor(definition.test, unit)
    entered_lln = _optional_limit("lln", lln)
    entered_uln = _optional_limit("uln", uln)
    for name, limit in (("lln", entered_lln), ("uln", entered_uln)):
        if limit is not None and limit == 0:
            raise InputError(name, f"the {'lower' if name == 'lln' else 'upper'} limit of normal must be greater than zero")
    if entered_lln is not None and entered_uln is not None and entered_lln > entered_uln:
        raise InputError("lln", f"the lower limit of normal {entered_lln} is above the upper limit {entered_uln}")
    if collected_at is not None:
        collected_at = parse_aware_datetime("collected_at", collected_at)

    def canonical(number: Decimal | None) -> Decimal | None:
        return None if number is None else number * multiplier / divisor

    return LabValue(
        test=definition.test,
        value=entered * multiplier / divisor,
        lln=canonical(entered_lln),
        uln=canonical(entered_uln),
        entered_value=entered,
        entered_unit=unit.strip(),
        entered_lln=entered_lln,
        entered_uln=entered_uln,
        collected_at=collected_at,
    )


#: Sanity limits of an entered lab number: far beyond any clinical value in any accepted unit (a platelet count
#: of 2,000,000 /uL is 2e6), and no more decimal places than any laboratory reports. They keep the exact
#: arithmetic of conversion and grading within range.
MAX_LAB_NUMBER = Decimal("1e9")
MAX_DECIMAL_PLACES = 12


def _non_negative(field: str, raw: object) -> Decimal:
    value = parse_decimal(field, raw, minimum=Decimal(0), maximum=MAX_LAB_NUMBER)
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MAX_DECIMAL_PLACES:
        raise InputError(field, f"'{raw}' has more than {MAX_DECIMAL_PLACES} decimal places")
    return value.copy_abs() if value.is_zero() else value  # no "-0"


def _optional_limit(field: str, raw: object) -> Decimal | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    return _non_negative(field, raw)


_T = TypeVar("_T")

# --- The labs CSV ---------------------------------------------------------------------------------------------

#: Columns of a labs CSV. ``test`` is our key or the LOINC code; ``lln`` and ``uln`` may be blank and are in
#: the row's ``unit``; ``collected_at`` is ISO 8601 with its UTC offset.
CSV_REQUIRED_COLUMNS = ("collected_at", "test", "value", "unit")
CSV_OPTIONAL_COLUMNS = ("lln", "uln")


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem in a labs file: the line (1 = header), the column and what is wrong."""

    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, {self.field}: {self.message}"


@dataclass(frozen=True, slots=True)
class LabRow:
    line: int
    lab: LabValue


@dataclass(frozen=True, slots=True)
class LabsCsv:
    """What a labs file held: the rows accepted whole, and every error.

    The file is usable only when :attr:`ok`; a caller stores nothing from a file with errors.
    """

    rows: tuple[LabRow, ...]
    errors: tuple[RowError, ...]

    @property
    def ok(self) -> bool:
        return not self.errors

    def values(self) -> tuple[LabValue, ...]:
        """The accepted values; :class:`InputError` (field ``file``) if the file had any error."""
        if self.errors:
            first = self.errors[0]
            more = f" (and {len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
            raise InputError("file", f"{first}{more}")
        return tuple(row.lab for row in self.rows)


def parse_labs_csv(text: str) -> LabsCsv:
    """Parse a labs CSV (header row first). Every error names its line and column; nothing is dropped silently.

    Unknown columns and missing required columns are errors of line 1. A row with any bad field is an error
    and is not among :attr:`LabsCsv.rows`. A file without data rows is an error.
    """
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    header_row = next(reader, None)
    if header_row is None or not any(cell.strip() for cell in header_row):
        return LabsCsv((), (RowError(1, "file", "the file is empty; the first line must name the columns"),))
    header = [cell.strip().lower() for cell in header_row]
    allowed = CSV_REQUIRED_COLUMNS + CSV_OPTIONAL_COLUMNS
    header_errors = [
        RowError(1, name or "(blank)", f"unknown column; the columns are: {', '.join(allowed)}")
        for name in header
        if name not in allowed
    ]
    header_errors += [
        RowError(1, name, f"column '{name}' is missing") for name in CSV_REQUIRED_COLUMNS if name not in header
    ]
    header_errors += [
        RowError(1, name, f"column '{name}' appears more than once")
        for name in sorted({n for n in header if header.count(n) > 1})
    ]
    if header_errors:
        return LabsCsv((), tuple(header_errors))

    rows: list[LabRow] = []
    errors: list[RowError] = []
    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue  # a blank line is not a row
        if len(cells) != len(header):
            errors.append(RowError(line, "row", f"{len(cells)} cells for {len(header)} columns"))
            continue
        row = dict(zip(header, cells, strict=True))
        result = _parse_row(line, row)
        if isinstance(result, LabRow):
            rows.append(result)
        else:
            errors.extend(result)
    if not rows and not errors:
        errors.append(RowError(1, "file", "the file has no data rows"))
    return LabsCsv(tuple(rows), tuple(errors))


def _parse_row(line: int, row: dict[str, str]) -> LabRow | list[RowError]:
    errors: list[RowError] = []

    def attempt(field: str, parse: Callable[[], _T]) -> _T | None:
        try:
            return parse()
        except InputError as error:
            errors.append(RowError(line, field, error.message))
            return None

    collected_at = attempt("collected_at", lambda: parse_aware_datetime("collected_at", row["collected_at"]))
    definition = attempt("test", lambda: lab_definition(row["test"]))
    attempt("value", lambda: _non_negative("value", row["value"]))
    attempt("lln", lambda: _optional_limit("lln", row.get("lln")))
    attempt("uln", lambda: _optional_limit("uln", row.get("uln")))
    if definition is not None:
        test = definition.test
        attempt("unit", lambda: conversion_factor(test, row["unit"]))
    if errors:
        return errors
    if definition is None or collected_at is None:  # unreachable: a failed parse always records an error
        raise AssertionError(f"line {line} parsed without a test or a time")
    try:
        lab = lab_value(
            definition.test, row["value"], row["unit"], lln=row.get("lln"), uln=row.get("uln"), collected_at=collected_at
        )
    except InputError as error:  # the checks lab_value adds: a limit of zero, LLN above ULN
        return [RowError(line, error.field, error.message)]
    return LabRow(line, lab)


#: The module's public surface: what the other layers may import (tests/unit/test_architecture.py).
__all__ = [
    "BILIRUBIN_UMOL_PER_MG_DL",
    "CREATININE_UMOL_PER_MG_DL",
    "CSV_OPTIONAL_COLUMNS",
    "CSV_REQUIRED_COLUMNS",
    "LABS",
    "LOINC_TESTS",
    "MAX_DECIMAL_PLACES",
    "MAX_LAB_NUMBER",
    "LabDefinition",
    "LabRow",
    "LabValue",
    "LabsCsv",
    "RowError",
    "conversion_factor",
    "lab_definition",
    "lab_value",
    "parse_labs_csv",
    "to_canonical",
]

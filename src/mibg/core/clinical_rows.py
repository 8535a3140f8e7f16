"""The thyroid and blood-pressure rows: values CTCAE v5.0 does not grade from a number alone (issue 12).

The rows are data (``mibg/protocol/ctcae_v5.json``, ``clinical_rows``), each with its source and status; this module
only reads them.

* **TSH and free T4**: CTCAE v5.0 grades Hypothyroidism and Hyperthyroidism by symptoms and treatment, not by a
  laboratory value. A result is flagged against the site's reference range, the LLN and ULN the laboratory reports
  with it (``low`` below the LLN, ``high`` above the ULN, ``normal`` from the LLN to the ULN inclusive), and the
  grade definitions of both terms are shown beside it. The grade is the physician's: recorded as an adverse event
  of the term (mibg.core.ae_terms), never computed from the value. Both limits are needed to flag a value.
* **Blood pressure** (systolic and diastolic, mmHg, whole numbers): from 18 years of age (clinical-reference §6.1,
  "Hypertension - adult (for >= 18 y)") the v5.0 thresholds are applied to each pressure: systolic 120-139 grade 1,
  140-159 grade 2, >= 160 grade 3; diastolic 80-89, 90-99, >= 100. Since CTCAE writes "SBP ... or DBP ...", the
  grade of a reading is the higher of its two pressures' grades. Grade 4 and the treatment clauses of grades 2 and 3
  are clinical, the physician's. Under 18 years the grade needs the percentile for age, sex and height, which this
  application does not hold: no grade is computed, the reading says the grade is the physician's, unverified.

A :class:`ClinicalReading` has one exact shape (:meth:`ClinicalReading.to_json`, mibg.core.serial).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any

from mibg.core.ae_terms import ae_terms
from mibg.core.ctcae import CTCAE_FILE
from mibg.core.errors import InputError
from mibg.core.labs import LABS, LabValue
from mibg.core.serial import JSON, Reader, ShapeError, dec, envelope, moment
from mibg.core.times import site_date

READING_SCHEMA, READING_VERSION = "mibg.clinical_reading", 1
PHYSICIAN = "the physician's: recorded as an adverse event of the term (CTCAE v5.0 grades it clinically)"


@dataclass(frozen=True, slots=True)
class Band:
    """One adult blood-pressure grade: ``from_mmhg <= value < below_mmhg`` (``below`` None: open-ended)."""

    grade: int
    from_mmhg: Decimal
    below_mmhg: Decimal | None
    text: str


@dataclass(frozen=True, slots=True)
class ClinicalRow:
    test: str
    terms: tuple[str, ...]
    reading: str  # "reference_range" | "hypertension"
    status: str
    source: str
    note: str = ""
    adult_from_age_years: int | None = None
    adult_bands: tuple[Band, ...] = ()
    adult_status: str = ""
    adult_source: str = ""
    adult_normal_text: str = ""
    adult_clinical: str = ""
    paediatric_status: str = ""
    paediatric_text: str = ""
    plausible_minimum: Decimal | None = None
    plausible_maximum: Decimal | None = None
    plausible_source: str = ""


@dataclass(frozen=True, slots=True)
class Definition:
    """A CTCAE v5.0 grade definition of a term, as shown beside a value."""

    term: str
    grade: int
    text: str
    status: str


@dataclass(frozen=True, slots=True)
class ClinicalReading:
    """A thyroid or blood-pressure value read as CTCAE v5.0 allows: flagged or thresholded, never graded clinically.

    ``flag``: ``low`` / ``normal`` / ``high`` against the site's reference range (thyroid), ``""`` for blood
    pressure. ``grade_from_value``: the adult blood-pressure threshold grade (0-3), None where the grade is the
    physician's only (thyroid; blood pressure under 18 years). ``definitions``: the terms' grade definitions."""

    test: str
    test_name: str
    value: Decimal
    unit: str
    terms: tuple[str, ...]
    flag: str
    grade_from_value: int | None
    band: str
    comparison: str
    graded_by: str
    clause: str
    definitions: tuple[Definition, ...]
    status: str
    source: str
    notes: tuple[str, ...]
    lln: Decimal | None = None
    uln: Decimal | None = None
    collected_at: Any = None
    version: str = "CTCAE v5.0"

    @property
    def term(self) -> str:
        return " / ".join(self.terms)

    @property
    def term_name(self) -> str:
        return self.term

    @property
    def summary(self) -> str:
        """One line for a table: the flag or the threshold grade, and who grades."""
        if self.grade_from_value is not None:
            return f"grade {self.grade_from_value} by the adult thresholds ({self.band}); {self.term}: clinical clauses the physician's"
        if self.flag:
            return f"{self.flag} ({self.comparison}); {self.term}: grade {PHYSICIAN}"
        return f"{self.term}: grade {PHYSICIAN}"

    def to_json(self) -> JSON:
        return {
            **envelope(READING_SCHEMA, READING_VERSION),
            "test": self.test,
            "test_name": self.test_name,
            "value": dec(self.value),
            "unit": self.unit,
            "lln": dec(self.lln),
            "uln": dec(self.uln),
            "terms": list(self.terms),
            "flag": self.flag,
            "grade_from_value": self.grade_from_value,
            "band": self.band,
            "comparison": self.comparison,
            "graded_by": self.graded_by,
            "clause": self.clause,
            "definitions": [{"term": d.term, "grade": d.grade, "text": d.text, "status": d.status}
                            for d in self.definitions],
            "ctcae_version": self.version,
            "source_status": self.status,
            "source": self.source,
            "collected_at": moment(self.collected_at),
            "notes": list(self.notes),
        }

    @classmethod
    def from_json(cls, data: object, path: str = "reading") -> ClinicalReading:
        """The reading from its one shape (as stored with a laboratory result: mibg.web.followup)."""
        r = Reader.result(data, READING_SCHEMA, READING_VERSION, path)
        grade = r.opt_integer("grade_from_value")
        if grade is not None and not 0 <= grade <= 5:
            raise ShapeError(f"{path}.grade_from_value", f"{grade} is not a CTCAE grade (0-5)")
        return cls(test=r.text("test"), test_name=r.text("test_name"), value=r.decimal("value"), unit=r.text("unit"),
                   terms=r.texts("terms"), flag=r.text("flag"), grade_from_value=grade, band=r.text("band"),
                   comparison=r.text("comparison"), graded_by=r.text("graded_by"), clause=r.text("clause"),
                   definitions=r.each("definitions", lambda d: Definition(d.text("term"), d.integer("grade"),
                                                                          d.text("text"), d.text("status"))),
                   status=r.text("source_status"), source=r.text("source"), notes=r.texts("notes"),
                   lln=r.opt_decimal("lln"), uln=r.opt_decimal("uln"), collected_at=r.opt_time("collected_at"),
                   version=r.text("ctcae_version"))


@cache
def clinical_rows() -> Mapping[str, ClinicalRow]:
    """The rows by test key, checked on load."""
    raw = json.loads(CTCAE_FILE.read_text(encoding="utf-8"))["clinical_rows"]["rows"]
    rows: dict[str, ClinicalRow] = {}
    for item in raw:
        rows[item["test"]] = _row(item)
    return rows


def _row(item: Mapping[str, Any]) -> ClinicalRow:
    test = str(item["test"])
    if test not in LABS:
        raise ValueError(f"clinical row {test}: not a laboratory test of mibg.core.labs")
    terms = tuple(str(t) for t in item["terms"])
    known = ae_terms()
    for term in terms:
        if term not in known:
            raise ValueError(f"clinical row {test}: {term} is not a CTCAE term of the adverse-event list")
    reading = str(item["reading"])
    if reading == "reference_range":
        return ClinicalRow(test, terms, reading, str(item["status"]), str(item["source"]), str(item.get("note", "")))
    if reading != "hypertension":
        raise ValueError(f"clinical row {test}: unknown reading {reading}")
    adult, paediatric, plausible = item["adult"], item["paediatric"], item["plausible"]
    bands = tuple(Band(int(b["grade"]), Decimal(b["from"]), None if b["below"] is None else Decimal(b["below"]),
                       str(b["text"])) for b in adult["bands"])
    if [b.grade for b in bands] != [1, 2, 3]:
        raise ValueError(f"clinical row {test}: adult grades must be 1, 2, 3")
    for a, b in itertools.pairwise(bands):
        if a.below_mmhg != b.from_mmhg:
            raise ValueError(f"clinical row {test}: adult grades {a.grade} and {b.grade} do not meet")
    if bands[-1].below_mmhg is not None:
        raise ValueError(f"clinical row {test}: the highest adult grade must be open-ended")
    return ClinicalRow(
        test, terms, reading, str(paediatric["status"]), str(adult["source"]),
        adult_from_age_years=int(item["adult_from_age_years"]), adult_bands=bands, adult_status=str(adult["status"]),
        adult_source=str(adult["source"]), adult_normal_text=str(adult["normal_text"]),
        adult_clinical=str(adult["clinical"]), paediatric_status=str(paediatric["status"]),
        paediatric_text=str(paediatric["text"]), plausible_minimum=Decimal(plausible["minimum"]),
        plausible_maximum=Decimal(plausible["maximum"]), plausible_source=str(plausible["source"]))


def is_clinical(test: str) -> bool:
    """Whether ``test`` is read by this module (graded clinically) rather than by a CTCAE lab row."""
    return test in clinical_rows()


def definitions(terms: tuple[str, ...]) -> tuple[Definition, ...]:
    """The CTCAE v5.0 grade definitions of ``terms``, as the adverse-event list holds them, with their status."""
    known = ae_terms()
    return tuple(Definition(t, g.grade, g.text, known[t].status) for t in terms for g in known[t].grades)


def age_in_years(birth_date: date, on: date) -> int:
    """Completed years on ``on``."""
    return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))


def reference_flag(test: str, value: Decimal, lln: Decimal | None, uln: Decimal | None) -> str:
    """``low`` (below the LLN), ``high`` (above the ULN) or ``normal`` (LLN to ULN inclusive) for a test flagged against
    the site's reference range (TSH, free T4); ``""`` for any other test or without both limits. Exact comparison:
    value and limits in the same unit."""
    row = clinical_rows().get(test)
    if row is None or row.reading != "reference_range" or lln is None or uln is None:
        return ""
    if value < lln:
        return "low"
    return "high" if value > uln else "normal"


def read_clinical(lab: LabValue, birth_date: date | None = None) -> ClinicalReading:
    """Read a thyroid or blood-pressure value (module docstring). ``birth_date``: the patient's, for the age at
    collection that chooses the adult or the paediatric blood-pressure rows.

    :class:`InputError` naming ``lln`` / ``uln`` (a thyroid value without the site's reference range), ``value`` (a
    blood pressure that is not a whole number of mmHg or outside its plausible range) or ``test``."""
    row = clinical_rows().get(lab.test)
    if row is None:
        raise InputError("test", f"{lab.test} is graded by a CTCAE laboratory row, not clinically")
    if row.reading == "reference_range":
        return _thyroid(row, lab)
    return _blood_pressure(row, lab, birth_date)


def _thyroid(row: ClinicalRow, lab: LabValue) -> ClinicalReading:
    name = LABS[lab.test].name
    for field, limit in (("lln", lab.entered_lln), ("uln", lab.entered_uln)):
        if limit is None:
            raise InputError(field, f"the site's reference range (LLN and ULN) is needed to flag a {name}: CTCAE v5.0 "
                                    "grades thyroid disorders clinically, so the value is shown against the range")
    assert lab.entered_lln is not None
    assert lab.entered_uln is not None
    value, unit = lab.entered_value, lab.entered_unit
    flag = reference_flag(lab.test, value, lab.entered_lln, lab.entered_uln)
    comparison = {"low": f"{value:f} {unit} < LLN {lab.entered_lln:f} {unit}",
                  "high": f"{value:f} {unit} > ULN {lab.entered_uln:f} {unit}",
                  "normal": f"LLN {lab.entered_lln:f} <= {value:f} {unit} <= ULN {lab.entered_uln:f} {unit}"}[flag]
    return ClinicalReading(
        test=lab.test, test_name=name, value=lab.value, unit=lab.unit, terms=row.terms, flag=flag, grade_from_value=None,
        band=f"{flag} against the site's reference range", comparison=comparison, graded_by=PHYSICIAN,
        clause="flagged against the site's reference range; the CTCAE grade is the physician's",
        definitions=definitions(row.terms), status=row.status, source=row.source,
        notes=(row.note, f"Source status: {row.status}."), lln=lab.lln, uln=lab.uln, collected_at=lab.collected_at)


def _blood_pressure(row: ClinicalRow, lab: LabValue, birth_date: date | None) -> ClinicalReading:
    name = LABS[lab.test].name
    value = lab.value
    if value != value.to_integral_value():
        raise InputError("value", f"{name} is a whole number of mmHg, not {lab.entered_value}")
    assert row.plausible_minimum is not None
    assert row.plausible_maximum is not None
    if not row.plausible_minimum <= value <= row.plausible_maximum:
        raise InputError("value", f"{value} mmHg is outside the plausible {row.plausible_minimum}-{row.plausible_maximum} "
                                  f"mmHg for a {name.lower()} ({row.plausible_source}): check the value")
    value = value.quantize(Decimal(1))
    common: dict[str, Any] = {"test": lab.test, "test_name": name, "value": value, "unit": lab.unit, "terms": row.terms,
                              "flag": "", "definitions": definitions(row.terms), "collected_at": lab.collected_at}
    age = None
    if birth_date is not None and lab.collected_at is not None:
        age = age_in_years(birth_date, site_date(lab.collected_at))
    assert row.adult_from_age_years is not None
    if age is None or age < row.adult_from_age_years:
        why = ("the age at the reading is not known" if age is None
               else f"the patient is {age} years old (under {row.adult_from_age_years})")
        return ClinicalReading(
            **common, grade_from_value=None, band="paediatric: graded against the percentile for age, sex and height",
            comparison=f"{value} mmHg; {why}: no adult threshold applies", graded_by=PHYSICIAN,
            clause=f"paediatric rows: the percentile is needed, so the grade is the physician's ({why})",
            status=row.paediatric_status, source=row.source,
            notes=(row.paediatric_text, f"Source status: {row.paediatric_status}."))
    chosen = next((b for b in reversed(row.adult_bands) if value >= b.from_mmhg), None)
    if chosen is None:
        first = row.adult_bands[0]
        band, grade, comparison = row.adult_normal_text, 0, f"{value} mmHg < {first.from_mmhg} mmHg"
    else:
        band, grade = chosen.text, chosen.grade
        comparison = f"{chosen.from_mmhg} mmHg <= {value} mmHg" + (
            f" < {chosen.below_mmhg} mmHg" if chosen.below_mmhg is not None else "")
    return ClinicalReading(
        **common, grade_from_value=grade, band=band, comparison=comparison,
        graded_by=f"the adult thresholds of CTCAE v5.0; {row.adult_clinical}",
        clause=f"adult rows ({age} years, from {row.adult_from_age_years}): the thresholds as written in v5.0",
        status=row.adult_status, source=row.adult_source, notes=(row.adult_clinical, f"Source status: {row.adult_status}."))


def hypertension_grade(systolic: ClinicalReading, diastolic: ClinicalReading) -> int | None:
    """The adult threshold grade of one reading: "SBP ... or DBP ...", so the higher of the two; None when either
    is the physician's only (paediatric)."""
    if systolic.grade_from_value is None or diastolic.grade_from_value is None:
        return None
    return max(systolic.grade_from_value, diastolic.grade_from_value)


#: The module's public surface: what the other layers may import (tests/unit/test_architecture.py).
__all__ = [
    "PHYSICIAN",
    "READING_SCHEMA",
    "READING_VERSION",
    "Band",
    "ClinicalReading",
    "ClinicalRow",
    "Definition",
    "age_in_years",
    "clinical_rows",
    "definitions",
    "hypertension_grade",
    "is_clinical",
    "read_clinical",
    "reference_flag",
]

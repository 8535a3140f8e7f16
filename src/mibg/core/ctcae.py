"""CTCAE v5.0 grading of laboratory values (clinical-reference §6.1; decisions.md A18).

The rows are data: ``mibg/protocol/ctcae_v5.json`` holds every band of every term with its comparison, unit
and source status; this module only evaluates them. Boundary semantics (clinical-reference §6.1): CTCAE
writes a range as "<upper - lower" or ">lower - upper" and each range includes the endpoint written second,
so ANC 1.0 x 10^9/L (1000/mm3) is grade 2, ANC 0.5 is grade 3, ALT exactly 5.0 x ULN is grade 2 and
haemoglobin exactly 8.0 g/dL is grade 2. The file is checked on load: a term's bands must meet without gap
or overlap, so every value falls in exactly one grade.

Grade 0 = within normal: value >= LLN for the "decreased" terms, value <= ULN for the "increased" terms.
Comparisons are exact: a value is compared in the unit it was entered in (against an absolute threshold by
cross-multiplying with the unit factor, against k x ULN with the ULN reported in that same unit), under a
decimal context that raises rather than rounds. No float is involved anywhere.

Baseline clauses (decisions.md A33): AST, ALT and bilirubin are graded on multiples of the baseline instead of
the ULN when the baseline is abnormal (above its own ULN); creatinine takes the higher of its ULN grade and its
"x baseline" grade. The baseline is the pre-infusion value of the course, given by the caller; the clause used
is in every result (``clause``). The liver clauses are UNVERIFIED (clinical-reference §6.1, §8 item 5) and say
so. Grade 4 anemia is clinical, so a haemoglobin value alone grades anemia at most 3.
"""

from __future__ import annotations

import itertools
import json
import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
    Underflow,
    localcontext,
)
from functools import cache
from pathlib import Path
from typing import Any

from mibg.core.errors import InputError
from mibg.core.labs import LabValue, lab_definition, lab_value
from mibg.core.results import InputUsed
from mibg.core.serial import JSON, Reader, ShapeError, dec, envelope, moment
from mibg.core.times import site_time

#: The rows as data, beside the protocol definition (read by path: importing mibg.protocol would slow the command).
CTCAE_FILE = Path(__file__).resolve().parent.parent / "protocol" / "ctcae_v5.json"
REFERENCE = "clinical-reference §6.1; decisions.md A18"

_LOWER_OPS: dict[str, Callable[[Decimal, Decimal], bool]] = {">": operator.gt, ">=": operator.ge}
_UPPER_OPS: dict[str, Callable[[Decimal, Decimal], bool]] = {"<": operator.lt, "<=": operator.le}
_OPS = {**_LOWER_OPS, **_UPPER_OPS}
_COMPLEMENT = {">=": "<", "<": ">=", ">": "<=", "<=": ">"}
_MIRROR = {">": "<", ">=": "<=", "<": ">", "<=": ">="}

#: Comparisons run in this context: enough digits for any entered value, and any rounding is an error.
_EXACT = Context(prec=200, traps=[Inexact, InvalidOperation, DivisionByZero, Overflow, Underflow])


@dataclass(frozen=True, slots=True)
class Bound:
    """One side of a band: ``value <comparison> threshold``.

    ``relative_to`` is ``absolute`` (threshold = ``value`` in the term's canonical unit), ``lln`` or ``uln``
    (threshold = ``value`` x the limit reported with the result).
    """

    comparison: str
    value: Decimal
    relative_to: str
    unit: str

    def describe(self) -> str:
        """``1.5 10^9/L`` or ``3.0 x ULN``."""
        if self.relative_to == "absolute":
            return f"{self.value} {self.unit}"
        limit = self.relative_to.upper()
        return limit if self.value == 1 else f"{self.value} x {limit}"


@dataclass(frozen=True, slots=True)
class Band:
    """One grade of a term: the CTCAE text and its numeric bounds (none for a clinical-only grade)."""

    grade: int
    text: str
    lower: Bound | None
    upper: Bound | None
    clinical_only: bool = False


@dataclass(frozen=True, slots=True)
class BaselineClauses:
    """CTCAE's "x baseline" bands of a term (decisions.md A33).

    ``applies_when`` ``abnormal``: used instead of the ULN bands when the baseline is above its ULN;
    ``known``: the grade is the higher of the ULN grade and the baseline grade whenever a baseline is known."""

    applies_when: str
    status: str
    reference: str
    normal_text: str
    bands: tuple[Band, ...]


@dataclass(frozen=True, slots=True)
class TermDefinition:
    key: str  # e.g. "neutrophil-count-decreased"
    name: str  # the CTCAE term, e.g. "Neutrophil count decreased"
    test: str  # the lab test key in mibg.core.labs
    direction: str  # "decreased" | "increased"
    unit: str  # canonical unit of the absolute thresholds
    status: str  # source status, clinical-reference §6.1
    normal: Bound  # grade 0
    normal_text: str
    bands: tuple[Band, ...]
    not_implemented: tuple[str, ...]
    baseline: BaselineClauses | None = None

    @property
    def limit(self) -> str:
        """The reference limit the term needs: ``lln`` (decreased) or ``uln`` (increased)."""
        return self.normal.relative_to

    @property
    def max_grade_from_value(self) -> int:
        return max(b.grade for b in self.bands if not b.clinical_only)

    def band(self, grade: int) -> Band:
        for band in self.bands:
            if band.grade == grade:
                return band
        raise KeyError(f"{self.key} has no grade {grade}")


@dataclass(frozen=True, slots=True)
class CtcaeTable:
    version: str
    reference: str
    source: str
    terms: Mapping[str, TermDefinition]


@dataclass(frozen=True, slots=True)
class CtcaeGrade:
    """The CTCAE grade of one value, with everything needed to check it by hand.

    ``value`` is in ``unit`` (the canonical unit of the test: 10^9/L, g/dL, mg/dL or U/L). ``comparison``
    shows the band's boundaries with numbers; ``multiple_of_uln`` (increased terms) is for display only,
    rounded to 0.01 half-even, and is not used for grading.
    """

    term: str
    term_name: str
    grade: int
    value: Decimal
    unit: str
    band: str
    comparison: str
    inputs: tuple[InputUsed, ...]
    notes: tuple[str, ...]
    source_status: str
    max_grade_from_value: int
    version: str = "CTCAE v5.0"
    reference: str = REFERENCE
    collected_at: datetime | None = None
    multiple_of_uln: Decimal | None = None
    #: Which CTCAE clause graded the value: against the ULN, or against the course's baseline (decisions.md A33).
    clause: str = "graded against the reference range"
    baseline: Decimal | None = None

    def to_json(self) -> JSON:
        """The grade's one exact shape (mibg.core.serial): the value as exact text in its canonical unit, the band
        and comparison that gave the grade, every input with its unit, the collection time with its offset."""
        return {
            **envelope(GRADE_SCHEMA, GRADE_VERSION),
            "term": self.term,
            "term_name": self.term_name,
            "grade": self.grade,
            "value": dec(self.value),
            "unit": self.unit,
            "band": self.band,
            "comparison": self.comparison,
            "multiple_of_uln": dec(self.multiple_of_uln),
            "clause": self.clause,
            "baseline": dec(self.baseline),
            "max_grade_from_value": self.max_grade_from_value,
            "ctcae_version": self.version,
            "source_status": self.source_status,
            "reference": self.reference,
            "collected_at": moment(self.collected_at),
            "inputs": [i.to_json() for i in self.inputs],
            "notes": list(self.notes),
        }

    @classmethod
    def from_json(cls, data: object, path: str = "grade") -> CtcaeGrade:
        r = Reader.result(data, GRADE_SCHEMA, GRADE_VERSION, path)
        grade_value = r.integer("grade")
        if not 0 <= grade_value <= 5:
            raise ShapeError(f"{path}.grade", f"{grade_value} is not a CTCAE grade (0-5)")
        return cls(term=r.text("term"), term_name=r.text("term_name"), grade=grade_value, value=r.decimal("value"),
                   unit=r.text("unit"), band=r.text("band"), comparison=r.text("comparison"),
                   inputs=r.each("inputs", InputUsed.from_json), notes=r.texts("notes"),
                   source_status=r.text("source_status"), max_grade_from_value=r.integer("max_grade_from_value"),
                   version=r.text("ctcae_version"), reference=r.text("reference"),
                   collected_at=r.opt_time("collected_at"), multiple_of_uln=r.opt_decimal("multiple_of_uln"),
                   # Grades stored before the baseline clauses (decisions.md A33) were all graded on the range.
                   clause=r.opt_text("clause") or "graded against the reference range",
                   baseline=r.opt_decimal("baseline"))


GRADE_SCHEMA, GRADE_VERSION = "mibg.ctcae_grade", 1


@dataclass(frozen=True, slots=True)
class BandEdge:
    """A grade band in canonical units, for plots. ``None`` = unbounded on that side."""

    grade: int
    lower: Decimal | None
    upper: Decimal | None
    lower_inclusive: bool
    upper_inclusive: bool
    text: str


# --- Loading and checking the table ----------------------------------------------------------------------------


@cache
def load_ctcae() -> CtcaeTable:
    """The CTCAE v5.0 rows from ``mibg/protocol/ctcae_v5.json``, checked (cached)."""
    raw = json.loads(CTCAE_FILE.read_text(encoding="utf-8"))
    return parse_ctcae(raw)


def parse_ctcae(raw: Mapping[str, Any]) -> CtcaeTable:
    """Build and check the table; :class:`ValueError` names the first inconsistency."""
    terms = {}
    for item in raw["terms"]:
        term = _term(item)
        _check_term(term)
        if term.key in terms:
            raise ValueError(f"CTCAE term {term.key} appears twice")
        terms[term.key] = term
    return CtcaeTable(version=raw["version"], reference=raw["reference"], source=raw["source"], terms=terms)


def _bound(raw: Mapping[str, Any] | None) -> Bound | None:
    if raw is None:
        return None
    return Bound(str(raw["comparison"]), Decimal(str(raw["value"])), str(raw["relative_to"]), str(raw["unit"]))


def _term(raw: Mapping[str, Any]) -> TermDefinition:
    normal = _bound(raw["normal"])
    if normal is None:
        raise ValueError(f"CTCAE term {raw['key']} has no normal range")
    bands = tuple(
        Band(
            grade=int(g["grade"]),
            text=str(g["text"]),
            lower=_bound(g.get("lower")),
            upper=_bound(g.get("upper")),
            clinical_only=bool(g.get("clinical_only", False)),
        )
        for g in raw["grades"]
    )
    baseline = None
    if raw.get("baseline") is not None:
        clauses = raw["baseline"]
        baseline = BaselineClauses(
            applies_when=str(clauses["applies_when"]),
            status=str(clauses["status"]),
            reference=str(clauses["reference"]),
            normal_text=str(clauses["normal_text"]),
            bands=tuple(Band(int(g["grade"]), str(g["text"]), _bound(g.get("lower")), _bound(g.get("upper")))
                        for g in clauses["grades"]),
        )
    return TermDefinition(
        key=str(raw["key"]),
        name=str(raw["term"]),
        test=str(raw["test"]),
        direction=str(raw["direction"]),
        unit=str(raw["unit"]),
        status=str(raw["status"]),
        normal=normal,
        normal_text=str(raw["normal"]["text"]),
        bands=bands,
        not_implemented=tuple(raw.get("not_implemented", ())),
        baseline=baseline,
    )


def _check_term(term: TermDefinition) -> None:
    """The bands must tile the abnormal side of the normal limit: no gap, no overlap, grades 1, 2, 3, 4."""

    def fail(message: str) -> ValueError:
        return ValueError(f"CTCAE term {term.key}: {message}")

    if lab_definition(term.test).display_unit != term.unit:
        raise fail(f"unit {term.unit} is not the canonical unit of {term.test}")
    if [b.grade for b in term.bands] != [1, 2, 3, 4]:
        raise fail("grades must be 1, 2, 3, 4 in order")
    decreased = term.direction == "decreased"
    if term.direction not in ("decreased", "increased"):
        raise fail(f"unknown direction {term.direction}")
    expected_normal = (">=", "lln") if decreased else ("<=", "uln")
    if (term.normal.comparison, term.normal.relative_to, term.normal.value) != (*expected_normal, Decimal(1)):
        raise fail(f"grade 0 must be value {expected_normal[0]} 1 x {expected_normal[1].upper()}")
    numeric = [b for b in term.bands if not b.clinical_only]
    if any(b.lower is not None or b.upper is not None for b in term.bands if b.clinical_only):
        raise fail("a clinical-only grade has no numeric bound")
    if numeric != list(term.bands[: len(numeric)]):
        raise fail("clinical-only grades come after the graded-by-value ones")
    for band in numeric:
        for side, bound, ops in (("lower", band.lower, _LOWER_OPS), ("upper", band.upper, _UPPER_OPS)):
            if bound is None:
                continue
            if bound.comparison not in ops:
                raise fail(f"grade {band.grade} {side} bound has comparison {bound.comparison}")
            if bound.relative_to not in ("absolute", term.limit):
                raise fail(f"grade {band.grade} is relative to {bound.relative_to}, not {term.limit}")
            if bound.relative_to == "absolute" and bound.unit != term.unit:
                raise fail(f"grade {band.grade} {side} bound unit {bound.unit} is not {term.unit}")
    # The edge that meets grade 0, then each edge between consecutive grades, then the open end.
    near = [b.upper if decreased else b.lower for b in numeric]
    far = [b.lower if decreased else b.upper for b in numeric]
    first = near[0]
    if first is None or (first.relative_to, first.value, first.comparison) != (
        term.normal.relative_to,
        term.normal.value,
        _COMPLEMENT[term.normal.comparison],
    ):
        raise fail("grade 1 must start where grade 0 ends")
    for index in range(len(numeric) - 1):
        a, b = far[index], near[index + 1]
        if a is None or b is None or (a.relative_to, a.value) != (b.relative_to, b.value):
            raise fail(f"grades {index + 1} and {index + 2} do not meet")
        if _COMPLEMENT[a.comparison] != b.comparison:
            raise fail(f"grades {index + 1} and {index + 2} overlap or leave a gap at {a.describe()}")
        previous = near[index]
        empty = previous is not None and previous.relative_to == a.relative_to and (
            a.value >= previous.value if decreased else a.value <= previous.value
        )
        if empty:
            raise fail(f"grade {index + 1} is empty")
    if far[-1] is not None:
        raise fail(f"grade {numeric[-1].grade} must be open-ended")
    if term.baseline is not None:
        _check_baseline(term, fail)


def _check_baseline(term: TermDefinition, fail: Callable[[str], ValueError]) -> None:
    """Baseline bands: rising terms only, relative to the baseline, ascending grades that meet without gap."""
    clauses = term.baseline
    assert clauses is not None
    if term.direction != "increased":
        raise fail("baseline clauses are for terms that rise")
    if clauses.applies_when not in ("abnormal", "known"):
        raise fail(f"baseline clauses apply when 'abnormal' or 'known', not {clauses.applies_when}")
    bands = clauses.bands
    if not bands or [b.grade for b in bands] != sorted({b.grade for b in bands}):
        raise fail("baseline grades must ascend")
    for band in bands:
        for bound in (band.lower, band.upper):
            if bound is not None and bound.relative_to != "baseline":
                raise fail(f"baseline grade {band.grade} is relative to {bound.relative_to}")
        if band.lower is None:
            raise fail(f"baseline grade {band.grade} needs a lower bound")
    for a, b in itertools.pairwise(bands):
        if a.upper is None or b.lower is None or a.upper.value != b.lower.value or _COMPLEMENT[a.upper.comparison] != b.lower.comparison:
            raise fail(f"baseline grades {a.grade} and {b.grade} do not meet")
    if bands[-1].upper is not None:
        raise fail("the highest baseline grade must be open-ended")


# --- Grading -------------------------------------------------------------------------------------------------


def terms() -> tuple[str, ...]:
    """The term keys, e.g. ``neutrophil-count-decreased``."""
    return tuple(load_ctcae().terms)


def term_definition(term: str) -> TermDefinition:
    """The definition of ``term`` (its key); :class:`InputError` (field ``term``) if unknown."""
    table = load_ctcae().terms
    key = term.strip().lower().replace("_", "-").replace(" ", "-")
    if key not in table:
        raise InputError("term", f"unknown CTCAE term '{term}'; known: {', '.join(table)}")
    return table[key]


def term_for_test(test: str) -> str:
    """The term key that grades the lab test ``test`` (e.g. ``anc`` -> ``neutrophil-count-decreased``)."""
    for key, definition in load_ctcae().terms.items():
        if definition.test == test:
            return key
    raise InputError("test", f"no CTCAE term grades the laboratory test '{test}'")


def grade(
    term: str,
    value: object,
    unit: str,
    *,
    lln: object = None,
    uln: object = None,
    collected_at: datetime | None = None,
) -> CtcaeGrade:
    """Grade one value. ``value``, ``lln`` and ``uln`` are numbers (text or Decimal) in ``unit``.

    Raises :class:`InputError` naming ``term``, ``value``, ``unit``, ``lln`` or ``uln``: an unknown term or
    unit, a value that is not a finite number >= 0, or a limit the grade depends on that was not given.

    >>> grade("neutrophil-count-decreased", "1000", "/mm3", lln="1500").grade
    2
    """
    definition = term_definition(term)
    return grade_lab(lab_value(definition.test, value, unit, lln=lln, uln=uln, collected_at=collected_at), definition.key)


def grade_lab(lab: LabValue, term: str | None = None, baseline: LabValue | None = None) -> CtcaeGrade:
    """Grade a parsed lab value; ``term`` defaults to the term of its test.

    ``baseline`` is the course's pre-infusion value of the same test (decisions.md A33): for a term with
    baseline clauses (AST, ALT, bilirubin, creatinine) the grade then follows them and says which clause it
    used; other terms ignore it. :class:`InputError` (field ``baseline``) for a baseline of another test,
    collected after the value, or of zero."""
    result = _grade_against_limits(lab, term)
    definition = term_definition(result.term)
    if definition.baseline is None:
        return result
    if baseline is None:
        return replace(result, clause="graded against the ULN (no pre-infusion baseline of this course)")
    return _grade_against_baseline(result, definition, lab, baseline)


def _grade_against_limits(lab: LabValue, term: str | None) -> CtcaeGrade:
    definition = term_definition(term or term_for_test(lab.test))
    if definition.test != lab.test:
        raise InputError("term", f"{definition.name} grades {definition.test}, not {lab.test}")
    multiplier, divisor = lab.factor
    limits = {"lln": lab.entered_lln, "uln": lab.entered_uln}
    try:
        with localcontext(_EXACT):
            normal = _holds(definition.normal, lab.entered_value, multiplier, divisor, limits)
            states = [
                (band, _all(_holds(b, lab.entered_value, multiplier, divisor, limits) for b in (band.lower, band.upper)))
                for band in definition.bands
                if not band.clinical_only
            ]
    except (Inexact, InvalidOperation, Overflow, Underflow, DivisionByZero):
        raise InputError("value", "the value has too many digits to compare exactly") from None

    notes: list[str] = []
    limit = definition.limit
    undecided = [band for band, state in states if state is None]
    matched = [band for band, state in states if state is True]
    if normal is True:
        chosen: Band | None = None
    elif undecided or (normal is None and not matched):
        raise InputError(limit, _missing_limit_message(definition, lab, undecided))
    elif len(matched) != 1:  # cannot happen with a table that passed _check_term
        raise RuntimeError(f"{definition.key}: {len(matched)} bands match {lab.value} {lab.unit}")
    else:
        chosen = matched[0]
        if normal is None:
            notes.append(_assumed_limit_note(definition, lab))
    notes += _range_notes(definition, lab)
    notes += list(definition.not_implemented)
    notes.append(f"Source status: {definition.status}.")

    return CtcaeGrade(
        term=definition.key,
        term_name=definition.name,
        grade=0 if chosen is None else chosen.grade,
        value=lab.value,
        unit=lab.unit,
        band=definition.normal_text if chosen is None else chosen.text,
        comparison=_comparison_text(definition, lab, chosen),
        inputs=_inputs(lab),
        notes=tuple(notes),
        source_status=definition.status,
        max_grade_from_value=definition.max_grade_from_value,
        version=load_ctcae().version,
        collected_at=lab.collected_at,
        multiple_of_uln=_multiple(lab) if definition.direction == "increased" else None,
    )


def _grade_against_baseline(result: CtcaeGrade, definition: TermDefinition, lab: LabValue,
                            baseline: LabValue) -> CtcaeGrade:
    """decisions.md A33: the CTCAE "x baseline" clauses, with the pre-infusion value as the baseline."""
    clauses = definition.baseline
    assert clauses is not None
    if baseline.test != lab.test:
        raise InputError("baseline", f"the baseline is a {baseline.test} result, not {lab.test}")
    if baseline.collected_at is not None and lab.collected_at is not None and baseline.collected_at > lab.collected_at:
        raise InputError("baseline", "the baseline was collected after the value it is the baseline of")
    if baseline.value <= 0:
        raise InputError("baseline", "a baseline of zero cannot be multiplied: check the pre-infusion value")
    where = _baseline_text(baseline)
    if clauses.applies_when == "abnormal":
        if baseline.uln is None:
            return replace(result, baseline=baseline.value,
                           clause=f"graded against the ULN: the baseline {where} has no ULN, so whether it was "
                                  "abnormal cannot be judged")
        if baseline.value <= baseline.uln:
            return replace(result, baseline=baseline.value,
                           clause=f"graded against the ULN: the baseline {where} was within normal "
                                  f"(<= ULN {baseline.uln:f} {baseline.unit})")
    chosen = _baseline_band(clauses, lab.value, baseline.value)
    grade = 0 if chosen is None else chosen.grade
    if clauses.applies_when == "known" and grade <= result.grade:
        return replace(result, baseline=baseline.value,
                       clause=f"graded against the ULN; against the baseline {where} the value gives grade {grade} "
                              f"({_baseline_comparison(clauses, chosen, lab, baseline)}) ({clauses.reference})")
    notes = [n for n in result.notes if not n.startswith("Source status")]
    notes.append(f"Baseline clause source status: {clauses.status}.")
    notes.append(f"Source status: {definition.status}.")
    abnormal = "" if clauses.applies_when == "known" else f", abnormal (> ULN {baseline.uln:f} {baseline.unit})"
    return replace(
        result,
        grade=grade,
        band=clauses.normal_text if chosen is None else chosen.text,
        comparison=_baseline_comparison(clauses, chosen, lab, baseline),
        notes=tuple(notes),
        baseline=baseline.value,
        clause=f"graded against the baseline {where}{abnormal} ({clauses.reference})",
    )


def _baseline_band(clauses: BaselineClauses, value: Decimal, baseline: Decimal) -> Band | None:
    with localcontext(_EXACT):
        for band in clauses.bands:
            if all(bound is None or _OPS[bound.comparison](value, bound.value * baseline)
                   for bound in (band.lower, band.upper)):
                return band
    return None


def _baseline_comparison(clauses: BaselineClauses, band: Band | None, lab: LabValue, baseline: LabValue) -> str:
    def threshold(bound: Bound) -> str:
        return f"{bound.value} x baseline = {bound.value * baseline.value:f} {lab.unit}"

    if band is None:
        first = clauses.bands[0].lower
        assert first is not None
        return f"{lab.value:f} {lab.unit} {_COMPLEMENT[first.comparison]} {threshold(first)}"
    parts = []
    if band.lower is not None:
        parts.append(f"{threshold(band.lower)} {_MIRROR[band.lower.comparison]}")
    parts.append(f"{lab.value:f} {lab.unit}")
    if band.upper is not None:
        parts.append(f"{band.upper.comparison} {threshold(band.upper)}")
    return " ".join(parts)


def _baseline_text(baseline: LabValue) -> str:
    when = "" if baseline.collected_at is None else f", collected {site_time(baseline.collected_at)}"
    return f"{baseline.value:f} {baseline.unit} (pre-infusion value{when})"


def worst_grades(results: Iterable[CtcaeGrade]) -> dict[str, CtcaeGrade]:
    """The worst value of each term with its grade and date (decisions.md A32).

    The worst value is the nadir for a count that falls (ANC, platelets, haemoglobin: the "decreased" terms)
    and the peak for a value that rises (the "increased" terms: by its multiple of the ULN when the ULN was
    reported, else by the value); its grade is that value's grade. The highest grade comes first, so a
    reference range that changes between results can never hide a higher grade behind a lower nadir; within
    the highest grade the nadir (or peak) is kept, and among equal values the earliest collected (the first
    given when a time is missing)."""
    worst: dict[str, CtcaeGrade] = {}
    for result in results:
        current = worst.get(result.term)
        if current is None or _worse(result, current):
            worst[result.term] = result
    return worst


def worst_value_key(direction: str, value: Decimal, multiple_of_uln: Decimal | None = None) -> Decimal:
    """How far a value is toward the abnormal side of its term: larger is worse (decisions.md A32).

    Falling counts: the lower the value, the worse (the nadir). Rising values: the higher the multiple of the
    ULN (or the value when no ULN was reported), the worse (the peak)."""
    if direction == "decreased":
        return -value
    return multiple_of_uln if multiple_of_uln is not None else value


def _worse(result: CtcaeGrade, current: CtcaeGrade) -> bool:
    if result.grade != current.grade:
        return result.grade > current.grade
    direction = term_definition(result.term).direction
    new_key = worst_value_key(direction, result.value, result.multiple_of_uln)
    old_key = worst_value_key(direction, current.value, current.multiple_of_uln)
    if new_key != old_key:
        return new_key > old_key
    return result.collected_at is not None and current.collected_at is not None and result.collected_at < current.collected_at


def band_edges(term: str, *, lln: Decimal | None = None, uln: Decimal | None = None) -> tuple[BandEdge, ...]:
    """The grade bands of ``term`` in canonical units (``lln``/``uln`` canonical too), for plotting.

    Grade 0 and the bands that need a missing limit are left out; clinical-only grades have no band.
    """
    definition = term_definition(term)
    limits = {"lln": lln, "uln": uln}

    def edge(bound: Bound | None) -> tuple[Decimal | None, bool] | None:
        if bound is None:
            return (None, False)
        if bound.relative_to == "absolute":
            return (bound.value, bound.comparison in (">=", "<="))
        reference = limits[bound.relative_to]
        if reference is None:
            return None
        return (bound.value * reference, bound.comparison in (">=", "<="))

    edges = []
    bands = [Band(0, definition.normal_text, *_normal_sides(definition))]
    bands += [b for b in definition.bands if not b.clinical_only]
    for band in bands:
        lower, upper = edge(band.lower), edge(band.upper)
        if lower is None or upper is None:
            continue
        edges.append(BandEdge(band.grade, lower[0], upper[0], lower[1], upper[1], band.text))
    return tuple(edges)


# --- Helpers ---------------------------------------------------------------------------------------------------


def _holds(
    bound: Bound | None, entered: Decimal, multiplier: Decimal, divisor: Decimal, limits: Mapping[str, Decimal | None]
) -> bool | None:
    """Whether ``bound`` holds for the value; ``None`` when it needs a limit that was not given.

    Absolute thresholds are in the canonical unit: value x multiplier / divisor OP t  <=>  value x multiplier
    OP t x divisor (divisor > 0). Relative thresholds use the limit in the entered unit: value OP k x limit.
    """
    if bound is None:
        return True
    compare = _OPS[bound.comparison]
    if bound.relative_to == "absolute":
        return compare(entered * multiplier, bound.value * divisor)
    reference = limits[bound.relative_to]
    if reference is None:
        return None
    return compare(entered, bound.value * reference)


def _all(states: Iterable[bool | None]) -> bool | None:
    values = list(states)
    if False in values:
        return False
    return None if None in values else True


def _normal_sides(definition: TermDefinition) -> tuple[Bound | None, Bound | None]:
    return (definition.normal, None) if definition.direction == "decreased" else (None, definition.normal)


def _missing_limit_message(definition: TermDefinition, lab: LabValue, undecided: list[Band]) -> str:
    name = definition.limit.upper()
    if definition.direction == "increased":
        return f"the {name} is needed: every {definition.name} grade is a multiple of the {name}"
    edge = next((b.lower for b in undecided if b.lower is not None), None)
    where = f"at or above {edge.describe()}" if edge is not None else "here"
    return (
        f"the {name} is needed to grade {lab.value} {lab.unit}: {where} the grade is 0 or 1 depending on the {name}"
    )


def _assumed_limit_note(definition: TermDefinition, lab: LabValue) -> str:
    band1 = definition.band(1)
    edge = band1.lower.describe() if band1.lower is not None else "the grade 1 boundary"
    name = definition.limit.upper()
    return (
        f"No {name} was given: graded on the absolute thresholds, which assumes the {name} is above {lab.value} "
        f"{lab.unit} (CTCAE's grade 1 range '<{name} - {edge}' presumes an {name} above {edge}). "
        f"If the {name} of this result is at or below {lab.value} {lab.unit}, the grade is 0."
    )


def _range_notes(definition: TermDefinition, lab: LabValue) -> list[str]:
    """A note when the reported LLN is below the grade 1 boundary: values from the LLN up to that boundary,
    which the CTCAE table would put in grade 2 or lower, are within normal and graded 0."""
    band1 = definition.band(1)
    if definition.direction != "decreased" or lab.lln is None or band1.lower is None:
        return []
    if band1.lower.relative_to != "absolute" or lab.lln >= band1.lower.value:
        return []
    return [
        f"The reported LLN ({lab.lln} {lab.unit}) is below the grade 1 boundary ({band1.lower.describe()}): "
        f"grade 1 cannot occur with this reference range; from the LLN up is grade 0 (within normal), below it "
        f"the absolute thresholds of grades 2 and up apply."
    ]


def _comparison_text(definition: TermDefinition, lab: LabValue, band: Band | None) -> str:
    """The chosen band with numbers, e.g. ``0.5 10^9/L <= 0.75 10^9/L < 1.0 10^9/L``.

    Decreased terms are shown in the canonical unit (their conversions are exact powers of ten); increased
    terms in the unit entered, since they are graded on multiples of the ULN reported in that unit.
    """
    lower, upper = _normal_sides(definition) if band is None else (band.lower, band.upper)
    canonical = definition.direction == "decreased"
    unit = lab.unit if canonical else lab.entered_unit
    shown_value = lab.value if canonical else lab.entered_value
    limits = {"lln": lab.lln, "uln": lab.uln} if canonical else {"lln": lab.entered_lln, "uln": lab.entered_uln}

    def threshold(bound: Bound) -> str:
        if bound.relative_to == "absolute":
            return f"{bound.value:f} {definition.unit}"
        reference = limits[bound.relative_to]
        if reference is None:
            return bound.describe()
        return f"{bound.describe()} = {bound.value * reference:f} {unit}"

    parts = []
    if lower is not None:
        parts.append(f"{threshold(lower)} {_MIRROR[lower.comparison]}")
    parts.append(f"{shown_value:f} {unit}")
    if upper is not None:
        parts.append(f"{upper.comparison} {threshold(upper)}")
    return " ".join(parts)


def _multiple(lab: LabValue) -> Decimal | None:
    if lab.entered_uln is None or lab.entered_uln == 0:
        return None
    return (lab.entered_value / lab.entered_uln).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)


def _inputs(lab: LabValue) -> tuple[InputUsed, ...]:
    when = "" if lab.collected_at is None else site_time(lab.collected_at)
    inputs = [InputUsed("value", str(lab.entered_value), lab.entered_unit, when)]
    if lab.entered_unit != lab.unit:
        inputs.append(InputUsed("value (canonical)", str(lab.value), lab.unit, when))
    if lab.entered_lln is not None:
        inputs.append(InputUsed("LLN", str(lab.entered_lln), lab.entered_unit, when))
    if lab.entered_uln is not None:
        inputs.append(InputUsed("ULN", str(lab.entered_uln), lab.entered_unit, when))
    return tuple(inputs)


#: The module's public surface: what the other layers may import (tests/unit/test_architecture.py).
__all__ = [
    "CTCAE_FILE",
    "REFERENCE",
    "Band",
    "BandEdge",
    "Bound",
    "CtcaeGrade",
    "CtcaeTable",
    "TermDefinition",
    "band_edges",
    "grade",
    "grade_lab",
    "load_ctcae",
    "parse_ctcae",
    "term_definition",
    "term_for_test",
    "terms",
    "worst_grades",
    "worst_value_key",
]

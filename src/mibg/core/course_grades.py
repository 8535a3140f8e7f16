"""The grades of every laboratory result of one course, each in its course's context (issue 11: stored grades).

A result's grade is not a function of the result alone. What it is keyed by, stated once here:

* **the result as entered**: test, value, unit, LLN, ULN and collection time (a stored result never changes: a
  correction is a new result and the old one is voided, decisions.md A37);
* **the course's baseline of its test** (decisions.md A33, clinical-reference §6.1): for a value collected at or
  after the start of the infusion, the latest value of the same test collected before the infusion start, among
  the course's own results that count (not voided) and the results of the course's latest screening
  evaluation. It changes when the infusion start is recorded or corrected, when a result before the infusion is
  entered, corrected or voided, and when the course is screened again. Values before the infusion and courses
  not yet given have no baseline (the ULN clauses apply);
* **the patient's date of birth**, for a blood pressure (the adult rows apply from 18 years: clinical-reference
  §6.1, mibg.core.clinical_rows);
* **the CTCAE v5.0 rows** of ``mibg/protocol/ctcae_v5.json`` (:func:`table_digest`), which change only with a
  release of the application.

:func:`grade_course` grades every result of a course from all of these at once, so that a caller that stores
the grades can store the grades of the whole course again whenever any of them changes, and what is stored is
always what this computes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Hashable, Iterable, Mapping, Sequence
from datetime import date, datetime
from functools import cache, lru_cache
from typing import Any, TypeVar

from mibg.core.clinical_rows import ClinicalReading, is_clinical, read_clinical
from mibg.core.ctcae import CTCAE_FILE, CtcaeGrade, grade_lab
from mibg.core.errors import InputError
from mibg.core.labs import LabValue, lab_value

K = TypeVar("K", bound=Hashable)

#: A stored grade: a CTCAE v5.0 grade, or the reading of a thyroid value or a blood pressure (issue 12).
Graded = CtcaeGrade | ClinicalReading


def baselines_before(infusion_at: datetime, course_labs: Iterable[LabValue],
                     screening: Iterable[LabValue] = ()) -> dict[str, LabValue]:
    """The course's baseline of each test (decisions.md A33): its latest value collected before the infusion
    start, among the course's own results and the screening results. Clinical rows (thyroid, blood pressure) have
    no baseline clause and are left out."""
    latest: dict[str, LabValue] = {}
    for lab in [*course_labs, *screening]:
        if lab.collected_at is None or lab.collected_at >= infusion_at or is_clinical(lab.test):
            continue
        current = latest.get(lab.test)
        if current is None or (current.collected_at is not None and lab.collected_at > current.collected_at):
            latest[lab.test] = lab
    return latest


def screening_values(labs: Iterable[Mapping[str, Any]]) -> list[LabValue]:
    """The laboratory results of a screening snapshot (its ``labs``, as stored JSON) as lab values: the screening
    side of the baselines. A value this grading cannot read is not a baseline (its value is graded on the ULN)."""
    out = []
    for raw in labs:
        try:
            out.append(lab_value(str(raw["test"]), str(raw["value"]), str(raw["unit"]),
                                 lln=None if raw.get("lln") is None else str(raw["lln"]),
                                 uln=None if raw.get("uln") is None else str(raw["uln"]),
                                 collected_at=datetime.fromisoformat(str(raw["collected_at"]))))
        except (InputError, KeyError, ValueError):
            continue
    return out


def grade_course(labs: Sequence[tuple[K, LabValue]], infusion_at: datetime | None,
                 screening: Iterable[LabValue] = (), birth_date: date | None = None) -> dict[K, Graded]:
    """The grade of each of the course's results that count (``labs``: key, value), as the module docstring keys
    it. :class:`mibg.core.errors.InputError` when one cannot be graded (e.g. a baseline of zero: ``baseline``)."""
    baselines = {} if infusion_at is None else baselines_before(infusion_at, [lab for _, lab in labs], screening)
    out: dict[K, Graded] = {}
    for key, lab in labs:
        if is_clinical(lab.test):
            out[key] = read_clinical(lab, birth_date)
            continue
        baseline = None
        if infusion_at is not None and lab.collected_at is not None and lab.collected_at >= infusion_at:
            baseline = baselines.get(lab.test)
        out[key] = grade_lab(lab, baseline=baseline)
    return out


def grade_from_json(data: object, path: str = "grade") -> Graded:
    """A stored grade read back typed: a CTCAE grade or a clinical reading, by its schema."""
    if isinstance(data, Mapping) and data.get("schema") == "mibg.clinical_reading":
        return ClinicalReading.from_json(data, path)
    return CtcaeGrade.from_json(data, path)


def grade_text(grade: Graded) -> str:
    """The grade's one shape as the JSON text a laboratory result stores (keys sorted, no spaces): the same grade
    is always the same text."""
    return json.dumps(grade.to_json(), sort_keys=True, separators=(",", ":"))


@lru_cache(maxsize=20000)
def grade_from_text(text: str, path: str = "grade") -> Graded:
    """:func:`grade_from_json` of a stored text, read once per process for the same text: a page reads every grade
    of a course on every view, and a grade is immutable (bench/RESULTS.md)."""
    return grade_from_json(json.loads(text), path)


@cache
def table_digest() -> str:
    """SHA-256 of the CTCAE rows the grades are computed from (``ctcae_v5.json``), first 16 hex digits: a stored
    grade computed from other rows is out of date (tests/web/test_stored_grades.py keeps the migration that
    stored them in step)."""
    return hashlib.sha256(CTCAE_FILE.read_bytes()).hexdigest()[:16]


#: The module's public surface: what the other layers may import (tests/unit/test_architecture.py).
__all__ = ["Graded", "baselines_before", "grade_course", "grade_from_json", "grade_from_text", "grade_text",
           "screening_values", "table_digest"]

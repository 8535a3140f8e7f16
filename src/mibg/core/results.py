"""Results that carry their explanation: the inputs used (with their dates), the formula, the source."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple

from mibg.core.serial import JSON, Reader


class Status(StrEnum):
    """The result of one eligibility criterion (decisions.md "Results")."""

    MET = "met"
    NOT_MET = "not met"
    UNKNOWN = "unknown"
    NEEDS_REVIEW = "needs review"


class Overall(StrEnum):
    ELIGIBLE = "eligible"
    NOT_ELIGIBLE = "not eligible"
    INCOMPLETE = "incomplete"
    NEEDS_REVIEW = "needs review"


class Severity(StrEnum):
    """How a dose finding weighs: a block stops the plan; a warning never does (decisions.md "Hard and soft limits")."""

    BLOCK = "block"
    WARN = "warn"
    INFO = "info"


class InputUsed(NamedTuple):
    """One value a result was computed from. ``field`` is the snapshot path a screen can link to.

    A NamedTuple rather than a frozen dataclass: equally immutable, and screening builds tens of thousands
    a second, where a frozen dataclass's slower construction dominated (bench/bench_screening.py).
    """

    name: str
    value: str
    unit: str = ""
    when: str = ""
    field: str = ""

    def __str__(self) -> str:
        text = f"{self.name} = {self.value}{' ' + self.unit if self.unit else ''}"
        return f"{text} ({self.when})" if self.when else text

    def to_json(self) -> JSON:
        return {"name": self.name, "value": self.value, "unit": self.unit, "when": self.when, "field": self.field}

    @classmethod
    def from_json(cls, r: Reader) -> InputUsed:
        return cls(r.text("name"), r.text("value"), r.text("unit"), r.text("when"), r.text("field"))


class CriterionResult(NamedTuple):
    """The result of one criterion (an immutable NamedTuple; see :class:`InputUsed` for why)."""

    id: str
    kind: str
    title: str
    status: Status
    reason: str
    inputs: tuple[InputUsed, ...]
    wording: str
    reference: str
    decisions: tuple[str, ...] = ()
    applies: bool = True
    missing: tuple[str, ...] = ()
    chair_clearable: bool = False
    cleared_by: str = ""

    def to_json(self) -> JSON:
        return {
            "id": self.id,
            "kind": self.kind,
            "title": self.title,
            "status": str(self.status),
            "applies": self.applies,
            "reason": self.reason,
            "inputs": [i.to_json() for i in self.inputs],
            "missing": list(self.missing),
            "wording": self.wording,
            "reference": self.reference,
            "decisions": list(self.decisions),
            "chair_clearable": self.chair_clearable,
            "cleared_by": self.cleared_by,
        }

    @classmethod
    def from_json(cls, r: Reader) -> CriterionResult:
        return cls(id=r.text("id"), kind=r.text("kind"), title=r.text("title"), status=r.enum("status", Status),
                   reason=r.text("reason"), inputs=r.each("inputs", InputUsed.from_json), wording=r.text("wording"),
                   reference=r.text("reference"), decisions=r.texts("decisions"), applies=r.boolean("applies"),
                   missing=r.texts("missing"), chair_clearable=r.boolean("chair_clearable"),
                   cleared_by=r.text("cleared_by"))


class Verdict(NamedTuple):
    """A criterion's verdict without its explanation: what screening a programme needs (issue 14)."""

    id: str
    status: Status
    #: The status rests on a chair decision (the explanation's ``cleared_by`` is not empty).
    decided: bool = False


@dataclass(frozen=True, slots=True)
class Finding:
    """One dose-limit check: rule ID, severity and a message that names the largest allowed value."""

    rule: str
    severity: Severity
    message: str
    inputs: tuple[InputUsed, ...] = ()
    reference: str = ""
    chair_clearable: bool = False
    cleared_by: str = ""

    def to_json(self) -> JSON:
        return {
            "rule": self.rule,
            "severity": str(self.severity),
            "message": self.message,
            "inputs": [i.to_json() for i in self.inputs],
            "reference": self.reference,
            "chair_clearable": self.chair_clearable,
            "cleared_by": self.cleared_by,
        }

    @classmethod
    def from_json(cls, r: Reader) -> Finding:
        return cls(r.text("rule"), r.enum("severity", Severity), r.text("message"), r.each("inputs", InputUsed.from_json),
                   r.text("reference"), r.boolean("chair_clearable"), r.text("cleared_by"))


@dataclass(frozen=True, slots=True)
class Calculation:
    """A computed number shown so it can be checked by hand."""

    name: str
    value: str
    unit: str
    formula: str
    inputs: tuple[InputUsed, ...] = field(default=())

    def to_json(self) -> JSON:
        return {"name": self.name, "value": self.value, "unit": self.unit, "formula": self.formula,
                "inputs": [i.to_json() for i in self.inputs]}

    @classmethod
    def from_json(cls, r: Reader) -> Calculation:
        return cls(r.text("name"), r.text("value"), r.text("unit"), r.text("formula"), r.each("inputs", InputUsed.from_json))


#: The module's public surface: what the other layers may import (tests/unit/test_architecture.py).
__all__ = [
    "Calculation",
    "CriterionResult",
    "Finding",
    "InputUsed",
    "Overall",
    "Severity",
    "Status",
    "Verdict",
]

"""The CTCAE v5.0 terms an adverse event is recorded with: a pick from a list, never free text (issue 15).

The list is data in ``mibg/protocol/ctcae_v5.json`` (``adverse_event_terms``), each term with its MedDRA code,
its grade definitions and its source; terms written from memory are marked "unverified against the v5.0 text"
(clinical-reference §6.1, §8 item 5; decisions.md A18: toxicities are graded with CTCAE v5.0). The lab terms
take their grade definitions from the graded rows of the same file (mibg.core.ctcae), so each is written once.
Every door (form, API, FHIR import) checks a term with :func:`check_term`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from mibg.core.ctcae import CTCAE_FILE, load_ctcae
from mibg.core.errors import InputError

REFERENCE = "clinical-reference §6.1; decisions.md A18"


@dataclass(frozen=True, slots=True)
class GradeDefinition:
    grade: int
    text: str


@dataclass(frozen=True, slots=True)
class AeTerm:
    """One CTCAE v5.0 term: its name, MedDRA code (None where the file does not give it), grades and source."""

    name: str
    meddra_code: str | None
    soc: str
    grades: tuple[GradeDefinition, ...]
    source: str
    status: str
    note: str = ""
    lab_term: str = ""  # the graded lab row (mibg.core.ctcae) the term is computed by, if any

    @property
    def label(self) -> str:
        code = f"MedDRA {self.meddra_code}" if self.meddra_code else "MedDRA code not recorded"
        return f"{self.name} ({code})"


@cache
def ae_terms() -> Mapping[str, AeTerm]:
    """The terms by their CTCAE name, in the file's order (checked on load)."""
    raw = json.loads(CTCAE_FILE.read_text(encoding="utf-8"))["adverse_event_terms"]
    labs = load_ctcae().terms
    terms: dict[str, AeTerm] = {}
    for item in raw["terms"]:
        lab_key = str(item.get("lab_term") or "")
        if lab_key:
            grades = tuple(GradeDefinition(b.grade, b.text) for b in labs[lab_key].bands)
            if labs[lab_key].name != item["term"]:
                raise ValueError(f"CTCAE term {item['term']} names lab row {lab_key} ({labs[lab_key].name})")
        else:
            grades = tuple(GradeDefinition(int(g), str(text)) for g, text in item["grades"].items())
        if not grades or any(not 1 <= g.grade <= 5 for g in grades):
            raise ValueError(f"CTCAE term {item['term']}: grades must be 1 to 5")
        if item["term"] in terms:
            raise ValueError(f"CTCAE term {item['term']} appears twice")
        code = item.get("meddra_code")
        terms[item["term"]] = AeTerm(item["term"], str(code) if code else None, item["soc"], grades, item["source"],
                                     item["status"], item.get("note", ""), lab_key)
    return terms


def term_for_lab(lab_key: str) -> AeTerm | None:
    """The adverse-event term of a graded lab row, e.g. ``platelet-count-decreased`` -> Platelet count decreased."""
    return next((t for t in ae_terms().values() if t.lab_term == lab_key), None)


def check_term(name: str, field: str = "term") -> AeTerm:
    """The CTCAE v5.0 term named exactly ``name``; :class:`InputError` naming ``field`` otherwise."""
    term = ae_terms().get(str(name).strip())
    if term is None:
        raise InputError(field, f"'{name}' is not a CTCAE v5.0 term of this application's list: pick the term "
                                "from the list (a term the list lacks is added to the protocol definition, with its source)")
    return term


def is_ctcae_term(name: str) -> bool:
    """Whether a stored term is on the list (older events were typed as free text and still display)."""
    return str(name).strip() in ae_terms()


#: The module's public surface: what the other layers may import (tests/unit/test_architecture.py).
__all__ = [
    "REFERENCE",
    "AeTerm",
    "GradeDefinition",
    "ae_terms",
    "check_term",
    "is_ctcae_term",
    "term_for_lab",
]

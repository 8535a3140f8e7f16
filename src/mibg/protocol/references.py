"""The catalogue of what rules cite: the product decisions (decisions.md) and the clinical reference's sections.

``references.json`` holds each decision's id, title, section and text, and each clinical-reference section's
number and title, so a page can say "product decision A9 (scan window)" instead of the code's "decisions.md A9".
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

__all__ = ["DecisionEntry", "References", "load_references"]

CATALOGUE_FILE = Path(__file__).with_name("references.json")


@dataclass(frozen=True, slots=True)
class DecisionEntry:
    id: str  # "A9", or a slug for a decision without a number ("release")
    ids: tuple[str, ...]  # every rule id the decision names ("H5", "X1")
    title: str
    section: str
    decision: str


@dataclass(frozen=True, slots=True)
class References:
    source: str
    decisions: tuple[DecisionEntry, ...]
    sections: tuple[tuple[str, str], ...]  # ("§1.4", "Exclusions, dose and administration")

    def decision(self, key: str) -> DecisionEntry | None:
        """The decision cited as ``key``: an id ("A9", "X1") or a title ("Release", "Stem-cell infusion")."""
        wanted = key.strip()
        slug = re.sub(r"[^a-z0-9]+", "-", wanted.lower()).strip("-")
        for entry in self.decisions:
            if wanted in entry.ids or entry.id == wanted or entry.id == slug or entry.title.lower() == wanted.lower():
                return entry
        return None

    def section_title(self, number: str) -> str | None:
        for section, title in self.sections:
            if section == number:
                return title
        return None


@cache
def load_references() -> References:
    data = json.loads(CATALOGUE_FILE.read_text(encoding="utf-8"))
    return References(
        source=data["source"],
        decisions=tuple(DecisionEntry(d["id"], tuple(d["ids"]), d["title"], d["section"], d["decision"])
                        for d in data["decisions"]),
        sections=tuple((s["id"], s["title"]) for s in data["clinical_reference_sections"]),
    )

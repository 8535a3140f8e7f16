"""The catalogue of what rules cite: the product decisions (decisions.md) and the clinical reference's sections.

``references.json`` holds each decision's id, title, section and text, and each clinical-reference section's
number and title, so a page can say "product decision A9 (scan window)" instead of the code's "decisions.md A9".

Rules and messages cite their sources the way the code does ("decisions.md A9", "clinical-reference §1.4"):
:func:`citations` finds each citation in a text and what it names, the one reading of them that every door shares
(the pages link each one, :mod:`mibg.web.sources`); :func:`named` writes them in words for paper, e-mail and CSV.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

__all__ = ["Cited", "DecisionEntry", "References", "citations", "load_references", "named", "without_tracker"]

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


_ID = r"[A-Z]{1,2}\d+"
_IDS = rf"{_ID}(?:(?:\s*,\s*|\s+and\s+|/){_ID})*"
_SECTION_WORD = r"(?:\s+(?:Dose|Eligibility|Radiation safety and dosimetry))?"
_DECISIONS = (rf"decisions\.md{_SECTION_WORD}(?:\s+(?:'(?P<quoted>[^']+)'|\"(?P<dquoted>[^\"]+)\"|"
              rf"(?P<ids>{_IDS})\b))?")
_REFERENCE = r"clinical-reference(?:\.md)?(?:\s+§\s?(?P<section>\d+(?:\.\d+)?)(?:\s*[–-]\s*§\s?\d+(?:\.\d+)?)?)?"
#: A further section of the reference in the same citation: "clinical-reference §1.3 S2, S3, T5; §1.4 R1, R2".
_MORE_SECTIONS = r"(?<=[;,] )§\s?(?P<bare>\d+(?:\.\d+)?)"
#: A decision already named in words but without its title ("(product decision A9)", as the screening form's help
#: was written for translation): linked and titled like "decisions.md A9"; one that has its title is left alone.
_NAMED = rf"product decision (?P<named_ids>{_IDS})\b(?!\s*\()"
CITATION = re.compile(f"{_DECISIONS}|{_NAMED}|{_REFERENCE}|{_MORE_SECTIONS}")
_SEPARATOR = r"(\s*,\s*|\s+and\s+|/)"


@dataclass(frozen=True, slots=True)
class Cited:
    """One source a text cites, as it names it.

    ``kind``: ``decision`` (one product decision, ``shown`` its id: "A9"), ``named decision`` (one cited by its title,
    ``shown`` the title as written: "Release"), ``decisions`` (the product decisions as a whole), ``section`` (a
    section of the clinical reference, ``shown`` its number: "1.4") or ``reference`` (the clinical reference)."""

    kind: Literal["decision", "named decision", "decisions", "section", "reference"]
    shown: str = ""
    entry: DecisionEntry | None = None  # the decision, when the catalogue has it
    title: str | None = None  # a section's title, when the catalogue has it


def _section_title(number: str) -> str | None:
    title = load_references().section_title(f"§{number}")
    if title is None:
        return None
    # The reference's own note on where the project records its decisions is not for the reader.
    return re.sub(r",?\s*§\s?\d+(?:\.\d+)?", "", re.sub(r"\s*\([^()]*decisions\.md[^()]*\)", "", title))


def _cited(match: re.Match[str]) -> list[str | Cited]:
    catalogue = load_references()
    if match.group("named_ids"):
        return [Cited("decision", part, catalogue.decision(part)) if re.fullmatch(_ID, part) else part
                for part in re.split(_SEPARATOR, match.group("named_ids"))]
    if match.group(0).startswith("decisions"):
        name = match.group("quoted") or match.group("dquoted")
        if name:
            return [Cited("named decision", name, catalogue.decision(name))]
        ids = match.group("ids")
        if ids:
            return [Cited("decision", part, catalogue.decision(part)) if re.fullmatch(_ID, part) else part
                    for part in re.split(_SEPARATOR, ids)]
        return [Cited("decisions")]
    section = match.group("section") or match.group("bare")
    if section is None:
        return [Cited("reference")]
    return [Cited("section", section, title=_section_title(section))]


def citations(text: object) -> list[str | Cited]:
    """``text`` in pieces: the words as written (``str``) and each citation of a decision or a reference section
    (:class:`Cited`). ``"Blocked (decisions.md A2)."`` -> ``["Blocked (", Cited("decision", "A2", ...), ")."]``."""
    raw = "" if text is None else str(text)
    pieces: list[str | Cited] = []
    last = 0
    for match in CITATION.finditer(raw):
        pieces.append(raw[last:match.start()])
        pieces += _cited(match)
        last = match.end()
    pieces.append(raw[last:])
    return [piece for piece in pieces if piece != ""]


def words(cited: Cited) -> str:
    """A citation as a reader is told it, without a link: "product decision A9 (scan window)", "clinical reference
    section 1.4 (Exclusions, dose and administration)"."""
    if cited.kind == "decision":
        return f"product decision {cited.shown}" + (f" ({cited.entry.title})" if cited.entry else "")
    if cited.kind == "named decision":
        return f"product decision “{cited.entry.title if cited.entry else cited.shown}”"
    if cited.kind == "decisions":
        return "the product decisions"
    if cited.kind == "reference":
        return "the clinical reference"
    return f"clinical reference section {cited.shown}" + (f" ({cited.title})" if cited.title else "")


def named(text: object) -> str:
    """``text`` with every citation written in words (:func:`words`): for paper, e-mail and CSV, where there is no
    link. ``"Blocked (decisions.md A2)."`` -> ``"Blocked (product decision A2 (exactly 12 mCi/kg))."``."""
    return "".join(piece if isinstance(piece, str) else words(piece) for piece in citations(text))


#: The project's issue tracker, cited in the protocol definition's notes ("issue 13 §3"): not the clinic's source.
_TRACKER = re.compile(r"\bissue \d+(?: §[\d.]+)?(?:; |, )?")
#: A separator the citation left behind at the end of a note or a bracket: "...; issue 13 §3" -> "...".
_LEFT_BEHIND = re.compile(r"[;,] *(?=$|\))")


def without_tracker(text: object) -> str:
    """``text`` without the project's issue-tracker references: ``"21 CFR 312.32; issue 13 §3"`` -> ``"21 CFR 312.32"``."""
    raw = "" if text is None else str(text)
    cut = _TRACKER.sub("", raw)
    return cut if cut == raw else _LEFT_BEHIND.sub("", cut).strip()

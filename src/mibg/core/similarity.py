"""Why two trial records are alike (issue 13 §5): shared conditions, interventions, eligibility terms and phase.

The database's full-text engine finds the candidates (mibg.web.trials.search); this module scores each candidate
against the study's own record and says why, so every listed trial carries its reasons. Pure Python: the facts are
read from ClinicalTrials.gov API v2 documents (plain dictionaries) and compared as normalised words.

Score (product choice; the record's "similarity analysis" is not described anywhere we can read): 30 points per
shared condition (at most 60), 20 per shared intervention (at most 40), 2 per shared eligibility term (at most 20),
10 for a shared phase. Whole points, so equal scores are equal; ties are broken by the engine's own rank, then
by NCT number.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

CONDITION_POINTS, CONDITION_CAP = 30, 60
INTERVENTION_POINTS, INTERVENTION_CAP = 20, 40
TERM_POINTS, TERM_CAP = 2, 20
PHASE_POINTS = 10
MAX_TERMS_SHOWN = 8

_WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")

#: Words that say nothing about a trial: grammar, and the boilerplate of every eligibility section.
STOPWORDS = frozenset(["a", "about", "above", "after", "again", "against", "all", "also", "an", "and", "any", "are", "as", "at", "be", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "did", "do", "does", "doing", "during", "each", "either", "else", "for", "from", "further", "had", "has", "have", "having", "here", "if", "in", "into", "is", "it", "its", "least", "less", "may", "more", "most", "must", "no", "nor", "not", "of", "off", "on", "once", "only", "or", "other", "our", "out", "over", "own", "per", "prior", "same", "shall", "should", "since", "so", "some", "such", "than", "that", "the", "their", "them", "then", "there", "these", "they", "this", "those", "through", "to", "under", "until", "up", "upon", "very", "was", "were", "what", "when", "where", "whether", "which", "while", "who", "whom", "will", "with", "within", "without", "would", "yes", "you", "your", "patient", "patients", "subject", "subjects", "participant", "participants", "study", "studies", "trial", "criteria", "criterion", "inclusion", "exclusion", "eligible", "eligibility", "must", "able", "age", "ages", "year", "years", "month", "months", "week", "weeks", "day", "days", "time", "times", "history", "previous", "current", "currently", "known", "evidence", "defined", "according", "required", "allowed", "including", "include", "includes", "included", "greater", "equal", "following", "documented", "prior", "last", "first", "least", "days", "within", "normal", "limit", "limits", "level", "levels", "value", "values"])

#: Intervention words too common to make two trials alike on their own.
GENERIC_INTERVENTION_WORDS = frozenset({"drug", "therapy", "treatment", "standard", "care", "placebo", "dose", "doses",
                                        "radiation", "procedure", "biological", "other", "device"})


def words(text: str) -> list[str]:
    """Lower-case words of ``text`` (letters, digits and inner hyphens: "131i-mibg"), markdown escapes removed."""
    return _WORD.findall(re.sub(r"\\(.)", r"\1", text).lower())


def terms(text: str) -> frozenset[str]:
    """The meaningful words of a text: no stopwords, at least 4 characters, not only digits."""
    return frozenset(w for w in words(text) if len(w) >= 4 and w not in STOPWORDS and not w.isdigit())


def _normal(name: str) -> str:
    return " ".join(words(name))


@dataclass(frozen=True, slots=True)
class TrialFacts:
    """What similarity compares, read from one record."""

    nct_id: str
    title: str
    conditions: frozenset[str]  # normalised condition names
    interventions: frozenset[str]  # one per intervention: normalised name and other names, " / " between them
    intervention_words: frozenset[str]  # their specific words (for a match on "131I-MIBG" vs "MIBG")
    eligibility_terms: frozenset[str]
    phases: frozenset[str]

    def search_words(self) -> tuple[list[str], list[str]]:
        """What to ask the full-text engine for: the specific phrases (each condition's whole name, each specific word
        of the interventions' names), then the eligibility terms, longest first (a rough stand-in for specificity)."""
        specific = sorted(self.conditions | self.intervention_words)
        taken = {w for phrase in specific for w in phrase.split()}
        general = sorted(self.eligibility_terms - taken, key=lambda w: (-len(w), w))
        return specific, general


def facts(document: Mapping[str, Any]) -> TrialFacts:
    """The facts of a ClinicalTrials.gov API v2 document (``{"protocolSection": ...}``)."""
    section = document.get("protocolSection") or {}
    ident = section.get("identificationModule") or {}
    conditions = frozenset(_normal(c) for c in (section.get("conditionsModule") or {}).get("conditions") or [] if c)
    names: set[str] = set()  # one entry per intervention: its name and other names, " / " between them
    for intervention in (section.get("armsInterventionsModule") or {}).get("interventions") or []:
        group = [_normal(n) for n in [intervention.get("name") or "", *(intervention.get("otherNames") or [])]]
        if any(group):
            names.add(" / ".join(dict.fromkeys(n for n in group if n)))
    intervention_words = frozenset(w for n in names for w in _specific_words(n))
    eligibility = (section.get("eligibilityModule") or {}).get("eligibilityCriteria") or ""
    design = section.get("designModule") or {}
    phases = frozenset(p for p in design.get("phases") or [] if p and p != "NA")
    if not phases and design.get("studyType") == "EXPANDED_ACCESS":
        phases = frozenset({"EXPANDED_ACCESS"})
    return TrialFacts(nct_id=str(ident.get("nctId") or ""), title=str(ident.get("briefTitle") or ""),
                      conditions=conditions, interventions=frozenset(names), intervention_words=intervention_words,
                      eligibility_terms=terms(eligibility), phases=phases)


@dataclass(frozen=True, slots=True)
class Similarity:
    nct_id: str
    title: str
    score: int
    reasons: tuple[str, ...]
    shared_conditions: tuple[str, ...]
    shared_interventions: tuple[str, ...]
    shared_terms: tuple[str, ...]
    shared_phases: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"nct_id": self.nct_id, "title": self.title, "score": self.score, "reasons": list(self.reasons),
                "shared": {"conditions": list(self.shared_conditions), "interventions": list(self.shared_interventions),
                           "eligibility_terms": list(self.shared_terms), "phases": list(self.shared_phases)}}


def _specific_words(name: str) -> set[str]:
    """The specific words of an intervention name, hyphenated words also in parts ("131i-mibg": "131i", "mibg")."""
    pieces = {part for w in name.split() for part in (w, *w.split("-"))}
    return {w for w in pieces if len(w) >= 3 and not w.isdigit() and w not in STOPWORDS
            and w not in GENERIC_INTERVENTION_WORDS}


def _shared_interventions(target: TrialFacts, other: TrialFacts) -> tuple[str, ...]:
    """The target's interventions that ``other`` also has: the same name, or a specific word of the name in common
    ("Metaiodobenzylguanidine (MIBG)" and "Iobenguane I-131, also called 131I-MIBG")."""
    return tuple(sorted(name for name in target.interventions
                        if name in other.interventions or _specific_words(name) & other.intervention_words))


def compare(target: TrialFacts, other: TrialFacts) -> Similarity:
    """How alike ``other`` is to ``target``, with the reasons in words."""
    conditions = tuple(sorted(target.conditions & other.conditions))
    interventions = _shared_interventions(target, other)
    shared_terms = tuple(sorted(target.eligibility_terms & other.eligibility_terms))
    phases = tuple(sorted(target.phases & other.phases))
    score = (min(CONDITION_CAP, CONDITION_POINTS * len(conditions))
             + min(INTERVENTION_CAP, INTERVENTION_POINTS * len(interventions))
             + min(TERM_CAP, TERM_POINTS * len(shared_terms))
             + (PHASE_POINTS if phases else 0))
    reasons = []
    if conditions:
        reasons.append(f"shared conditions: {', '.join(conditions)}")
    if interventions:
        reasons.append(f"shared interventions: {', '.join(interventions)}")
    if shared_terms:
        shown = ", ".join(shared_terms[:MAX_TERMS_SHOWN])
        more = f" and {len(shared_terms) - MAX_TERMS_SHOWN} more" if len(shared_terms) > MAX_TERMS_SHOWN else ""
        reasons.append(f"shared eligibility terms: {shown}{more}")
    if phases:
        reasons.append(f"same phase: {', '.join(p.lower().replace('_', ' ') for p in phases)}")
    return Similarity(other.nct_id, other.title, score, tuple(reasons), conditions, interventions, shared_terms, phases)


def rank(target: TrialFacts, candidates: Iterable[tuple[TrialFacts, float]], limit: int) -> list[Similarity]:
    """The ``limit`` most similar candidates (each with the engine's rank, higher is better), the target excluded,
    those sharing nothing left out."""
    scored = []
    for candidate, engine_rank in candidates:
        if candidate.nct_id == target.nct_id:
            continue
        similarity = compare(target, candidate)
        if similarity.score > 0:
            scored.append((similarity, engine_rank))
    scored.sort(key=lambda pair: (-pair[0].score, -pair[1], pair[0].nct_id))
    return [s for s, _ in scored[:limit]]


#: The module's public surface: what the other layers may import (tests/unit/test_architecture.py).
__all__ = [
    "GENERIC_INTERVENTION_WORDS",
    "MAX_TERMS_SHOWN",
    "PHASE_POINTS",
    "STOPWORDS",
    "Similarity",
    "TrialFacts",
    "compare",
    "facts",
    "rank",
    "terms",
    "words",
]

"""Response: the MIBG Curie score and the INRC 2017 overall response (clinical-reference §6.2).

Curie score (clinical-reference §6.2, VERIFIED): 9 skeletal segments and 1 soft-tissue segment, each scored
0 = no involvement, 1 = one site, 2 = more than one site, 3 = diffuse (> 50 % of the segment); the sum is
0-30. The segment names are those of the SIOPEN comparison table cited there. Relative Curie score =
follow-up / baseline; with a baseline of 0 it is undefined.

INRC 2017 overall response (Park 2017; the component and overall definitions are UNVERIFIED in
clinical-reference §6.2, §8 item 6) integrates three component responses — primary tumour, soft-tissue and
bone metastases, bone marrow — as clinical-reference §6.2 states them:

* PD = PD in any component;
* CR = all components CR;
* PR = at least one PR, the others CR, PR, MD (marrow) or not involved, no PD;
* MR = at least one PR or CR, at least one other SD, no PD;
* SD = SD in one, no better than SD or not involved in the others, no PD.

"Not involved" (NI: the site had no disease at study entry and has none now) is compatible with CR, PR and
SD, as the PR and SD rules say; for CR this module reads "all components CR" as "every involved component
CR" (stated in the result). Combinations the rules above do not cover (bone-marrow minimal disease with no
component in PR, e.g. CR/CR/MD or SD/NI/MD) get no overall response: the result says so and needs a
clinician's decision, rather than a guess.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum

from mibg.core.errors import InputError
from mibg.core.serial import JSON, Reader, ShapeError, dec, envelope

REFERENCE = "clinical-reference §6.2"

#: The 9 skeletal segments of the Curie score, in order: (key, name).
CURIE_SKELETAL_SEGMENTS: tuple[tuple[str, str], ...] = (
    ("head_face", "head and face"),
    ("neck_back_spine", "neck and back vertebral column"),
    ("ribs_sternum", "ribs and sternum"),
    ("lumbar_sacral_spine", "lumbar and sacral column"),
    ("pelvis", "pelvis"),
    ("arms", "arms"),
    ("forearms_hands", "forearms and hands"),
    ("thighs", "thighs"),
    ("legs_feet", "legs and feet"),
)
CURIE_SOFT_TISSUE = ("soft_tissue", "soft tissue")
CURIE_SEGMENT_MAX = 3
CURIE_MAX = CURIE_SEGMENT_MAX * (len(CURIE_SKELETAL_SEGMENTS) + 1)  # 30
CURIE_LEVELS = {0: "no involvement", 1: "one site", 2: "more than one site", 3: "diffuse (> 50 % of the segment)"}

#: Display of a relative score: 2 decimals, half to even (the exact ratio is kept in the result).
RATIO_DISPLAY = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class CurieScore:
    """A Curie score: ``skeletal`` in the order of :data:`CURIE_SKELETAL_SEGMENTS`, each 0-3; ``soft_tissue`` 0-3."""

    skeletal: tuple[int, ...]
    soft_tissue: int

    @property
    def skeletal_total(self) -> int:
        """Sum of the 9 skeletal segments, 0-27."""
        return sum(self.skeletal)

    @property
    def total(self) -> int:
        """The Curie score, 0-30."""
        return self.skeletal_total + self.soft_tissue

    def to_json(self) -> JSON:
        """Segment scores by name, with the totals written for readers (checked on reading)."""
        return {
            "segments": {key: score for (key, _), score in zip(CURIE_SKELETAL_SEGMENTS, self.skeletal, strict=True)}
            | {CURIE_SOFT_TISSUE[0]: self.soft_tissue},
            "skeletal_total": self.skeletal_total,
            "total": self.total,
            "maximum": CURIE_MAX,
        }

    @classmethod
    def from_json(cls, r: Reader) -> CurieScore:
        segments = r.child("segments")
        score = cls(tuple(segments.integer(key) for key, _ in CURIE_SKELETAL_SEGMENTS),
                    segments.integer(CURIE_SOFT_TISSUE[0]))
        r.check("skeletal_total", score.skeletal_total)
        r.check("total", score.total)
        return score


def curie_score(skeletal: Sequence[object], soft_tissue: object) -> CurieScore:
    """Check and build a Curie score. ``skeletal`` holds 9 scores in segment order; each score is a whole
    number 0-3 (an int or its digits as text).

    Raises :class:`InputError` naming the segment, e.g. ``skeletal.pelvis`` or ``soft_tissue``.
    """
    if isinstance(skeletal, str | bytes) or len(skeletal) != len(CURIE_SKELETAL_SEGMENTS):
        count = "text" if isinstance(skeletal, str | bytes) else f"{len(skeletal)} scores"
        raise InputError("skeletal", f"the Curie score has 9 skeletal segments; got {count}")
    scores = tuple(
        _segment_score(f"skeletal.{key}", name, raw) for (key, name), raw in zip(CURIE_SKELETAL_SEGMENTS, skeletal, strict=True)
    )
    return CurieScore(scores, _segment_score(CURIE_SOFT_TISSUE[0], CURIE_SOFT_TISSUE[1], soft_tissue))


def _segment_score(field: str, name: str, raw: object) -> int:
    message = f"the {name} score must be a whole number from 0 to {CURIE_SEGMENT_MAX}; got '{raw}'"
    if isinstance(raw, bool):
        raise InputError(field, message)
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, str) and raw.strip().isdigit() and raw.strip().isascii():
        value = int(raw.strip())
    else:
        raise InputError(field, message)
    if not 0 <= value <= CURIE_SEGMENT_MAX:
        raise InputError(field, message)
    return value


@dataclass(frozen=True, slots=True)
class RelativeCurie:
    """Relative Curie score = follow-up / baseline, exact; ``None`` when the baseline is 0 (undefined)."""

    baseline: CurieScore
    follow_up: CurieScore
    ratio: Decimal | None  # total / total
    skeletal_ratio: Decimal | None  # skeletal segments only (the "bone score")
    explanation: str
    reference: str = REFERENCE

    def to_json(self) -> JSON:
        """The relative Curie score's one exact shape (mibg.core.serial); the ratios are checked on reading."""
        return {
            **envelope(RELATIVE_CURIE_SCHEMA, RESPONSE_VERSION),
            "baseline": self.baseline.to_json(),
            "follow_up": self.follow_up.to_json(),
            "ratio": dec(self.ratio),
            "skeletal_ratio": dec(self.skeletal_ratio),
            "explanation": self.explanation,
            "reference": self.reference,
        }

    @classmethod
    def from_json(cls, data: object, path: str = "relative_curie") -> RelativeCurie:
        r = Reader.result(data, RELATIVE_CURIE_SCHEMA, RESPONSE_VERSION, path)
        baseline, follow_up = CurieScore.from_json(r.child("baseline")), CurieScore.from_json(r.child("follow_up"))
        r.check("ratio", dec(_ratio(follow_up.total, baseline.total)))
        r.check("skeletal_ratio", dec(_ratio(follow_up.skeletal_total, baseline.skeletal_total)))
        return cls(baseline, follow_up, r.opt_decimal("ratio"), r.opt_decimal("skeletal_ratio"), r.text("explanation"),
                   r.text("reference"))


RELATIVE_CURIE_SCHEMA, INRC_SCHEMA, RESPONSE_VERSION = "mibg.relative_curie", "mibg.inrc_response", 1


def relative_curie(baseline: CurieScore, follow_up: CurieScore) -> RelativeCurie:
    """The relative Curie score of ``follow_up`` against ``baseline`` (clinical-reference §6.2)."""
    ratio = _ratio(follow_up.total, baseline.total)
    skeletal_ratio = _ratio(follow_up.skeletal_total, baseline.skeletal_total)
    if ratio is None:
        explanation = (
            f"Relative Curie score undefined: the baseline score is 0 (follow-up {follow_up.total}); a ratio "
            f"needs MIBG-avid disease at baseline. A new MIBG-avid lesion is judged as progression under INRC "
            f"(clinical-reference §6.2), not by this ratio."
        )
    else:
        explanation = (
            f"Relative Curie score = follow-up / baseline = {follow_up.total} / {baseline.total} = "
            f"{_display(ratio)} (shown to 0.01, half to even)."
        )
        if skeletal_ratio is None:
            explanation += " The skeletal (bone) ratio is undefined: no skeletal segment scored at baseline."
        else:
            explanation += (
                f" Skeletal segments only: {follow_up.skeletal_total} / {baseline.skeletal_total} = "
                f"{_display(skeletal_ratio)}."
            )
    return RelativeCurie(baseline, follow_up, ratio, skeletal_ratio, explanation)


def _ratio(numerator: int, denominator: int) -> Decimal | None:
    return None if denominator == 0 else Decimal(numerator) / Decimal(denominator)


def _display(value: Decimal) -> Decimal:
    return value.quantize(RATIO_DISPLAY, rounding=ROUND_HALF_EVEN)


# --- INRC 2017 -------------------------------------------------------------------------------------------------


class ComponentResponse(StrEnum):
    CR = "CR"  # complete response
    PR = "PR"  # partial response (primary, metastases)
    MD = "MD"  # minimal disease (bone marrow only)
    SD = "SD"  # stable disease
    PD = "PD"  # progressive disease
    NI = "NI"  # not involved: no disease at study entry and none now


class OverallResponse(StrEnum):
    CR = "CR"
    PR = "PR"
    MR = "MR"
    SD = "SD"
    PD = "PD"


COMPONENTS: dict[str, tuple[str, frozenset[ComponentResponse]]] = {
    "primary": (
        "primary tumour",
        frozenset({ComponentResponse.CR, ComponentResponse.PR, ComponentResponse.SD, ComponentResponse.PD, ComponentResponse.NI}),
    ),
    "metastases": (
        "soft-tissue and bone metastases",
        frozenset({ComponentResponse.CR, ComponentResponse.PR, ComponentResponse.SD, ComponentResponse.PD, ComponentResponse.NI}),
    ),
    "marrow": (
        "bone marrow",
        frozenset({ComponentResponse.CR, ComponentResponse.MD, ComponentResponse.SD, ComponentResponse.PD, ComponentResponse.NI}),
    ),
}

_SYNONYMS = {
    "complete response": ComponentResponse.CR,
    "partial response": ComponentResponse.PR,
    "minimal disease": ComponentResponse.MD,
    "stable disease": ComponentResponse.SD,
    "progressive disease": ComponentResponse.PD,
    "not involved": ComponentResponse.NI,
}

RULES = {
    OverallResponse.PD: "PD = PD in any component",
    OverallResponse.CR: "CR = all components CR (components not involved count as consistent with CR)",
    OverallResponse.PR: "PR = at least one component PR and the others CR, PR, MD or not involved; no PD",
    OverallResponse.MR: "MR = at least one component PR or CR but at least one other SD; no PD",
    OverallResponse.SD: "SD = SD in one component, no better than SD or not involved in the others; no PD",
}


@dataclass(frozen=True, slots=True)
class InrcResponse:
    """The INRC 2017 overall response and the rule that gave it. ``overall`` is ``None`` (and
    ``needs_review`` true) for a combination the rules of clinical-reference §6.2 do not define."""

    primary: ComponentResponse
    metastases: ComponentResponse
    marrow: ComponentResponse
    overall: OverallResponse | None
    rule: str
    explanation: str
    needs_review: bool
    reference: str = f"{REFERENCE} (INRC 2017, Park et al. J Clin Oncol 2017; component tables UNVERIFIED)"

    def to_json(self) -> JSON:
        """The response's one exact shape (mibg.core.serial); the overall response and the rule are checked on
        reading against the INRC 2017 rules applied to the components."""
        return {
            **envelope(INRC_SCHEMA, RESPONSE_VERSION),
            "components": {"primary": str(self.primary), "metastases": str(self.metastases), "marrow": str(self.marrow)},
            "overall": None if self.overall is None else str(self.overall),
            "rule": self.rule,
            "explanation": self.explanation,
            "needs_review": self.needs_review,
            "reference": self.reference,
        }

    @classmethod
    def from_json(cls, data: object, path: str = "inrc_response") -> InrcResponse:
        r = Reader.result(data, INRC_SCHEMA, RESPONSE_VERSION, path)
        parts = r.child("components")
        primary, metastases = parts.enum("primary", ComponentResponse), parts.enum("metastases", ComponentResponse)
        marrow = parts.enum("marrow", ComponentResponse)
        try:
            expected = inrc_overall(primary, metastases, marrow)
        except InputError as error:
            raise ShapeError(f"{path}.components.{error.field}", error.message) from None
        r.check("overall", None if expected.overall is None else str(expected.overall))
        r.check("rule", expected.rule)
        r.check("needs_review", expected.needs_review)
        return cls(primary, metastases, marrow, expected.overall, expected.rule, r.text("explanation"),
                   expected.needs_review, r.text("reference"))


def component_response(component: str, raw: object) -> ComponentResponse:
    """Parse one component response (``CR``, ``partial response``, ``not involved``, ...) and check that the
    component can have it (MD is for the marrow only; the marrow has no PR)."""
    if component not in COMPONENTS:
        raise InputError(component, f"unknown INRC component; known: {', '.join(COMPONENTS)}")
    name, allowed = COMPONENTS[component]
    text = str(raw).strip()
    key = text.lower().replace("_", " ").replace("-", " ")
    response = _SYNONYMS.get(key)
    if response is None:
        try:
            response = ComponentResponse(text.upper())
        except ValueError:
            response = None
    if response is None or response not in allowed:
        choices = ", ".join(r.value for r in ComponentResponse if r in allowed)
        raise InputError(component, f"'{text}' is not a response of the {name}; one of: {choices}")
    return response


def inrc_overall(primary: object, metastases: object, marrow: object) -> InrcResponse:
    """The INRC 2017 overall response from the three component responses (clinical-reference §6.2).

    Raises :class:`InputError` naming the component for an unknown or impossible response, and
    ``components`` when no component is involved.
    """
    parts = {
        "primary": component_response("primary", primary),
        "metastases": component_response("metastases", metastases),
        "marrow": component_response("marrow", marrow),
    }
    values = list(parts.values())
    involved = {k: v for k, v in parts.items() if v is not ComponentResponse.NI}
    if not involved:
        raise InputError("components", "every component is 'not involved': there is no disease to assess")
    listing = ", ".join(f"{COMPONENTS[k][0]} {v}" for k, v in parts.items())
    R = ComponentResponse

    def with_(*responses: ComponentResponse) -> list[str]:
        return [COMPONENTS[k][0] for k, v in parts.items() if v in responses]

    overall: OverallResponse | None
    if R.PD in values:
        overall, why = OverallResponse.PD, f"PD in the {_and(with_(R.PD))}"
    elif all(v in (R.CR, R.NI) for v in values):
        why = f"CR in the {_and(with_(R.CR))}"
        if R.NI in values:
            why += f"; not involved: the {_and(with_(R.NI))}"
        overall = OverallResponse.CR
    elif R.PR in values and all(v in (R.CR, R.PR, R.MD, R.NI) for v in values):
        overall, why = OverallResponse.PR, f"PR in the {_and(with_(R.PR))}; no component SD or PD"
    elif any(v in (R.PR, R.CR) for v in values) and R.SD in values:
        overall = OverallResponse.MR
        why = f"response (CR or PR) in the {_and(with_(R.PR, R.CR))} but SD in the {_and(with_(R.SD))}"
    elif R.SD in values and all(v in (R.SD, R.NI) for v in values):
        overall, why = OverallResponse.SD, f"SD in the {_and(with_(R.SD))}; nothing better elsewhere"
    else:
        overall = None
        why = ""

    if overall is None:
        return InrcResponse(
            parts["primary"],
            parts["metastases"],
            parts["marrow"],
            None,
            "none: clinical-reference §6.2 defines no overall response for this combination",
            f"{listing}: bone-marrow minimal disease (MD) without a component in PR is not covered by the "
            f"overall rules (CR needs every component CR, PR needs a component in PR, SD allows only SD or "
            f"not involved elsewhere). A clinician decides; confirm against Park 2017 (clinical-reference §8 "
            f"item 6).",
            needs_review=True,
        )
    return InrcResponse(
        parts["primary"], parts["metastases"], parts["marrow"], overall, RULES[overall], f"{listing}: {why}.", False
    )


def _and(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


#: The module's public surface: what the other layers may import (tests/unit/test_architecture.py).
__all__ = [
    "COMPONENTS",
    "CURIE_LEVELS",
    "CURIE_MAX",
    "CURIE_SEGMENT_MAX",
    "CURIE_SKELETAL_SEGMENTS",
    "CURIE_SOFT_TISSUE",
    "RATIO_DISPLAY",
    "REFERENCE",
    "RULES",
    "ComponentResponse",
    "CurieScore",
    "InrcResponse",
    "OverallResponse",
    "RelativeCurie",
    "component_response",
    "curie_score",
    "inrc_overall",
    "relative_curie",
]

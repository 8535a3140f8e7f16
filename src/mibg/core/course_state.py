"""The states of one treatment course and the only legal steps between them.

A course moves forward: screening -> eligible -> written directive signed -> independently verified ->
dose assayed -> administered -> in-patient -> released -> follow-up -> closed. The table below is the
whole of it; every step names the event that causes it and what must be true first. Pure Python, no
Django: the web layer gathers the facts and asks :func:`apply`.

Two kinds of step are not on the straight line, both deliberate:
- ``revise_directive``: a signed written directive cannot be edited (10 CFR 35.40); a change makes a new
  version and voids the old signature, so a course that was verified or assayed against the old version
  returns to "written directive signed" and needs a new independent verification (10 CFR 35.41) and a
  new assay (10 CFR 35.63).
- ``stop``: a course can be closed before any activity is given (not eligible, withdrawn), with a reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class CourseState(StrEnum):
    SCREENING = "screening"
    ELIGIBLE = "eligible"
    DIRECTIVE_SIGNED = "directive signed"
    VERIFIED = "verified"
    ASSAYED = "assayed"
    ADMINISTERED = "administered"
    INPATIENT = "in-patient"
    RELEASED = "released"
    FOLLOW_UP = "follow-up"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    CourseState.SCREENING: "Screening",
    CourseState.ELIGIBLE: "Eligible",
    CourseState.DIRECTIVE_SIGNED: "Written directive signed",
    CourseState.VERIFIED: "Independently verified",
    CourseState.ASSAYED: "Dose assayed",
    CourseState.ADMINISTERED: "Administered",
    CourseState.INPATIENT: "In-patient",
    CourseState.RELEASED: "Released",
    CourseState.FOLLOW_UP: "Follow-up",
    CourseState.CLOSED: "Closed",
}

#: The order of the straight line, used for timelines and "how far along".
ORDER: tuple[CourseState, ...] = tuple(CourseState)

#: States in which activity has not been given: the only ones a course can be stopped from.
BEFORE_ADMINISTRATION = frozenset(
    {CourseState.SCREENING, CourseState.ELIGIBLE, CourseState.DIRECTIVE_SIGNED, CourseState.VERIFIED, CourseState.ASSAYED}
)


@dataclass(frozen=True, slots=True)
class CourseFacts:
    """What the records of a course say, gathered by the caller. Each field is a precondition of one step."""

    eligible_evaluation: bool = False  # the latest screening evaluation is "eligible" (chair decisions included)
    signed_directive: bool = False  # a current (not void) signed written directive exists, its plan not blocked
    verification_accepted: bool = False  # an independent verification of the current directive matched
    assay_accepted: bool = False  # the latest assay is within tolerance or an authorised user overrode it
    administration_recorded: bool = False
    open_medical_event: bool = False  # a possible medical event not yet reviewed by a physician
    reason_given: bool = False
    open_serious_adverse_event: bool = False  # an SAE whose current version no physician has reviewed


@dataclass(frozen=True, slots=True)
class Transition:
    event: str
    sources: frozenset[CourseState]
    target: CourseState
    title: str
    requirement: str  # why it may be refused, said to the person

    def allowed_by(self, facts: CourseFacts) -> bool:
        return _REQUIREMENTS[self.event](facts)


_REQUIREMENTS: dict[str, Callable[[CourseFacts], bool]] = {
    "confirm_eligibility": lambda f: f.eligible_evaluation,
    "sign_directive": lambda f: f.signed_directive,
    "revise_directive": lambda f: f.signed_directive and f.reason_given,
    "verify": lambda f: f.verification_accepted,
    "accept_assay": lambda f: f.assay_accepted,
    "administer": lambda f: f.administration_recorded,
    "admit": lambda f: True,
    "release": lambda f: True,
    "start_follow_up": lambda f: True,
    "close": lambda f: not f.open_medical_event and not f.open_serious_adverse_event,
    "stop": lambda f: f.reason_given,
}

S = CourseState
TRANSITIONS: tuple[Transition, ...] = (
    Transition("confirm_eligibility", frozenset({S.SCREENING}), S.ELIGIBLE, "Confirm eligibility",
               "a latest screening evaluation that is eligible (every criterion met or cleared by the study chair)"),
    Transition("sign_directive", frozenset({S.ELIGIBLE}), S.DIRECTIVE_SIGNED, "Sign the written directive",
               "a signed written directive whose dose plan is not blocked (10 CFR 35.40)"),
    Transition("revise_directive", frozenset({S.DIRECTIVE_SIGNED, S.VERIFIED, S.ASSAYED}), S.DIRECTIVE_SIGNED,
               "Sign a new version of the written directive",
               "a new signed version and the reason for the change; the old signature is void (10 CFR 35.40)"),
    Transition("verify", frozenset({S.DIRECTIVE_SIGNED}), S.VERIFIED, "Independent verification",
               "an independent verification by another user that matches the directive exactly (10 CFR 35.41)"),
    Transition("accept_assay", frozenset({S.VERIFIED}), S.ASSAYED, "Accept the dose assay",
               "an assay within the tolerance of the prescription, or an authorised user's override with a reason "
               "(10 CFR 35.63)"),
    Transition("administer", frozenset({S.ASSAYED}), S.ADMINISTERED, "Record the administration",
               "the administration record (times, route, volume, residual assay)"),
    Transition("admit", frozenset({S.ADMINISTERED}), S.INPATIENT, "Admit to the shielded room", "nothing further"),
    Transition("release", frozenset({S.INPATIENT}), S.RELEASED, "Release from isolation", "nothing further"),
    Transition("start_follow_up", frozenset({S.RELEASED}), S.FOLLOW_UP, "Start follow-up", "nothing further"),
    Transition("close", frozenset({S.FOLLOW_UP}), S.CLOSED, "Close the course",
               "no open possible medical event (10 CFR 35.3045) and no open serious adverse event: a physician "
               "reviews each first"),
    Transition("stop", BEFORE_ADMINISTRATION, S.CLOSED, "Stop the course before administration",
               "a reason (e.g. not eligible, withdrawn)"),
)
del S

_BY_EVENT = {t.event: t for t in TRANSITIONS}

@dataclass(frozen=True, slots=True)
class NextStep:
    """What is due next on a course, the step that completes it, who may take it and where.

    ``action`` names the permission the step needs and ``page`` the page where it is taken (a page name, or
    "#steps" for the course page's own step form): the web layer resolves both, this table is the only place
    that says them (the patient page and the course page's "what happens next" both read it)."""

    what: str
    event: str
    action: str
    page: str


#: What is due next in each state, and which step does it.
NEXT_STEP: dict[CourseState, NextStep] = {
    CourseState.SCREENING: NextStep("Complete screening and confirm eligibility", "confirm_eligibility",
                                    "screening.edit", "courses:screening"),
    CourseState.ELIGIBLE: NextStep("The authorised user signs the written directive", "sign_directive",
                                   "directive.sign", "courses:directive"),
    CourseState.DIRECTIVE_SIGNED: NextStep("Independent verification of the directive by a second person", "verify",
                                           "directive.verify", "courses:verify"),
    CourseState.VERIFIED: NextStep("Prepare and assay the dose", "accept_assay", "assay.record", "courses:assay"),
    CourseState.ASSAYED: NextStep("Administer and record the administration", "administer",
                                  "administration.record", "courses:administration"),
    CourseState.ADMINISTERED: NextStep("Admit to the shielded room", "admit", "course.admit", "#steps"),
    CourseState.INPATIENT: NextStep("Release when the release criteria are met", "release", "course.release",
                                    "radiation:release"),
    CourseState.RELEASED: NextStep("Start follow-up", "start_follow_up", "course.start_follow_up", "#steps"),
    CourseState.FOLLOW_UP: NextStep("Close the course when follow-up is complete", "close", "course.close", "#steps"),
}

#: Screening is done in moves that depend on the latest evaluation's overall result: the data (nurse or
#: physician), the study chair's decisions on criteria marked for review, then the confirmation.
SCREENING_STEPS: dict[str, NextStep] = {
    "eligible": NextStep("Confirm eligibility", "confirm_eligibility", "course.confirm_eligibility", "#steps"),
    "needs review": NextStep("The study chair decides the criteria marked for review", "confirm_eligibility",
                             "chair.decide", "courses:chair"),
    "": NextStep("Complete the screening data", "confirm_eligibility", "screening.edit", "courses:screening"),
}


def next_step(state: CourseState | str, screening_verdict: str | None = None) -> NextStep | None:
    """The step due next in ``state`` (None when the course is closed). In screening, ``screening_verdict`` (the
    latest evaluation's overall result, None before the first) says which move is due."""
    current = CourseState(state)
    if current is CourseState.SCREENING and screening_verdict is not None:
        return SCREENING_STEPS.get(screening_verdict, SCREENING_STEPS[""])
    if current is CourseState.SCREENING:
        return SCREENING_STEPS[""]
    return NEXT_STEP.get(current)


class TransitionRefused(Exception):
    """An illegal or not-yet-allowed step. ``message`` is said to the person as it is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def transition(event: str) -> Transition:
    try:
        return _BY_EVENT[event]
    except KeyError:
        raise TransitionRefused(f"'{event}' is not a step of a course") from None


def apply(event: str, current: CourseState | str, facts: CourseFacts) -> CourseState:
    """The state after ``event``, or :class:`TransitionRefused` saying why not."""
    state = CourseState(current)
    step = transition(event)
    if state not in step.sources:
        allowed = ", ".join(t.title.lower() for t in available(state)) or "none"
        raise TransitionRefused(
            f"'{step.title}' is not a legal step from '{state.label}'. Steps from here: {allowed}."
        )
    if not step.allowed_by(facts):
        raise TransitionRefused(f"'{step.title}' needs {step.requirement}.")
    return step.target


def available(state: CourseState | str) -> tuple[Transition, ...]:
    """Every step that can leave ``state`` (whether or not its requirement is met yet)."""
    current = CourseState(state)
    return tuple(t for t in TRANSITIONS if current in t.sources)


def is_before(state: CourseState | str, other: CourseState | str) -> bool:
    return ORDER.index(CourseState(state)) < ORDER.index(CourseState(other))


#: The module's public surface: what the other layers may import (tests/unit/test_architecture.py).
__all__ = [
    "BEFORE_ADMINISTRATION",
    "NEXT_STEP",
    "ORDER",
    "SCREENING_STEPS",
    "TRANSITIONS",
    "CourseFacts",
    "CourseState",
    "NextStep",
    "Transition",
    "TransitionRefused",
    "apply",
    "available",
    "is_before",
    "next_step",
    "transition",
]

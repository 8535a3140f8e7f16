"""What happens next on a course, who does it, and that person's button (issue 15: the course page leads with it).

The step itself is the course state machine's (:data:`mibg.core.course_state.NEXT_STEP`); who may take it is the
one table of actions and roles (:mod:`mibg.web.permissions`). This module only joins the two for the page.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from mibg.core.course_state import NEXT_STEP, CourseState
from mibg.web.permissions import ACTIONS, ROLES, allowed

__all__ = ["NextAction", "next_action"]

#: state -> (the permission the next step needs, the page where it is done; "#steps" is the course page's own
#: step form). Screening is done in two moves: the data (nurse or physician), then the confirmation.
_WHERE: dict[CourseState, tuple[str, str]] = {
    CourseState.ELIGIBLE: ("directive.sign", "courses:directive"),
    CourseState.DIRECTIVE_SIGNED: ("directive.verify", "courses:verify"),
    CourseState.VERIFIED: ("assay.record", "courses:assay"),
    CourseState.ASSAYED: ("administration.record", "courses:administration"),
    CourseState.ADMINISTERED: ("course.admit", "#steps"),
    CourseState.INPATIENT: ("course.release", "radiation:release"),
    CourseState.RELEASED: ("course.start_follow_up", "#steps"),
    CourseState.FOLLOW_UP: ("course.close", "#steps"),
}


@dataclass(frozen=True)
class NextAction:
    what: str
    who: str  # the roles that may do it, in the clinic's words
    mine: bool  # the person looking at the page may do it
    url: str  # where to do it ("" when it is not this person's)
    button: str


def _who(action: str) -> str:
    names = [ROLES[role].split(" (")[0] for role in ROLES if role in ACTIONS[action] and role != "admin"]
    return " or ".join(names) if len(names) < 3 else ", ".join(names[:-1]) + " or " + names[-1]


def next_action(user: object, course_pk: int, state: CourseState, screening_verdict: str | None) -> NextAction | None:
    """The next step of a course in ``state`` for the person ``user``; None when the course is over.

    ``screening_verdict``: the latest evaluation's overall result (None before the first one).
    """
    step = NEXT_STEP.get(state)
    if step is None:
        return None
    if state is CourseState.SCREENING:
        if screening_verdict == "eligible":
            action, target, what = "course.confirm_eligibility", "#steps", "Confirm eligibility"
        elif screening_verdict == "needs review":
            action, target, what = "chair.decide", "courses:chair", "The study chair decides the criteria marked for review"
        else:
            action, target, what = "screening.edit", "courses:screening", "Complete the screening data"
    else:
        action, target = _WHERE[state]
        what = step[0]
    mine = allowed(user, action)
    url = ""
    if mine:
        url = reverse("courses:detail", args=[course_pk]) + target if target.startswith("#") else reverse(
            target, args=[course_pk])
    return NextAction(what=what, who=_who(action), mine=mine, url=url, button=what)

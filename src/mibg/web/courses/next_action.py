"""What happens next on a course, who does it, and that person's button (issue 15: the course page leads with it).

The step, its permission and its page are the course state machine's one table
(:func:`mibg.core.course_state.next_step`); who holds the permission is the one table of actions and roles
(:mod:`mibg.web.permissions`). This module only joins the two for the page.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from mibg.core.course_state import CourseState, next_step
from mibg.web.permissions import ACTIONS, ROLES, allowed

__all__ = ["NextAction", "next_action"]


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
    step = next_step(state, screening_verdict)
    if step is None:
        return None
    action, target, what = step.action, step.page, step.what
    mine = allowed(user, action)
    url = ""
    if mine:
        url = reverse("courses:detail", args=[course_pk]) + target if target.startswith("#") else reverse(
            target, args=[course_pk])
    return NextAction(what=what, who=_who(action), mine=mine, url=url, button=what)

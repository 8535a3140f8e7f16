"""One signal: an earlier step changed something that results derived later in a course are computed from.

The follow-up stores each result's grade and the course's count recovery (issue 11); they are computed from the
infusion start (treatment) and the patient's date of birth (patients) too, which the follow-up must not be
imported by (the steps read the steps before them, never one after: pyproject.toml's import-linter contracts).
So those steps send :data:`inputs_changed` inside the transaction of their change, and the follow-up
(mibg.web.followup.apps) derives its results again in that same transaction: what is stored is never older than
what it is computed from. The screening (the baselines of decisions.md A33 read the course's latest
evaluation) sends nothing: a course is evaluated only before its administration, before any follow-up result.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import Signal

#: Keyword arguments: ``user`` (who made the change), ``course`` (a course whose derived results may change),
#: ``why`` (said in the audit record of a result derived again).
inputs_changed = Signal()


def changed(user: Any, course: Any, why: str) -> None:
    """Say that ``course``'s derived results may have changed; in the caller's transaction."""
    inputs_changed.send(sender=None, user=user, course=course, why=why)

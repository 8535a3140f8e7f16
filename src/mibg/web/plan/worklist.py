"""Role worklists, "due today and overdue" (issue 13 §2), from a small registry of providers.

A provider is a function that returns :class:`WorklistEntry` items for everything of its kind that is due today
or overdue; it is registered once, with the roles whose lists it feeds::

    from mibg.web.plan.worklist import WorklistEntry, provider

    @provider("event-report-deadlines", roles={"physician"})
    def report_deadlines(ctx):
        for report in Report.objects.filter(status="draft", due_at__date__lte=ctx.today).select_related(...):
            yield WorklistEntry(role="physician", kind="report", what=..., due=report.due_at,
                                overdue=report.due_at < ctx.now, patient=..., course_id=..., url=...)

Rules for providers: a fixed number of queries whatever the number of courses (select_related /
prefetch_related, never a query per course), and entries only for today and earlier. The worklist page, the count
in the navigation and the user's calendar feed read every provider whose roles meet the user's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from django.utils import timezone

from mibg.web.permissions import roles_of


@dataclass(frozen=True)
class WorklistEntry:
    role: str  # whose list it is on (a role of mibg.web.permissions)
    kind: str  # what sort of work: "order", "lab", "reading", "release", "verification", ...
    what: str  # in clinic words, e.g. "Thyroid blockade: potassium iodide, 65 mg"
    due: datetime | date
    overdue: bool
    patient: str  # "MARTIN, Ava (MRN ...)", or "" for work on no patient
    course_id: int | None
    url: str  # where it is recorded
    detail: str = ""
    #: Where the worklist shows it, by the site's date (:func:`bucket`): "overdue", "today" or "upcoming".
    bucket: str = ""

    @property
    def due_sort(self) -> datetime:
        if isinstance(self.due, datetime):
            return self.due
        return datetime.combine(self.due, datetime.min.time(), tzinfo=timezone.get_current_timezone())


@dataclass(frozen=True)
class WorklistContext:
    now: datetime
    today: date
    roles: frozenset[str]
    user: Any = None


Provider = Callable[[WorklistContext], Iterable[WorklistEntry]]


@dataclass(frozen=True)
class Registered:
    name: str
    roles: frozenset[str]
    function: Provider = field(compare=False)


_REGISTRY: dict[str, Registered] = {}


def register(name: str, roles: Iterable[str], function: Provider) -> None:
    """Add (or replace, under the same name) a provider for these roles."""
    _REGISTRY[name] = Registered(name, frozenset(roles), function)


def provider(name: str, roles: Iterable[str]) -> Callable[[Provider], Provider]:
    """Decorator form of :func:`register`."""

    def decorate(function: Provider) -> Provider:
        register(name, roles, function)
        return function

    return decorate


def providers() -> list[Registered]:
    return list(_REGISTRY.values())


OVERDUE, TODAY, UPCOMING = "overdue", "today", "upcoming"


def bucket(entry: WorklistEntry, today: date) -> str:
    """Where an entry belongs on the worklist (``today`` is the site's date).

    A date-only entry goes by the site's calendar day: before today it is overdue (a lab day that was yesterday is
    overdue today, whatever grace its provider allows for the work itself), today's is due today unless its
    provider says it is overdue already, a later day is upcoming. A timed entry is overdue when its provider says
    so (the protocol's grace for that work: a supportive-care due time at 23:00 yesterday may still be on time this
    morning), otherwise it is today's work: a provider lists a timed entry from when it is to be done (a
    verification from the signature, with the administration time as its deadline). A day is the site's calendar
    day, so the 23- and 25-hour days of a daylight-saving change count once each."""
    if isinstance(entry.due, datetime):
        return OVERDUE if entry.overdue else TODAY
    if entry.due < today or entry.overdue:
        return OVERDUE
    return TODAY if entry.due == today else UPCOMING


def entries_for(user: Any, now: datetime | None = None) -> list[WorklistEntry]:
    """The user's worklist: every registered provider for the user's roles, each entry placed by the site's date
    (:func:`bucket`; ``overdue`` is true exactly for the overdue ones), overdue first, then by due time."""
    roles = roles_of(user)
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    ctx = WorklistContext(now=now, today=today, roles=roles, user=user)
    found: list[WorklistEntry] = []
    for registered in _REGISTRY.values():
        if not registered.roles & roles:
            continue
        for e in registered.function(ctx):
            if e.role in roles:
                where = bucket(e, today)
                found.append(replace(e, overdue=where == OVERDUE, bucket=where))
    order = {OVERDUE: 0, TODAY: 1, UPCOMING: 2}
    return sorted(found, key=lambda e: (order[e.bucket], e.due_sort, e.patient, e.what))

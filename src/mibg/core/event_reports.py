"""The deadlines of an event report: a possible medical event (10 CFR 35.3045) or a serious adverse event under an
IND (21 CFR 312.32), with the IRB's own timeline (issue 13 §3).

Every clock is protocol data (``event_reports`` in the protocol definition, with its source and whether it was
checked against the CFR text); this module only applies them. Clocks start at the moment of discovery (for an
SAE, the sponsor-investigator's initial receipt of the information: in this single-site protocol the team that
records the event is the sponsor-investigator's, so the two are the same moment; product choice).

Two kinds of clock:

- ``end_of_calendar_day``: the end (23:59:59) of the site's calendar day that is N days after the day of
  discovery, in the site's time zone. "No later than the next calendar day after discovery" is N = 1;
  "within 15 days after discovery" is N = 15.
- ``hours``: N hours after the moment of discovery ("within 24 hours").

A deadline is overdue when it is not done and the time is after it (at the deadline itself it is still due).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo
from decimal import Decimal

from mibg.core.errors import InputError
from mibg.core.times import site_time
from mibg.protocol.model import ProtocolDefinition
from mibg.protocol.sections import DeadlineRule, EventReportKind

MEDICAL_EVENT = "medical_event"
SAE = "sae"
KINDS = (MEDICAL_EVENT, SAE)

END_OF_DAY = time(23, 59, 59)


@dataclass(frozen=True, slots=True)
class SaeFacts:
    """What decides which IND clocks run (21 CFR 312.32). ``unexpected`` None: not yet assessed."""

    unexpected: bool | None
    suspected: bool
    fatal: bool
    life_threatening: bool


@dataclass(frozen=True, slots=True)
class Deadline:
    """One clock of a report: who gets what by when, why, and where the rule comes from."""

    code: str
    receiver: str
    action: str
    due_at: datetime
    rule: str  # how due_at was computed, in words with the numbers
    source: str
    verified: bool
    waivable: bool

    def overdue(self, now: datetime) -> bool:
        return now > self.due_at


@dataclass(frozen=True, slots=True)
class DeadlinePlan:
    """The deadlines that apply, those that do not (with the reason), and a note on assumptions made."""

    kind: str
    title: str
    reference: str
    discovered_at: datetime
    deadlines: tuple[Deadline, ...]
    not_applicable: tuple[tuple[DeadlineRule, str], ...]
    notes: tuple[str, ...]
    protocol_label: str


def _days(rule: DeadlineRule, protocol: ProtocolDefinition) -> Decimal:
    if rule.site_parameter:
        return protocol.site(rule.site_parameter)
    if rule.days is None:
        raise KeyError(f"deadline {rule.code} has no days")
    return rule.days


def due_at(rule: DeadlineRule, discovered_at: datetime, site_tz: tzinfo, protocol: ProtocolDefinition) -> tuple[datetime, str]:
    """When ``rule`` falls due for an event discovered at ``discovered_at``, and how that was worked out."""
    if discovered_at.tzinfo is None or discovered_at.utcoffset() is None:
        raise InputError("discovered_at", "has no time zone: give the UTC offset")
    if rule.clock == "hours":
        if rule.hours is None:
            raise KeyError(f"deadline {rule.code} has no hours")
        due = discovered_at + timedelta(seconds=int(rule.hours * 3600))
        return due, f"discovered {site_time(discovered_at, site_tz)} + {rule.hours} h"
    if rule.clock == "end_of_calendar_day":
        days = _days(rule, protocol)
        if days != days.to_integral_value() or days < 0:
            raise KeyError(f"deadline {rule.code}: {days} is not a whole number of days")
        local = discovered_at.astimezone(site_tz)
        day = local.date() + timedelta(days=int(days))
        due = datetime.combine(day, END_OF_DAY, tzinfo=site_tz)
        where = f" (site parameter {rule.site_parameter})" if rule.site_parameter else ""
        return due, (f"end of the calendar day {int(days)} day(s){where} after the day of discovery "
                     f"{local.date().isoformat()}: {site_time(due, site_tz)}")
    raise KeyError(f"deadline {rule.code}: unknown clock {rule.clock!r}")


def _applies(rule: DeadlineRule, facts: SaeFacts | None) -> tuple[bool, str]:
    if rule.applies == "always":
        return True, ""
    if facts is None:
        raise KeyError(f"deadline {rule.code} needs the facts of a serious adverse event")
    unexpected = facts.unexpected is not False  # not yet assessed counts as unexpected: the stricter reading
    if rule.applies == "unexpected_suspected":
        if unexpected and facts.suspected:
            return True, ""
        return False, ("the event is expected" if not unexpected else
                       "the event is not a suspected adverse reaction (attribution unrelated or unlikely)")
    if rule.applies == "unexpected_suspected_fatal_or_life_threatening":
        if unexpected and facts.suspected and (facts.fatal or facts.life_threatening):
            return True, ""
        if not unexpected:
            return False, "the event is expected"
        if not facts.suspected:
            return False, "the event is not a suspected adverse reaction (attribution unrelated or unlikely)"
        return False, "the event is neither fatal nor life-threatening"
    raise KeyError(f"deadline {rule.code}: unknown condition {rule.applies!r}")


def deadline_plan(kind: str, discovered_at: datetime, site_tz: tzinfo, protocol: ProtocolDefinition,
                  facts: SaeFacts | None = None) -> DeadlinePlan:
    """Every deadline of a report of ``kind`` (``medical_event`` or ``sae``) discovered at ``discovered_at``."""
    if kind not in protocol.event_reports:
        raise InputError("kind", f"'{kind}' is not a kind of event report ({', '.join(protocol.event_reports)})")
    spec: EventReportKind = protocol.event_reports[kind]
    if kind == SAE and facts is None:
        raise InputError("facts", "a serious adverse event report needs its facts (expectedness, attribution)")
    deadlines: list[Deadline] = []
    skipped: list[tuple[DeadlineRule, str]] = []
    for rule in spec.deadlines:
        applies, why_not = _applies(rule, facts)
        if not applies:
            skipped.append((rule, why_not))
            continue
        due, how = due_at(rule, discovered_at, site_tz, protocol)
        deadlines.append(Deadline(rule.code, rule.receiver, rule.action, due, how, rule.source, rule.verified,
                                  rule.waivable))
    notes = []
    if facts is not None and facts.unexpected is None:
        notes.append("Expectedness is not assessed yet: the deadlines are those of an unexpected event (the stricter "
                     "reading) until a physician records it.")
    if any(not d.verified for d in deadlines):
        notes.append("Deadlines marked UNVERIFIED were not checked against the CFR text: confirm them with the "
                     "radiation safety officer or the regulatory office.")
    deadlines.sort(key=lambda d: d.due_at)
    return DeadlinePlan(kind, spec.title, spec.reference, discovered_at, tuple(deadlines), tuple(skipped),
                        tuple(notes), protocol.label)


def sae_facts(protocol: ProtocolDefinition, *, unexpected: bool | None, attribution: str, grade: int,
              life_threatening: bool | None = None) -> SaeFacts:
    """The IND facts of an adverse event: suspected from its attribution, fatal from grade 5, life-threatening as
    the physician says (or, until they do, from the grade; protocol data ``life_threatening_from_grade``)."""
    spec = protocol.event_reports[SAE]
    suspected = attribution in spec.suspected_attributions
    if life_threatening is None:
        threshold = spec.life_threatening_from_grade
        life_threatening = threshold is not None and threshold <= grade < 5
    return SaeFacts(unexpected=unexpected, suspected=suspected, fatal=grade == 5, life_threatening=life_threatening)


#: The module's public surface: what the other layers may import (tests/unit/test_architecture.py).
__all__ = [
    "END_OF_DAY",
    "KINDS",
    "MEDICAL_EVENT",
    "SAE",
    "Deadline",
    "DeadlinePlan",
    "SaeFacts",
    "deadline_plan",
    "due_at",
    "sae_facts",
]

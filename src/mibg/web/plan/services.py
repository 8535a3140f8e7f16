"""A course's order set and calendar from its stored records (mibg.core.careplan), and recording against them.

Every door (the course page's forms, the API) calls :func:`record` and gets the same refusals: an
:class:`InputError` naming the field, or :class:`Refused`; nothing stored is changed by a refusal.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mibg.core import careplan
from mibg.core.careplan import CourseFacts, CoursePlan, PlannedOrder
from mibg.core.errors import InputError
from mibg.core.times import site_time
from mibg.protocol import ProtocolDefinition, load_protocol
from mibg.web.audit.trail import field_values, log_changes, log_event
from mibg.web.courses.models import Course
from mibg.web.errors import Refused
from mibg.web.permissions import PHYSICIAN, ROLES, roles_of
from mibg.web.plan.models import IodideConfirmation, OrderRecord

#: A time recorded this far in the future is refused (the same clock tolerance as decisions.md A29).
CLOCK_TOLERANCE = timedelta(minutes=5)


def protocol() -> ProtocolDefinition:
    return load_protocol()


# ---- the iodide table -------------------------------------------------------------------------------------


def iodide_confirmation(definition: ProtocolDefinition | None = None) -> IodideConfirmation | None:
    """The pharmacist's signature on the iodide table exactly as the definition holds it, if there is one."""
    definition = definition or protocol()
    assert definition.care_plan is not None
    fingerprint = definition.care_plan.iodide_table.fingerprint()
    return IodideConfirmation.objects.filter(fingerprint=fingerprint).order_by("-signed_at", "-id").first()


def confirm_iodide_table(user: Any, signed_name: str) -> IodideConfirmation:
    """Record the pharmacist's signature on the current table (the caller has checked the password)."""
    definition = protocol()
    assert definition.care_plan is not None
    table = definition.care_plan.iodide_table
    if iodide_confirmation(definition) is not None:
        raise Refused(_("This iodide table is confirmed already."))
    rows = [{"from_kg": str(b.from_kg), "below_kg": None if b.below_kg is None else str(b.below_kg),
             "mg_per_day": str(b.mg_per_day)} for b in table.bands]
    with transaction.atomic():
        confirmation = IodideConfirmation.objects.create(
            fingerprint=table.fingerprint(), table_json=json.dumps({"drug": table.drug, "bands": rows}),
            protocol_label=definition.label, signed_by=user, signed_name=signed_name,
            signature_meaning=(f"I, {signed_name}, confirm the site's weight-band table of {table.drug} for thyroid "
                               f"blockade ({definition.label}) as the table this site uses."))
        log_changes(user, "create", confirmation, None)
        log_event(user, "sign", confirmation, None, note=confirmation.signature_meaning)
    return confirmation


# ---- facts and plans --------------------------------------------------------------------------------------


def _diagnosis(course: Course) -> str:
    try:
        data = json.loads(course.snapshot_json) if course.snapshot_json else {}
    except ValueError:
        data = {}
    kind = (data.get("diagnosis") or {}).get("kind") if isinstance(data, dict) else None
    return str(kind or "neuroblastoma")


def facts_from(course: Course, directive: Any, administration: Any, release: Any, recovered_on: date | None,
               confirmed_by: str | None) -> CourseFacts | None:
    """The plan's inputs from records already read; None before a directive is signed (no plan yet)."""
    if directive is None:
        return None
    return CourseFacts(
        infusion_at=administration.started_at if administration is not None else directive.administration_time,
        infusion_actual=administration is not None,
        infusion_minutes=directive.infusion_min,
        weight_kg=directive.weight_kg,
        birth_date=course.patient.birth_date,
        diagnosis=_diagnosis(course),
        preparation=directive.preparation,
        zone=timezone.get_current_timezone(),
        infusion_end_at=administration.ended_at if administration is not None else None,
        released_at=release.released_at if release is not None else None,
        recovered_on=recovered_on,
        iodide_confirmed_by=confirmed_by,
    )


def recovered_on(course: Course, administration: Any, stored: Any = None) -> date | None:
    """The day the counts recovered (the course's stored count recovery, or ``stored``: a ``CourseRecovery`` the
    caller read already), None when they have not."""
    from mibg.core.recovery import RecoveryStatus
    from mibg.web.followup.services import recovery

    if administration is None:
        return None
    result = stored if stored is not None else recovery(course)
    if result is None or result.recovery.status is not RecoveryStatus.RECOVERED:
        return None
    return result.recovery.on


def course_plan(course: Course) -> CoursePlan | None:
    """The order set and calendar of one course (None before its directive is signed)."""
    from mibg.web.courses.services import current_directive
    from mibg.web.followup.services import latest_administration
    from mibg.web.radiation.services import release_record

    directive = current_directive(course)
    if directive is None:
        return None
    administration = latest_administration(course)
    release = release_record(course)
    confirmation = iodide_confirmation()
    facts = facts_from(course, directive, administration, release, recovered_on(course, administration),
                       confirmation.signed_name if confirmation else None)
    assert facts is not None
    return careplan.course_plan(protocol(), facts)


# ---- statuses ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Occurrence:
    order: PlannedOrder
    due_at: datetime
    status: str
    record: OrderRecord | None

    @property
    def key(self) -> str:
        """How a form names this due time: ISO 8601 in UTC."""
        return self.due_at.astimezone(UTC).isoformat()


def occurrences(plan: CoursePlan, records: Iterable[OrderRecord], now: datetime | None = None) -> list[Occurrence]:
    now = now or timezone.now()
    zone = timezone.get_current_timezone()
    found = {(r.code, r.due_at): r for r in records if r.voided_at is None}
    out = []
    for order in plan.orders:
        for due_at in order.due:
            record = found.get((order.code, due_at))
            status = careplan.occurrence_status(due_at, order.grace, now, zone,
                                                record.at if record else None, record.done if record else True)
            out.append(Occurrence(order, due_at, status, record))
    return out


def order_status(items: Sequence[Occurrence], order: PlannedOrder, now: datetime) -> str:
    """One order as a whole: overdue (a due time missed), done (every due time recorded), active, planned."""
    mine = [o for o in items if o.order.code == order.code]
    if any(o.status == "overdue" for o in mine):
        return "overdue"
    if mine and all(o.record is not None for o in mine):
        return "done"
    if order.start <= now:
        return "active"
    return "planned"


def unmatched_records(plan: CoursePlan, records: Iterable[OrderRecord]) -> list[OrderRecord]:
    """Records whose due time is no longer in the plan (the infusion moved after they were recorded)."""
    due = {(o.code, t) for o in plan.orders for t in o.due}
    return [r for r in records if (r.code, r.due_at) not in due and r.voided_at is None]


def voided_records(records: Iterable[OrderRecord]) -> list[OrderRecord]:
    return [r for r in records if r.voided_at is not None]


# ---- recording --------------------------------------------------------------------------------------------

GENERATION_KEY = "mibg-worklist-generation"


def worklist_generation() -> int:
    """A number that changes whenever something is recorded or voided against an order set (kept counts renew)."""
    from django.core.cache import cache

    value = cache.get(GENERATION_KEY)
    if value is None:
        value = int(timezone.now().timestamp() * 1000)
        cache.add(GENERATION_KEY, value, None)
        value = cache.get(GENERATION_KEY, value)
    return int(value)


def _renew_counts() -> None:
    from django.core.cache import cache

    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # not set yet (or evicted): a new start renews every kept count too
        worklist_generation()


def parse_due(raw: str) -> datetime:
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise InputError("due_at", _("is not a date and time (ISO 8601 with its UTC offset)")) from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise InputError("due_at", _("has no time zone: add the UTC offset"))
    return value


def record(user: Any, course: Course, code: str, due_at: datetime, *, done: bool, at: datetime | None,
           note: str = "", medications: str = "") -> OrderRecord:
    """Record one due time of one order as done (given, checked) or not done (with the reason)."""
    plan = course_plan(course)
    if plan is None:
        raise Refused(_("This course has no order set yet: it starts when the written directive is signed."))
    try:
        order = plan.order(code)
    except KeyError:
        raise InputError("code", _("is not an order of this course (%(codes)s)")
                                 % {"codes": ", ".join(o.code for o in plan.orders)}) from None
    roles = roles_of(user)
    if order.role not in roles and PHYSICIAN not in roles:
        raise Refused(_("'%(name)s' is recorded by the %(role)s (or a physician).")
                      % {"name": order.name, "role": ROLES[order.role].lower()}, "code")
    if due_at not in order.due:
        raise InputError("due_at", _("is not a due time of '%(name)s' (its schedule: %(schedule)s)")
                                   % {"name": order.name, "schedule": order.schedule})
    if at is None:
        raise InputError("at", _("is required: when it was done (or checked)"))
    if at.tzinfo is None or at.utcoffset() is None:
        raise InputError("at", _("has no time zone: add the UTC offset"))
    now = timezone.now()
    if at > now + CLOCK_TOLERANCE:
        raise InputError("at", _("is in the future"))
    if at < due_at - order.grace - timedelta(hours=12):
        raise InputError("at", _("is more than 12 h before the due time %(due)s: record it against the due "
                                 "time it answers")
                               % {"due": site_time(due_at)})
    note = note.strip()
    if not done and not note:
        raise InputError("note", _("say why it was not done"))
    found = ""
    if order.check == "interfering_medications":
        if not medications.strip():
            raise InputError("medications", _("list the patient's current medications (or write 'none')"))
        found = "\n".join(f"{drug} ({cls})" for drug, cls in careplan.interfering_found(protocol(), medications))
    existing = OrderRecord.objects.filter(course=course, code=code, due_at=due_at, voided_at=None).first()
    if existing is not None:
        raise Refused(_("This due time of '%(name)s' was recorded already by %(recorded_name)s at %(at)s.")
                      % {"name": order.name, "recorded_name": existing.recorded_name, "at": site_time(existing.recorded_at)}, "due_at")
    try:
        with transaction.atomic():
            entry = OrderRecord.objects.create(
                course=course, code=code, due_at=due_at, done=done, at=at, note=note, medications=medications.strip(),
                interfering=found, protocol_label=plan.protocol_label, recorded_by=user,
                recorded_name=user.signature_name())
            flagged = f"; interfering medications on the list: {found}" if found else ""
            log_changes(user, "create", entry, course.patient,
                        note=f"{order.name}: {'done' if done else 'not done'}{flagged}")
    except IntegrityError:  # recorded by someone else at the same moment
        raise Refused(_("This due time of '%(name)s' was recorded already.") % {"name": order.name}, "due_at") from None
    _renew_counts()
    return entry


def void(user: Any, course: Course, record_id: int, reason: str) -> OrderRecord:
    """Void a record entered in error (decisions.md A37): it stays visible with the reason, and its due time can be
    recorded again. Whoever may record the order may void its record."""
    entry = OrderRecord.objects.filter(course=course, pk=record_id).first()
    if entry is None:
        raise InputError("record", _("is not a record of this course"))
    if entry.voided_at is not None:
        raise Refused(_("This record is already void."), "record")
    if not reason.strip():
        raise InputError("reason", _("say why the record is void (entered in error, wrong patient, ...)"))
    definition = protocol()
    assert definition.care_plan is not None
    role = next((o.role for o in definition.care_plan.orders if o.code == entry.code), None)
    roles = roles_of(user)
    if role not in roles and PHYSICIAN not in roles:
        raise Refused(_("Only whoever may record this order may void its record."), "record")
    with transaction.atomic():
        before = field_values(entry)
        updated = OrderRecord.objects.filter(pk=entry.pk, voided_at=None).update(
            voided_at=timezone.now(), voided_by=user, void_reason=reason.strip())
        if not updated:
            raise Refused(_("This record is already void."), "record")
        entry.refresh_from_db()
        log_changes(user, "void", entry, course.patient, before, note=reason.strip())
    _renew_counts()
    return entry

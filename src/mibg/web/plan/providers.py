"""The built-in worklist providers (mibg.web.plan.worklist): each reads every open course it needs in a fixed
number of queries (select_related / prefetch_related), never one query per course.

- nurse: the order set's due times (and the physicist's room items), labs twice weekly until recovery;
- physicist: exposure-rate readings until release, releases from the planned day, room surveys;
- pharmacist: verifications and assays, the iodide table until it is confirmed;
- physician: directives to sign, possible medical events and serious adverse events to review;
- chair: screening results that need the chair's decision.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.db.models import Prefetch, Q
from django.urls import reverse
from django.utils import timezone

from mibg.core import careplan
from mibg.core.course_state import CourseState
from mibg.web.courses.models import Course
from mibg.web.permissions import CHAIR, NURSE, PHARMACIST, PHYSICIAN, PHYSICIST
from mibg.web.plan import services
from mibg.web.plan.worklist import WorklistContext, WorklistEntry, provider

#: Courses whose order set may have due times: a directive is signed and the course is not closed.
PLANNED = [CourseState.DIRECTIVE_SIGNED, CourseState.VERIFIED, CourseState.ASSAYED, CourseState.ADMINISTERED,
           CourseState.INPATIENT, CourseState.RELEASED, CourseState.FOLLOW_UP]
GIVEN = [CourseState.ADMINISTERED, CourseState.INPATIENT, CourseState.RELEASED, CourseState.FOLLOW_UP]


def _who(course: Course) -> str:
    p = course.patient
    return f"{p.family_name.upper()}, {p.given_name} (MRN {p.mrn})"


def _course_url(course: Course, anchor: str = "") -> str:
    return reverse("courses:detail", args=[course.pk]) + anchor


def _planned_courses(states: list[CourseState], now: datetime | None = None) -> list[Course]:
    """Courses in these states not yet infused, or infused within the look-back (worklist_days_after_infusion):
    older items stay overdue on the course page but leave the worklists, which stay short at programme scale."""
    from mibg.web.directives.models import WrittenDirective
    from mibg.web.radiation.models import ReleaseRecord
    from mibg.web.treatment.models import Administration

    days = careplan.parameter(services.protocol(), "worklist_days_after_infusion")
    cutoff = (now or timezone.now()) - timedelta(days=int(days))
    recent = Administration.objects.filter(started_at__gte=cutoff).values("course_id")
    courses = Course.objects.filter(state__in=[s.value for s in states]).filter(
        Q(administrations__isnull=True) | Q(pk__in=recent)).distinct()
    return list(courses.select_related("patient").prefetch_related(
        Prefetch("directives", queryset=WrittenDirective.objects.filter(status="signed").order_by("-version"),
                 to_attr="signed_directives"),
        Prefetch("administrations", queryset=Administration.objects.order_by("-started_at"), to_attr="given"),
        Prefetch("release_record", queryset=ReleaseRecord.objects.all()),
        "order_records",
    ))


def _release(course: Course) -> Any:
    try:
        return course.release_record
    except Exception:
        return None


def _facts(course: Course, confirmed_by: str | None, recovered: Any = None) -> careplan.CourseFacts | None:
    directive = course.signed_directives[0] if course.signed_directives else None  # type: ignore[attr-defined]
    administration = course.given[0] if course.given else None  # type: ignore[attr-defined]
    return services.facts_from(course, directive, administration, _release(course), recovered, confirmed_by)


@provider("care-orders", roles={NURSE, PHYSICIST})
def care_orders(ctx: WorklistContext) -> Iterator[WorklistEntry]:
    """Each due time of each order due today and not yet recorded; the overdue due times of one order of one
    course as one entry (how many, from the earliest), so a course with missed doses is one line per order."""
    confirmation = services.iodide_confirmation()
    definition = services.protocol()
    for course in _planned_courses(PLANNED, ctx.now):
        facts = _facts(course, confirmation.signed_name if confirmation else None)
        if facts is None:
            continue
        orders, _skipped = careplan.plan_orders(definition, facts)
        plan = careplan.CoursePlan(definition.label, facts.infusion_at, facts.infusion_actual, orders, (), ())
        url, who = _course_url(course, "#orders"), _who(course)
        overdue: dict[str, list[services.Occurrence]] = {}
        for item in services.occurrences(plan, course.order_records.all(), ctx.now):
            dose = f", {item.order.dose.text}" if item.order.dose else ""
            if item.status == "overdue":
                overdue.setdefault(item.order.code, []).append(item)
            elif item.status == "due":
                yield WorklistEntry(role=item.order.role, kind="order", what=f"{item.order.name}{dose}", due=item.due_at,
                                    overdue=False, patient=who, course_id=course.pk, url=url,
                                    detail=item.order.instructions)
        for items in overdue.values():
            order = items[0].order
            dose = f", {order.dose.text}" if order.dose else ""
            missed = f" ({len(items)} due times not recorded)" if len(items) > 1 else ""
            yield WorklistEntry(role=order.role, kind="order", what=f"{order.name}{dose}{missed}", due=items[0].due_at,
                                overdue=True, patient=who, course_id=course.pk, url=url, detail=order.instructions)


#: How long a course's count recovery is kept (seconds); its key changes with every lab or transfusion stored or voided.
RECOVERY_SECONDS = 24 * 3600


def _recovery_key(course: Course, label: str, labs: list[int], transfusions: list[int]) -> str:
    administration = course.given[0] if course.given else None  # type: ignore[attr-defined]
    start = administration.started_at.timestamp() if administration is not None else 0
    tag = "".join(ch if ch.isalnum() or ch in ".+-" else "_" for ch in label)  # cache keys hold no spaces
    return f"mibg-recovery:{course.pk}:{start}:{tag}:{labs[0]}:{labs[1]}:{transfusions[0]}:{transfusions[1]}"


@provider("labs", roles={NURSE})
def labs(ctx: WorklistContext) -> Iterator[WorklistEntry]:
    """Twice-weekly labs after the infusion until count recovery: a planned day with no lab collected within the
    grace days (lab_grace_days) is due on its day and overdue after the grace. The days of the labs are read
    first (one light query); only the courses with a planned day unanswered have their stored count recovery read
    (one more query), whose recovery day ends the schedule."""
    from mibg.web.followup.models import CountRecovery, LabResult, Transfusion

    definition = services.protocol()
    grace = int(careplan.parameter(definition, "lab_grace_days"))
    courses = _planned_courses(GIVEN, ctx.now)
    zone = timezone.get_current_timezone()
    days: dict[int, set[Any]] = {}
    marks: dict[int, list[int]] = {}  # labs: how many and the last id, for the kept recovery's key
    for course_id, collected_at, pk in LabResult.objects.live().filter(course__in=courses).values_list(
            "course_id", "collected_at", "pk"):
        days.setdefault(course_id, set()).add(timezone.localtime(collected_at, zone).date())
        mark = marks.setdefault(course_id, [0, 0])
        mark[0], mark[1] = mark[0] + 1, max(mark[1], pk)
    missing: dict[int, list[Any]] = {}
    for course in courses:
        facts = _facts(course, None)
        if facts is None:
            continue
        mine = days.get(course.pk, set())
        for entry in careplan.plan_calendar(definition, facts, ()):
            if entry.code != "labs" or entry.start > ctx.today:
                continue
            if not any(abs((d - entry.start).days) <= grace for d in mine):
                missing.setdefault(course.pk, []).append(entry)
    if not missing:
        return
    transfusions: dict[int, list[int]] = {}
    for course_id, pk in Transfusion.objects.live().filter(course_id__in=list(missing)).values_list("course_id", "pk"):
        mark = transfusions.setdefault(course_id, [0, 0])
        mark[0], mark[1] = mark[0] + 1, max(mark[1], pk)
    by_course = {c.pk: c for c in courses}
    keys = {pk: _recovery_key(by_course[pk], definition.label, marks.get(pk, [0, 0]), transfusions.get(pk, [0, 0]))
            for pk in missing}
    kept = cache.get_many(list(keys.values()))
    unknown = [pk for pk, key in keys.items() if key not in kept]
    if unknown:  # recovery read only for courses whose labs or transfusions changed (one query: it is stored)
        stored = {r.course_id: r.result for r in CountRecovery.objects.filter(course_id__in=unknown)}
        found = {}
        for pk in unknown:
            course = by_course[pk]
            administration = course.given[0] if course.given else None  # type: ignore[attr-defined]
            on = services.recovered_on(course, administration, stored.get(pk))
            found[keys[pk]] = on.isoformat() if on else ""
        cache.set_many(found, RECOVERY_SECONDS)
        kept.update(found)
    for course in courses:
        if course.pk not in missing:
            continue
        text = kept[keys[course.pk]]
        recovered = date.fromisoformat(text) if text else None
        for entry in missing[course.pk]:
            day = entry.start
            if recovered is not None and day > recovered:
                continue
            yield WorklistEntry(role=NURSE, kind="lab", what=entry.title, due=day,
                                overdue=day + timedelta(days=grace) < ctx.today, patient=_who(course),
                                course_id=course.pk, url=reverse("followup:lab_new", args=[course.pk]),
                                detail=entry.explanation)


@provider("readings-and-release", roles={PHYSICIST})
def readings_and_release(ctx: WorklistContext) -> Iterator[WorklistEntry]:
    """A day from the infusion to today without an exposure-rate reading; the release from its planned day."""
    from mibg.web.radiation.models import ExposureReading

    definition = services.protocol()
    courses = _planned_courses([CourseState.ADMINISTERED, CourseState.INPATIENT], ctx.now)
    days: dict[int, set[Any]] = {}
    for reading in ExposureReading.objects.filter(course__in=courses, voided_at__isnull=True).only("course_id", "measured_at"):
        days.setdefault(reading.course_id, set()).add(timezone.localtime(reading.measured_at).date())
    for course in courses:
        facts = _facts(course, None)
        if facts is None:
            continue
        for entry in careplan.plan_calendar(definition, facts, ()):
            if entry.code == "reading" and entry.start <= ctx.today and entry.start not in days.get(course.pk, set()):
                yield WorklistEntry(role=PHYSICIST, kind="reading", what=entry.title, due=entry.start,
                                    overdue=entry.start < ctx.today, patient=_who(course), course_id=course.pk,
                                    url=reverse("radiation:readings", args=[course.pk]), detail=entry.explanation)
            if entry.code == "release" and facts.released_at is None and entry.start <= ctx.today:
                yield WorklistEntry(role=PHYSICIST, kind="release", what="Release assessment (planned day)",
                                    due=entry.start, overdue=entry.start < ctx.today, patient=_who(course),
                                    course_id=course.pk, url=reverse("radiation:release", args=[course.pk]),
                                    detail=entry.explanation)


@provider("verification-and-assay", roles={PHARMACIST, PHYSICIST})
def verification_and_assay(ctx: WorklistContext) -> Iterator[WorklistEntry]:
    """A signed directive waiting for its independent verification (10 CFR 35.41) or its assay (35.63): due from
    the signature, overdue once the planned administration time has passed."""
    for course in _planned_courses([CourseState.DIRECTIVE_SIGNED, CourseState.VERIFIED], ctx.now):
        directive = course.signed_directives[0] if course.signed_directives else None  # type: ignore[attr-defined]
        if directive is None:
            continue
        verify = course.state == CourseState.DIRECTIVE_SIGNED.value
        for role in (PHARMACIST, PHYSICIST):
            yield WorklistEntry(
                role=role, kind="verification" if verify else "assay",
                what="Independent verification of the written directive (10 CFR 35.41)" if verify
                else "Assay of the dose before administration (10 CFR 35.63)",
                due=directive.administration_time, overdue=directive.administration_time < ctx.now, patient=_who(course),
                course_id=course.pk, url=reverse("courses:verify" if verify else "courses:assay", args=[course.pk]))


@provider("iodide-table", roles={PHARMACIST})
def iodide_table(ctx: WorklistContext) -> Iterator[WorklistEntry]:
    if services.iodide_confirmation() is None:
        yield WorklistEntry(role=PHARMACIST, kind="confirmation", what="Confirm the site's iodide weight-band table "
                            f"({careplan.UNCONFIRMED})", due=ctx.today, overdue=False, patient="", course_id=None,
                            url=reverse("plan:iodide_table"))


@provider("physician-signatures-and-reviews", roles={PHYSICIAN})
def physician_work(ctx: WorklistContext) -> Iterator[WorklistEntry]:
    """Eligible courses without a signed directive; possible medical events and SAEs not yet reviewed."""
    from mibg.web.followup.models import AdverseEvent
    from mibg.web.treatment.models import Administration

    for course in Course.objects.filter(state=CourseState.ELIGIBLE.value).select_related("patient"):
        due = course.planned_treatment_date or ctx.today
        yield WorklistEntry(role=PHYSICIAN, kind="signature", what="Write and sign the written directive (10 CFR 35.40)",
                            due=min(due, ctx.today), overdue=due < ctx.today, patient=_who(course), course_id=course.pk,
                            url=reverse("courses:directive", args=[course.pk]))
    for a in Administration.objects.filter(result_json__possible_medical_event=True, reviewed_at__isnull=True).select_related("course__patient"):
        yield WorklistEntry(role=PHYSICIAN, kind="review", what="Review a possible medical event (10 CFR 35.3045)",
                            due=a.started_at, overdue=timezone.localtime(a.started_at).date() < ctx.today, patient=_who(a.course),
                            course_id=a.course_id, url=reverse("treatment:review", args=[a.pk]))
    for event in AdverseEvent.objects.live().filter(serious=True).select_related("course__patient").prefetch_related("reviews"):
        if event.needs_review:
            yield WorklistEntry(role=PHYSICIAN, kind="review", what=f"Review a serious adverse event: {event.term}",
                                due=event.started_on, overdue=event.started_on < ctx.today, patient=_who(event.course),
                                course_id=event.course_id, url=reverse("followup:sae_review", args=[event.pk]))


@provider("chair-decisions", roles={CHAIR})
def chair_decisions(ctx: WorklistContext) -> Iterator[WorklistEntry]:
    """Courses in screening whose latest evaluation needs the study chair's decision (decisions.md H5, X1)."""
    from django.db.models import OuterRef, Subquery

    from mibg.web.screening.models import Evaluation

    latest = Evaluation.objects.filter(course=OuterRef("pk")).order_by("-evaluated_at", "-id")
    courses = Course.objects.filter(state=CourseState.SCREENING.value).annotate(
        latest_overall=Subquery(latest.values("overall")[:1]), latest_at=Subquery(latest.values("evaluated_at")[:1]),
    ).filter(latest_overall="needs review").select_related("patient")
    for course in courses:
        yield WorklistEntry(role=CHAIR, kind="decision", what="Study chair decision on a criterion that needs review",
                            due=course.latest_at, overdue=course.latest_at.date() < ctx.today,
                            patient=_who(course), course_id=course.pk, url=reverse("courses:chair", args=[course.pk]))

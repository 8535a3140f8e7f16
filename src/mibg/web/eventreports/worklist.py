"""Event-report deadlines on the role worklists (issue 13 §3: "Deadlines show on the worklist"), through the plan's
worklist registry (mibg.web.plan.worklist): every deadline not yet met that falls due today or is overdue.

Who sees them: a possible medical event's deadlines (NRC, referring physician, guardian) are the physician's and
the physicist's (radiation safety officer); a serious adverse event's (FDA, IRB) the physician's and the study
chair's (sponsor-investigator). Product choice: the protocol record and the references say nothing of who reports.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.urls import reverse
from django.utils import timezone

from mibg.core.event_reports import MEDICAL_EVENT
from mibg.web.eventreports import services
from mibg.web.permissions import CHAIR, PHYSICIAN, PHYSICIST
from mibg.web.plan.worklist import WorklistContext, WorklistEntry, provider

ROLES_BY_KIND = {MEDICAL_EVENT: (PHYSICIAN, PHYSICIST), "sae": (PHYSICIAN, CHAIR)}


@provider("event-report-deadlines", roles={PHYSICIAN, CHAIR, PHYSICIST})
def report_deadlines(ctx: WorklistContext) -> Iterator[WorklistEntry]:
    for report, row in services.open_deadlines():  # one query for the reports, one for their steps
        deadline = row.deadline
        if timezone.localtime(deadline.due_at).date() > ctx.today:
            continue
        patient = report.course.patient
        for role in ROLES_BY_KIND.get(report.kind, (PHYSICIAN,)):
            if role not in ctx.roles:
                continue
            yield WorklistEntry(
                role=role, kind="report", due=deadline.due_at, overdue=row.overdue(ctx.now),
                what=f"Event report {report.pk}: {deadline.receiver}, {deadline.action.lower()}",
                patient=f"{patient.family_name.upper()}, {patient.given_name} (MRN {patient.mrn})",
                course_id=report.course_id, url=reverse("eventreports:detail", args=[report.pk]),
                detail=deadline.rule + ("" if deadline.verified else " (UNVERIFIED against the CFR text)"))

"""E-mail notifications of event reports, through Django's e-mail framework (issue 13 §3).

The backend is a setting (mibg.web.settings): SMTP configured by ``MIBG_EMAIL_*`` environment variables in
production, the console in the demo (``MIBG_DEBUG=1``), and Django's in-memory outbox in the tests, which read it.

Who receives them: every active user with an e-mail address whose role reviews or reports these events (physician,
study chair, physicist / radiation safety officer), plus the addresses in ``MIBG_EVENT_REPORT_EMAILS``. The message
names the report, its kind, status and deadlines, and links to the report page; it carries no patient name, MRN or
date of birth (e-mail leaves the hospital's systems more easily than the application's pages do).

Mail goes out after the transaction that changed the report commits, so a rolled-back change sends nothing. Each
message sent is written to the audit trail with its recipients; a failure to send is written there too and shown on
the report page, and never undoes the change (the deadlines are on the page whatever the mail did).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse

from mibg.core.times import site_time
from mibg.web.audit.trail import log_event

log = logging.getLogger(__name__)

#: Roles notified of event reports (mibg.web.permissions role names).
NOTIFIED_ROLES = ("physician", "chair", "physicist")

SUBJECTS = {
    "opened": "Event report {pk} opened: {kind}; first deadline {first}",
    "submitted": "Event report {pk} submitted: {kind}",
    "acknowledged": "Event report {pk} acknowledged by the receiver: {kind}",
}


def recipients() -> list[str]:
    users = get_user_model().objects.filter(is_active=True, groups__name__in=NOTIFIED_ROLES).exclude(email="")
    addresses = {u.email for u in users} | set(getattr(settings, "MIBG_EVENT_REPORT_EMAILS", []))
    return sorted(addresses)


#: The report's deadline rows (mibg.web.eventreports.services.rows), handed in by the service that sends: this
#: module imports no service back (no import circle).
Rows = Callable[[Any], list[Any]]


def on_commit(report_pk: int, what: str, rows_of: Rows) -> None:
    transaction.on_commit(lambda: send(report_pk, what, rows_of), robust=True)


def message(report: Any, what: str, rows_of: Rows) -> tuple[str, str]:
    rows = rows_of(report)
    first = next((r.deadline for r in rows if not r.done), None)
    first_text = f"{first.receiver} by {site_time(first.due_at)}" if first else "none open"
    subject = SUBJECTS[what].format(pk=report.pk, kind=report.get_kind_display(), first=first_text)
    lines = [subject, "", f"Status: {report.get_status_display()}",
             f"Discovered: {site_time(report.discovered_at)}", "", "Deadlines:"]
    for row in rows:
        done = "done" if row.done else "open"
        verified = "" if row.deadline.verified else " (UNVERIFIED against the CFR text)"
        lines.append(f"- {row.deadline.receiver}: {row.deadline.action.lower()} by "
                     f"{site_time(row.deadline.due_at)} [{done}]{verified}")
    if not rows:
        lines.append("- none apply")
    base = getattr(settings, "MIBG_BASE_URL", "")
    lines += ["", f"The report: {base}{reverse('eventreports:detail', kwargs={'pk': report.pk})}",
              "(No patient identifiers are sent by e-mail: open the report in the application.)"]
    return subject, "\n".join(lines)


def send(report_pk: int, what: str, rows_of: Rows) -> None:
    from mibg.web.eventreports.models import EventReport

    report = EventReport.objects.select_related("course__patient", "adverse_event", "administration").get(pk=report_pk)
    to = recipients()
    if not to:
        log_event(None, "export", report, report.course.patient, note=f"e-mail '{what}' not sent: no recipient has an "
                  "e-mail address (set users' addresses or MIBG_EVENT_REPORT_EMAILS)")
        return
    subject, body = message(report, what, rows_of)
    try:
        send_mail(subject, body, None, to)
    except Exception as error:  # an unreachable mail server must not undo a report; it is recorded and shown
        log.error("event report e-mail failed: %s", type(error).__name__)
        log_event(None, "export", report, report.course.patient, note=f"e-mail '{what}' FAILED: {type(error).__name__}")
        return
    log_event(None, "export", report, report.course.patient, note=f"e-mail '{what}' sent to {len(to)} recipient(s): "
              f"{', '.join(to)}")

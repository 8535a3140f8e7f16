"""The audit trail page: filter by patient, user and date; export CSV (the export is itself recorded)."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from datetime import UTC, datetime, time
from typing import Any

from django import forms
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mibg.web.audit.models import AuditChainHead, AuditEvent
from mibg.web.authenticated import AuthenticatedHttpRequest
from mibg.web.forms import date_field
from mibg.web.permissions import action_required

COLUMNS = ("at_utc", "username", "action", "model", "object_id", "object", "patient_mrn", "field", "old_value",
           "new_value", "note")


class AuditFilter(forms.Form):
    patient = forms.CharField(required=False, label=gettext_lazy("Patient MRN or name"))
    user = forms.CharField(required=False, label=gettext_lazy("User"))
    since = date_field("From")
    until = date_field("To (inclusive)")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise forms.ValidationError(_("'From' is after 'To'."))
        return data


def _filtered(form: AuditFilter) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.select_related("patient")
    if not form.is_valid():
        return events.none()
    d = form.cleaned_data
    if d["patient"]:
        q = d["patient"].strip()
        events = events.filter(patient__mrn__iexact=q) | events.filter(patient__family_name__icontains=q)
    if d["user"]:
        events = events.filter(username__icontains=d["user"].strip())
    zone = timezone.get_current_timezone()
    if d["since"]:
        events = events.filter(at__gte=datetime.combine(d["since"], time.min, zone))
    if d["until"]:
        events = events.filter(at__lte=datetime.combine(d["until"], time.max, zone))
    return events.order_by("-at", "-id")


class _Echo:
    def write(self, value: str) -> str:
        return value


VERIFIED = re.compile(r"^mibg audit verify: (?P<records>\d+) records; (?P<state>.*); head seq \d+ sha256 (?P<head>[0-9a-f]{64})$")


def chain_state() -> dict[str, object]:
    """The one line on the page: the last ``mibg audit verify`` result (recorded in the trail by the command) and
    the records now. Two indexed queries; the walk itself is the command's (it reads every record)."""
    head = AuditChainHead.objects.filter(pk=1).first()
    last = (AuditEvent.objects.filter(action="verify", model="audit.AuditEvent").order_by("-seq")
            .only("at", "username", "note").first())
    found = VERIFIED.match(last.note) if last else None
    return {"records": head.seq if head else 0, "last": last, "intact": bool(found and found["state"] == "intact"),
            "checked": int(found["records"]) if found else None, "state": found["state"] if found else ""}


@action_required(get="audit.view")
def audit_list(request: AuthenticatedHttpRequest) -> HttpResponseBase:
    form = AuditFilter(request.GET or None)
    events = _filtered(form) if request.GET else AuditEvent.objects.select_related("patient").order_by("-at", "-id")
    if request.GET.get("format") == "csv":
        AuditEvent(user=request.user, username=request.user.username, action=AuditEvent.EXPORT, model="audit.AuditEvent",
                   note=f"CSV export, filter {request.GET.urlencode()}").save()
        writer = csv.writer(_Echo())

        def rows() -> Iterator[str]:
            yield writer.writerow(COLUMNS)
            for e in events.iterator(chunk_size=2000):
                yield writer.writerow([e.at.astimezone(UTC).isoformat(),
                                       e.username, e.action, e.model, e.object_id, e.object_repr,
                                       e.patient.mrn if e.patient else "", e.field, e.old_value, e.new_value, e.note])

        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="mibg-audit-{timezone.now():%Y%m%dT%H%M%SZ}.csv"'
        return response
    page = Paginator(events, 100).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "mibg/audit/list.html", {"form": form, "page": page, "query": query.urlencode(),
                                                   "chain": chain_state()})

"""The programme analytics page (issue 13 §6): each plot with its table and its CSV."""

from __future__ import annotations

import csv

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from mibg.web.analytics import analysis
from mibg.web.analytics.plots import correlation_figure, rescue_figure
from mibg.web.audit.trail import log_event
from mibg.web.authenticated import AuthenticatedHttpRequest
from mibg.web.followup import plots, programme
from mibg.web.permissions import action_required


@action_required(get="patient.view")
def page(request: AuthenticatedHttpRequest) -> HttpResponse:
    rows = programme.rows()
    log_event(request.user, "view", request.user, None, note=f"programme analytics ({len(rows)} courses)")
    correlations = analysis.correlations(rows)
    rescue = analysis.rescue(rows)
    return render(request, "mibg/analytics/page.html", {
        "courses": len(rows),
        "correlations": [{"result": r, "svg": plots.inline_svg(correlation_figure(r), r.analysis.title),
                          "csv": reverse(f"analytics:csv-{r.analysis.key}")} for r in correlations],
        "rescue": rescue,
        "rescue_svg": plots.inline_svg(rescue_figure(rescue), _("Share of courses with stem-cell rescue by whole-body dose")),
        "whole_body_source": programme.WHOLE_BODY_SOURCE})


@action_required(get="patient.view")
def table_csv(request: AuthenticatedHttpRequest, key: str) -> HttpResponse:
    if key not in analysis.KEYS:
        raise Http404(_("no such analysis"))
    rows = programme.rows()
    log_event(request.user, "export", request.user, None, note=f"programme analytics CSV {key} ({len(rows)} courses)")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="mibg-analytics-{key}-{timezone.localdate():%Y-%m-%d}.csv"'
    writer = csv.writer(response)
    for line in analysis.csv_rows(key, rows):
        writer.writerow(line)
    return response

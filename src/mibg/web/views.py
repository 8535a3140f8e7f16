"""Views that belong to no one area: the health check and the front door."""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.views import defaults
from django.views.decorators.http import require_GET, require_safe

from mibg.web.errors import answer
from mibg.web.permissions import allowed


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """200 when the database answers, 503 otherwise. No login, no patient data."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        return JsonResponse({"status": "unavailable", "database": type(error).__name__}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


@require_safe  # the front door only redirects: any other method is refused (405), not redirected
def home(request: HttpRequest) -> HttpResponse:
    """The patient list for the clinical team; a user who may not see patients (the site administrator) lands on a
    page of their own (the audit trail, else their API tokens), never on a refusal, also right after logging in."""
    if not request.user.is_authenticated or allowed(request.user, "patient.view"):
        return redirect("patients:list")
    return redirect("audit:list" if allowed(request.user, "audit.view") else "accounts:tokens")


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 400 page, except for a body too large to read: 413, said in the API's words (mibg.web.errors)."""
    if isinstance(exception, RequestDataTooBig):
        said = answer(exception)
        if request.path.startswith("/api/"):
            return JsonResponse({"message": str(said.message), "field": said.field}, status=said.status)
        return HttpResponse(str(said.message), content_type="text/plain; charset=utf-8", status=said.status)
    return defaults.bad_request(request, exception)

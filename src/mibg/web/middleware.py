"""Response headers and session rules that apply to every page.

- A Content-Security-Policy: every script and style comes from this server (nothing from a CDN).
- ``Cache-Control: no-store`` on everything but the static files: no cache keeps patient data.
- An idle timeout: a logged-in session unused for SESSION_IDLE_TIMEOUT seconds (30 minutes) ends; the next
  request, a form post included, goes to the login page and is not handled. Unattended workstations on a
  ward are the risk (HIPAA Security Rule, 45 CFR 164.312(a)(2)(iii), automatic logoff).

  A request's time is written into the session (a database write, with its commit) only when the time kept
  there is SESSION_ACTIVITY_STEP (60 s) old or more, not on every request: reads in a row write once a minute.
  The 30 minutes are counted from the time kept, which is at most a minute before the last request, so a
  session ends after 29 to 30 idle minutes: never later than 30. The API (``/api/``, bearer tokens, mibg.web.api)
  is outside the session: a session cookie sent with an API call is neither read, nor extended, nor ended.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
          "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
# The API docs page (django-ninja's Swagger UI, served from its own static files) starts with an inline script.
DOCS_POLICY = POLICY.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'").replace(
    "style-src 'self'", "style-src 'self' 'unsafe-inline'")

#: Session key: the time of the session's last request, in seconds since the epoch (kept to SESSION_ACTIVITY_STEP).
LAST_SEEN = "mibg_last_seen"
#: Paths outside the session: static files, and the API, whose credential is the bearer token.
SESSIONLESS = ("/static/", "/api/")


def content_security_policy(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        policy = DOCS_POLICY if request.path.startswith("/api/docs") else POLICY
        response.headers.setdefault("Content-Security-Policy", policy)
        return response

    return middleware


def no_store(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    """``Cache-Control: no-store`` on every answer but the static files: pages and API answers carry patient
    data, which no browser cache or proxy may keep (a shared ward workstation, a caching proxy). A view that
    says more (Django's ``never_cache`` on the login page) keeps its own."""

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        if not request.path.startswith(settings.STATIC_URL):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    return middleware


def idle_timeout(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    """End a session idle for SESSION_IDLE_TIMEOUT seconds or more; otherwise every request extends it (the time
    kept is moved on once it is SESSION_ACTIVITY_STEP old)."""

    def middleware(request: HttpRequest) -> HttpResponse:
        if request.path.startswith(SESSIONLESS):
            return get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = timezone.now().timestamp()
            last = request.session.get(LAST_SEEN)
            if isinstance(last, (int, float)) and now - last >= settings.SESSION_IDLE_TIMEOUT:
                minutes = settings.SESSION_IDLE_TIMEOUT // 60
                request.mibg_logout_reason = f"session ended after {minutes} idle minutes"  # type: ignore[attr-defined]
                logout(request)
                messages.warning(request, _("Your session ended after %(minutes)s minutes without activity. Log in "
                                            "again.") % {"minutes": minutes}
                                 + (" " + _("The form you sent was not saved.") if request.method == "POST" else ""))
                to_login = redirect_to_login(request.get_full_path() if request.method == "GET" else "/")
                if request.headers.get("HX-Request"):
                    # An htmx request would swap the login page into a fragment: send the whole page there.
                    return HttpResponse(status=204, headers={"HX-Redirect": to_login["Location"]})
                return to_login
            if not isinstance(last, (int, float)) or now - last >= settings.SESSION_ACTIVITY_STEP or now < last:
                request.session[LAST_SEEN] = now
        return get_response(request)

    return middleware

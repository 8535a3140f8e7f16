"""The access matrix of the pages (issue 7, "Security"): every URL, every principal, every method.

The tables below are the promise, written out by hand from mibg.web.permissions (who may do what) and the pages'
purpose: each route -> each method it serves -> the action it needs (or OPEN: no login, or SUPERUSER for the
Django admin). A method a route does not list is refused: 405 to a logged-in user, the login page to anyone else
(``action_required`` sends every anonymous request there first). A route the application serves that the tables do
not list, or a listed route that no longer exists, fails the first test by name: a new page is reviewed here.

Principals: anonymous; an API token sent to a page (pages take sessions only: the token is ignored, so this is an
anonymous visitor); a deactivated physician with a live session (Django drops it: anonymous again); a user with no
role; and the seven personas, one per role. No clinician owns a patient in this application (no model links a
user to a patient): every role sees every patient, so "another patient's record" is tested as object confinement in
test_object_confinement.py, not here.

For each (route, principal, method): an allowed request is never 401/403/405 or the login page; a refused one is
403, 405 or the login page; nothing is ever 500; and every refused write leaves every table of the database as it
was (matrix_world.fingerprint: row counts, nullable columns, versions and flags, in one query).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from matrix_world import ROLE_OF, World, fingerprint, world_fixture

from mibg.web.permissions import ACTIONS

OPEN = "open"  # no login; served to anyone
PASSWORD_STEP = "after the password step"  # any signed-in user (the TOTP code step); others go to the login page
SUPERUSER = "superuser only"  # the Django admin: only an active staff superuser gets past its login page
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def page(get: str | None = None, post: str | None = None) -> dict[str, str]:
    """A page under ``action_required``: HEAD is answered as GET, every other method is refused."""
    served = {"GET": get, "HEAD": get, "POST": post}
    return {m: a for m, a in served.items() if a is not None}


#: Every page: route -> (the record its ``pk`` names, {method: action}).
PAGES: dict[str, tuple[str | None, dict[str, str]]] = {
    # The front door only redirects to the patient list (which then asks for a login).
    "": (None, {"GET": OPEN, "HEAD": OPEN}),
    # The load balancer's probe: no login, no patient data (mibg.web.views.healthz).
    "healthz": (None, {"GET": OPEN}),
    # Login and logout are Django's class-based views, which answer OPTIONS themselves (the Allow header, no body).
    "accounts/login/": (None, {"GET": OPEN, "HEAD": OPEN, "POST": OPEN, "OPTIONS": OPEN}),
    "accounts/logout/": (None, {"POST": OPEN, "OPTIONS": OPEN}),
    # The second login step (TOTP code): open to a user who has passed the password step, else back to login.
    "accounts/login/code/": (None, {"GET": PASSWORD_STEP, "HEAD": PASSWORD_STEP, "POST": PASSWORD_STEP}),
    "accounts/two-factor/": (None, page("account.tokens", "account.tokens")),
    "accounts/lockouts/": (None, page("account.unlock", "account.unlock")),
    "accounts/tokens/": (None, page("account.tokens", "account.tokens")),
    "accounts/tokens/<int:pk>/revoke/": ("own_token", page(post="account.tokens")),
    "patients/": (None, page("patient.view")),
    "patients/new/": (None, page("patient.create", "patient.create")),
    "patients/<int:pk>/": ("patient", page("patient.view")),
    "patients/<int:pk>/edit/": ("patient", page("patient.edit", "patient.edit")),
    "patients/<int:pk>/courses/new/": ("patient", page(post="course.create")),
    "courses/<int:pk>/": ("course", page("patient.view")),
    "courses/<int:pk>/screening/": ("course", page("screening.edit", "screening.edit")),
    "courses/<int:pk>/chair/": ("course", page("chair.decide", "chair.decide")),
    "courses/<int:pk>/directive/": ("course", page("directive.sign", "directive.sign")),
    "courses/<int:pk>/directive/preview/": ("course", page(post="directive.sign")),
    "courses/<int:pk>/verify/": ("course", page("directive.verify", "directive.verify")),
    "courses/<int:pk>/assay/": ("course", page("assay.record", "assay.record")),
    "courses/<int:pk>/administration/": ("course", page("administration.record", "administration.record")),
    "courses/<int:pk>/step/admit/": ("course", page(post="course.admit")),
    "courses/<int:pk>/step/close/": ("course", page(post="course.close")),
    "courses/<int:pk>/step/confirm_eligibility/": ("course", page(post="course.confirm_eligibility")),
    "courses/<int:pk>/step/start_follow_up/": ("course", page(post="course.start_follow_up")),
    "courses/<int:pk>/step/stop/": ("course", page(post="course.stop")),
    "evaluations/<int:pk>/": ("evaluation", page("patient.view")),
    "directives/<int:pk>/print/": ("directive", page("patient.view")),
    "assays/<int:pk>/override/": ("assay", page("assay.override", "assay.override")),
    "administrations/<int:pk>/review/": ("administration", page("medical_event.review", "medical_event.review")),
    "assays/<int:pk>/correct/": ("assay", page("assay.record", "assay.record")),  # decisions.md A37
    "administrations/<int:pk>/correct/": ("administration", page("administration.record", "administration.record")),
    "audit/": (None, page("audit.view")),
    "followup/courses/<int:pk>/": ("course", page("patient.view")),
    "followup/courses/<int:pk>/labs/new/": ("course", page("lab.enter", "lab.enter")),
    "followup/courses/<int:pk>/labs/upload/": ("course", page("lab.enter", "lab.enter")),
    "followup/courses/<int:pk>/transfusions/new/": ("course", page("transfusion.record", "transfusion.record")),
    "followup/courses/<int:pk>/recovery.png": ("course", page("patient.view")),
    "followup/courses/<int:pk>/recovery.svg": ("course", page("patient.view")),
    "followup/courses/<int:pk>/adverse-events/new/": ("course", page("adverse_event.record", "adverse_event.record")),
    "followup/courses/<int:pk>/curie/new/": ("course", page("response.record", "response.record")),
    "followup/courses/<int:pk>/inrc/new/": ("course", page("response.record", "response.record")),
    "followup/labs/<int:pk>/void/": ("lab", page("lab.enter", "lab.enter")),
    "followup/labs/<int:pk>/correct/": ("lab", page("lab.enter", "lab.enter")),  # decisions.md A37
    "followup/transfusions/<int:pk>/void/": ("transfusion", page("transfusion.record", "transfusion.record")),
    "followup/adverse-events/<int:pk>/edit/": ("adverse_event", page("adverse_event.record", "adverse_event.record")),
    "followup/adverse-events/<int:pk>/void/": ("adverse_event", page("adverse_event.record", "adverse_event.record")),
    "followup/adverse-events/<int:pk>/sign/": ("adverse_event", page("adverse_event.attribute",
                                                                     "adverse_event.attribute")),
    "followup/adverse-events/<int:pk>/review/": ("adverse_event", page("sae.review", "sae.review")),
    "followup/curie/<int:pk>/void/": ("curie", page("response.record", "response.record")),
    "followup/inrc/<int:pk>/void/": ("inrc", page("response.record", "response.record")),
    "followup/ctcae-terms/": (None, page("patient.view")),  # the CTCAE v5.0 term list (issue 15)
    "followup/programme/": (None, page("patient.view")),
    "followup/programme.csv": (None, page("patient.view")),
    "followup/programme.png": (None, page("patient.view")),
    "courses/<int:pk>/radiation/": ("course", page("patient.view")),
    "courses/<int:pk>/readings/": ("course", page("patient.view", "reading.record")),
    "courses/<int:pk>/radiation/plot.svg": ("course", page("patient.view")),
    "courses/<int:pk>/radiation/plot.png": ("course", page("patient.view")),
    "courses/<int:pk>/release/": ("course", page("patient.view", "course.release")),
    "courses/<int:pk>/release/instructions/": ("course", page("patient.view")),
    "courses/<int:pk>/release/instructions.pdf": ("course", page("patient.view")),
    "courses/<int:pk>/stem-cells/": ("course", page("stem_cells.record", "stem_cells.record")),
    "readings/<int:pk>/correct/": ("reading", page("reading.record", "reading.record")),
    "stem-cells/<int:pk>/correct/": ("stem_cells", page("stem_cells.record", "stem_cells.record")),
    "readings/<int:pk>/void/": ("reading", page("reading.record", "reading.record")),
    "documents/courses/<int:pk>/eligibility.pdf": ("course", page("patient.view")),
    "documents/courses/<int:pk>/directive.pdf": ("course", page("patient.view")),
    "documents/courses/<int:pk>/administration.pdf": ("course", page("patient.view")),
    "documents/courses/<int:pk>/summary.pdf": ("course", page("patient.view")),
    "documents/courses/<int:pk>/rrdsr.dcm": ("course", page("patient.view")),
    "documents/patients/<int:pk>/fhir.json": ("patient", page("patient.view")),
    "documents/patients/<int:pk>/fhir-import/": ("patient", page("fhir.import", "fhir.import")),
    "documents/programme.xlsx": (None, page("patient.view")),
    "documents/programme.csv": (None, page("patient.view")),
    "documents/exports/": (None, page("patient.view")),
    "documents/study-record/": (None, page("patient.view")),
    "documents/references/": (None, page("patient.view")),
    "documents/study-record/protocol-fhir.json": (None, page("patient.view")),
    "event-reports/": (None, page("patient.view")),
    "analytics/": (None, page("patient.view")),
    "analytics/platelet-nadir.csv": (None, page("patient.view")),
    "analytics/anc-nadir.csv": (None, page("patient.view")),
    "analytics/recovery-days.csv": (None, page("patient.view")),
    "analytics/rescue-by-band.csv": (None, page("patient.view")),
    "event-reports/<int:pk>/": ("event_report", page("patient.view")),
    "event-reports/<int:pk>/edit/": ("event_report", page("event_report.record", "event_report.record")),
    "event-reports/<int:pk>/steps/": ("event_report", page(post="event_report.record")),
    "event-reports/<int:pk>/submit/": ("event_report", page("event_report.submit", "event_report.submit")),
    "event-reports/<int:pk>/acknowledge/": ("event_report", page("event_report.record", "event_report.record")),
    "event-reports/<int:pk>/report.pdf": ("event_report", page("patient.view")),
    "courses/<int:pk>/orders/record/": ("course", page(post="care.record")),
    "courses/<int:pk>/orders/void/": ("course", page(post="care.record")),
    "courses/<int:pk>/calendar.ics": ("course", page("patient.view")),
    "worklist/": (None, page("patient.view")),
    "worklist/count/": (None, page("patient.view")),
    "worklist/calendar.ics": (None, page("patient.view")),
    "care-plan/iodide-table/": (None, page("patient.view", "iodide.confirm")),
    # Issue 14: every open course screened again; POST runs it (read-only, audited), GET shows the form.
    "evaluations/rescreen/": (None, page("programme.rescreen", "programme.rescreen")),
}

#: The Django admin: route -> (a path that reaches it, its rule). Only the site administrator (``admin``: staff and
#: superuser, mibg.web.demo.make_user) gets past the admin's own login page; everyone else is sent there (or, for
#: its logout, to its index, which sends them there). Registering another model in the admin adds routes here: a
#: reviewer then decides whether the administrator should see that model's records.
ADMIN: dict[str, tuple[str, str]] = {
    "admin/": ("/admin/", SUPERUSER),
    "admin/login/": ("/admin/login/", OPEN),
    "admin/logout/": ("/admin/logout/", SUPERUSER),
    "admin/password_change/": ("/admin/password_change/", SUPERUSER),
    "admin/password_change/done/": ("/admin/password_change/done/", SUPERUSER),
    "admin/autocomplete/": ("/admin/autocomplete/", SUPERUSER),
    "admin/jsi18n/": ("/admin/jsi18n/", SUPERUSER),
    "admin/r/<path:content_type_id>/<path:object_id>/": ("/admin/r/{user_ct}/{user}/", SUPERUSER),
    "admin/auth/group/": ("/admin/auth/group/", SUPERUSER),
    "admin/auth/group/add/": ("/admin/auth/group/add/", SUPERUSER),
    "admin/auth/group/<path:object_id>/history/": ("/admin/auth/group/{group}/history/", SUPERUSER),
    "admin/auth/group/<path:object_id>/delete/": ("/admin/auth/group/{group}/delete/", SUPERUSER),
    "admin/auth/group/<path:object_id>/change/": ("/admin/auth/group/{group}/change/", SUPERUSER),
    "admin/auth/group/<path:object_id>/": ("/admin/auth/group/{group}/", SUPERUSER),
    "admin/accounts/user/<id>/password/": ("/admin/accounts/user/{user}/password/", SUPERUSER),
    "admin/accounts/user/": ("/admin/accounts/user/", SUPERUSER),
    "admin/accounts/user/add/": ("/admin/accounts/user/add/", SUPERUSER),
    "admin/accounts/user/<path:object_id>/history/": ("/admin/accounts/user/{user}/history/", SUPERUSER),
    "admin/accounts/user/<path:object_id>/delete/": ("/admin/accounts/user/{user}/delete/", SUPERUSER),
    "admin/accounts/user/<path:object_id>/change/": ("/admin/accounts/user/{user}/change/", SUPERUSER),
    "admin/accounts/user/<path:object_id>/": ("/admin/accounts/user/{user}/", SUPERUSER),
    "admin/accounts/apitoken/": ("/admin/accounts/apitoken/", SUPERUSER),
    "admin/accounts/apitoken/add/": ("/admin/accounts/apitoken/add/", SUPERUSER),
    "admin/accounts/apitoken/<path:object_id>/history/": ("/admin/accounts/apitoken/{token}/history/", SUPERUSER),
    "admin/accounts/apitoken/<path:object_id>/delete/": ("/admin/accounts/apitoken/{token}/delete/", SUPERUSER),
    "admin/accounts/apitoken/<path:object_id>/change/": ("/admin/accounts/apitoken/{token}/change/", SUPERUSER),
    "admin/accounts/apitoken/<path:object_id>/": ("/admin/accounts/apitoken/{token}/", SUPERUSER),
    # The second-factor policy per role and the TOTP devices (django-otp); no record of either exists in the world.
    "admin/accounts/secondfactorpolicy/": ("/admin/accounts/secondfactorpolicy/", SUPERUSER),
    "admin/accounts/secondfactorpolicy/add/": ("/admin/accounts/secondfactorpolicy/add/", SUPERUSER),
    "admin/accounts/secondfactorpolicy/<path:object_id>/history/": ("/admin/accounts/secondfactorpolicy/999999/history/", SUPERUSER),
    "admin/accounts/secondfactorpolicy/<path:object_id>/delete/": ("/admin/accounts/secondfactorpolicy/999999/delete/", SUPERUSER),
    "admin/accounts/secondfactorpolicy/<path:object_id>/change/": ("/admin/accounts/secondfactorpolicy/999999/change/", SUPERUSER),
    "admin/accounts/secondfactorpolicy/<path:object_id>/": ("/admin/accounts/secondfactorpolicy/999999/", SUPERUSER),
    "admin/otp_totp/totpdevice/": ("/admin/otp_totp/totpdevice/", SUPERUSER),
    "admin/otp_totp/totpdevice/add/": ("/admin/otp_totp/totpdevice/add/", SUPERUSER),
    "admin/otp_totp/totpdevice/<path:object_id>/history/": ("/admin/otp_totp/totpdevice/999999/history/", SUPERUSER),
    "admin/otp_totp/totpdevice/<path:object_id>/delete/": ("/admin/otp_totp/totpdevice/999999/delete/", SUPERUSER),
    "admin/otp_totp/totpdevice/<path:object_id>/change/": ("/admin/otp_totp/totpdevice/999999/change/", SUPERUSER),
    "admin/otp_totp/totpdevice/<path:object_id>/": ("/admin/otp_totp/totpdevice/999999/", SUPERUSER),
    "admin/audit/auditevent/": ("/admin/audit/auditevent/", SUPERUSER),
    "admin/audit/auditevent/add/": ("/admin/audit/auditevent/add/", SUPERUSER),
    "admin/audit/auditevent/<path:object_id>/history/": ("/admin/audit/auditevent/{event}/history/", SUPERUSER),
    "admin/audit/auditevent/<path:object_id>/delete/": ("/admin/audit/auditevent/{event}/delete/", SUPERUSER),
    "admin/audit/auditevent/<path:object_id>/change/": ("/admin/audit/auditevent/{event}/change/", SUPERUSER),
    "admin/audit/auditevent/<path:object_id>/": ("/admin/audit/auditevent/{event}/", SUPERUSER),
    "admin/^(?P<app_label>auth|accounts|otp_totp|audit)/$": ("/admin/accounts/", SUPERUSER),
    "admin/(?P<url>.*)$": ("/admin/no-such-page/", SUPERUSER),
}


def routes(patterns: Any = None, prefix: str = "") -> list[tuple[str, Any]]:
    """Every URL pattern the application serves, as (route, view), the API's included."""
    found = []
    for p in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(p, URLResolver):
            found += routes(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            found.append((prefix + str(p.pattern), p.callback))
    return found


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    yield from world_fixture(django_db_blocker)


# ---- the tables against the application -----------------------------------------------------------------------


def test_every_route_outside_the_api_is_in_a_table_and_every_table_entry_still_exists():
    served = {route for route, _view in routes() if not route.startswith("api/")}
    unlisted = sorted(served - set(PAGES) - set(ADMIN))
    gone = sorted((set(PAGES) | set(ADMIN)) - served)
    assert unlisted == [], f"routes served but not in the access matrix (add them to PAGES or ADMIN): {unlisted}"
    assert gone == [], f"routes in the access matrix that the application no longer serves: {gone}"


def test_every_page_decorator_asks_for_the_action_the_table_names():
    """The decorator is what runs; the table is what was reviewed: they must say the same."""
    for route, view in routes():
        if route not in PAGES or {OPEN, PASSWORD_STEP} & set(PAGES[route][1].values()):
            continue
        declared = getattr(view, "actions", None)
        assert declared is not None, f"{route} has no action_required"
        table = PAGES[route][1]
        assert declared == {"GET": table.get("GET"), "POST": table.get("POST")}, route
        for action in table.values():
            assert action in ACTIONS, (route, action)


def test_every_open_route_is_one_the_issue_allows_without_a_login():
    """Only the login step, the health check and the front door's redirect are open (the admin's login too)."""
    open_pages = sorted(r for r, (_kind, methods) in PAGES.items() if OPEN in methods.values())
    assert open_pages == ["", "accounts/login/", "accounts/logout/", "healthz"]
    assert sorted(r for r, (_path, rule) in ADMIN.items() if rule == OPEN) == ["admin/login/"]


# ---- the matrix ----------------------------------------------------------------------------------------------


def _page_url(route: str, kind: str | None, world: World, username: str) -> str:
    if kind is None:
        return "/" + route
    pk = world.token_ids.get(username, world.token_ids["patel"]) if kind == "own_token" else world.ids[kind]
    return "/" + route.replace("<int:pk>", str(pk))


def _admin_url(path: str, world: World) -> str:
    from django.contrib.auth.models import Group
    from django.contrib.contenttypes.models import ContentType

    from mibg.web.audit.models import AuditEvent

    return path.format(user=world.people["patel"].pk, token=world.token_ids["patel"], group=Group.objects.first().pk,
                       event=AuditEvent.objects.first().pk,
                       user_ct=ContentType.objects.get_for_model(world.people["patel"]).pk)


def _expected_page(methods: dict[str, str], method: str, role: str | None, signed_in: bool) -> str:
    """'ok', 'login' (sent to the login page), '403' or '405', from the table alone."""
    if OPEN in methods.values():
        return "ok" if method in methods else "405"
    if PASSWORD_STEP in methods.values():
        return "405" if method not in methods else "ok" if signed_in else "login"
    if not signed_in:
        return "login"
    if method not in methods:
        return "405"
    return "ok" if role is not None and role in ACTIONS[methods[method]] else "403"


def _expected_admin(rule: str, method: str, superuser: bool) -> str:
    if rule == OPEN:  # the admin's login page is Django's LoginView, which answers PUT as POST (ProcessFormView.put)
        return "ok" if method in ("GET", "HEAD", "POST", "PUT", "OPTIONS") else "405"
    return "reachable" if superuser else "admin-login"


def _outcome(response: Any) -> str:
    location = response.get("Location", "")
    if response.status_code >= 500:
        return f"{response.status_code} (server error)"
    if response.status_code == 302 and location.startswith("/accounts/login/"):
        return "login"
    if response.status_code == 302 and location.startswith("/admin/login/"):
        return "admin-login"
    return str(response.status_code)


def _matches(expected: str, got: str, route: str) -> bool:
    if "server error" in got:
        return False
    if route in ("accounts/logout/", "admin/logout/") and got == "login" and expected in ("ok", "reachable"):
        return True  # logging out ends on the login page (LOGOUT_REDIRECT_URL): that is the success
    if route == "admin/logout/" and expected == "admin-login" and got == "302":
        return True  # the admin sends a stranger's logout to its index, which sends them to its login page
    if expected == "ok":  # served: whatever the page says about an empty form, never a refusal of access
        return got not in ("401", "403", "405", "login", "admin-login")
    if expected == "reachable":  # the admin past its login page (it may still refuse one model's add or change: 403)
        return got not in ("login", "admin-login")
    return got == expected


PRINCIPALS = ["anonymous", "token-only", "deactivated", "norole", *ROLE_OF]


def _client(world: World, principal: str) -> Client:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {world.tokens['patel']}"} if principal == "token-only" else {}
    client = Client(raise_request_exception=False, **headers)
    if principal == "deactivated":
        client.force_login(world.people["gone"])
    elif principal not in ("anonymous", "token-only"):
        client.force_login(world.people[principal])
    return client


def _send(client: Client, method: str, url: str) -> Any:
    return client.generic(method, url, b"", content_type="application/x-www-form-urlencoded")


def renders_in_full(route: str, method: str, action: str) -> str:
    """The one role whose allowed GET or POST of this page is rendered in full (the others' reach a stand-in body).

    Rendering every PDF, plot and course page once per allowed role would take minutes; the access decision is
    the decorator's alone (the views only choose which buttons to show), so each allowed role's request goes
    through the real URL, middleware, session and decorator, and one of them, chosen by a fixed hash of the route
    so every role takes its turn, also runs the real view (which must then not fail).
    """
    roles = [name for name, role in ROLE_OF.items() if role in ACTIONS[action]]
    return roles[zlib.crc32(f"{method} {route}".encode()) % len(roles)]


@contextmanager
def stand_in_body(callback: Any) -> Iterator[None]:
    """The page's own view replaced, under its real ``action_required`` wrapper, by one that answers 200."""
    cell = callback.__closure__[callback.__code__.co_freevars.index("view")]
    real = cell.cell_contents
    cell.cell_contents = lambda request, *args, **kwargs: HttpResponse(REACHED)
    try:
        yield
    finally:
        cell.cell_contents = real


REACHED = b"the access check let this request through to the view"


@pytest.mark.parametrize("principal", PRINCIPALS)
def test_each_principal_gets_exactly_what_the_tables_allow_on_every_page_and_method(db, world, principal):
    client = _client(world, principal)
    role = ROLE_OF.get(principal)
    signed_in = principal not in ("anonymous", "token-only", "deactivated")
    views = dict(routes())
    wrong: list[str] = []
    known = None  # the database's fingerprint, when nothing has changed since it was taken
    checks = [(route, _page_url(route, kind, world, principal), _expected_page(methods, m, role, signed_in), m, methods)
              for route, (kind, methods) in PAGES.items() for m in METHODS]
    checks += [(route, _admin_url(path, world), _expected_admin(rule, m, principal == "admin"), m, {})
               for route, (path, rule) in ADMIN.items() for m in METHODS]
    for route, url, expected, method, methods in checks:
        check_store = method in WRITES and expected not in ("ok", "reachable")
        before = (known or fingerprint()) if check_store else None
        action = methods.get(method, OPEN)
        stand_in = (expected == "ok" and action not in (OPEN, PASSWORD_STEP)
                    and (method == "HEAD" or renders_in_full(route, method, action) != principal))
        with stand_in_body(views[route]) if stand_in else nullcontext():
            response = _send(client, method, url)
        got = _outcome(response)
        # A HEAD answer has no body (the client drops it, as a server would): its 200 says the stand-in was reached.
        reached = response.status_code == 200 and response.content == (b"" if method == "HEAD" else REACHED)
        # A page rendered in full for a role it serves shows itself (200) or moves on (302): every page acts on a
        # real record here, so a 404 would mean the page lost its record.
        shown = stand_in or method != "GET" or expected != "ok" or got in ("200", "302")
        if not _matches(expected, got, route) or (stand_in and not reached) or not shown:
            wrong.append(f"{method} {url} ({route}): expected {expected}, got {got}")
        if check_store:
            known = fingerprint()
            if known != before:
                wrong.append(f"{method} {url} ({route}) was refused but changed the database")
        else:
            known = None
        if route in ("accounts/logout/", "admin/logout/") and principal not in ("anonymous", "token-only"):
            client = _client(world, principal)  # logged out by the request just made: log in again
            known = None
    assert wrong == [], f"{principal}: {len(wrong)} unexpected answers:\n" + "\n".join(wrong)


# ---- the permission table itself, checked against the issue's rules (not against its own contents) -------------


#: Who may do what, written out from the issue and the regulations (not read from mibg.web.permissions): the
#: matrix above trusts ACTIONS for the roles of an action, so every action's roles are pinned here.
VIEWERS = {"physician", "chair", "physicist", "pharmacist", "nurse", "readonly"}
ROLES_BY_ACTION = {
    "patient.view": VIEWERS,  # every clinical role and the monitor; not the administrator
    "patient.create": {"nurse", "physician"},
    "patient.edit": {"nurse", "physician"},
    "course.create": {"nurse", "physician"},
    "screening.edit": {"nurse", "physician"},
    "chair.decide": {"chair"},  # "needs review" criteria and protocol exceptions (decisions.md H5, X1)
    "course.confirm_eligibility": {"physician", "chair"},
    "directive.sign": {"physician"},  # the authorised user signs the written directive (10 CFR 35.40)
    "directive.verify": {"physicist", "pharmacist"},  # an independent second person (10 CFR 35.41)
    "assay.record": {"pharmacist", "physicist"},  # 10 CFR 35.63
    "assay.override": {"physician"},  # "unless the authorised user directs otherwise" (10 CFR 35.63)
    "administration.record": {"nurse", "physician"},
    "medical_event.review": {"physician"},  # 10 CFR 35.3045
    "course.admit": {"nurse", "physician"},
    "course.release": {"physicist"},  # the RSO signs the release on measured readings (10 CFR 35.75)
    "reading.record": {"physicist"},
    "stem_cells.record": {"physician", "nurse"},
    "course.start_follow_up": {"physician", "nurse"},
    "course.close": {"physician"},
    "course.stop": {"physician", "chair"},
    "programme.rescreen": {"physician", "chair", "nurse"},  # issue 14: read-only, the changed verdicts listed
    "lab.enter": {"nurse", "physician"},
    "transfusion.record": {"nurse", "physician"},
    "adverse_event.record": {"physician", "nurse"},  # the nurse's entry is a draft without attribution (issue 15)
    "adverse_event.attribute": {"physician"},
    "sae.review": {"physician"},
    # Event reports (issue 13 §3): the treating physician, the chair (sponsor-investigator) and the RSO record;
    # the physician or the chair signs the submission.
    "event_report.record": {"physician", "chair", "physicist"},
    "event_report.submit": {"physician", "chair"},
    "response.record": {"physician"},  # Curie score, INRC 2017
    "fhir.import": {"nurse", "physician"},
    "care.record": {"nurse", "physician", "physicist"},  # issue 13: each order on one role's list; a physician any
    "iodide.confirm": {"pharmacist"},  # issue 13: the site's iodide table, confirmed by a pharmacist's signature
    "audit.view": {"admin", "readonly"},
    "account.tokens": VIEWERS | {"admin"},
    "account.unlock": {"admin"},  # login lockouts: seen and cleared by the administrator only
}


def test_the_permission_table_gives_each_act_to_exactly_the_roles_the_issue_and_the_regulations_name():
    assert set(ACTIONS) == set(ROLES_BY_ACTION), "an action was added or removed: pin its roles here"
    for action, roles in ROLES_BY_ACTION.items():
        assert ACTIONS[action] == roles, action


def test_morgan_the_monitor_can_read_but_never_change_anything():
    writes = [a for a, roles in ACTIONS.items() if "readonly" in roles and a not in ("patient.view", "audit.view", "account.tokens")]
    assert writes == []


def test_the_administrator_sees_no_patient_data():
    """The site administrator manages accounts and reads the audit trail; clinical records are not theirs."""
    assert [a for a, roles in ACTIONS.items() if "admin" in roles] == ["audit.view", "account.tokens", "account.unlock"]


# ---- what the tables do not cover: cross-site requests and the static files ---------------------------------------


@pytest.mark.parametrize("principal", ["patel", "admin"])
def test_a_cross_site_post_is_refused_on_every_page_even_for_a_role_that_may_post_there(db, world, principal):
    """The matrix's client skips Django's CSRF check; a browser tricked into posting from another site does not.
    Dr Patel may post to most pages and the administrator to the admin: without the page's CSRF token, nothing."""
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.force_login(world.people[principal])
    posts = [_page_url(route, kind, world, principal) for route, (kind, methods) in PAGES.items() if "POST" in methods]
    posts += [_admin_url(path, world) for _route, (path, _rule) in ADMIN.items()]
    before = fingerprint()
    for url in posts:
        response = client.post(url, {"name": "x"})
        assert response.status_code == 403, (url, response.status_code)
        assert b"CSRF" in response.content, url
    assert fingerprint() == before


def test_the_static_files_are_open_assets_only_and_nothing_outside_them_is_served(db):
    """``mibg serve --dev`` serves /static/ itself (runserver's static handler, before any login): the stylesheets,
    the vendored htmx, django-ninja's Swagger UI and the admin's assets. No patient data can be there, and a path that
    climbs out of the static folders is not served. (Under gunicorn, the default, whitenoise serves only the files
    collected at start: tests/web/test_gunicorn_access_log.py.)"""
    from django.contrib.staticfiles import finders
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.core.exceptions import SuspiciousFileOperation
    from django.core.signals import request_finished
    from django.core.wsgi import get_wsgi_application
    from django.db import close_old_connections
    from django.test import RequestFactory

    names = [path.rsplit("/", 1)[-1] for finder in finders.get_finders() for path, _storage in finder.list([])]
    kinds = {name.rsplit(".", 1)[-1] if "." in name else name for name in names}
    assert kinds <= {"css", "js", "svg", "png", "gif", "map", "txt", "md", "LICENSE", "woff", "woff2", "ttf", "eot"}, kinds
    handler = StaticFilesHandler(get_wsgi_application())
    factory = RequestFactory()
    # Closing a response sends request_finished, whose close_old_connections would close the database connection
    # that the module's shared records are held open in (a transaction): on PostgreSQL the next test then finds
    # its connection closed. Django's test client disconnects it the same way.
    request_finished.disconnect(close_old_connections)
    try:
        for path, status in (("/static/mibg/style.css", 200), ("/static/mibg/../style.css", 404),
                             ("/static/no-such-file.css", 404), ("/static/mibg/", 404)):
            response = handler.get_response(factory.get(path))
            response.close()
            assert response.status_code == status, path
    finally:
        request_finished.connect(close_old_connections)
    # Climbing out of the static folders: Django refuses to open the file (SuspiciousFileOperation), which runserver's
    # static handler does not catch, so `mibg serve` answers it with a 500 page: a refusal, never the file's bytes.
    for path in ("/static/../settings.py", "/static/%2e%2e/%2e%2e/settings.py", "/static/mibg/../../urls.py"):
        with pytest.raises(SuspiciousFileOperation):
            handler.get_response(factory.get(path))


def test_a_role_taken_away_is_refused_at_the_very_next_request_by_session_and_by_token(db, world):
    """Roles are read once per request (permissions.roles_of), never kept in the session or the token: when the
    administrator removes Nora from the nurses, her open session and her token lose the nurse's pages at once."""
    nora = _client(world, "nora")
    token = Client(HTTP_AUTHORIZATION=f"Bearer {world.tokens['nora']}")
    new_patient = "/patients/new/"
    assert nora.get(new_patient).status_code == 200
    assert token.get("/api/patients").status_code == 200
    world.people["nora"].groups.clear()
    assert nora.get(new_patient).status_code == 403
    assert token.get("/api/patients").status_code == 403

"""The access matrix of the JSON API (issue 7, "Security"): every operation, every principal, every method.

The table below is the promise, written by hand from mibg.web.permissions: each API path -> each method it serves
-> the action it needs. It is compared with the API's own OpenAPI document (and the URL map) both ways, so a new
operation fails the first test by name until someone decides who may call it.

What the application promises (README, mibg.web.api): the API authenticates by personal bearer token only. A
browser session is not a credential here (a logged-in user's cookie without a token gets 401), and a token is not
a credential on the pages (test_access_matrix.py: the token-only visitor is sent to the login page). A revoked
token, a token of a deactivated user and a made-up token all get 401; a user with no role gets 403. Tokens do not
expire in this version (ApiToken has no expiry): they live until revoked or their user is deactivated.

Each refused call carries a body that would otherwise be valid, so the refusal is the role check's and not the
body's validation; and every refused write leaves every table as it was. A method a path does not serve is 405 to
everyone, before any credential is looked at (django-ninja answers it first).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from matrix_world import ROLE_OF, World, fingerprint, world_fixture

from clinic_helpers import PASSWORD
from mibg.web.api import api
from mibg.web.permissions import ACTIONS

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
WRITES = {"POST", "PUT", "PATCH", "DELETE"}

#: Every API operation: path -> {method: action}. ``{patient_id}`` is Ava's, ``{course_id}`` her course's.
API: dict[str, dict[str, str]] = {
    "/api/patients": {"GET": "patient.view", "POST": "patient.create"},
    "/api/patients/{patient_id}": {"GET": "patient.view"},
    "/api/patients/{patient_id}/courses": {"GET": "patient.view", "POST": "course.create"},
    "/api/patients/{patient_id}/fhir": {"GET": "patient.view"},
    "/api/courses/{course_id}": {"GET": "patient.view"},
    "/api/courses/{course_id}/screening": {"GET": "patient.view", "POST": "screening.edit"},
    "/api/courses/{course_id}/directives": {"GET": "patient.view", "POST": "directive.sign"},
    "/api/courses/{course_id}/directives/plan": {"POST": "directive.sign"},  # the plan is the signer's worksheet
    # GET: the authorised user reviews the verifications (the differing fields are not the verifier's, A36)
    "/api/courses/{course_id}/verifications": {"GET": "directive.sign", "POST": "directive.verify"},
    "/api/courses/{course_id}/current-directive": {"GET": "patient.view"},
    "/api/courses/{course_id}/assays": {"GET": "patient.view", "POST": "assay.record"},
    "/api/courses/{course_id}/administrations": {"GET": "patient.view", "POST": "administration.record"},
    "/api/assays/{assay_id}/corrections": {"POST": "assay.record"},  # decisions.md A37
    "/api/administrations/{administration_id}/corrections": {"POST": "administration.record"},
    "/api/labs/{lab_id}/corrections": {"POST": "lab.enter"},
    "/api/courses/{course_id}/readings": {"GET": "patient.view", "POST": "reading.record"},
    "/api/courses/{course_id}/dosimetry": {"GET": "patient.view"},
    "/api/courses/{course_id}/release": {"GET": "patient.view", "POST": "course.release"},
    "/api/courses/{course_id}/labs": {"GET": "patient.view", "POST": "lab.enter"},
    "/api/courses/{course_id}/labs/csv": {"POST": "lab.enter"},
    "/api/courses/{course_id}/responses": {"GET": "patient.view"},
    "/api/courses/{course_id}/recovery": {"GET": "patient.view"},
    "/api/courses/{course_id}/orders": {"GET": "patient.view"},
    "/api/courses/{course_id}/order-records": {"POST": "care.record"},
    "/api/courses/{course_id}/calendar.ics": {"GET": "patient.view"},
    "/api/calendar.ics": {"GET": "patient.view"},
    "/api/worklist": {"GET": "patient.view"},
}

#: The API's routes that are not operations: its description (no patient data, no login, GET and HEAD only) and
#: django-ninja's root, which only names the docs' address and answers 404 to every request.
API_OPEN = {"api/openapi.json": "open", "api/docs": "open", "api/": "404"}


def _bodies(world: World) -> dict[str, dict[str, Any]]:
    """For each path, a body its schema accepts: a refusal can then only come from the role check."""
    now = timezone.localtime()
    soon = (now + timedelta(hours=1)).isoformat()
    t = now.isoformat()
    directive = {"version": 1, "mci_per_kg": 12, "preparation": "draximage", "specific_activity": 12,
                 "final_volume_ml": 50, "infusion_min": 100, "route": "central_line", "calibration_time": t,
                 "administration_time": soon, "password": PASSWORD}
    return {
        "/api/patients": {"mrn": "MX-API-1", "family_name": "Kim", "given_name": "Jae", "birth_date": "2018-03-04",
                          "sex": "male"},
        "/api/patients/{patient_id}/courses": {},
        "/api/courses/{course_id}/screening": {"version": 1, "snapshot": {}},
        "/api/courses/{course_id}/directives": directive,
        "/api/courses/{course_id}/directives/plan": directive,
        "/api/courses/{course_id}/verifications": {"version": 1, "weight_kg": 22, "mci_per_kg": 18,
                                                    "password": PASSWORD},
        "/api/courses/{course_id}/assays": {"version": 1, "lot": "L-1", "calibration_time": t, "specific_activity": 12,
                                            "measured_mci": 396, "measured_at": t, "calibrator_id": "CRC-55tR"},
        "/api/courses/{course_id}/administrations": {"version": 1, "started_at": t, "ended_at": soon,
                                                     "route": "central_line", "volume_ml": 50, "residual_mci": 2,
                                                     "residual_measured_at": soon, "patient_name": "Ava Martin",
                                                     "patient_mrn": "MX-1001"},
        "/api/assays/{assay_id}/corrections": {"version": 1, "lot": "L-1", "calibration_time": t, "specific_activity": 12,
                                                "measured_mci": 396, "measured_at": t, "calibrator_id": "CRC-55tR",
                                                "reason": "typing error"},
        "/api/administrations/{administration_id}/corrections": {
            "version": 1, "started_at": t, "ended_at": soon, "route": "central_line", "volume_ml": 50, "residual_mci": 2,
            "residual_measured_at": soon, "patient_name": "Ava Martin", "patient_mrn": "MX-1001", "reason": "typing error"},
        "/api/courses/{course_id}/readings": {"measured_at": t, "mr_per_h": "1.2", "instrument_id": "Ludlum 9-3",
                                              "instrument_calibration_due": (now + timedelta(days=90)).date().isoformat(),
                                              "measured_by": "Sam Okafor, PhD"},
        "/api/courses/{course_id}/release": {"version": 1, "released_at": t, "instructions_given_to": "the mother",
                                             "readings_basis": "x", "password": PASSWORD},
        "/api/labs/{lab_id}/corrections": {"test": "anc", "value": "1.3", "unit": "10^9/L", "lln": "1.5",
                                           "collected_at": t, "reason": "typing error"},
        "/api/courses/{course_id}/labs": {"test": "anc", "value": "1.2", "unit": "10^9/L", "lln": "1.5",
                                          "collected_at": t},
        "/api/courses/{course_id}/labs/csv": {"csv": "test,value,unit,lln,uln,collected_at\n"},
        "/api/courses/{course_id}/order-records": {"code": "antiemetic", "due_at": t, "done": True, "at": t},
    }


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    yield from world_fixture(django_db_blocker)


def _api_routes(patterns: Any = None, prefix: str = "") -> list[str]:
    found = []
    for p in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(p, URLResolver):
            found += _api_routes(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern) and (prefix + str(p.pattern)).startswith("api/"):
            found.append(prefix + str(p.pattern))
    return found


def test_every_api_operation_is_in_the_table_and_every_table_entry_still_exists():
    served = {path: {m.upper() for m in ops} for path, ops in api.get_openapi_schema()["paths"].items()}
    unlisted = sorted(f"{m} {p}" for p, ms in served.items() for m in ms - set(API.get(p, {})))
    gone = sorted(f"{m} {p}" for p, ms in API.items() for m in set(ms) - served.get(p, set()))
    assert unlisted == [], f"API operations not in the access matrix (add them to API): {unlisted}"
    assert gone == [], f"API operations in the access matrix that the API no longer serves: {gone}"
    for path, methods in API.items():
        for action in methods.values():
            assert action in ACTIONS, (path, action)


def test_every_route_under_api_is_an_operation_or_one_of_the_open_routes():
    operations = {p.lstrip("/").replace("{", "<").replace("}", ">") for p in API}
    unexplained = sorted(set(_api_routes()) - operations - set(API_OPEN))
    assert unexplained == [], f"routes under /api/ that are neither an operation nor listed as open: {unexplained}"
    assert set(API_OPEN) <= set(_api_routes())


PRINCIPALS = ["anonymous", "session", "made-up token", "revoked token", "deactivated", "norole", *ROLE_OF]


def _caller(world: World, principal: str) -> Client:
    client = Client(raise_request_exception=False)
    token = {"made-up token": "mibg_" + "x" * 43, "revoked token": world.tokens["revoked"],
             "deactivated": world.tokens["gone"]}.get(principal, world.tokens.get(principal))
    if principal == "session":
        client.force_login(world.people["patel"])  # signed in on the pages, no token: not a credential here
    elif token is not None:
        client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def _expected(methods: dict[str, str], method: str, principal: str) -> str:
    if method not in methods:
        return "405"
    if principal in ("anonymous", "session", "made-up token", "revoked token", "deactivated"):
        return "401"
    role = ROLE_OF.get(principal)
    return "ok" if role is not None and role in ACTIONS[methods[method]] else "403"


@pytest.mark.parametrize("principal", PRINCIPALS)
def test_each_principal_gets_exactly_what_the_table_allows_on_every_api_operation_and_method(db, world, principal):
    client = _caller(world, principal)
    bodies = _bodies(world)
    wrong: list[str] = []
    known = None
    for path, methods in API.items():
        url = path.format(patient_id=world.ids["patient"], course_id=world.ids["course"], assay_id=world.ids["assay"],
                          administration_id=world.ids["administration"], lab_id=world.ids["lab"])
        for method in METHODS:
            expected = _expected(methods, method, principal)
            check_store = method in WRITES and expected != "ok"
            before = (known or fingerprint()) if check_store else None
            body = json.dumps(bodies.get(path, {})) if method in WRITES else ""
            response = client.generic(method, url, body, content_type="application/json")
            status = response.status_code
            if expected == "ok":
                # Served: the answer is the operation's own (200, 201, 404, 409, 422...), never an access refusal.
                # A 403 naming the password is a signature refused by the password check, which comes after access.
                refused = status in (401, 405) or (status == 403 and response.json().get("field") != "password")
                if refused or status >= 500:
                    wrong.append(f"{method} {url}: expected the operation's answer, got {status} {response.content[:120]!r}")
            elif str(status) != expected:
                wrong.append(f"{method} {url}: expected {expected}, got {status} {response.content[:120]!r}")
            elif expected == "403" and "does not allow" not in response.json()["message"]:
                wrong.append(f"{method} {url}: a 403 that is not the role check: {response.json()}")
            elif expected == "401" and set(response.json()) != {"message", "field"}:
                wrong.append(f"{method} {url}: a 401 that is not the API's JSON error: {response.content[:120]!r}")
            if check_store:
                known = fingerprint()
                if known != before:
                    wrong.append(f"{method} {url} was refused but changed the database")
            else:
                known = None
    assert wrong == [], f"{principal}: {len(wrong)} unexpected answers:\n" + "\n".join(wrong)


@pytest.mark.parametrize("principal", ["anonymous", "session", "norole", "morgan"])
def test_the_api_description_is_open_to_read_and_refuses_every_other_method(db, world, principal):
    client = _caller(world, principal)
    for route, rule in API_OPEN.items():
        for method in METHODS:
            before = fingerprint()
            response = client.generic(method, "/" + route)
            expected = 404 if rule == "404" else 200 if method in ("GET", "HEAD") else 405
            assert response.status_code == expected, (principal, method, route, response.status_code)
            assert fingerprint() == before, (principal, method, route)

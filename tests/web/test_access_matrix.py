"""Every page, every role, GET and POST: no unexpected success. Anonymous users go to the login page."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from mibg.web.permissions import ACTIONS

ROLES_OF = {"patel": "physician", "chen": "chair", "sam": "physicist", "riley": "pharmacist", "nora": "nurse",
            "morgan": "readonly", "admin": "admin"}
OPEN = {"healthz", "login", "logout"}


def _patterns(resolvers=None, prefix="", namespace=""):
    for p in resolvers if resolvers is not None else get_resolver().url_patterns:
        if isinstance(p, URLResolver):
            route = str(p.pattern)
            if route.startswith(("admin/", "api/")):
                continue
            yield from _patterns(p.url_patterns, prefix + route, p.namespace or namespace)
        elif isinstance(p, URLPattern) and p.name:
            yield (f"{namespace}:{p.name}" if namespace else p.name), prefix + str(p.pattern), p.callback


PAGES = [(name, callback) for name, _route, callback in _patterns() if name not in OPEN and name != "home"]


@pytest.fixture
def objects(make_course):
    """One record of each kind, so every URL resolves to something real."""
    from mibg.web.treatment.models import Administration, Assay

    administered = make_course(until="administered", residual="100")  # a possible medical event, still open
    ids = {
        "patient": administered.patient.pk, "course": administered.pk,
        "evaluation": administered.evaluations.first().pk, "directive": administered.directives.first().pk,
        "assay": Assay.objects.first().pk, "administration": Administration.objects.first().pk,
    }
    return ids


def _url(name: str, objects: dict[str, int]) -> str:
    from django.urls import reverse

    kind = {"patients": "patient", "courses": "course", "screening": "evaluation", "directives": "directive"}.get(name.split(":")[0])
    if name == "treatment:override":
        kind = "assay"
    elif name == "treatment:review":
        kind = "administration"
    elif name == "accounts:revoke":
        return reverse(name, kwargs={"pk": 999999})
    try:
        return reverse(name)
    except Exception:
        return reverse(name, kwargs={"pk": objects[kind]})


def test_every_page_is_guarded_by_an_action_of_the_permission_table():
    for name, callback in PAGES:
        actions = getattr(callback, "actions", None)
        assert actions is not None, f"{name} has no action_required"
        for action in actions.values():
            assert action is None or action in ACTIONS, (name, action)


@pytest.mark.parametrize("method", ["get", "post"])
def test_an_anonymous_visitor_is_sent_to_the_login_page_everywhere(client, objects, method):
    for name, _callback in PAGES:
        url = _url(name, objects)
        response = getattr(client, method)(url)
        assert response.status_code == 302, (name, method, response.status_code)
        assert response["Location"].startswith("/accounts/login/"), (name, response["Location"])


@pytest.mark.parametrize("username", list(ROLES_OF))
def test_each_role_gets_exactly_what_the_permission_table_allows(client, people, objects, username):
    client.force_login(people[username])
    role = ROLES_OF[username]
    for name, callback in PAGES:
        url = _url(name, objects)
        for method in ("GET", "POST"):
            action = callback.actions[method]
            response = client.get(url) if method == "GET" else client.post(url, {})
            if action is None:
                assert response.status_code == 405, (username, name, method, response.status_code)
            elif role in ACTIONS[action]:
                assert response.status_code in (200, 302, 404), (username, name, method, response.status_code)
                if response.status_code == 302:
                    assert not response["Location"].startswith("/accounts/login/")
            else:
                assert response.status_code == 403, (username, name, method, response.status_code)


# The table itself, checked against the rules (not against its own contents).
@pytest.mark.parametrize(("action", "roles"), [
    ("directive.sign", {"physician"}),
    ("directive.verify", {"physicist", "pharmacist"}),
    ("assay.record", {"pharmacist", "physicist"}),
    ("assay.override", {"physician"}),
    ("chair.decide", {"chair"}),
    ("medical_event.review", {"physician"}),
    ("audit.view", {"admin", "readonly"}),
    ("administration.record", {"nurse", "physician"}),
    ("screening.edit", {"nurse", "physician"}),
])
def test_the_permission_table_gives_each_regulated_act_to_the_right_roles(action, roles):
    assert ACTIONS[action] == roles


def test_morgan_the_monitor_can_read_but_never_change_anything():
    writes = [a for a, roles in ACTIONS.items() if "readonly" in roles and a not in ("patient.view", "audit.view", "account.tokens")]
    assert writes == []


def test_nobody_without_a_role_sees_patient_data(client, db, objects):
    from mibg.web.demo import make_user

    client.force_login(make_user("norole", [], "x-password-long-enough"))
    assert client.get("/patients/").status_code == 403
    assert client.get(f"/patients/{objects['patient']}/").status_code == 403

"""Every page, every role, GET and POST: no unexpected success. Anonymous users go to the login page."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from mibg.web.permissions import ACTIONS

ROLES_OF = {"patel": "physician", "chen": "chair", "sam": "physicist", "riley": "pharmacist", "nora": "nurse",
            "morgan": "readonly", "admin": "admin"}
OPEN = {"healthz", "login", "logout", "login_code"}


def _patterns(resolvers=None, prefix="", namespace=""):
    for p in resolvers if resolvers is not None else get_resolver().url_patterns:
        if isinstance(p, URLResolver):
            route = str(p.pattern)
            if route.startswith(("admin/", "api/")):
                continue
            yield from _patterns(p.url_patterns, prefix + route, p.namespace or namespace)
        elif isinstance(p, URLPattern) and p.name:
            yield (f"{namespace}:{p.name}" if namespace else p.name), prefix + str(p.pattern), p.callback


PAGES = [(name, route, callback) for name, route, callback in _patterns() if name not in OPEN and name != "home"]


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


#: Which record a page's ``pk`` names, by URL name (pages of other areas get a real course id when their
#: path is about a course, or an id that does not exist: a role check still comes first, then 404).
KINDS = {"patients": "patient", "courses": "course", "screening": "evaluation", "directives": "directive",
         "treatment:override": "assay", "treatment:review": "administration", "accounts:revoke": None}


def _url(name: str, route: str, objects: dict[str, int]) -> str:
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse(name)
    except NoReverseMatch:
        pass
    kind = KINDS.get(name, KINDS.get(name.split(":")[0], "course" if "courses/<" in route else None))
    return reverse(name, kwargs={"pk": objects.get(kind, 999999) if kind else 999999})


def test_every_page_is_guarded_by_an_action_of_the_permission_table():
    for name, _route, callback in PAGES:
        actions = getattr(callback, "actions", None)
        assert actions is not None, f"{name} has no action_required"
        for action in actions.values():
            assert action is None or action in ACTIONS, (name, action)


@pytest.mark.parametrize("method", ["get", "post"])
def test_an_anonymous_visitor_is_sent_to_the_login_page_everywhere(client, objects, method):
    for name, route, _callback in PAGES:
        url = _url(name, route, objects)
        response = getattr(client, method)(url)
        assert response.status_code == 302, (name, method, response.status_code)
        assert response["Location"].startswith("/accounts/login/"), (name, response["Location"])


@pytest.mark.parametrize("username", list(ROLES_OF))
def test_each_role_gets_exactly_what_the_permission_table_allows(client, people, objects, username):
    client.force_login(people[username])
    role = ROLES_OF[username]
    for name, route, callback in PAGES:
        url = _url(name, route, objects)
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

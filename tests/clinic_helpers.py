"""Helpers shared by the web and browser tests: the personas' password and what a browser would post."""

from __future__ import annotations

from typing import Any

PASSWORD = "correct-horse-battery-staple"

#: username -> (roles, printed name). Test names use these personas.
PERSONAS = {
    "patel": (["physician"], "Dr Asha Patel, MD"),
    "okoye": (["physician"], "Dr Chidi Okoye, MD"),
    "chen": (["chair"], "Dr Wei Chen, MD (study chair)"),
    "sam": (["physicist"], "Sam Okafor, PhD"),
    "riley": (["pharmacist"], "Riley Novak, PharmD"),
    "nora": (["nurse"], "Nora Diaz, RN"),
    "morgan": (["readonly"], "Morgan Lee (monitor)"),
    "admin": (["admin"], "Site administrator"),
}


def form_post_data(form) -> dict[str, str]:
    """What a browser would post for an unbound Django form as it is rendered (its initial values)."""
    data = {}
    for bound in form:
        value = bound.value()
        if value is None or value == "" or value is False:
            continue
        if value is True:
            data[bound.html_name] = "on"
            continue
        data[bound.html_name] = bound.field.widget.format_value(value) if hasattr(bound.field.widget, "format_value") else str(value)
    return data


def wristband(patient) -> tuple[str, None, str]:
    """The two identifiers a nurse reads at the bedside (decisions.md A36): the name, and the MRN."""
    return f"{patient.given_name} {patient.family_name}", None, patient.mrn


def floats_in(value: Any, path: str = "") -> list[str]:
    """Every place in a JSON document that holds a binary float (issue 11: a stored or reported dose never is)."""
    if isinstance(value, float):
        return [path]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in floats_in(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in floats_in(v, f"{path}[{i}]")]
    return []


def form_token(client, url: str) -> str:
    """The one-time token of the form a GET of ``url`` shows."""
    return client.get(url).context["form"]["form_token"].value()


def post_adverse_event(client, course, data: dict[str, str]):
    """Post the new-adverse-event form of ``course`` with ``data`` and a fresh token."""
    url = f"/followup/courses/{course.pk}/adverse-events/new/"
    return client.post(url, {"form_token": form_token(client, url), **data})

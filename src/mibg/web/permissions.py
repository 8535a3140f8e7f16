"""Who may do what: the one table of actions and roles, used by every page and every API call.

Roles are Django groups of these names. A person may hold more than one (a physician who is also the study
chair). Nothing is allowed to an anonymous user; nothing is allowed that is not in this table.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _

PHYSICIAN = "physician"  # authorised user: signs the written directive (10 CFR 35.40)
CHAIR = "chair"  # study chair: decides "needs review" criteria and protocol exceptions (decisions.md H5, X1)
PHYSICIST = "physicist"  # independent verification, readings, dosimetry, release
PHARMACIST = "pharmacist"  # preparation and assay
NURSE = "nurse"  # research nurse / coordinator: patients, labs, administration times
READONLY = "readonly"  # monitor / auditor
ADMIN = "admin"  # accounts and the audit trail

ROLES: dict[str, str] = {
    PHYSICIAN: "Physician (authorised user)",
    CHAIR: "Study chair",
    PHYSICIST: "Medical physicist / RSO",
    PHARMACIST: "Radiopharmacist",
    NURSE: "Research nurse / coordinator",
    READONLY: "Read-only (monitor, auditor)",
    ADMIN: "Administrator",
}

CLINICAL = frozenset({PHYSICIAN, CHAIR, PHYSICIST, PHARMACIST, NURSE})
VIEWERS = CLINICAL | {READONLY}

#: action -> the roles allowed to do it.
ACTIONS: dict[str, frozenset[str]] = {
    "patient.view": VIEWERS,
    "patient.create": frozenset({NURSE, PHYSICIAN}),
    "patient.edit": frozenset({NURSE, PHYSICIAN}),
    "course.create": frozenset({NURSE, PHYSICIAN}),
    "screening.edit": frozenset({NURSE, PHYSICIAN}),
    "chair.decide": frozenset({CHAIR}),
    "course.confirm_eligibility": frozenset({PHYSICIAN, CHAIR}),
    # Issue 14: every open course screened again after an amendment, the changed verdicts listed (read-only).
    "programme.rescreen": frozenset({PHYSICIAN, CHAIR, NURSE}),
    "directive.sign": frozenset({PHYSICIAN}),  # includes revise_directive: a new version is a new signature
    "directive.verify": frozenset({PHYSICIST, PHARMACIST}),
    "assay.record": frozenset({PHARMACIST, PHYSICIST}),
    "assay.override": frozenset({PHYSICIAN}),  # "unless the authorised user directs otherwise" (10 CFR 35.63)
    "administration.record": frozenset({NURSE, PHYSICIAN}),
    "medical_event.review": frozenset({PHYSICIAN}),
    "course.admit": frozenset({NURSE, PHYSICIAN}),
    "course.release": frozenset({PHYSICIST}),  # signed, on measured readings (mibg.web.radiation), 10 CFR 35.75
    "reading.record": frozenset({PHYSICIST}),  # exposure-rate readings at 1 m: enter, correct, void
    "stem_cells.record": frozenset({PHYSICIAN, NURSE}),  # the stem-cell infusion as given
    "course.start_follow_up": frozenset({PHYSICIAN, NURSE}),
    "course.close": frozenset({PHYSICIAN}),
    "course.stop": frozenset({PHYSICIAN, CHAIR}),
    "lab.enter": frozenset({NURSE, PHYSICIAN}),  # follow-up labs, by hand or CSV; voiding one entered in error
    "transfusion.record": frozenset({NURSE, PHYSICIAN}),
    # Issue 15: the nurse or coordinator records an adverse event as a draft without attribution; the physician
    # attributes it to 131I-MIBG and signs it (password re-entry), or records and attributes one directly.
    "adverse_event.record": frozenset({NURSE, PHYSICIAN}),
    "adverse_event.attribute": frozenset({PHYSICIAN}),
    "sae.review": frozenset({PHYSICIAN}),
    # Event reports (issue 13 §3): the physician (authorised user, treating investigator), the study chair
    # (sponsor-investigator) and the physicist (radiation safety officer: NRC notifications) fill in a draft, record
    # each notification made and the receiver's acknowledgement; the physician or the chair signs the submission.
    "event_report.record": frozenset({PHYSICIAN, CHAIR, PHYSICIST}),
    "event_report.submit": frozenset({PHYSICIAN, CHAIR}),
    "response.record": frozenset({PHYSICIAN}),  # Curie score, INRC 2017
    "fhir.import": frozenset({NURSE, PHYSICIAN}),
    # Issue 13: recording a due time of the course's order set (given, checked, or not done with the reason);
    # each order is on one role's list (the nurse's, or the physicist's room surveys) and a physician may record any.
    "care.record": frozenset({NURSE, PHYSICIAN, PHYSICIST}),
    "iodide.confirm": frozenset({PHARMACIST}),  # the site's iodide weight-band table, signed  # a FHIR Bundle's lab results into the follow-up labs (as lab.enter)
    "audit.view": frozenset({ADMIN, READONLY}),
    "account.tokens": VIEWERS | {ADMIN},  # one's own credentials: API tokens and the authenticator app (TOTP)
    "account.unlock": frozenset({ADMIN}),  # see and clear login lockouts
}

#: The course steps done through the generic "step" form, by event name. Release is not one of them: it is
#: signed on its own page, and refused unless measured readings meet the site limit and 10 CFR 35.75.
STEP_ACTIONS = {"confirm_eligibility", "admit", "start_follow_up", "close", "stop"}


def roles_of(user: Any) -> frozenset[str]:
    """The user's roles, read once per request and kept on the user object."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    cached = getattr(user, "_mibg_roles", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        user._mibg_roles = cached
    return cached


def allowed(user: Any, action: str) -> bool:
    if action not in ACTIONS:
        raise KeyError(f"unknown action {action!r}: add it to mibg.web.permissions.ACTIONS")
    return bool(roles_of(user) & ACTIONS[action])


def require(user: Any, action: str) -> None:
    if not allowed(user, action):
        raise PermissionDenied(_("Your role does not allow '%(action)s'.") % {"action": action})


ViewFunc = Callable[..., HttpResponseBase]


def action_required(get: str | None = None, post: str | None = None) -> Callable[[ViewFunc], ViewFunc]:
    """Decorate a view: anonymous users go to the login page; others need the action for the method.

    ``get`` guards GET and HEAD, ``post`` guards POST; a method without an action is refused (405).
    The actions are kept on the view (``view.actions``) so the access-matrix test can read them.
    """

    def decorate(view: ViewFunc) -> ViewFunc:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            method = "GET" if request.method == "HEAD" else request.method
            action = {"GET": get, "POST": post}.get(method or "")
            if action is None:
                return HttpResponse(status=405, headers={"Allow": ", ".join(m for m, a in (("GET", get), ("POST", post)) if a)})
            require(request.user, action)
            return view(request, *args, **kwargs)

        wrapper.actions = {"GET": get, "POST": post}  # type: ignore[attr-defined]
        return wrapper

    return decorate


def context_processor(request: HttpRequest) -> dict[str, object]:
    """``can`` in every template: ``{% if can.directive_sign %}``."""
    user = getattr(request, "user", None)
    roles = roles_of(user)
    return {
        "can": {action.replace(".", "_"): bool(roles & allowed_roles) for action, allowed_roles in ACTIONS.items()},
        "my_roles": [ROLES[r] for r in sorted(roles) if r in ROLES],
    }

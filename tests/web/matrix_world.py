"""The records the access-matrix tests act on, built once per test module, and a cheap fingerprint of the database.

Two patients: Ava Martin, whose first course went all the way to follow-up two months ago (so every kind of record
exists: screening, directive, verification, assay, administration with an open possible medical event, readings,
signed release, labs, transfusions, an unreviewed serious adverse event, Curie and INRC responses), and Liam Nguyen,
whose course was administered today. Principals: one user per persona, a user with no role, a deactivated
physician, and an API token for each, plus a revoked token of Dr Patel.

The world is built inside one transaction that is rolled back when the module ends; each test runs in a savepoint
inside it (pytest-django's ``db``), so what one test changes is gone before the next.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.db import connection, models, transaction
from django.utils import timezone

from clinic_helpers import PASSWORD, PERSONAS

#: username -> role, for the seven roles of the permission table (mibg.web.permissions.ROLES).
ROLE_OF = {"patel": "physician", "chen": "chair", "sam": "physicist", "riley": "pharmacist", "nora": "nurse",
           "morgan": "readonly", "admin": "admin"}

#: Columns a refused request may still change without storing anything: when a token was last used (recorded as
#: soon as the token is recognised, before the role check) and when a user last logged in.
IGNORED_COLUMNS = {"last_used_at", "last_login"}


@dataclass
class World:
    people: dict[str, Any]
    tokens: dict[str, str]  # username -> raw bearer token ("revoked" -> a revoked token of Dr Patel)
    token_ids: dict[str, int]
    ids: dict[str, int]  # kind of record -> the pk of Ava's record of that kind
    other: dict[str, int] = field(default_factory=dict)  # kind of record -> the pk of Liam's record of that kind


def _build() -> World:
    from mibg.web.accounts.models import ApiToken
    from mibg.web.courses import services as courses
    from mibg.web.demo import make_user, run_course
    from mibg.web.followup import demo as followup_demo
    from mibg.web.followup.models import AdverseEvent, CurieAssessment, InrcAssessment, LabResult, Transfusion
    from mibg.web.patients import services as patients
    from mibg.web.radiation.services import StemCellInput, record_stem_cells

    people = {name: make_user(name, roles, PASSWORD, printed) for name, (roles, printed) in PERSONAS.items()}
    people["norole"] = make_user("norole", [], PASSWORD, "Pat Nobody")
    people["gone"] = make_user("gone", ["physician", "nurse"], PASSWORD, "Dr Former Staff, MD")
    tokens: dict[str, str] = {}
    token_ids: dict[str, int] = {}
    for name, user in people.items():
        token, tokens[name] = ApiToken.issue(user, "matrix")
        token_ids[name] = token.pk
    revoked, tokens["revoked"] = ApiToken.issue(people["patel"], "revoked")
    ApiToken.objects.filter(pk=revoked.pk).update(revoked_at=timezone.now())
    token_ids["revoked"] = revoked.pk
    people["gone"].is_active = False  # left the hospital: the account is deactivated, the token was never revoked
    people["gone"].save(update_fields=["is_active"])

    today = timezone.localdate()
    ava = patients.create_patient(people["nora"], {"mrn": "MX-1001", "given_name": "Ava", "family_name": "Martin",
                                                  "birth_date": today - timedelta(days=6 * 365), "sex": "female"})
    course = courses.create_course(people["nora"], ava)
    # residual 100 mCi: about a quarter less than prescribed, so the administration has an open possible medical
    # event for the review page (10 CFR 35.3045: 20 % or more).
    run_course(people, course, today - timedelta(days=60), until="follow-up", residual="100")
    followup_demo.counts_after(people["nora"], course)
    followup_demo.events_and_response(people["patel"], course, review=False)
    start = course.administrations.get().started_at
    record_stem_cells(people["nora"], course, StemCellInput(start + timedelta(days=14), "pbsc", "PBSC bag 1",
                                                            Decimal("3200000"), "Nora Diaz, RN"))
    liam = patients.create_patient(people["nora"], {"mrn": "MX-1002", "given_name": "Liam", "family_name": "Nguyen",
                                                   "birth_date": today - timedelta(days=7 * 365), "sex": "male"})
    other_course = courses.create_course(people["nora"], liam)
    run_course(people, other_course, today - timedelta(days=1), until="administered")

    def kinds(patient: Any, c: Any) -> dict[str, int]:
        c.refresh_from_db()
        found = {
            "patient": patient.pk, "course": c.pk, "evaluation": c.evaluations.first().pk,
            "directive": c.directives.first().pk, "assay": c.assays.first().pk,
            "administration": c.administrations.first().pk,
        }
        report = c.event_reports.order_by("id").first()
        if report is not None:
            found["event_report"] = report.pk
        reading = c.exposure_readings.first()
        if reading is not None:
            found["reading"] = reading.pk
        infusion = c.stem_cell_infusions.first()
        if infusion is not None:
            found["stem_cells"] = infusion.pk
        for kind, model, extra in (("lab", LabResult, {}), ("transfusion", Transfusion, {}),
                                   ("adverse_event", AdverseEvent, {"serious": True}),
                                   ("curie", CurieAssessment, {}), ("inrc", InrcAssessment, {})):
            record = model.objects.filter(course=c, **extra).first()
            if record is not None:
                found[kind] = record.pk
        return found

    ids = kinds(ava, course)
    missing = {"event_report", "reading", "stem_cells", "lab", "transfusion", "adverse_event", "curie", "inrc"} - set(ids)
    assert not missing, f"the world lacks {missing}: every page needs a real record to act on"
    return World(people=people, tokens=tokens, token_ids=token_ids, ids=ids, other=kinds(liam, other_course))


def world_fixture(django_db_blocker: Any) -> Iterator[World]:
    """The body of a module-scoped ``world`` fixture: build inside a transaction, roll it back at the end."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            built = _build()
        except BaseException:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            raise
    try:
        yield built
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def _fingerprint_sql() -> str:
    """One query over every table: its row count, and for each nullable column and each ``version`` column how
    many rows have a value, the sum of each ``version`` and how many rows each flag is set on: a row added, removed,
    voided, revoked, reviewed, deactivated or given a new version changes it."""
    parts = []
    for model in apps.get_models(include_auto_created=True):
        if model._meta.proxy or not model._meta.managed:
            continue
        table = connection.ops.quote_name(model._meta.db_table)
        parts.append(f"SELECT COUNT(*) FROM {table}")
        for f in model._meta.concrete_fields:
            if f.column in IGNORED_COLUMNS:
                continue
            column = connection.ops.quote_name(f.column)
            if f.null:
                parts.append(f"SELECT COUNT({column}) FROM {table}")
            if isinstance(f, models.BooleanField):
                parts.append(f"SELECT SUM(CASE WHEN {column} THEN 1 ELSE 0 END) FROM {table}")
            elif f.name == "version":
                parts.append(f"SELECT SUM({column}) FROM {table}")
    return "SELECT " + ", ".join(f"({p})" for p in parts)


_SQL: list[str] = []


def fingerprint() -> tuple[Any, ...]:
    """Everything stored, summarised: equal before and after a request means the request stored nothing."""
    if not _SQL:
        _SQL.append(_fingerprint_sql())
    with connection.cursor() as cursor:
        cursor.execute(_SQL[0])
        return tuple(cursor.fetchone())

"""Re-screening the programme (issue 14): after a protocol amendment or a site-parameter change every open course is
screened again through the one screening service and the changed verdicts are listed; nothing is stored."""

from __future__ import annotations

import io
import json
from argparse import Namespace
from contextlib import redirect_stdout
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from mibg.commands.rescreen import rescreen
from mibg.protocol import load_protocol
from mibg.web.audit.models import AuditEvent
from mibg.web.demo import screen, snapshot_data
from mibg.web.screening import services
from mibg.web.screening.models import Evaluation


def _screened_course(people, make_course):
    course = make_course()
    evaluation = screen(people["nora"], course, snapshot_data(timezone.localdate() + timedelta(days=3)))
    assert evaluation.overall == "eligible"
    return course, evaluation


def _lab_window_of_one_day():
    return load_protocol().with_site_parameter("lab_max_age_days", Decimal(1), "test: labs on the day before only")


def test_after_the_site_shortens_the_lab_window_the_lab_criteria_are_listed_met_to_unknown_and_nothing_is_stored(
        people, make_course):
    course, evaluation = _screened_course(people, make_course)
    stored = Evaluation.objects.count()
    audit_before = AuditEvent.objects.count()

    report = services.rescreen_programme(people["patel"], _lab_window_of_one_day())

    assert report.screened >= 1
    [row] = [r for r in report.changed if r.course_id == course.pk]
    assert (row.old_overall, row.new_overall) == ("eligible", "incomplete")
    assert row.evaluation_id == evaluation.pk
    changes = {c.criterion: (c.old, c.new) for c in row.changes}
    assert changes["H1"] == ("met", "unknown")
    assert changes["O1"] == ("met", "unknown")
    assert "D1" not in changes  # the diagnosis does not depend on the lab window
    assert Evaluation.objects.count() == stored  # read-only
    run, view = AuditEvent.objects.order_by("id")[audit_before:audit_before + 2]
    assert "programme re-screened under" in run.note
    assert run.username == "patel"
    assert view.action == AuditEvent.VIEW
    assert view.patient_id == course.patient_id
    assert "H1 met -> unknown" in view.note


def test_under_the_installed_protocol_a_course_screened_on_it_has_no_changed_verdict(people, make_course):
    course, _ = _screened_course(people, make_course)
    report = services.rescreen_programme(people["nora"])
    assert course.pk not in {r.course_id for r in report.changed}


def test_the_rescreen_page_lists_the_changes_for_a_physician_and_is_refused_to_a_pharmacist(login, people, make_course):
    _screened_course(people, make_course)
    assert login("riley").get("/evaluations/rescreen/").status_code == 403  # the radiopharmacist
    page = login("patel").get("/evaluations/rescreen/")
    assert page.status_code == 200
    assert b"Re-screen every open course" in page.content
    done = login("patel").post("/evaluations/rescreen/")
    assert done.status_code == 200
    assert b"No verdict changed." in done.content or b'id="changes"' in done.content
    assert done.context["report"].screened >= 1


def test_mibg_rescreen_json_lists_the_changed_verdicts_and_exits_1(people, make_course, monkeypatch):
    course, _ = _screened_course(people, make_course)
    monkeypatch.setattr("mibg.protocol.load_protocol", lambda path=None: _lab_window_of_one_day())
    out = io.StringIO()
    with redirect_stdout(out):
        status = rescreen(Namespace(by="patel", protocol="amended.json", json=True))
    assert status == 1
    data = json.loads(out.getvalue())
    assert data["stored_evaluations_changed"] is False
    [row] = [r for r in data["courses"] if r["course_id"] == course.pk]
    assert {"criterion": "H1", "title": load_protocol().criterion("H1").title, "old": "met", "new": "unknown"} in row["changes"]


def test_mibg_rescreen_refuses_a_user_whose_role_does_not_allow_it(people, capsys):
    assert rescreen(Namespace(by="riley", protocol=None, json=False)) == 2  # the radiopharmacist
    assert "does not allow re-screening" in capsys.readouterr().err

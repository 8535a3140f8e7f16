"""Event reports with their deadlines (issue 13 §3): a possible medical event and a serious adverse event each open
a report with the right deadlines, an e-mail (read back from Django's outbox) and an audit record; the draft is
completed, each notification recorded, the report signed, submitted, acknowledged and printed."""

from __future__ import annotations

import io
from datetime import datetime, time, timedelta

import pytest
from django.core import mail
from django.utils import timezone
from pypdf import PdfReader

from clinic_helpers import PASSWORD
from mibg.web.audit.models import AuditEvent
from mibg.web.eventreports.models import EventReport, ReportStep
from mibg.web.followup.models import AdverseEvent


@pytest.fixture
def medical_event(make_course, django_capture_on_commit_callbacks, people):
    # residual 100 mCi of about 396 mCi: a quarter less than prescribed, 20 % or more (10 CFR 35.3045).
    people["sam"].email = "sam.okafor@hospital.example"
    people["sam"].save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True):
        course = make_course(until="administered", days_ahead=-2, residual="100")
    return course, EventReport.objects.get(course=course)


def _local(value: datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M:%S")


def _token(client, url):
    return client.get(url).context["form"]["form_token"].value()


def test_a_possible_medical_event_opens_a_draft_report_with_its_four_deadlines_an_email_and_an_audit_record(medical_event):
    course, report = medical_event
    administration = course.administrations.get()
    assert administration.possible_medical_event
    assert (report.kind, report.status, report.discovered_at) == ("medical_event", "draft", administration.recorded_at)
    # The NRC telephone deadline: the end of the clinic's next calendar day after discovery.
    local = timezone.localtime(report.discovered_at)
    next_day_end = datetime.combine(local.date() + timedelta(days=1), time(23, 59, 59), tzinfo=local.tzinfo)
    from mibg.web.eventreports import services

    due = {d.code: d.due_at for d in services.plan(report).deadlines}
    assert due["nrc_telephone"] == next_day_end
    assert due["nrc_written"] == next_day_end + timedelta(days=14)  # discovery day + 15
    assert due["referring_physician"] == report.discovered_at + timedelta(hours=24)
    # One e-mail, to the physicist who has an address; it names the report and its first deadline, not the patient.
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["sam.okafor@hospital.example"]
    assert f"Event report {report.pk} opened" in message.subject
    assert "Referring physician" in message.body
    assert "UNVERIFIED" in message.body
    assert course.patient.family_name not in message.body + message.subject
    assert course.patient.mrn not in message.body + message.subject
    # The audit trail holds the opening with the deadlines, and the e-mail sent.
    opened = AuditEvent.objects.filter(model="eventreports.EventReport", object_id=str(report.pk), action="create")
    assert opened.exists()
    assert "deadlines:" in opened.first().note
    assert "NRC Operations Center" in opened.first().note
    assert AuditEvent.objects.filter(model="eventreports.EventReport", action="export", note__contains="sent to 1").exists()


def test_the_course_page_and_the_event_report_list_show_the_next_deadline(login, medical_event):
    course, report = medical_event
    client = login("nora")
    page = client.get(f"/courses/{course.pk}/").content.decode()
    assert f"/event-reports/{report.pk}/" in page
    assert "Referring physician" in page
    listing = client.get("/event-reports/").content.decode()
    assert listing.count(f"/event-reports/{report.pk}/") >= 4  # one row per open deadline, and the recent list


def test_sam_records_the_nrc_call_and_a_second_post_of_the_same_form_records_it_once(login, medical_event):
    _course, report = medical_event
    client = login("sam")
    token = client.get(f"/event-reports/{report.pk}/").context["token"]
    data = {"form_token": token, "code": "nrc_telephone", "done_at": _local(timezone.now()),
            "note": "NRC Operations Center, event number 58123, spoke to the duty officer"}
    first = client.post(f"/event-reports/{report.pk}/steps/", data, follow=True)
    assert "Recorded." in first.content.decode(), [str(m) for m in first.context["messages"]]
    again = client.post(f"/event-reports/{report.pk}/steps/", data, follow=True)
    assert "already submitted" in again.content.decode()
    step = ReportStep.objects.get(report=report)
    assert (step.code, step.waived) == ("nrc_telephone", False)
    assert AuditEvent.objects.filter(model="eventreports.ReportStep", note__contains="NRC Operations Center: done").exists()
    page = client.get(f"/event-reports/{report.pk}/").content.decode()
    assert "event number 58123" in page


def test_the_nrc_call_cannot_be_waived_but_the_guardians_notification_can_with_a_documented_reason(login, medical_event):
    _course, report = medical_event
    client = login("patel")
    for code, expected in (("nrc_telephone", 0), ("guardian", 1)):
        token = client.get(f"/event-reports/{report.pk}/").context["token"]
        client.post(f"/event-reports/{report.pk}/steps/", {
            "form_token": token, "code": code, "done_at": _local(timezone.now()), "waived": "on",
            "note": "The referring physician informs the parents in person tomorrow morning."})
        assert ReportStep.objects.filter(report=report, code=code, waived=True).count() == expected


def test_a_notification_dated_in_the_future_or_before_the_discovery_is_refused_and_nothing_is_stored(login, medical_event):
    _course, report = medical_event
    client = login("sam")
    for when, said in ((timezone.now() + timedelta(hours=2), "in the future"),
                       (report.discovered_at - timedelta(hours=1), "before the event was discovered")):
        token = client.get(f"/event-reports/{report.pk}/").context["token"]
        response = client.post(f"/event-reports/{report.pk}/steps/", {
            "form_token": token, "code": "referring_physician", "done_at": _local(when), "note": "by telephone"},
            follow=True)
        assert said in response.content.decode()
    assert not ReportStep.objects.exists()


def test_dr_patel_cannot_submit_an_incomplete_report_then_completes_signs_and_the_receiver_acknowledges(
        login, medical_event, django_capture_on_commit_callbacks):
    _course, report = medical_event
    client = login("patel")
    url = f"/event-reports/{report.pk}/submit/"
    response = client.post(url, {"form_token": _token(client, url), "version": report.version, "password": PASSWORD})
    assert "why the event occurred" in response.content.decode()
    report.refresh_from_db()
    assert report.status == "draft"

    edit = f"/event-reports/{report.pk}/edit/"
    form = {"form_token": _token(client, edit), "version": report.version,
            "discovered_at": _local(report.discovered_at), "description": "Administered 25 % less than prescribed.",
            "cause": "Activity left in the infusion line.", "effect_on_patient": "None expected; lower tumour dose.",
            "corrective_actions": "Line flush procedure revised.", "referring_physician": "Dr Referring, Oakland"}
    assert client.post(edit, form).status_code == 302
    report.refresh_from_db()
    assert report.cause == "Activity left in the infusion line."

    # A wrong password signs nothing.
    response = client.post(url, {"form_token": _token(client, url), "version": report.version, "password": "wrong"})
    assert "password" in response.context["form"].errors
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"form_token": _token(client, url), "version": report.version, "password": PASSWORD})
    assert response.status_code == 302
    report.refresh_from_db()
    assert (report.status, report.submitted_name) == ("submitted", "Dr Asha Patel, MD")
    assert AuditEvent.objects.filter(model="eventreports.EventReport", action="sign", object_id=str(report.pk)).exists()
    # Submitted: the draft is no longer changed.
    assert client.post(edit, {**form, "form_token": "x", "cause": "changed"}).status_code == 302
    report.refresh_from_db()
    assert report.cause == "Activity left in the infusion line."

    ack = f"/event-reports/{report.pk}/acknowledge/"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(ack, {"form_token": _token(client, ack), "version": report.version,
                                     "acknowledged_at": _local(timezone.now()), "acknowledgement": "NRC Region IV letter 2026-001"})
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.status == "acknowledged"

    pdf = client.get(f"/event-reports/{report.pk}/report.pdf")
    assert pdf["Content-Type"] == "application/pdf"
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages).split())
    assert "Possible medical event" in text
    assert "NRC Operations Center" in text
    assert "UNVERIFIED" in text
    assert "Activity left in the infusion line." in text
    assert "acknowledged" in text
    assert AuditEvent.objects.filter(model="eventreports.EventReport", action="export",
                                     note__contains="(PDF) downloaded").exists()


def test_a_discovery_time_in_the_future_is_refused_on_its_field_and_the_draft_is_unchanged(login, medical_event):
    _course, report = medical_event
    client = login("patel")
    edit = f"/event-reports/{report.pk}/edit/"
    response = client.post(edit, {"form_token": _token(client, edit), "version": report.version,
                                  "discovered_at": _local(timezone.now() + timedelta(days=1)), "description": "x"})
    assert "is in the future" in " ".join(response.context["form"].errors["discovered_at"])
    before = report.discovered_at
    report.refresh_from_db()
    assert report.discovered_at == before
    assert report.description != "x"


def test_nora_the_nurse_reads_the_report_but_cannot_change_or_submit_it(login, medical_event):
    _course, report = medical_event
    client = login("nora")
    assert client.get(f"/event-reports/{report.pk}/").status_code == 200
    assert client.get(f"/event-reports/{report.pk}/edit/").status_code == 403
    assert client.get(f"/event-reports/{report.pk}/submit/").status_code == 403
    assert AuditEvent.objects.filter(model="eventreports.EventReport", action="view", username="nora").exists()


def _sae(client, course, **values):
    url = f"/followup/courses/{course.pk}/adverse-events/new/"
    data = {"term": "Sepsis", "grade": "4", "started_on": (timezone.localdate() - timedelta(days=1)).isoformat(),
            "ended_on": "", "attribution": "probable", "serious": "yes", "outcome": "recovering",
            "action_taken": "hospitalisation", "description": "Line sepsis with ANC 0.1"}
    data.update(values)
    return client.post(url, {"form_token": _token(client, url), **data})


def test_an_sae_opens_a_report_with_the_7_day_clock_until_dr_patel_records_that_it_was_expected(
        login, make_course, django_capture_on_commit_callbacks, people):
    people["chen"].email = "chair@hospital.example"
    people["chen"].save(update_fields=["email"])
    course = make_course(until="follow-up", days_ahead=-20)
    client = login("patel")
    with django_capture_on_commit_callbacks(execute=True):
        assert _sae(client, course).status_code == 302
    report = EventReport.objects.get(adverse_event=AdverseEvent.objects.get())
    from mibg.web.eventreports import services

    assert {d.code for d in services.plan(report).deadlines} == {"fda_7_day", "fda_15_day", "irb"}
    local = timezone.localtime(report.discovered_at)
    assert {d.code: d.due_at for d in services.plan(report).deadlines}["fda_7_day"] == datetime.combine(
        local.date() + timedelta(days=7), time(23, 59, 59), tzinfo=local.tzinfo)
    assert [m.to for m in mail.outbox] == [["chair@hospital.example"]]
    assert "serious adverse event" in mail.outbox[0].subject

    edit = f"/event-reports/{report.pk}/edit/"
    response = client.post(edit, {"form_token": _token(client, edit), "version": report.version,
                                  "discovered_at": _local(report.discovered_at), "description": report.description,
                                  "expectedness": "expected", "life_threatening": "yes"})
    assert response.status_code == 302
    report.refresh_from_db()
    assert {d.code for d in services.plan(report).deadlines} == {"irb"}
    moved = AuditEvent.objects.filter(model="eventreports.EventReport", object_id=str(report.pk), action="update",
                                      note__startswith="deadlines moved")
    assert moved.exists()
    page = client.get(f"/event-reports/{report.pk}/").content.decode()
    assert "Not applicable" in page
    assert "the event is expected" in page


def test_an_adverse_event_that_is_not_serious_opens_no_report(login, make_course):
    course = make_course(until="follow-up", days_ahead=-20)
    client = login("patel")
    assert _sae(client, course, serious="no", grade="2", action_taken="treatment").status_code == 302
    assert not EventReport.objects.exists()


def test_an_overdue_nrc_deadline_is_on_the_physicists_worklist_until_it_is_recorded(login, medical_event):
    _course, report = medical_event
    # Discovered three days ago: the telephone deadline (end of the next calendar day) and the 24-hour
    # notifications are overdue; the written report (15 days) is not due yet, so it is not on today's list.
    EventReport.objects.filter(pk=report.pk).update(discovered_at=timezone.now() - timedelta(days=3))
    client = login("sam")
    page = client.get("/worklist/")
    mine = [e for e in page.context["overdue"] if e.kind == "report"]
    assert {e.what for e in mine} >= {f"Event report {report.pk}: NRC Operations Center, notify by telephone"}
    assert not any("written report" in e.what for e in page.context["overdue"])
    token = client.get(f"/event-reports/{report.pk}/").context["token"]
    client.post(f"/event-reports/{report.pk}/steps/", {"form_token": token, "code": "nrc_telephone",
                                                       "done_at": _local(timezone.now()), "note": "called, late"})
    after = [e.what for e in client.get("/worklist/").context["overdue"]]
    assert f"Event report {report.pk}: NRC Operations Center, notify by telephone" not in after
    # Nora the nurse does not report to the NRC: not on her list.
    assert not any(e.kind == "report" for e in login("nora").get("/worklist/").context["overdue"])

"""A corpus of bad inputs (tests/data/bad_inputs.json) sent to every form and JSON endpoint that stores data.

Each bad value replaces one field of a submission that is otherwise accepted (each form's baseline is checked
to save, below), so the refusal is that value's. Every case must come back with an error naming the field:
forms re-render with the error on that field (status 200, or 422 for a refused labs file), the API answers
4xx with ``{"message", "field"}`` naming it. And nothing is stored: the row count of every table is the same
before and after (the audit trail may only gain "view" and "refused" events; one-time form tokens and
sessions are bookkeeping).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from clinic_helpers import PASSWORD, form_post_data
from mibg.web.accounts.models import ApiToken
from mibg.web.audit.models import AuditEvent

CORPUS = json.loads((Path(__file__).parents[1] / "data" / "bad_inputs.json").read_text(encoding="utf-8"))

#: Tables that change when nothing is stored: sessions, the one-time form tokens a page issues, and the audit
#: trail (checked separately: it may gain only views and refusals).
BOOKKEEPING = {"sessions.Session", "accounts.SubmissionToken", "audit.AuditEvent", "accounts.ApiToken"}


def expand(value: Any, course=None) -> Any:
    """The corpus's markers: repeated text, dates relative to today or to the course's infusion, raw bytes."""
    if isinstance(value, dict) and "repeat" in value:
        return value["repeat"] * value["times"]
    if isinstance(value, str) and value.startswith("@base64:"):
        return base64.b64decode(value.removeprefix("@base64:"))
    if isinstance(value, str) and value.startswith("@today"):
        return (timezone.localdate() + timedelta(days=int(value.removeprefix("@today")))).isoformat()
    if isinstance(value, str) and "@day" in value:
        start = timezone.localtime(course.administrations.get().started_at).date() if course else timezone.localdate()
        for n in range(10):
            value = value.replace(f"@day{n}", (start + timedelta(days=n)).isoformat())
    return value


def row_counts() -> dict[str, int]:
    counts = {m._meta.label: m._default_manager.count() for m in apps.get_models()
              if m._meta.label not in BOOKKEEPING and m._meta.app_label != "axes"}
    counts["audit events other than views and refusals"] = AuditEvent.objects.exclude(action__in=["view", "refused"]).count()
    return counts


def local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def start_of(course):
    return course.administrations.get().started_at


# ---- the forms -------------------------------------------------------------------------------------------


@dataclass
class Target:
    persona: str
    stage: str | None  # None: no course needed
    url: Any
    base: Any  # (course, page, data from the page's form) -> the accepted submission
    days_ahead: int = 3
    headers: dict[str, str] = field(default_factory=dict)


def _token(page) -> str:
    return page.context["form"]["form_token"].value()


def _patient_new(course, page, _):
    return {"form_token": _token(page), "mrn": "BAD-0001", "family_name": "Brown", "given_name": "Ada",
            "birth_date": "2018-03-04", "sex": "female"}


def _directive(course, page, _):
    t = course.planned_treatment_date
    return {"form_token": _token(page), "version": course.version, "mci_per_kg": "18", "preparation": "draximage",
            "specific_activity": "12", "final_volume_ml": "50", "infusion_min": "100", "route": "central_line",
            "calibration_time": f"{t}T07:00", "administration_time": f"{t}T09:00", "confirm": "on", "password": PASSWORD}


def _assay(course, page, _):
    t = course.planned_treatment_date
    return {"form_token": _token(page), "version": course.version, "lot": "LSA-1", "calibration_time": f"{t}T07:00",
            "specific_activity": "12", "measured_mci": "400", "measured_at": f"{t}T08:00", "calibrator_id": "CRC-1"}


def _administration(course, page, _):
    start = timezone.localtime(course.directives.get().administration_time)
    return {"form_token": _token(page), "version": course.version, "started_at": local(start),
            "ended_at": local(start + timedelta(minutes=100)), "route": "central_line", "volume_ml": "50",
            "residual_mci": "2.5", "residual_measured_at": local(start + timedelta(minutes=110)),
            "patient_name": f"{course.patient.given_name} {course.patient.family_name}", "patient_mrn": course.patient.mrn}


def _reading(course, page, _):
    return {"form_token": _token(page), "measured_at": local(start_of(course) + timedelta(hours=2)), "mr_per_h": "58",
            "background_mr_per_h": "0.02", "before_first_void": "on", "instrument_id": "Ludlum 9-3 #4471",
            "instrument_calibration_due": "2099-01-01", "measured_by": "Sam Okafor, PhD", "note": ""}


def _lab(course, page, _):
    return {"form_token": _token(page), "test": "anc", "value": "750", "unit": "/uL", "lln": "1500", "uln": "",
            "collected_at": local(start_of(course) + timedelta(days=3))}


def _transfusion(course, page, _):
    return {"form_token": _token(page), "product": "platelets", "given_at": local(start_of(course) + timedelta(days=5)),
            "note": "1 unit"}


def _adverse_event(course, page, _):
    return {"form_token": _token(page), "term": "Febrile neutropenia", "grade": "3",
            "started_on": (timezone.localdate() - timedelta(days=6)).isoformat(), "ended_on": "",
            "attribution": "probable", "serious": "no", "outcome": "recovering", "action_taken": "hospitalisation",
            "description": "38.9 C with ANC 0.1"}


def _inrc(course, page, _):
    return {"form_token": _token(page), "assessed_on": timezone.localdate().isoformat(), "primary": "PR",
            "metastases": "SD", "marrow": "CR", "note": ""}


FORMS: dict[str, Target] = {
    "patient_new": Target("nora", None, lambda c: "/patients/new/", _patient_new),
    "patient_edit": Target("nora", "screening", lambda c: f"/patients/{c.patient_id}/edit/", lambda c, p, d: d),
    "screening": Target("nora", "screening", lambda c: f"/courses/{c.pk}/screening/", lambda c, p, d: d),
    "directive": Target("patel", "eligible", lambda c: f"/courses/{c.pk}/directive/", _directive),
    "verification": Target("sam", "directive signed", lambda c: f"/courses/{c.pk}/verify/",
                           lambda c, p, d: {**d, "weight_kg": "22.0", "mci_per_kg": "18", "password": PASSWORD}),
    "assay": Target("riley", "verified", lambda c: f"/courses/{c.pk}/assay/", _assay, days_ahead=-1),
    "administration": Target("nora", "assayed", lambda c: f"/courses/{c.pk}/administration/", _administration, days_ahead=-1),
    "reading": Target("sam", "in-patient", lambda c: f"/courses/{c.pk}/readings/", _reading, days_ahead=-2),
    "lab": Target("nora", "administered", lambda c: f"/followup/courses/{c.pk}/labs/new/", _lab, days_ahead=-20),
    "transfusion": Target("nora", "administered", lambda c: f"/followup/courses/{c.pk}/transfusions/new/", _transfusion,
                          days_ahead=-20),
    "adverse_event": Target("patel", "administered", lambda c: f"/followup/courses/{c.pk}/adverse-events/new/",
                            _adverse_event, days_ahead=-20),
    "inrc": Target("patel", "administered", lambda c: f"/followup/courses/{c.pk}/inrc/new/", _inrc, days_ahead=-20),
}

NUMBER = ["number.wrong_units", "number.negative", "number.not_finite", "number.huge", "number.wrong_type",
          "number.odd_unicode", "number.injection"]
DATETIME = ["datetime.malformed", "datetime.impossible", "datetime.injection", "datetime.empty"]
DATE = ["date.malformed", "date.impossible", "date.injection", "date.empty"]

#: (form, field, kinds of bad value). Which kinds a field must refuse follows from what it is: zero is refused
#: where the quantity must be positive, "too many decimals" where the form keeps a fixed precision.
FORM_FIELDS = [
    ("patient_new", "mrn", ["text.null_bytes", "text.too_long", "text.empty"]),
    ("patient_new", "family_name", ["text.null_bytes", "text.too_long", "text.empty"]),
    ("patient_new", "birth_date", [*DATE, "date.future", "date.far_past"]),
    ("patient_new", "sex", ["choice.unknown"]),
    ("patient_edit", "birth_date", ["date.future", "date.impossible", "date.far_past"]),
    ("patient_edit", "given_name", ["text.null_bytes", "text.empty"]),
    ("screening", "weight_kg", [*NUMBER, "number.zero"]),
    ("screening", "weight_measured_on", ["date.malformed", "date.impossible", "date.far_past"]),
    ("screening", "labs.0.collected_at", ["datetime.malformed", "datetime.impossible"]),
    ("directive", "mci_per_kg", [*NUMBER, "number.zero", "number.too_many_decimals", "number.empty"]),
    ("directive", "final_volume_ml", ["number.negative", "number.zero", "number.not_finite", "number.wrong_units"]),
    ("directive", "infusion_min", ["number.negative", "number.zero", "number.not_finite"]),
    ("directive", "calibration_time", [*DATETIME, "datetime.far"]),
    ("directive", "route", ["choice.unknown"]),
    ("verification", "weight_kg", ["number.negative", "number.zero", "number.not_finite", "number.wrong_units",
                                   "number.too_many_decimals"]),
    ("assay", "measured_mci", [*NUMBER, "number.zero", "number.too_many_decimals", "number.empty"]),
    ("assay", "specific_activity", ["number.negative", "number.zero", "number.not_finite"]),
    ("assay", "measured_at", [*DATETIME, "datetime.far"]),
    ("assay", "lot", ["text.null_bytes", "text.too_long", "text.empty"]),
    ("administration", "volume_ml", ["number.negative", "number.zero", "number.not_finite", "number.wrong_units"]),
    ("administration", "residual_mci", ["number.negative", "number.not_finite", "number.huge", "number.empty"]),
    ("administration", "ended_at", [*DATETIME, "datetime.far"]),
    ("administration", "route", ["choice.unknown"]),
    ("reading", "mr_per_h", [*NUMBER, "number.empty"]),
    ("reading", "measured_at", [*DATETIME, "datetime.far"]),
    ("reading", "instrument_calibration_due", ["date.malformed", "date.impossible"]),
    ("reading", "instrument_id", ["text.null_bytes", "text.too_long"]),
    ("lab", "value", ["number.wrong_units", "number.negative", "number.not_finite", "number.wrong_type",
                      "number.injection", "number.empty"]),
    ("lab", "unit", ["choice.unknown"]),
    ("lab", "lln", ["number.negative", "number.not_finite"]),
    ("lab", "collected_at", [*DATETIME, "datetime.far"]),
    ("lab", "test", ["choice.unknown"]),
    ("transfusion", "product", ["choice.unknown"]),
    ("transfusion", "given_at", ["datetime.malformed", "datetime.impossible"]),
    ("adverse_event", "grade", ["choice.unknown"]),
    ("adverse_event", "started_on", [*DATE, "date.future"]),
    ("adverse_event", "term", ["text.null_bytes", "text.too_long", "text.empty"]),
    ("inrc", "assessed_on", ["date.malformed", "date.impossible", "date.future"]),
    ("inrc", "primary", ["choice.unknown"]),
]


def _cases(fields):
    out = []
    for target, name, kinds in fields:
        for kind in kinds:
            group, sub = kind.split(".")
            for i, value in enumerate(CORPUS[group][sub]):
                out.append(pytest.param(target, name, value, id=f"{target}-{name}-{sub}-{i}"))
    return out


FORM_CASES = _cases(FORM_FIELDS)


def _open(target: Target, login, make_course):
    course = make_course(until=target.stage, days_ahead=target.days_ahead) if target.stage else None
    client = login(target.persona)
    url = target.url(course)
    page = client.get(url)
    assert page.status_code == 200, (url, page.status_code)
    return course, client, url, target.base(course, page, form_post_data(page.context["form"]))


@pytest.mark.parametrize("name", sorted(FORMS))
def test_each_forms_baseline_submission_is_accepted_so_a_refusal_below_is_the_bad_values(name, login, make_course):
    target = FORMS[name]
    _course, client, url, data = _open(target, login, make_course)
    before = row_counts()
    response = client.post(url, data)
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    assert row_counts() != before


@pytest.mark.parametrize(("name", "field_name", "value"), FORM_CASES)
def test_a_bad_value_on_a_form_is_refused_naming_the_field_and_nothing_is_stored(name, field_name, value, login,
                                                                                 make_course):
    target = FORMS[name]
    course, client, url, data = _open(target, login, make_course)
    data[field_name] = expand(value, course)
    before = row_counts()
    response = client.post(url, data)
    assert response.status_code in (200, 400, 422), response.status_code
    errors = response.context["form"].errors
    assert field_name in errors, dict(errors)
    assert all(message.strip() for message in errors[field_name])
    assert b"Traceback" not in response.content
    assert row_counts() == before


# ---- uploads: the labs CSV and the FHIR import ----------------------------------------------------------


def _file_bytes(item: dict[str, Any], course) -> bytes:
    if "bytes" in item:
        return expand(item["bytes"])
    return expand(expand(item["text"]), course).encode("utf-8")


@pytest.mark.parametrize("item", CORPUS["labs_csv"]["files"], ids=lambda i: i["kind"].replace(" ", "_"))
def test_a_bad_labs_file_is_refused_whole_naming_the_line_and_column_and_nothing_is_stored(item, login, make_course):
    course = make_course(until="administered", days_ahead=-20)
    client = login("nora")
    url = f"/followup/courses/{course.pk}/labs/upload/"
    token = _token(client.get(url))
    upload = SimpleUploadedFile(item["name"], _file_bytes(item, course), content_type="text/csv")
    before = row_counts()
    response = client.post(url, {"form_token": token, "file": upload})
    assert response.status_code in (200, 422)
    form, rows = response.context["form"], response.context["row_errors"]
    assert form.errors
    assert rows or "file" in form.errors, dict(form.errors)
    assert all(r.field and r.message and r.line >= 1 for r in rows)
    assert row_counts() == before


@pytest.mark.parametrize("item", CORPUS["fhir_bundles"], ids=lambda i: i["kind"].replace(" ", "_"))
def test_a_bad_fhir_bundle_is_refused_with_its_reason_and_nothing_is_stored(item, login, make_course):
    course = make_course(until="administered", days_ahead=-20)
    client = login("nora")
    url = f"/documents/patients/{course.patient_id}/fhir-import/"
    upload = SimpleUploadedFile(item["name"], _file_bytes(item, course), content_type="application/fhir+json")
    before = row_counts()
    response = client.post(url, {"course": str(course.pk), "bundle": upload, "confirm": "on"})
    assert response.status_code in (200, 400, 422)
    report, form = response.context["report"], response.context["form"]
    if report is None:
        assert "bundle" in form.errors, dict(form.errors)
    else:
        assert not report.stored
        assert report.whole_refusal or report.refused
    assert row_counts() == before


# ---- the JSON API ------------------------------------------------------------------------------------------


@pytest.fixture
def api(client, people):
    def call(name, path, body, content_type="application/json"):
        _token, raw = ApiToken.issue(people[name], "bad inputs")
        data = body if isinstance(body, (str, bytes)) else json.dumps(body)
        return client.post(f"/api{path}", data=data, content_type=content_type, HTTP_AUTHORIZATION=f"Bearer {raw}")

    return call


def _api_patient(course):
    return {"mrn": "API-BAD-1", "family_name": "Brown", "given_name": "Ada", "birth_date": "2018-03-04", "sex": "female"}


def _api_plan(course):
    t = course.planned_treatment_date
    return {"version": course.version, "mci_per_kg": "18", "preparation": "draximage", "specific_activity": "12",
            "final_volume_ml": "50", "infusion_min": "100", "route": "central_line",
            "calibration_time": f"{t}T07:00:00-08:00", "administration_time": f"{t}T09:00:00-08:00"}


def _api_lab(course):
    when = start_of(course) + timedelta(days=3)
    return {"test": "anc", "value": "750", "unit": "/uL", "lln": "1500", "collected_at": when.isoformat()}


def _api_reading(course):
    return {"measured_at": (start_of(course) + timedelta(hours=2)).isoformat(), "mr_per_h": "58",
            "before_first_void": True, "instrument_id": "Ludlum 9-3 #4471", "instrument_calibration_due": "2099-01-01",
            "measured_by": "Sam Okafor, PhD"}


def _api_assay(course):
    t = course.planned_treatment_date
    return {"version": course.version, "lot": "LSA-1", "calibration_time": f"{t}T07:00:00-08:00",
            "specific_activity": "12", "measured_mci": "400", "measured_at": f"{t}T08:00:00-08:00", "calibrator_id": "C"}


#: endpoint -> (persona, stage, days ahead, path, accepted body)
ENDPOINTS = {
    "patients": ("nora", None, 0, lambda c: "/patients", _api_patient),
    "plan": ("patel", "eligible", 3, lambda c: f"/courses/{c.pk}/directives/plan", _api_plan),
    "assay": ("riley", "verified", -1, lambda c: f"/courses/{c.pk}/assays", _api_assay),
    "reading": ("sam", "in-patient", -2, lambda c: f"/courses/{c.pk}/readings", _api_reading),
    "lab": ("nora", "administered", -20, lambda c: f"/courses/{c.pk}/labs", _api_lab),
}

API_FIELDS = [  # (endpoint, field, kinds: of json_values, or "group.kind" of the text groups)
    ("patients", "mrn", ["text_null_bytes", "text_wrong_type"]),
    ("patients", "birth_date", ["date_bad", "date.impossible", "date.malformed"]),
    ("plan", "mci_per_kg", ["number_wrong_type", "number_not_positive", "number_not_finite"]),
    ("plan", "final_volume_ml", ["number_not_positive", "number_not_finite"]),
    ("plan", "calibration_time", ["datetime_bad", "aware_datetime.naive", "aware_datetime.bad_offset"]),
    ("assay", "measured_mci", ["number_wrong_type", "number_not_positive", "number_not_finite"]),
    ("assay", "measured_at", ["datetime_bad"]),
    ("reading", "mr_per_h", ["number_not_positive", "number_not_finite"]),
    ("reading", "measured_at", ["datetime_bad", "aware_datetime.naive", "aware_datetime.bad_offset"]),
    ("lab", "value", ["number_not_finite", "text_null_bytes", "number.wrong_units", "number.not_finite"]),
    ("lab", "collected_at", ["datetime_bad", "aware_datetime.naive", "aware_datetime.bad_offset"]),
]



def _values(kind: str) -> list[Any]:
    """A kind of the corpus's JSON values, or ("group.kind") one of its text groups."""
    if "." in kind:
        group, sub = kind.split(".")
        return CORPUS[group][sub]
    return CORPUS["json_values"][kind]


API_CASES = [pytest.param(e, f, v, id=f"{e}-{f}-{kind}-{i}")
             for e, f, kinds in API_FIELDS for kind in kinds for i, v in enumerate(_values(kind))]
BODY_CASES = [pytest.param(e, body, id=f"{e}-{kind}-{i}") for e in ("patients", "plan", "lab")
              for kind in ("malformed", "empty", "wrong_type") for i, body in enumerate(CORPUS["json_bodies"][kind])]


def _endpoint(name, make_course):
    persona, stage, days, path, base = ENDPOINTS[name]
    course = make_course(until=stage, days_ahead=days) if stage else None
    return persona, path(course), base(course)


def _refused(response, field_name):
    assert 400 <= response.status_code < 500, (response.status_code, response.content)
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["message"].strip()
    assert body["field"] == field_name or (body["field"] or "").startswith(f"{field_name}."), body


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_each_api_baseline_body_is_accepted(name, api, make_course):
    persona, path, body = _endpoint(name, make_course)
    response = api(persona, path, body)
    assert response.status_code in (200, 201), response.content


@pytest.mark.parametrize(("name", "field_name", "value"), API_CASES)
def test_a_bad_value_in_an_api_body_is_refused_naming_the_field_and_nothing_is_stored(name, field_name, value, api,
                                                                                      make_course):
    persona, path, body = _endpoint(name, make_course)
    body[field_name] = expand(value)
    before = row_counts()
    _refused(api(persona, path, body), field_name)
    assert row_counts() == before


@pytest.mark.parametrize(("name", "body"), BODY_CASES)
def test_a_malformed_or_empty_api_body_is_refused_naming_the_body_and_nothing_is_stored(name, body, api, make_course):
    persona, path, _ = _endpoint(name, make_course)
    before = row_counts()
    response = api(persona, path, body)
    assert 400 <= response.status_code < 500, response.content
    assert response.json()["message"].strip()
    assert response.json()["field"], response.json()
    assert row_counts() == before


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "text/csv"])
@pytest.mark.parametrize("name", ["patients", "lab"])
def test_a_body_sent_as_another_content_type_is_refused_and_nothing_is_stored(name, content_type, api, make_course):
    persona, path, _ = _endpoint(name, make_course)
    before = row_counts()
    response = api(persona, path, "mrn=X&family_name=Y", content_type=content_type)
    assert 400 <= response.status_code < 500, response.content
    assert response.json()["field"]
    assert row_counts() == before


@pytest.mark.parametrize("item", [f for f in CORPUS["labs_csv"]["files"] if "text" in f and not isinstance(f["text"], dict)],
                         ids=lambda i: i["kind"].replace(" ", "_"))
def test_a_bad_labs_csv_sent_to_the_api_is_refused_whole_and_nothing_is_stored(item, api, make_course):
    course = make_course(until="administered", days_ahead=-20)
    before = row_counts()
    response = api("nora", f"/courses/{course.pk}/labs/csv", {"filename": item["name"], "csv": expand(item["text"], course)})
    assert 400 <= response.status_code < 500, response.content
    body = response.json()
    assert body["message"].strip()
    assert body["field"] in ("file", "csv")
    assert all(e["field"] and e["message"] and e["line"] >= 1 for e in body.get("errors", []))
    assert row_counts() == before


@pytest.mark.parametrize(("field_name", "value"), [
    pytest.param(f, v, id=f"{f}-{kind}-{i}")
    for f, kinds in (("weight_kg", ("number_wrong_type", "number_not_positive", "number_not_finite")),
                     ("weight_measured_on", ("date_bad",)))
    for kind in kinds for i, v in enumerate(_values(kind))
    # a missing weight leaves the screening incomplete (not bad input); a weighing on a later day is allowed
    if v is not None and not (f == "weight_measured_on" and isinstance(v, str) and v.startswith("@today"))
])
def test_a_bad_value_in_the_api_screening_snapshot_is_refused_naming_it_and_nothing_is_stored(field_name, value, api,
                                                                                            make_course):
    from mibg.web import course_record
    from mibg.web.screening import services as screening

    course = make_course(until="screening")
    snapshot = {k: v for k, v in course_record.screening_form_data(course).items() if k not in screening.fixed_values(course)}
    snapshot[field_name] = expand(value)
    before = row_counts()
    response = api("nora", f"/courses/{course.pk}/screening", {"version": course.version, "snapshot": snapshot})
    _refused(response, field_name)
    assert row_counts() == before

"""One error hierarchy, one API handler, one error schema; and the edges: 413, out-of-range paging, no-store,
the gunicorn access log (issue 11, "What to build" 3 and 5)."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404

from mibg.core.course_state import TransitionRefused
from mibg.core.errors import InputError
from mibg.web import errors
from mibg.web.accounts.models import ApiToken
from mibg.web.api import OFFSET_MAX, api

# ---- the hierarchy ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "status", "field"),
    [
        (errors.BadEntry({"mr_per_h": "must be greater than zero", None: "also this"}), 422, "mr_per_h"),
        (errors.Refused("The override needs the reason.", "reason"), 409, "reason"),
        (errors.Refused("There is no signed directive awaiting verification on this course."), 409, None),
        (errors.Conflict("This course"), 409, "version"),
        (errors.CourseStillOpen(2), 409, None),
        (errors.AlreadySubmitted(), 409, None),
        (errors.SignatureRefused(), 403, "password"),
        (errors.SignatureLockedOut(), 403, "password"),
        (InputError("weight_kg", "must be greater than zero"), 422, "weight_kg"),
        (TransitionRefused("'Administer' needs an accepted assay."), 409, None),
        (PermissionDenied("Your role does not allow 'directive.sign'."), 403, None),
        (Http404(), 404, None),
        (RequestDataTooBig("too big"), 413, "body"),
    ],
)
def test_every_refusal_a_service_raises_carries_its_status_and_the_field_to_correct(error, status, field):
    said = errors.answer(error)
    assert (said.status, said.field) == (status, field)
    assert said.message


def test_an_error_that_is_not_a_refusal_is_a_server_error_that_says_nothing_of_itself():
    said = errors.answer(KeyError("patient 'DEMO-1001' secret detail"))
    assert said == errors.UNEXPECTED
    assert said.status == 500
    assert "DEMO-1001" not in said.message


def test_a_conflict_is_not_a_refused_step_so_a_page_shows_it_as_a_stop_not_on_a_field():
    # The pages catch Refused to put it on the form and Conflict to say it and go back: one must not be the other.
    assert not issubclass(errors.Conflict, errors.Refused)
    assert errors.Conflict in errors.STOPS
    assert errors.AlreadySubmitted in errors.STOPS


def test_the_api_has_exactly_one_exception_handler():
    assert list(api._exception_handlers) == [Exception]


def test_every_api_operation_documents_its_errors_with_the_one_error_schema(client, db):
    schema = client.get("/api/openapi.json").json()
    names = set(schema["components"]["schemas"])
    assert "ErrorOut" in names
    assert not names & {"RadiationError", "FollowupError", "DocumentError"}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            refs = {json.dumps(r.get("content", {})) for code, r in operation["responses"].items() if code in ("403", "404", "409")}
            assert all("ErrorOut" in ref for ref in refs), (method, path)


# ---- edges --------------------------------------------------------------------------------------------------------


@pytest.fixture
def nora_token(people):
    _token, raw = ApiToken.issue(people["nora"], "tests")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_nora_sending_3_mb_of_json_to_the_api_gets_413_naming_the_body_and_nothing_is_stored(client, nora_token):
    from mibg.web.patients.models import Patient

    body = json.dumps({"mrn": "BIG-1", "family_name": "x" * 3_000_000, "given_name": "A", "birth_date": "2018-01-01"})
    response = client.post("/api/patients", data=body, content_type="application/json", **nora_token)
    assert response.status_code == 413
    assert response.json()["field"] == "body"
    assert not Patient.objects.filter(mrn="BIG-1").exists()


def test_nora_posting_a_3_mb_form_gets_413_not_a_server_error(login):
    client = login("nora")
    response = client.post("/patients/new/", data={"mrn": "BIG-2", "family_name": "y" * 3_000_000})
    assert response.status_code == 413
    assert b"too large" in response.content


@pytest.mark.parametrize(
    ("offset", "status"),
    [
        ("-1", 422),  # just below 0
        ("0", 200),
        (str(OFFSET_MAX), 200),  # exactly at the largest: an empty page, not an error
        (str(OFFSET_MAX + 1), 422),  # just above
        ("99999999999999999999999", 422),  # the issue's value: a 500 before
    ],
)
def test_paging_the_patient_list_out_of_range_is_refused_naming_the_offset(client, nora_token, offset, status):
    response = client.get(f"/api/patients?offset={offset}", **nora_token)
    assert response.status_code == status, response.content
    if status == 422:
        assert response.json()["field"] == "offset"
    else:
        assert isinstance(response.json(), list)


@pytest.mark.parametrize(("limit", "status"), [("0", 422), ("1", 200), ("500", 200), ("501", 422),
                                               ("99999999999999999999999", 422)])
def test_a_page_size_out_of_range_is_refused_naming_the_limit(client, nora_token, limit, status):
    response = client.get(f"/api/patients?limit={limit}", **nora_token)
    assert response.status_code == status, response.content
    if status == 422:
        assert response.json()["field"] == "limit"


def test_every_page_and_api_answer_carrying_patient_data_says_no_store(client, login, nora_token, make_course):
    course = make_course(until="eligible")
    answers = [client.get("/api/patients", **nora_token), client.get(f"/api/courses/{course.pk}", **nora_token),
               client.get("/api/patients/999999", **nora_token)]
    page = login("nora")
    answers += [page.get("/patients/?q=Kim"), page.get(f"/patients/{course.patient.pk}/"),
                page.get(f"/courses/{course.pk}/")]
    for response in answers:
        assert response.status_code in (200, 404)
        assert "no-store" in response["Cache-Control"], response


# ---- the view decorator ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["labs/new/", "transfusions/new/", "adverse-events/new/", "curie/new/", "inrc/new/"])
def test_dr_patel_opening_a_follow_up_entry_before_the_administration_is_told_why_on_the_course_page(login, make_course, page):
    # The service refuses (Refused); the view decorator says it on the course page instead of a server error.
    course = make_course(until="eligible")
    client = login("patel")
    response = client.get(f"/followup/courses/{course.pk}/{page}")
    assert response.status_code == 302
    assert response["Location"] == f"/courses/{course.pk}/"
    assert b"Follow-up is recorded after the administration" in client.get(response["Location"]).content


def test_an_error_that_is_not_a_refusal_goes_through_the_view_decorator_to_the_server_error_page(rf):
    @errors.refusals_shown(lambda request: pytest.fail("a server error must not be shown as a refusal"))
    def broken(request):
        raise KeyError("not a refusal")

    with pytest.raises(KeyError):
        broken(rf.get("/"))

"""decisions.md A34 at the web doors: the patient form and ``POST /api/patients`` call one patient service.

Seen before (issue 11): the API stored a blank MRN or name, a 70-character MRN, a 5,000-character family name, and
"DEMO-1006 " beside "DEMO-1006" (a second record for the same patient: a wrong-patient risk).
"""

from __future__ import annotations

import json

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from mibg.web.accounts.models import ApiToken
from mibg.web.patients import services
from mibg.web.patients.models import Patient

ADA = {"mrn": "DEMO-1006", "family_name": "Brown", "given_name": "Ada", "birth_date": "2018-03-04", "sex": "female"}


@pytest.fixture
def post_patient(client, people):
    _token, raw = ApiToken.issue(people["nora"], "identity tests")

    def post(body):
        return client.post("/api/patients", data=json.dumps(body), content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {raw}")

    return post


BAD = [
    pytest.param({"mrn": ""}, "mrn", id="blank-mrn"),
    pytest.param({"mrn": "   "}, "mrn", id="spaces-mrn"),
    pytest.param({"family_name": ""}, "family_name", id="blank-family-name"),
    pytest.param({"given_name": " "}, "given_name", id="blank-given-name"),
    pytest.param({"mrn": "M" * 70}, "mrn", id="70-character-mrn"),
    pytest.param({"mrn": "M" * 41}, "mrn", id="41-character-mrn"),
    pytest.param({"family_name": "B" * 5000}, "family_name", id="5000-character-family-name"),
    pytest.param({"given_name": "A" * 101}, "given_name", id="101-character-given-name"),
]


@pytest.mark.parametrize(("change", "field"), BAD)
def test_nora_posting_a_bad_identity_to_the_api_is_refused_naming_the_field_and_nothing_is_stored(
        post_patient, change, field):
    response = post_patient({**ADA, **change})
    assert response.status_code == 422, response.content
    assert response.json()["field"] == field
    assert Patient.objects.count() == 0


@pytest.mark.parametrize(("change", "field"), BAD)
def test_nora_entering_a_bad_identity_on_the_patient_form_is_refused_naming_the_field(login, change, field):
    client = login("nora")
    page = client.get("/patients/new/")
    response = client.post("/patients/new/", {**ADA, **change, "form_token": page.context["form"]["form_token"].value()})
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert Patient.objects.count() == 0


@pytest.mark.parametrize("same", ["DEMO-1006 ", " DEMO-1006", "demo-1006", "DEMO -1006", "Demo-1006\t"])
def test_a_second_record_for_demo_1006_differing_only_in_spaces_or_case_is_refused_at_the_api(post_patient, same):
    assert post_patient(ADA).status_code == 201
    response = post_patient({**ADA, "mrn": same, "given_name": "Eve"})
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["field"] == "mrn"
    assert "same patient" in body["message"]
    assert list(Patient.objects.values_list("mrn", flat=True)) == ["DEMO-1006"]


def test_a_second_record_differing_only_in_case_is_refused_on_the_form_too(login, people):
    services.create_patient(people["nora"], ADA)
    client = login("nora")
    page = client.get("/patients/new/")
    response = client.post("/patients/new/", {**ADA, "mrn": "demo-1006", "form_token": page.context["form"]["form_token"].value()})
    assert "mrn" in response.context["form"].errors
    assert Patient.objects.count() == 1


def test_the_api_stores_the_mrn_and_names_trimmed(post_patient):
    response = post_patient({**ADA, "mrn": "  DEMO-2001 ", "family_name": " Brown ", "given_name": "Ada  "})
    assert response.status_code == 201
    stored = Patient.objects.get()
    assert (stored.mrn, stored.family_name, stored.given_name, stored.mrn_key) == ("DEMO-2001", "Brown", "Ada", "DEMO-2001")


def test_editing_a_patient_to_another_patients_mrn_in_other_case_is_refused(people):
    services.create_patient(people["nora"], ADA)
    lucas = services.create_patient(people["nora"], {**ADA, "mrn": "DEMO-1007", "given_name": "Lucas"})
    with pytest.raises(services.InputError) as refused:
        services.update_patient(people["nora"], lucas, lucas.version, {**ADA, "mrn": "demo-1006", "given_name": "Lucas"})
    assert refused.value.field == "mrn"
    lucas.refresh_from_db()
    assert lucas.mrn == "DEMO-1007"


def test_the_database_itself_refuses_a_second_unflagged_record_with_the_same_mrn_key(people):
    services.create_patient(people["nora"], ADA)
    with pytest.raises(IntegrityError), transaction.atomic():
        Patient.objects.create(created_by=people["nora"], mrn="demo-1006", family_name="X", given_name="Y",
                               birth_date="2018-01-01")


@pytest.mark.django_db(transaction=True)
def test_the_migration_trims_mrns_and_flags_a_stored_duplicate_without_deleting_it(people):
    executor = MigrationExecutor(connection)
    executor.migrate([("patients", "0002_patient_list_order_index")])
    executor.loader.build_graph()
    old = executor.loader.project_state([("patients", "0002_patient_list_order_index")]).apps
    OldPatient = old.get_model("patients", "Patient")
    user_id = people["nora"].pk
    first = OldPatient.objects.create(mrn="DEMO-1006", family_name="Brown", given_name="Ada", birth_date="2018-03-04",
                                      created_by_id=user_id)
    second = OldPatient.objects.create(mrn="DEMO-1006 ", family_name="Brown", given_name="Ada", birth_date="2018-03-04",
                                       created_by_id=user_id)
    spaced = OldPatient.objects.create(mrn=" DEMO-2000 ", family_name="Kim", given_name="Jae", birth_date="2018-03-04",
                                       created_by_id=user_id)
    executor = MigrationExecutor(connection)
    # Forward to every app's latest: going back also unapplied the later migrations of other apps that depend on
    # these (the stored-shape conversions write audit records), and the rest of the session needs them.
    executor.migrate(executor.loader.graph.leaf_nodes())
    rows = {p.pk: p for p in Patient.objects.all()}
    assert rows[first.pk].mrn_duplicate_of_id is None
    assert rows[second.pk].mrn_duplicate_of_id == first.pk  # flagged, still there
    assert rows[second.pk].mrn == "DEMO-1006 "  # its trimmed MRN is the first record's: left as stored
    assert (rows[spaced.pk].mrn, rows[spaced.pk].mrn_key) == ("DEMO-2000", "DEMO-2000")


def test_nora_sees_a_flagged_duplicate_record_marked_on_its_patient_page(login, people):
    first = services.create_patient(people["nora"], ADA)
    flagged = Patient.objects.create(created_by=people["nora"], mrn="DEMO-1006 ", family_name="Brown", given_name="Ada",
                                     birth_date="2018-03-04", mrn_duplicate_of=first)
    page = login("nora").get(f"/patients/{flagged.pk}/")
    assert page.status_code == 200
    assert b"Possible duplicate record" in page.content
    assert f"/patients/{first.pk}/".encode() in page.content
    assert b"Possible duplicate record" not in login("nora").get(f"/patients/{first.pk}/").content

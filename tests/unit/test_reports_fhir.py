"""FHIR R4 export and import: every resource parses with its FHIR model class, the LOINC and UCUM codes are
the expected ones, numbers stay exact, and a round trip gives back every value.

fhir.resources 8.3 has no R4 (4.0.1) package; the R4B model classes are used (same resources in R4 and R4B).
"""

import dataclasses
import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from fhir.resources.R4B import get_fhir_model_class

from mibg.reports import LabResult, ReportInputError, course_bundle, course_bundle_json, import_bundle
from mibg.reports.fhir.jsonio import dumps, loads
from mibg.reports.sample import sample_course

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "fhir"
UCUM = "http://unitsofmeasure.org"
LOINC_UCUM = {  # LOINC code -> UCUM code of the exported canonical unit
    "751-8": "10*9/L",  # ANC
    "777-3": "10*9/L",  # platelets
    "718-7": "g/dL",  # haemoglobin
    "1975-2": "mg/dL",  # total bilirubin
    "1920-8": "U/L",  # AST
    "1742-6": "U/L",  # ALT
    "2160-0": "mg/dL",  # creatinine
    "3016-3": "m[IU]/L",  # TSH
    "3024-7": "ng/dL",  # free T4
    "8480-6": "mm[Hg]",  # systolic blood pressure
    "8462-4": "mm[Hg]",  # diastolic blood pressure
}


@pytest.fixture(scope="module")
def course():
    return sample_course()


@pytest.fixture(scope="module")
def bundle(course):
    return loads(course_bundle_json(course))


def resources(bundle, kind):
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def test_every_exported_resource_parses_with_its_fhir_model_class(bundle):
    assert bundle["type"] == "collection"
    get_fhir_model_class("Bundle").model_validate(bundle)
    kinds = set()
    for entry in bundle["entry"]:
        resource = entry["resource"]
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        kinds.add(resource["resourceType"])
        assert entry["fullUrl"] == f"urn:uuid:{resource['id']}"
    assert kinds == {"Patient", "ResearchStudy", "ResearchSubject", "Condition", "Observation", "MedicationRequest",
                     "MedicationAdministration", "Procedure", "AdverseEvent"}


def test_labs_carry_the_loinc_codes_and_ucum_units_of_each_test(course):
    course = _with_thyroid_and_blood_pressure(course)
    bundle = loads(course_bundle_json(course))
    labs = [o for o in resources(bundle, "Observation") if o["code"]["coding"][0]["system"] == "http://loinc.org"
            and o["code"]["coding"][0]["code"] in LOINC_UCUM]
    assert len(labs) == len(course.labs)
    assert {o["code"]["coding"][0]["code"] for o in labs} == set(LOINC_UCUM)
    for observation in labs:
        quantity = observation["valueQuantity"]
        assert quantity["system"] == UCUM
        assert quantity["code"] == LOINC_UCUM[observation["code"]["coding"][0]["code"]]
        vital = observation["code"]["coding"][0]["code"] in ("8480-6", "8462-4")
        assert observation["category"][0]["coding"][0]["code"] == ("vital-signs" if vital else "laboratory")
        get_fhir_model_class("Observation").model_validate(observation)


def test_the_study_condition_and_subject_identify_the_protocol_and_neuroblastoma(bundle):
    study = resources(bundle, "ResearchStudy")[0]
    assert study["identifier"][0] == {"system": "https://clinicaltrials.gov", "value": "NCT01370330"}
    condition = resources(bundle, "Condition")[0]
    assert condition["code"]["coding"][0] == {"system": "http://snomed.info/sct", "code": "432328008",
                                              "display": "Neuroblastoma (disorder)"}
    subject = resources(bundle, "ResearchSubject")[0]
    assert subject["study"]["reference"] == f"urn:uuid:{study['id']}"


def test_the_directive_orders_mci_and_states_mbq_from_37_mbq_per_mci(bundle):
    request = resources(bundle, "MedicationRequest")[0]
    dose_and_rate = request["dosageInstruction"][0]["doseAndRate"]
    ordered = dose_and_rate[0]["doseQuantity"]
    calculated = dose_and_rate[1]["doseQuantity"]
    assert (ordered["value"], ordered["code"]) == (Decimal(396), "mCi")
    assert (calculated["value"], calculated["code"]) == (Decimal(14652), "MBq")  # 396 x 37
    assert request["dosageInstruction"][0]["route"]["coding"][0]["code"] == "47625008"
    assert request["dosageInstruction"][0]["extension"][0]["valueQuantity"]["value"] == Decimal(18)


def test_the_administration_gives_the_administered_activity_in_mbq(bundle, course):
    administration = resources(bundle, "MedicationAdministration")[0]
    dose = administration["dosage"]["dose"]
    assert dose["code"] == "MBq"
    assert dose["system"] == UCUM
    assert dose["value"] == course.administration.administered_mci * 37
    assert administration["effectivePeriod"] == {"start": "2026-12-10T10:00:00-08:00",
                                                 "end": "2026-12-10T10:30:00-08:00"}


def test_readings_and_whole_body_dose_are_observations_with_ucum_units(bundle):
    observations = resources(bundle, "Observation")
    readings = [o for o in observations if o["code"]["coding"][0]["code"] == "exposure-rate-1m"]
    assert [r["valueQuantity"]["value"] for r in readings] == [Decimal(v) for v in
                                                                ("60.0", "29.0", "14.1", "7.0", "3.5", "1.7")]
    assert {r["valueQuantity"]["code"] for r in readings} == {"mR/h"}
    dose = next(o for o in observations if o["code"]["coding"][0]["code"] == "whole-body-absorbed-dose")
    assert dose["valueQuantity"] == {"value": Decimal("3.82"), "unit": "Gy", "system": UCUM, "code": "Gy"}


def test_adverse_events_keep_their_ctcae_grade(bundle):
    events = resources(bundle, "AdverseEvent")
    assert [(e["event"]["text"], e["extension"][0]["valueInteger"]) for e in events] == [
        ("Platelet count decreased", 4), ("Neutrophil count decreased", 4), ("Nausea", 1)]
    assert events[0]["severity"]["coding"][0]["code"] == "severe"


def test_a_round_trip_gives_back_every_value(course):
    imported = import_bundle(course_bundle_json(course))
    assert imported.refused == ()
    assert imported.patient == course.patient
    assert imported.labs == course.labs
    assert imported.readings == course.readings
    assert imported.dosimetry == course.dosimetry
    assert imported.adverse_events == course.adverse_events
    assert imported.stem_cell_infusion == course.stem_cell_infusion
    assert (imported.weight_kg, imported.weight_measured_on) == (course.directive.weight_kg,
                                                                 course.directive.weight_measured_on)
    assert imported.directive.activity_mci == Decimal(396)
    assert imported.directive.mci_per_kg == Decimal(18)
    assert imported.administration.administered_mci == course.administration.administered_mci
    assert (imported.administration.start, imported.administration.end) == (course.administration.start,
                                                                            course.administration.end)
    assert imported.study_identifiers == ("NCT01370330",)


def test_decimals_are_written_and_read_exactly(course):
    when = course.labs[0].collected_at
    exact = dataclasses.replace(course, labs=(LabResult("anc", Decimal("0.75"), when, Decimal("1.5")),
                                              LabResult("platelets", Decimal("14652.000"), when)))
    text = course_bundle_json(exact)
    assert '"value": 0.75,' in text
    assert '"value": 14652.000,' in text
    labs = import_bundle(text).labs
    assert str(labs[0].value) == "0.75"
    assert str(labs[1].value) == "14652.000"
    assert dumps({"x": Decimal("0.1")}) == '{\n  "x": 0.1\n}\n'
    with pytest.raises(TypeError):
        dumps({"x": 0.1})


def test_the_same_course_gives_the_same_bundle_text(course):
    assert course_bundle_json(course) == course_bundle_json(course)


def test_the_mrn_system_can_be_the_sites_own(course):
    bundle = course_bundle(course, mrn_system="urn:oid:2.16.840.1.113883.3.9999")
    patient = bundle["entry"][0]["resource"]
    assert patient["identifier"][0]["system"] == "urn:oid:2.16.840.1.113883.3.9999"


def test_labs_from_another_systems_bundle_are_converted_to_canonical_units():
    imported = import_bundle((EXAMPLES / "labs-searchset.json").read_text())
    by_test = {lab.test: lab for lab in imported.labs}
    assert by_test["anc"].value == Decimal("0.75")  # 750 /uL = 0.75 x 10^9/L
    assert by_test["anc"].lln == Decimal("1.5")  # 1500 /uL
    assert by_test["platelets"].value == Decimal(45)  # 45 x 10^3/uL = 45 x 10^9/L
    assert by_test["hemoglobin"].value == Decimal("9.4")  # 94 g/L / 10
    assert by_test["creatinine"].value == Decimal("0.4")  # 35.36 umol/L / 88.4
    assert by_test["bilirubin"].value == Decimal("0.4")  # 6.84 umol/L / 17.1
    assert len(imported.labs) == 6


def test_results_that_cannot_be_taken_are_refused_with_their_reason():
    imported = import_bundle((EXAMPLES / "labs-searchset.json").read_text())
    reasons = {r.resource.split()[-1]: r.reason for r in imported.refused}
    assert reasons["Observation/lab-7"].startswith("unknown code (http://loinc.org|2345-7)")
    assert reasons["Observation/lab-8"].startswith("unit not convertible: 'mmol/L'")
    assert reasons["Observation/lab-9"].startswith("missing time")
    assert reasons["Observation/lab-10"] == "status 'preliminary' is not a final result"
    assert "REFUSED entry 8 Observation/lab-8: unit not convertible" in imported.report()


def observation_bundle(**changes):
    observation = {"resourceType": "Observation", "id": "x", "status": "final",
                   "code": {"coding": [{"system": "http://loinc.org", "code": "751-8"}]},
                   "effectiveDateTime": "2027-01-07T09:30:00-08:00",
                   "valueQuantity": {"value": Decimal("1.2"), "unit": "10^9/L", "system": UCUM, "code": "10*9/L"}}
    observation.update(changes)
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": observation}]}


def test_a_time_without_utc_offset_is_refused_not_guessed():
    imported = import_bundle(observation_bundle(effectiveDateTime="2027-01-07T09:30:00"))
    assert imported.labs == ()
    assert "effectiveDateTime" in imported.refused[0].reason


def test_a_date_without_a_time_is_refused_as_a_missing_time():
    imported = import_bundle(observation_bundle(effectiveDateTime="2027-01-07"))
    assert imported.refused[0].reason.startswith("missing time")


def test_a_resource_that_is_not_valid_fhir_is_refused_and_the_rest_is_taken():
    bundle = observation_bundle(valueQuantity={"value": "one point two", "unit": "10^9/L"})
    bundle["entry"].append(observation_bundle()["entry"][0])
    imported = import_bundle(bundle)
    assert len(imported.labs) == 1
    assert imported.refused[0].reason.startswith("not valid FHIR R4 Observation: valueQuantity.value")


def test_resource_types_that_are_not_imported_are_named():
    bundle = {"resourceType": "Bundle", "type": "collection",
              "entry": [{"resource": {"resourceType": "Encounter", "id": "e", "status": "finished",
                                      "class": {"code": "IMP"}}}]}
    assert import_bundle(bundle).refused[0].reason == "resource type Encounter is not imported"


def test_a_document_that_is_not_a_bundle_is_refused_as_a_whole():
    with pytest.raises(ReportInputError) as error:
        import_bundle(json.dumps({"resourceType": "Patient"}))
    assert error.value.field == "bundle"


def test_the_shipped_example_bundle_imports_completely():
    imported = import_bundle((EXAMPLES / "course-1-bundle.json").read_text())
    assert imported.refused == ()
    assert imported.patient.mrn == "EX-001"
    assert imported.directive.activity_mci == Decimal(396)


# ---- every exported code is a code of its code system (FHIR R4 4.0.1; codes are case-sensitive) ---------------

#: The code systems the export uses, with their codes as published for FHIR R4 (terminology.hl7.org), or the
#: codes this software chose (LOINC, SNOMED CT: checked against the references named in mibg.reports.fhir.codes;
#: UCUM: the case-sensitive UCUM expressions of the units used, each a valid UCUM term).
CODE_SYSTEMS = {
    "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness": {"Serious", "Non-serious"},
    "http://terminology.hl7.org/CodeSystem/adverse-event-severity": {"mild", "moderate", "severe"},
    "http://terminology.hl7.org/CodeSystem/adverse-event-outcome": {
        "resolved", "recovering", "ongoing", "resolvedWithSequelae", "fatal", "unknown"},
    "http://terminology.hl7.org/CodeSystem/condition-clinical": {
        "active", "recurrence", "relapse", "inactive", "remission", "resolved"},
    "http://terminology.hl7.org/CodeSystem/condition-ver-status": {
        "unconfirmed", "provisional", "differential", "confirmed", "refuted", "entered-in-error"},
    "http://terminology.hl7.org/CodeSystem/dose-rate-type": {"calculated", "ordered"},
    "http://terminology.hl7.org/CodeSystem/observation-category": {
        "social-history", "vital-signs", "imaging", "laboratory", "procedure", "survey", "exam", "therapy", "activity"},
    "http://terminology.hl7.org/CodeSystem/v2-0203": {"MR"},
    "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation": {"L", "N", "H"},
    "http://loinc.org": {*LOINC_UCUM, "29463-7"},
    "http://snomed.info/sct": {"395789007", "432328008", "47625008", "399315003"},
    "http://unitsofmeasure.org": {"/kg", "1", "10*9/L", "Gy", "MBq", "U/L", "g/dL", "h", "kg", "mCi", "mCi/kg",
                                  "mL/h", "mR/h", "mg/dL", "mL", "min", "mg", "m[IU]/L", "ng/dL", "mm[Hg]"},
}
LOCAL_SYSTEMS = {"urn:mibg:fhir:CodeSystem:observations"}


def _codes(node):
    if isinstance(node, dict):
        if "system" in node and "code" in node:
            yield node["system"], node["code"]
        for value in node.values():
            yield from _codes(value)
    elif isinstance(node, list):
        for value in node:
            yield from _codes(value)


def _with_every_adverse_event_kind(course):
    from mibg.reports.record import AE_OUTCOMES, AdverseEventRecord

    onset = course.adverse_events[0].onset
    # Terms of the CTCAE v5.0 list (the importer refuses any other; issue 15), one per grade.
    terms = ["Nausea", "Vomiting", "Febrile neutropenia", "Sepsis", "Lung infection", "Fatigue"]
    events = tuple(AdverseEventRecord(term, grade, onset, serious=grade >= 3, outcome=outcome)
                   for term, grade, outcome in zip(terms, [1, 2, 3, 4, 5, 1], AE_OUTCOMES, strict=True))
    return dataclasses.replace(course, adverse_events=events)


def _with_thyroid_and_blood_pressure(course):
    """issue 12: a TSH above, a free T4 below and one within the site's range, and a blood pressure."""

    at = course.labs[-1].collected_at
    extra = (LabResult("tsh", Decimal("12.5"), at, Decimal("0.4"), Decimal("4.0"), reading="high; graded by the physician"),
             LabResult("free_t4", Decimal("0.6"), at, Decimal("0.8"), Decimal("1.8")),
             LabResult("free_t4", Decimal("1.2"), at + timedelta(days=1), Decimal("0.8"), Decimal("1.8")),
             LabResult("systolic_bp", Decimal("128"), at), LabResult("diastolic_bp", Decimal("76"), at))
    return dataclasses.replace(course, labs=(*course.labs, *extra))


def test_thyroid_values_are_exported_with_their_interpretation_and_blood_pressure_as_vital_signs(course):
    bundle = loads(course_bundle_json(_with_thyroid_and_blood_pressure(course)))
    observations = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation"]
    by_code = {}
    for o in observations:
        by_code.setdefault(o["code"]["coding"][0]["code"], []).append(o)
    tsh = by_code["3016-3"][0]
    assert tsh["interpretation"][0]["coding"][0]["code"] == "H"
    assert tsh["note"] == [{"text": "high; graded by the physician"}]
    assert "extension" not in tsh  # no CTCAE grade from a TSH
    assert [o["interpretation"][0]["coding"][0]["code"] for o in by_code["3024-7"]] == ["L", "N"]
    assert by_code["8480-6"][0]["category"][0]["coding"][0]["code"] == "vital-signs"
    assert "interpretation" not in by_code["8480-6"][0]


def test_every_exported_code_is_a_code_of_its_code_system(course):
    bundle = loads(course_bundle_json(_with_thyroid_and_blood_pressure(_with_every_adverse_event_kind(course))))
    seen = set(_codes(bundle))
    for system, code in seen:
        if system in LOCAL_SYSTEMS:
            continue
        assert system in CODE_SYSTEMS, f"unexpected code system {system}"
        assert code in CODE_SYSTEMS[system], f"{code!r} is not a code of {system}"
    seriousness = {code for system, code in seen if system.endswith("adverse-event-seriousness")}
    assert seriousness == {"Serious", "Non-serious"}


def test_a_serious_adverse_event_is_exported_as_serious_with_a_capital_s(course):
    bundle = loads(course_bundle_json(_with_every_adverse_event_kind(course)))
    events = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "AdverseEvent"]
    grade_3 = next(e for e in events if e["event"]["text"] == "Febrile neutropenia")
    assert grade_3["seriousness"]["coding"][0]["code"] == "Serious"
    grade_1 = next(e for e in events if e["event"]["text"] == "Nausea")
    assert grade_1["seriousness"]["coding"][0]["code"] == "Non-serious"


def test_an_imported_adverse_event_keeps_its_seriousness_and_a_lower_case_code_is_refused(course):
    text = course_bundle_json(_with_every_adverse_event_kind(course))
    imported = import_bundle(text)
    assert imported.refused == ()
    assert {e.term: e.serious for e in imported.adverse_events}["Sepsis"] is True
    assert {e.term: e.serious for e in imported.adverse_events}["Vomiting"] is False
    lower = import_bundle(text.replace('"Serious"', '"serious"'))
    refused = [r.reason for r in lower.refused]
    assert refused
    assert all("case-sensitive" in reason for reason in refused)


def test_an_imported_adverse_event_whose_term_is_not_a_ctcae_term_is_refused_naming_event_text(course):
    text = course_bundle_json(_with_every_adverse_event_kind(course)).replace('"Nausea"', '"tummy ache"')
    imported = import_bundle(text)
    assert "tummy ache" not in {e.term for e in imported.adverse_events}
    reasons = [r.reason for r in imported.refused]
    assert any("event.text" in r and "tummy ache" in r and "not a CTCAE v5.0 term" in r for r in reasons), reasons

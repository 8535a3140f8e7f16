"""The protocol as FHIR R4 (issue 13 §4): a PlanDefinition of the course's actions with their timing and a
ResearchStudy with the record's identifiers, sponsor, investigator, site, status, conditions and criteria, each
validated with the fhir.resources models; `mibg protocol export --fhir`; patient bundles' study from the record."""

from __future__ import annotations

import copy
import json
from decimal import Decimal

import pytest
from fhir.resources.R4B import get_fhir_model_class

from mibg.cli import main
from mibg.protocol import load_protocol
from mibg.protocol.study_record import BUNDLED_RECORD, parse_study_record
from mibg.reports.errors import ReportInputError
from mibg.reports.fhir.protocol import brief_research_study, protocol_bundle


@pytest.fixture(scope="module")
def document():
    return json.loads(BUNDLED_RECORD.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def bundle(document):
    return protocol_bundle(load_protocol(), parse_study_record(document))


def _resource(bundle, kind):
    return next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind)


def test_the_bundle_is_a_collection_of_one_plan_definition_and_one_research_study_each_valid_fhir(bundle):
    assert bundle["type"] == "collection"
    assert [e["resource"]["resourceType"] for e in bundle["entry"]] == ["PlanDefinition", "ResearchStudy"]
    for entry in bundle["entry"]:
        resource = entry["resource"]
        model = get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        assert model.get_resource_type() == resource["resourceType"]
    assert get_fhir_model_class("Bundle").model_validate(bundle).type == "collection"


def test_the_plan_has_the_course_steps_in_order_with_their_timing_from_the_protocol_definition(bundle):
    plan = _resource(bundle, "PlanDefinition")
    assert plan["version"] == load_protocol().version
    ids = [a["id"] for a in plan["action"]]
    assert ids[:7] == ["screening", "dose", "preparation", "administration", "release", "stem-cell-rescue", "follow-up"]
    stem = next(a for a in plan["action"] if a["id"] == "stem-cell-rescue")
    # decisions.md Dose 'Stem-cell infusion': day 14 after the MIBG infusion (site parameter stem_cell_infusion_day).
    assert stem["relatedAction"][0]["offsetDuration"]["value"] == Decimal("14")
    assert stem["relatedAction"][0]["relationship"] == "after-start"
    infusions = {a["id"]: a["timingRange"] for a in next(a for a in plan["action"] if a["id"] == "administration")["action"]}
    # decisions.md Dose 'Volume and rate': DraxImage 90 to 120 min, AZEDRA 30 to 60 min.
    assert (infusions["administration-draximage"]["low"]["value"], infusions["administration-draximage"]["high"]["value"]) \
        == (Decimal("90"), Decimal("120"))
    assert (infusions["administration-azedra"]["low"]["value"], infusions["administration-azedra"]["high"]["value"]) \
        == (Decimal("30"), Decimal("60"))
    following = next(a for a in plan["action"] if a["id"] == "next-course")["relatedAction"][0]["offsetDuration"]
    assert (following["value"], following["code"]) == (Decimal("6"), "mo")  # decisions.md A13


def test_the_study_carries_the_records_identifiers_sponsor_investigator_site_status_and_condition(bundle):
    study = _resource(bundle, "ResearchStudy")
    values = [i["value"] for i in study["identifier"]]
    assert values == ["NCT01370330", "CompUse MIBG", "NCI-2011-01902", "05161"]
    assert study["status"] == "active"  # the record says AVAILABLE (expanded access open)
    assert study["condition"][0]["text"] == "Neuroblastoma"
    assert study["condition"][0]["coding"][0]["code"] == "432328008"
    contained = {r["id"]: r for r in study["contained"]}
    assert contained["sponsor"]["name"] == "Kieuhoa Vo"
    assert contained["principal-investigator"]["name"][0]["text"] == "Kieuhoa Vo, MD"
    assert contained["site-1"]["name"] == "University of California, San Francisco"
    assert contained["site-1"]["address"]["city"] == "San Francisco"
    plan_url = bundle["entry"][0]["fullUrl"]
    assert study["protocol"][0]["reference"] == plan_url


def test_the_enrollment_group_holds_every_criterion_with_age_and_diagnosis_coded(bundle):
    study = _resource(bundle, "ResearchStudy")
    group = next(r for r in study["contained"] if r["resourceType"] == "Group")
    assert study["enrollment"] == [{"reference": "#enrollment"}]
    assert len(group["characteristic"]) == len(load_protocol().criteria) == 33
    age = next(ch for ch in group["characteristic"] if ch["code"]["text"].startswith("P1"))
    assert age["code"]["coding"][0]["code"] == "30525-0"
    assert age["valueRange"]["low"]["value"] == Decimal("1")  # "Age > 1 year" (decisions.md A4), strict
    pheo_age = next(ch for ch in group["characteristic"] if ch["code"]["text"].startswith("P3"))
    assert pheo_age["valueRange"]["high"]["value"] == Decimal("13")
    diagnosis = group["characteristic"][0]
    assert diagnosis["valueCodeableConcept"]["coding"][0]["code"] == "432328008"
    exclusions = [ch for ch in group["characteristic"] if ch["exclude"]]
    assert len(exclusions) == sum(1 for c in load_protocol().criteria if c.kind == "exclusion")


def test_a_patients_bundle_takes_the_study_status_and_conditions_from_the_record_not_a_fixed_active(document):
    changed = copy.deepcopy(document)
    changed["protocolSection"]["statusModule"]["overallStatus"] = "NO_LONGER_AVAILABLE"
    changed["protocolSection"]["conditionsModule"]["conditions"] = ["Neuroblastoma", "Paraganglioma"]
    study = brief_research_study(parse_study_record(changed), load_protocol())
    assert study["status"] == "closed-to-accrual"
    assert [c["text"] for c in study["condition"]] == ["Neuroblastoma", "Paraganglioma"]
    get_fhir_model_class("ResearchStudy").model_validate(study)


def test_a_record_status_with_no_fhir_counterpart_is_refused_naming_the_field(document):
    changed = copy.deepcopy(document)
    changed["protocolSection"]["statusModule"]["overallStatus"] = "SOMETHING_NEW"
    with pytest.raises(ReportInputError) as error:
        brief_research_study(parse_study_record(changed), load_protocol())
    assert error.value.field == "protocolSection.statusModule.overallStatus"


def test_mibg_protocol_export_fhir_prints_the_bundle_and_fhir_with_another_action_is_refused(capsys):
    assert main(["protocol", "export", "--fhir"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["resourceType"] == "Bundle"
    assert [e["resource"]["resourceType"] for e in printed["entry"]] == ["PlanDefinition", "ResearchStudy"]
    assert main(["protocol", "show", "--fhir"]) == 2
    assert "--fhir goes with export" in capsys.readouterr().err

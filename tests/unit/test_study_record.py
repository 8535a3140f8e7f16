"""The study record (ClinicalTrials.gov API v2 form): loading, refusing bad documents, the links from its
eligibility bullets to the criteria the software evaluates, and `mibg protocol import`."""

import copy
import json
from datetime import date
from pathlib import Path

import pytest

from mibg.cli import main
from mibg.protocol import load_protocol
from mibg.protocol.study_record import (
    BUNDLED_RECORD,
    StudyRecordError,
    eligibility_bullets,
    link_criteria,
    load_study_record,
    parse_study_record,
    store_study_record,
)

SHARED_RECORD = Path(__file__).resolve().parents[3] / "shared" / "protocol" / "NCT01370330.txt"  # ../shared beside the repo


@pytest.fixture(scope="module")
def document():
    return json.loads(BUNDLED_RECORD.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def links():
    return link_criteria(load_study_record(), load_protocol())


def test_the_bundled_record_loads_with_its_identifiers_status_and_eligibility_fields():
    record = load_study_record()
    section = record.protocolSection
    assert record.nct_id == "NCT01370330"
    assert record.title == "131I-Labeled MIBG for Refractory Neuroblastoma: A Compassionate Use Protocol"
    assert record.status == "AVAILABLE"
    assert record.last_updated == date(2025, 7, 22)
    assert section.identificationModule.orgStudyIdInfo.id == "CompUse MIBG"
    assert [s.id for s in section.identificationModule.secondaryIdInfos] == ["NCI-2011-01902", "05161"]
    assert section.designModule.studyType == "EXPANDED_ACCESS"
    assert (section.eligibilityModule.sex, section.eligibilityModule.minimumAge,
            section.eligibilityModule.healthyVolunteers) == ("ALL", "1 Year", False)
    assert section.conditionsModule.conditions == ("Neuroblastoma",)
    assert section.contactsLocationsModule.locations[0].facility == "University of California, San Francisco"


@pytest.mark.skipif(not SHARED_RECORD.exists(), reason="the shared protocol record is not on this machine")
def test_the_eligibility_text_and_descriptions_are_verbatim_from_the_protocol_record():
    record = load_study_record()
    source = SHARED_RECORD.read_text(encoding="utf-8")
    assert record.eligibility_criteria in source
    assert record.protocolSection.descriptionModule.briefSummary in source
    assert record.protocolSection.descriptionModule.detailedDescription in source
    assert record.protocolSection.armsInterventionsModule.interventions[0].description in source


def test_the_eligibility_text_splits_into_15_inclusion_and_5_exclusion_bullets():
    bullets = eligibility_bullets(load_study_record().eligibility_criteria)
    assert [kind for kind, _ in bullets].count("inclusion") == 15
    assert [kind for kind, _ in bullets].count("exclusion") == 5


def test_the_hematopoietic_bullet_links_to_h1_to_h5(links):
    assert links.for_bullet("Hematopoietic Criteria") == ("H1", "H2", "H3", "H4", "H5")


@pytest.mark.parametrize(
    ("words", "criteria"),
    [
        ("Diagnosis:", ("D1", "D2")),
        ("MIBG uptake", ("D3",)),
        ("Age \\> 1 year", ("P1", "P2", "P3")),
        ("Prior Therapy", ("T1", "T2", "T3", "T4", "T5")),
        ("Liver function", ("O1", "O2")),
        ("Kidney function", ("O3",)),
        ("Signed informed consent", ("P6",)),
        ("hemodialysis", ("X3",)),
        ("proteinuria", ("X5",)),
    ],
)
def test_each_bullet_links_to_the_criteria_that_evaluate_it(links, words, criteria):
    assert links.for_bullet(words) == criteria


def test_every_criterion_of_the_definition_is_found_in_the_record(links):
    assert links.unlinked_criteria == ()
    assert len(links.linked_criteria) == len(load_protocol().criteria) == 33
    assert [b.text for b in links.bullets_without_criteria] == ["Organ Function"]


def test_every_dose_limit_is_found_in_the_intervention_or_eligibility_text(links):
    assert links.unlinked_dose_limits == ()
    sources = dict(links.dose_limits)
    assert sources["R6"] == "intervention 'Metaiodobenzylguanidine (MIBG)'"
    assert sources["S2"] == "intervention 'Metaiodobenzylguanidine (MIBG)' and eligibility criteria"


def test_a_changed_bullet_leaves_its_criterion_unlinked(document):
    changed = copy.deepcopy(document)
    module = changed["protocolSection"]["eligibilityModule"]
    module["eligibilityCriteria"] = module["eligibilityCriteria"].replace("Hemoglobin \\>10g/dl", "Hemoglobin \\>9g/dl")
    result = link_criteria(parse_study_record(changed), load_protocol())
    assert result.unlinked_criteria == ("H4",)


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("protocolSection", "identificationModule", "nctId"), "NCT123", "protocolSection.identificationModule.nctId"),
        (("protocolSection", "statusModule", "overallStatus"), "", "protocolSection.statusModule.overallStatus"),
        (("protocolSection", "eligibilityModule"), None, "protocolSection.eligibilityModule"),
        (("protocolSection", "identificationModule", "briefTitle"), None,
         "protocolSection.identificationModule.briefTitle"),
    ],
)
def test_a_bad_document_is_refused_naming_the_field(document, path, value, field):
    broken = copy.deepcopy(document)
    parent = broken
    for key in path[:-1]:
        parent = parent[key]
    if value is None:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    with pytest.raises(StudyRecordError) as error:
        parse_study_record(broken)
    assert error.value.field == field


def test_a_document_that_is_not_an_object_or_not_json_is_refused(tmp_path):
    with pytest.raises(StudyRecordError) as error:
        parse_study_record([1, 2])
    assert error.value.field == "(document)"
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(StudyRecordError) as error:
        load_study_record(bad)
    assert "not JSON" in error.value.message


def test_storing_writes_study_record_json_in_the_data_directory(document, tmp_path):
    stored = store_study_record(document, tmp_path / "data")
    assert stored == tmp_path / "data" / "study_record.json"
    assert json.loads(stored.read_text(encoding="utf-8")) == document


def test_protocol_import_prints_a_summary_and_stores_the_record(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MIBG_DATA_DIR", str(tmp_path))
    assert main(["protocol", "import", str(BUNDLED_RECORD)]) == 0
    out = capsys.readouterr().out
    assert "NCT01370330: 131I-Labeled MIBG for Refractory Neuroblastoma" in out
    assert "status AVAILABLE; last updated 2025-07-22" in out
    assert "33 of 33 criteria linked to 19 of 20 eligibility bullets; 7 of 7 dose limits linked" in out
    assert (tmp_path / "study_record.json").exists()


def test_protocol_import_refuses_a_bad_file_in_one_line_with_status_2(tmp_path, monkeypatch, capsys, document):
    monkeypatch.setenv("MIBG_DATA_DIR", str(tmp_path))
    broken = copy.deepcopy(document)
    del broken["protocolSection"]["statusModule"]
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(broken), encoding="utf-8")
    assert main(["protocol", "import", str(path)]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert "protocolSection.statusModule: is required" in error
    assert not (tmp_path / "study_record.json").exists()


def test_protocol_import_of_a_drifted_record_says_what_is_missing_with_status_3(tmp_path, monkeypatch, capsys,
                                                                                  document):
    monkeypatch.setenv("MIBG_DATA_DIR", str(tmp_path))
    drifted = copy.deepcopy(document)
    module = drifted["protocolSection"]["eligibilityModule"]
    module["eligibilityCriteria"] = module["eligibilityCriteria"].replace("Patients who are on hemodialysis.",
                                                                          "Patients on dialysis.")
    path = tmp_path / "drifted.json"
    path.write_text(json.dumps(drifted), encoding="utf-8")
    assert main(["protocol", "import", str(path)]) == 3
    assert "NOT FOUND in the record: criteria X3" in capsys.readouterr().out

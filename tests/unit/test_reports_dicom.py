"""The Radiopharmaceutical Radiation Dose SR (PS3.16 TID 10021/10022), read back with pydicom and checked
with dicom3tools' dciodvfy: any line it reports as "Error" fails the test; warnings are printed."""

import dataclasses
import io
import shutil
import subprocess
from decimal import Decimal

import pytest
from pydicom import dcmread

from mibg.reports import ReportInputError, rrdsr_bytes
from mibg.reports.sample import sample_course


@pytest.fixture(scope="module")
def course():
    """The sample course with round numbers: 396 mCi administered, pre-assay 400 mCi, residual 4 mCi."""
    sample = sample_course()
    return dataclasses.replace(
        sample,
        assay=dataclasses.replace(sample.assay, pre=dataclasses.replace(sample.assay.pre, activity_mci=Decimal(400))),
        administration=dataclasses.replace(
            sample.administration, administered_mci=Decimal(396),
            residual=dataclasses.replace(sample.administration.residual, activity_mci=Decimal(4))),
    )


@pytest.fixture(scope="module")
def data(course):
    return rrdsr_bytes(course)


def code(item, sequence="ConceptNameCodeSequence"):
    entry = getattr(item, sequence)[0]
    return entry.CodeValue, entry.CodingSchemeDesignator, entry.CodeMeaning


def named(items, code_value):
    return next(i for i in items if i.ConceptNameCodeSequence[0].CodeValue == code_value)


def number(item):
    measured = item.MeasuredValueSequence[0]
    return Decimal(str(measured.NumericValue)), measured.MeasurementUnitsCodeSequence[0].CodeValue


def test_it_is_a_radiopharmaceutical_radiation_dose_sr_with_template_10021(data):
    ds = dcmread(io.BytesIO(data))
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.88.68"
    assert ds.file_meta.MediaStorageSOPClassUID == "1.2.840.10008.5.1.4.1.1.88.68"
    assert ds.Modality == "SR"
    assert code(ds) == ("113500", "DCM", "Radiopharmaceutical Radiation Dose Report")
    assert ds.ContentTemplateSequence[0].TemplateIdentifier == "10021"
    assert ds.ContentTemplateSequence[0].MappingResource == "DCMR"
    assert (ds.PatientID, str(ds.PatientName), ds.PatientBirthDate, ds.PatientSex) == (
        "EX-001", "Example^Ava", "20200417", "F")


def test_the_procedure_is_radionuclide_therapy_with_therapeutic_intent(data):
    ds = dcmread(io.BytesIO(data))
    procedure = named(ds.ContentSequence, "363589002")
    assert procedure.RelationshipType == "HAS CONCEPT MOD"
    assert code(procedure, "ConceptCodeSequence") == ("399315003", "SCT", "Radionuclide therapy")
    assert code(procedure.ContentSequence[0], "ConceptCodeSequence") == ("262202000", "SCT", "Therapeutic Intent")


def test_the_administration_event_names_the_agent_the_radionuclide_and_its_half_life(data):
    event = named(dcmread(io.BytesIO(data)).ContentSequence, "113502")
    assert event.ValueType == "CONTAINER"
    agent = named(event.ContentSequence, "349358000")
    assert code(agent, "ConceptCodeSequence") == ("395789007", "SCT", "Iodine^131 3-Iodobenzylguanidine MIBG")
    nuclide = named(agent.ContentSequence, "89457008")
    assert nuclide.RelationshipType == "HAS PROPERTIES"
    assert code(nuclide, "ConceptCodeSequence") == ("1368003", "SCT", "^131^Iodine")
    # 8.0207 d x 86400 s/d = 692988.48 s (ICRP-107, clinical-reference §2.1)
    assert number(named(agent.ContentSequence, "304283002")) == (Decimal("692988.48"), "s")


def test_the_event_records_activity_in_mbq_times_route_and_both_assays(data):
    event = named(dcmread(io.BytesIO(data)).ContentSequence, "113502")
    items = event.ContentSequence
    assert number(named(items, "113507")) == (Decimal(14652), "MBq")  # 396 mCi x 37
    assert named(items, "123003").DateTime == "20261210100000-0800"
    assert named(items, "123004").DateTime == "20261210103000-0800"
    assert number(named(items, "123005")) == (Decimal(30), "cm3")
    pre = named(items, "113508")
    assert number(pre) == (Decimal(14800), "MBq")  # 400 mCi x 37
    assert pre.ObservationDateTime == "20261210083000-0800"
    assert code(pre.ContentSequence[0], "ConceptCodeSequence") == ("113541", "DCM", "Dose Calibrator")
    post = named(items, "113509")
    assert number(post) == (Decimal(148), "MBq")  # 4 mCi x 37
    assert post.ObservationDateTime == "20261210111500-0800"
    route = named(items, "410675002")
    assert code(route, "ConceptCodeSequence") == ("47625008", "SCT", "Intravenous route")
    assert code(route.ContentSequence[0], "ConceptCodeSequence") == ("103386002", "SCT", "Via vein")
    assert named(items, "113503").UID.startswith("2.25.")


def test_the_comment_names_protocol_course_and_lot(data):
    comment = named(dcmread(io.BytesIO(data)).ContentSequence, "121106")
    assert "NCT01370330 v1.1.0, course 1" in comment.TextValue
    assert "lot AZ-26-1187" in comment.TextValue


def test_the_same_course_gives_the_same_file(course, data):
    assert rrdsr_bytes(course) == data


def test_an_administration_is_required(course):
    with pytest.raises(ReportInputError) as error:
        rrdsr_bytes(dataclasses.replace(course, administration=None))
    assert error.value.field == "course.administration"


@pytest.mark.skipif(shutil.which("dciodvfy") is None, reason="dicom3tools (dciodvfy) is not installed")
def test_dciodvfy_reports_no_error(data, tmp_path):
    path = tmp_path / "rrdsr.dcm"
    path.write_bytes(data)
    result = subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True, timeout=60, check=False)
    lines = (result.stdout + result.stderr).splitlines()
    for line in lines:
        if line.startswith("Warning"):
            print(line)
    errors = [line for line in lines if line.startswith("Error")]
    assert errors == []
    assert "RadiopharmaceuticalRadiationDoseSR" in result.stdout + result.stderr


def test_sam_finds_the_weight_the_dose_used_in_patients_weight_0010_1030(data, course):
    ds = dcmread(io.BytesIO(data))
    # The sample directive: 22.0 kg x 18 mCi/kg = 396 mCi; the weight travels with the weight-based dose.
    assert course.directive.weight_kg == Decimal("22.0")
    assert Decimal(str(ds.PatientWeight)) == Decimal("22")
    assert ds.data_element("PatientWeight").tag == 0x00101030


def test_the_report_carries_tid_10024_patient_characteristics_with_age_sex_and_weight(data):
    ds = dcmread(io.BytesIO(data))
    characteristics = named(ds.ContentSequence, "121118")
    assert characteristics.ValueType == "CONTAINER"
    assert characteristics.RelationshipType == "CONTAINS"
    rows = characteristics.ContentSequence
    # Born 2020-04-17, infused 2026-12-10: 6 completed years.
    assert number(named(rows, "121033")) == (Decimal(6), "a")
    assert code(named(rows, "121032"), "ConceptCodeSequence") == ("F", "DCM", "Female")
    assert code(named(rows, "29463-7")) == ("29463-7", "LN", "Patient Weight")
    assert number(named(rows, "29463-7")) == (Decimal(22), "kg")

"""A DICOM Radiopharmaceutical Radiation Dose SR for one 131I-MIBG administration (pydicom).

IOD: Radiopharmaceutical Radiation Dose SR (PS3.3 A.35.14), SOP Class 1.2.840.10008.5.1.4.1.1.88.68.
Content: PS3.16 TID 10021 "Radiopharmaceutical Radiation Dose" with TID 10022 "Radiopharmaceutical
Administration Event Data": agent, radionuclide and its half-life, event UID, start and stop date-time,
administered activity (MBq, at the start of the administration), volume, the pre-administration assay and
the residual (post-administration) assay with their times, and the route; TID 10024 "Radiopharmaceutical
Administration Patient Characteristics": age, sex and the weight the prescription used, which is also the
Patient's Weight (0010,1030) of the Patient Study module.

Codes (each checked in pydicom's DICOM concept dictionary, PS3.16 edition it ships, unless noted):
(113500, DCM) report, (113502, DCM) administration, (349358000, SCT) radiopharmaceutical agent = (395789007,
SCT, "Iodine^131 3-Iodobenzylguanidine MIBG") from CID 25, (89457008, SCT) radionuclide = (1368003, SCT,
"^131^Iodine") from CID 18, (304283002, SCT) half-life, (113503, DCM) event UID, (123003/123004, DCM)
start/stop, (113507, DCM) administered activity, (123005, DCM) volume, (113508/113509, DCM) pre/post
measured activity, (113540, DCM) activity measurement device = (113541, DCM, "Dose Calibrator") from
CID 10041, (410675002, SCT) route = (47625008, SCT, "Intravenous route") from CID 11, (272737002, SCT)
site of = (103386002, SCT, "Via vein") from CID 3746, (363589002, SCT) associated procedure, (363703001,
SCT) has intent = (262202000, SCT, "Therapeutic Intent") from CID 3629, (121106, DCM) comment.
The associated procedure (399315003, SCT, "Radionuclide therapy") is not in CID 3108 "NM/PET Procedure"
(which lists only imaging studies): TID 10021 allows it as the context group is defined, not enumerated.

Output is deterministic: UIDs are 2.25 UUIDs (ISO/IEC 9834-8) derived from the MRN, course and start time;
dates come from the record.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filewriter import dcmwrite
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import UID, ExplicitVRLittleEndian, RadiopharmaceuticalRadiationDoseSRStorage

from mibg import __version__
from mibg.core.units import MBQ_PER_MCI
from mibg.protocol import load_protocol
from mibg.reports.errors import ReportInputError
from mibg.reports.numbers import activity_text
from mibg.reports.prescription import prescribed_dose
from mibg.reports.record import CourseRecord

SOP_CLASS = RadiopharmaceuticalRadiationDoseSRStorage
Code = tuple[str, str, str]

REPORT: Code = ("113500", "DCM", "Radiopharmaceutical Radiation Dose Report")
ADMINISTRATION: Code = ("113502", "DCM", "Radiopharmaceutical Administration")
AGENT: Code = ("349358000", "SCT", "Radiopharmaceutical agent")
MIBG_I131: Code = ("395789007", "SCT", "Iodine^131 3-Iodobenzylguanidine MIBG")
RADIONUCLIDE: Code = ("89457008", "SCT", "Radionuclide")
IODINE_131: Code = ("1368003", "SCT", "^131^Iodine")
HALF_LIFE: Code = ("304283002", "SCT", "Radionuclide Half Life")
SPECIFIC_ACTIVITY: Code = ("123007", "DCM", "Radiopharmaceutical Specific Activity")
EVENT_UID: Code = ("113503", "DCM", "Radiopharmaceutical Administration Event UID")
START: Code = ("123003", "DCM", "Radiopharmaceutical Start DateTime")
STOP: Code = ("123004", "DCM", "Radiopharmaceutical Stop DateTime")
ADMINISTERED: Code = ("113507", "DCM", "Administered activity")
VOLUME: Code = ("123005", "DCM", "Radiopharmaceutical Volume")
PRE_ASSAY: Code = ("113508", "DCM", "Pre-Administration Measured Activity")
POST_ASSAY: Code = ("113509", "DCM", "Post-Administration Measured Activity")
MEASUREMENT_DEVICE: Code = ("113540", "DCM", "Activity Measurement Device")
DOSE_CALIBRATOR: Code = ("113541", "DCM", "Dose Calibrator")
ROUTE: Code = ("410675002", "SCT", "Route of administration")
INTRAVENOUS: Code = ("47625008", "SCT", "Intravenous route")
SITE_OF: Code = ("272737002", "SCT", "Site of")
VIA_VEIN: Code = ("103386002", "SCT", "Via vein")
ASSOCIATED_PROCEDURE: Code = ("363589002", "SCT", "Associated Procedure")
RADIONUCLIDE_THERAPY: Code = ("399315003", "SCT", "Radionuclide therapy")
HAS_INTENT: Code = ("363703001", "SCT", "Has Intent")
THERAPEUTIC_INTENT: Code = ("262202000", "SCT", "Therapeutic Intent")
COMMENT: Code = ("121106", "DCM", "Comment")
#: TID 10024 "Radiopharmaceutical Administration Patient Characteristics" (PS3.16): the container, subject age
#: and sex (DCM, in pydicom's concept dictionary; sexes from CID 7455) and the LOINC body weight the template
#: names "Patient Weight" (29463-7, the code the FHIR export uses for the body weight too).
PATIENT_CHARACTERISTICS: Code = ("121118", "DCM", "Patient Characteristics")
SUBJECT_AGE: Code = ("121033", "DCM", "Subject Age")
SUBJECT_SEX: Code = ("121032", "DCM", "Subject Sex")
PATIENT_WEIGHT: Code = ("29463-7", "LN", "Patient Weight")
SEX_CODES: dict[str, Code] = {"female": ("F", "DCM", "Female"), "male": ("M", "DCM", "Male"),
                              "unknown": ("U", "DCM", "Unknown Sex")}

UNIT_MBQ: Code = ("MBq", "UCUM", "MBq")
UNIT_SECONDS: Code = ("s", "UCUM", "seconds")
UNIT_CM3: Code = ("cm3", "UCUM", "cm3")
UNIT_BQ_PER_MMOL: Code = ("Bq/mmol", "UCUM", "Bq/mmol")
UNIT_KG: Code = ("kg", "UCUM", "kg")
UNIT_YEAR: Code = ("a", "UCUM", "year")
BQ_PER_CI = Decimal("3.7E10")
SECONDS_PER_DAY = Decimal(86400)
SEX = {"female": "F", "male": "M", "other": "O", "unknown": ""}
#: PS3.7 D.3.3.2: identifies the software that wrote the file; a 2.25 UUID v5 of the project's name.
IMPLEMENTATION_CLASS_UID = f"2.25.{uuid.uuid5(uuid.NAMESPACE_URL, 'mibg:implementation').int}"


def _uid(course: CourseRecord, key: str) -> str:
    """A 2.25 UID from a UUID v5 (ISO/IEC 9834-8 §6.3; PS3.5 B.2): stable for the same course and key."""
    name = f"mibg:{course.patient.mrn}:course:{course.course_number}:{key}"
    return f"2.25.{uuid.uuid5(uuid.NAMESPACE_URL, name).int}"


def _code(code: Code) -> Dataset:
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = code
    return item


def _item(relationship: str | None, value_type: str, name: Code) -> Dataset:
    item = Dataset()
    if relationship:
        item.RelationshipType = relationship
    item.ValueType = value_type
    item.ConceptNameCodeSequence = DicomSequence([_code(name)])
    return item


def _children(item: Dataset, children: Sequence[Dataset]) -> Dataset:
    if children:
        item.ContentSequence = DicomSequence(list(children))
    return item


def _ds(value: Decimal) -> str:
    """A Decimal String of at most 16 characters (PS3.5 Table 6.2-1), rounded half-even only if needed."""
    for places in range(10, -1, -1):
        text = format(value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN), "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        if len(text) <= 16:
            return text
    raise ReportInputError("dicom.numeric_value", f"{value} does not fit a DICOM decimal string")


def _dt(value: datetime) -> str:
    """DICOM DT with the UTC offset (PS3.5 Table 6.2-1): YYYYMMDDHHMMSS&ZZXX."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ReportInputError("dicom.datetime", f"{value.isoformat()} has no time zone")
    return value.strftime("%Y%m%d%H%M%S%z")


def _num(relationship: str, name: Code, value: Decimal, unit: Code, children: Sequence[Dataset] = (),
         observed_at: datetime | None = None) -> Dataset:
    item = _item(relationship, "NUM", name)
    measured = Dataset()
    measured.NumericValue = _ds(value)
    measured.MeasurementUnitsCodeSequence = DicomSequence([_code(unit)])
    item.MeasuredValueSequence = DicomSequence([measured])
    if observed_at is not None:
        item.ObservationDateTime = _dt(observed_at)
    return _children(item, children)


def _code_item(relationship: str, name: Code, value: Code, children: Sequence[Dataset] = ()) -> Dataset:
    item = _item(relationship, "CODE", name)
    item.ConceptCodeSequence = DicomSequence([_code(value)])
    return _children(item, children)


def _datetime(relationship: str, name: Code, value: datetime) -> Dataset:
    item = _item(relationship, "DATETIME", name)
    item.DateTime = _dt(value)
    return item


def _uidref(relationship: str, name: Code, value: str) -> Dataset:
    item = _item(relationship, "UIDREF", name)
    item.UID = value
    return item


def _text(relationship: str, name: Code, value: str) -> Dataset:
    item = _item(relationship, "TEXT", name)
    item.TextValue = value
    return item


def _administration_event(course: CourseRecord) -> Dataset:
    """TID 10022 Radiopharmaceutical Administration Event Data."""
    administration = course.administration
    assert administration is not None
    half_life_s = load_protocol().constant("i131_half_life_days") * SECONDS_PER_DAY
    rows: list[Dataset] = [
        _code_item("CONTAINS", AGENT, MIBG_I131, [
            _code_item("HAS PROPERTIES", RADIONUCLIDE, IODINE_131),
            _num("HAS PROPERTIES", HALF_LIFE, half_life_s, UNIT_SECONDS),
        ]),
    ]
    directive = course.directive
    if directive is not None and directive.specific_activity_unit == "Ci/mmol" and directive.specific_activity:
        rows.append(_num("CONTAINS", SPECIFIC_ACTIVITY, directive.specific_activity * BQ_PER_CI, UNIT_BQ_PER_MMOL))
    rows += [
        _uidref("CONTAINS", EVENT_UID, _uid(course, f"administration:{_dt(administration.start)}")),
        _datetime("CONTAINS", START, administration.start),
        _datetime("CONTAINS", STOP, administration.end),
        _num("CONTAINS", ADMINISTERED, administration.administered_mci * MBQ_PER_MCI, UNIT_MBQ),
    ]
    if administration.volume_ml is not None:
        rows.append(_num("CONTAINS", VOLUME, administration.volume_ml, UNIT_CM3))  # 1 mL = 1 cm3
    device = [_code_item("HAS OBS CONTEXT", MEASUREMENT_DEVICE, DOSE_CALIBRATOR)]
    if course.assay is not None:
        pre = course.assay.pre
        rows.append(_num("CONTAINS", PRE_ASSAY, pre.activity_mci * MBQ_PER_MCI, UNIT_MBQ, device, pre.measured_at))
    if administration.residual is not None:
        post = administration.residual
        rows.append(_num("CONTAINS", POST_ASSAY, post.activity_mci * MBQ_PER_MCI, UNIT_MBQ, device, post.measured_at))
    if administration.route.strip().lower() != "intravenous":
        raise ReportInputError("administration.route", "131I-MIBG is given intravenously (clinical-reference §1.4 R5)")
    rows.append(_code_item("CONTAINS", ROUTE, INTRAVENOUS, [_code_item("HAS PROPERTIES", SITE_OF, VIA_VEIN)]))
    container = _item("CONTAINS", "CONTAINER", ADMINISTRATION)
    container.ContinuityOfContent = "SEPARATE"
    return _children(container, rows)


def _weight_kg(course: CourseRecord) -> Decimal | None:
    """The weight the prescription used (the activity is weight x mCi/kg), from the signed directive."""
    return course.directive.weight_kg if course.directive is not None else None


def _age_years(course: CourseRecord, on: datetime) -> int:
    born = course.patient.birth_date
    day = on.date()
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _patient_characteristics(course: CourseRecord) -> Dataset:
    """TID 10024: age (completed years at the start of the administration), sex and the weight the dose used.

    The template's weight row is mandatory when a dose per body weight is reported, as here."""
    administration = course.administration
    assert administration is not None
    rows = [_num("CONTAINS", SUBJECT_AGE, Decimal(_age_years(course, administration.start)), UNIT_YEAR)]
    sex = SEX_CODES.get(course.patient.sex)
    if sex is not None:
        rows.append(_code_item("CONTAINS", SUBJECT_SEX, sex))
    weight = _weight_kg(course)
    if weight is not None:
        rows.append(_num("CONTAINS", PATIENT_WEIGHT, weight, UNIT_KG))
    container = _item("CONTAINS", "CONTAINER", PATIENT_CHARACTERISTICS)
    container.ContinuityOfContent = "SEPARATE"
    return _children(container, rows)


def _comment(course: CourseRecord) -> str:
    parts = [f"131I-MIBG therapy, protocol {course.protocol_label}, course {course.course_number}"]
    if course.directive is not None:
        dose = prescribed_dose(course.directive)
        parts.append(f"prescribed {activity_text(dose.activity.mci)}")
        if course.directive.lot:
            parts.append(f"lot {course.directive.lot}")
    administration = course.administration
    assert administration is not None
    parts.append(f"administered {activity_text(administration.administered_mci)} via {administration.access}")
    return "; ".join(parts) + f"; written by mibg {__version__}"


def rrdsr_dataset(course: CourseRecord, *, manufacturer: str = "mibg project",
                  device_serial_number: str = "mibg") -> Dataset:
    """The RRDSR as a pydicom Dataset (with file meta). Needs ``course.administration``."""
    administration = course.administration
    if administration is None:
        raise ReportInputError("course.administration", "an RRDSR records an administration: none is recorded")
    patient = course.patient
    created = course.document_time
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 192"  # UTF-8 (PS3.3 C.12.1.1.2)
    ds.SOPClassUID = SOP_CLASS
    ds.SOPInstanceUID = _uid(course, "rrdsr:instance")
    ds.InstanceCreationDate = created.strftime("%Y%m%d")
    ds.InstanceCreationTime = created.strftime("%H%M%S")
    ds.TimezoneOffsetFromUTC = created.strftime("%z")
    # Patient module
    ds.PatientName = f"{patient.family}^{patient.given}"
    ds.PatientID = patient.mrn
    ds.PatientBirthDate = patient.birth_date.strftime("%Y%m%d")
    ds.PatientSex = SEX[patient.sex]
    weight = _weight_kg(course)
    if weight is not None:
        ds.PatientWeight = _ds(weight)  # (0010,1030), kg: the weight the weight-based prescription used
    # General Study module
    ds.StudyInstanceUID = _uid(course, "study")
    ds.StudyDate = administration.start.strftime("%Y%m%d")
    ds.StudyTime = administration.start.strftime("%H%M%S")
    ds.ReferringPhysicianName = ""
    ds.StudyID = f"C{course.course_number}"
    ds.AccessionNumber = ""
    ds.StudyDescription = f"131I-MIBG therapy, course {course.course_number}"
    # SR Document Series module
    ds.Modality = "SR"
    ds.SeriesInstanceUID = _uid(course, "rrdsr:series")
    ds.SeriesNumber = 1
    ds.SeriesDescription = "Radiopharmaceutical Radiation Dose"
    ds.ReferencedPerformedProcedureStepSequence = DicomSequence([])
    # General Equipment and Enhanced General Equipment modules
    ds.Manufacturer = manufacturer
    ds.ManufacturerModelName = "mibg"
    ds.DeviceSerialNumber = device_serial_number
    ds.SoftwareVersions = __version__
    if course.site:
        ds.InstitutionName = course.site[:64]
    # SR Document General module
    ds.InstanceNumber = 1
    ds.CompletionFlag = "COMPLETE"
    ds.VerificationFlag = "UNVERIFIED"
    ds.ContentDate = created.strftime("%Y%m%d")
    ds.ContentTime = created.strftime("%H%M%S")
    ds.PerformedProcedureCodeSequence = DicomSequence([])
    # SR Document Content module: TID 10021 root
    ds.ValueType = "CONTAINER"
    ds.ConceptNameCodeSequence = DicomSequence([_code(REPORT)])
    ds.ContinuityOfContent = "SEPARATE"
    template = Dataset()
    template.MappingResource = "DCMR"
    template.TemplateIdentifier = "10021"
    ds.ContentTemplateSequence = DicomSequence([template])
    ds.ContentSequence = DicomSequence([
        _code_item("HAS CONCEPT MOD", ASSOCIATED_PROCEDURE, RADIONUCLIDE_THERAPY, [
            _code_item("HAS CONCEPT MOD", HAS_INTENT, THERAPEUTIC_INTENT),
        ]),
        _administration_event(course),
        _patient_characteristics(course),
        _text("CONTAINS", COMMENT, _comment(course)),
    ])
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SOP_CLASS
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = UID(IMPLEMENTATION_CLASS_UID)
    meta.ImplementationVersionName = f"MIBG_{__version__}"[:16]
    ds.file_meta = meta
    return ds


def rrdsr_bytes(course: CourseRecord, **options: str) -> bytes:
    """The RRDSR as a DICOM Part 10 file (bytes)."""
    buffer = io.BytesIO()
    dcmwrite(buffer, rrdsr_dataset(course, **options), enforce_file_format=True)
    return buffer.getvalue()

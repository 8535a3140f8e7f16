"""Reports and interoperability, built from plain records; no Django here.

The web layer maps its models to the frozen dataclasses of :mod:`mibg.reports.record` (a
:class:`CourseRecord` per course) and calls:

PDF (reportlab; every page names the patient, the protocol version and the software version, "Page X of Y";
the same record gives the same bytes):
    eligibility_checklist_pdf(course) -> bytes
    directive_pdf(course) -> bytes
    administration_record_pdf(course) -> bytes
    course_summary_pdf(course) -> bytes
FHIR R4 (validated with fhir.resources R4B models; exact decimals):
    course_bundle(course, mrn_system=...) -> dict;  course_bundle_json(course, ...) -> str
    import_bundle(json_text_or_dict) -> FhirImport  (taken / refused with reasons)
DICOM Radiopharmaceutical Radiation Dose SR (TID 10021/10022):
    rrdsr_bytes(course) -> bytes;  rrdsr_dataset(course) -> pydicom Dataset
Tables:
    programme_csv(courses) -> str;  programme_xlsx(courses, created=None) -> bytes;  programme_row(course)
    write_csv(rows, columns) -> str  (generic, e.g. audit-trail rows)
A complete example record: sample_course().

Builders raise :class:`ReportInputError` (with ``.field``) for a record they cannot document correctly.
Heavy libraries (reportlab, matplotlib, fhir.resources, pydicom, openpyxl) load only when used.
"""

from __future__ import annotations

import importlib
from typing import Any

from mibg.reports.errors import ReportInputError
from mibg.reports.record import (
    Administration,
    AdverseEventRecord,
    Assay,
    AssayMeasurement,
    ChairDecision,
    CourseRecord,
    Directive,
    DosimetryConstant,
    DosimetrySummary,
    EligibilityRecord,
    ExposureReading,
    IndependentVerification,
    LabResult,
    PatientIdentity,
    Plots,
    ReleaseRecord,
    ResponseRecord,
    Signature,
    StemCellInfusion,
)

_LAZY = {
    "eligibility_checklist_pdf": "mibg.reports.pdf.eligibility",
    "directive_pdf": "mibg.reports.pdf.directive",
    "administration_record_pdf": "mibg.reports.pdf.administration",
    "course_summary_pdf": "mibg.reports.pdf.summary",
    "course_bundle": "mibg.reports.fhir.export",
    "course_bundle_json": "mibg.reports.fhir.export",
    "import_bundle": "mibg.reports.fhir.importer",
    "FhirImport": "mibg.reports.fhir.importer",
    "rrdsr_bytes": "mibg.reports.dicom.rrdsr",
    "rrdsr_dataset": "mibg.reports.dicom.rrdsr",
    "programme_row": "mibg.reports.tables",
    "programme_csv": "mibg.reports.tables",
    "programme_xlsx": "mibg.reports.tables",
    "write_csv": "mibg.reports.tables",
    "PROGRAMME_COLUMNS": "mibg.reports.tables",
    "sample_course": "mibg.reports.sample",
}


def __getattr__(name: str) -> Any:  # PEP 562: load a builder's module on first use
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mibg.reports' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "Administration",
    "AdverseEventRecord",
    "Assay",
    "AssayMeasurement",
    "ChairDecision",
    "CourseRecord",
    "Directive",
    "DosimetryConstant",
    "DosimetrySummary",
    "EligibilityRecord",
    "ExposureReading",
    "IndependentVerification",
    "LabResult",
    "PatientIdentity",
    "Plots",
    "ReleaseRecord",
    "ReportInputError",
    "ResponseRecord",
    "Signature",
    "StemCellInfusion",
    *_LAZY,
]

"""Tabular exports: the programme table (one row per course) as CSV and Excel, and a generic CSV writer for
audit-trail rows.

Units are in the column headers; numbers are written exactly (Decimal text, no rounding); times are written as people
read them, in the site's zone with its abbreviation (mibg.core.times.site_time). CSV follows RFC 4180 (comma, CRLF, quotes doubled). Text that a spreadsheet would
run as a formula (starting with =, +, -, @) is prefixed with an apostrophe (OWASP "CSV injection").
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal

from mibg.core.times import site_time
from mibg.core.units import MBQ_PER_MCI
from mibg.reports.errors import ReportInputError
from mibg.reports.pdf.summary import worst_grades
from mibg.reports.prescription import prescribed_dose
from mibg.reports.record import CourseRecord

PROGRAMME_COLUMNS = (
    "Patient MRN",
    "Patient name",
    "Course",
    "Administration date (YYYY-MM-DD)",
    "Weight (kg)",
    "Dose (mCi/kg)",
    "Prescribed activity (mCi)",
    "Prescribed activity (MBq)",
    "Administered activity (mCi)",
    "Administered activity (MBq)",
    "Whole-body dose (Gy)",
    "Worst ANC grade (CTCAE v5.0)",
    "Worst platelet grade (CTCAE v5.0)",
    "Worst haemoglobin grade (CTCAE v5.0)",
    "Worst adverse-event grade (CTCAE v5.0)",
    "Stem-cell rescue (yes/no)",
    "Stem-cell rescue date (YYYY-MM-DD)",
    "Response",
    "Protocol",
)

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

Cell = str | int | Decimal | date | datetime | bool | None


def programme_row(course: CourseRecord) -> dict[str, Cell]:
    """One course as a row of the programme table (keys are :data:`PROGRAMME_COLUMNS`)."""
    dose = prescribed_dose(course.directive) if course.directive is not None else None
    administration = course.administration
    if administration is not None:
        day: date | None = administration.start.date()
    elif dose is not None and dose.request.administration_time is not None:
        day = dose.request.administration_time.date()
    else:
        day = None
    grades = dict(worst_grades(course.labs, administration.start if administration is not None else None))
    rescue = course.stem_cell_infusion
    return {
        "Patient MRN": course.patient.mrn,
        "Patient name": course.patient.display_name,
        "Course": course.course_number,
        "Administration date (YYYY-MM-DD)": day,
        "Weight (kg)": dose.request.weight_kg if dose else None,
        "Dose (mCi/kg)": dose.request.mci_per_kg if dose else None,
        "Prescribed activity (mCi)": dose.activity.mci if dose else None,
        "Prescribed activity (MBq)": dose.activity.mbq if dose else None,
        "Administered activity (mCi)": administration.administered_mci if administration else None,
        "Administered activity (MBq)": administration.administered_mci * MBQ_PER_MCI if administration else None,
        "Whole-body dose (Gy)": course.dosimetry.whole_body_dose_gy if course.dosimetry else None,
        "Worst ANC grade (CTCAE v5.0)": grades["anc"].grade if "anc" in grades else None,
        "Worst platelet grade (CTCAE v5.0)": grades["platelets"].grade if "platelets" in grades else None,
        "Worst haemoglobin grade (CTCAE v5.0)": grades["hemoglobin"].grade if "hemoglobin" in grades else None,
        "Worst adverse-event grade (CTCAE v5.0)": max((a.grade for a in course.adverse_events), default=None),
        "Stem-cell rescue (yes/no)": rescue is not None,
        "Stem-cell rescue date (YYYY-MM-DD)": rescue.infused_at.date() if rescue else None,
        "Response": f"{course.response.category} ({course.response.criteria})" if course.response else None,
        "Protocol": course.protocol_label,
    }


def cell_text(value: object) -> str:
    """A value as CSV text: exact decimals, times in the site's zone with its abbreviation (mibg.core.times), yes/no, empty for missing."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ReportInputError("csv", f"the time {value:%Y-%m-%d %H:%M} has no UTC offset")
        return site_time(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        raise ReportInputError("csv", "a binary float reached the CSV writer: give numbers as Decimal")
    if isinstance(value, list | tuple):
        return "; ".join(cell_text(v) for v in value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def write_csv(rows: Iterable[Mapping[str, object]], columns: Sequence[str]) -> str:
    """Generic CSV (RFC 4180) of ``rows`` with the given ``columns`` in order, e.g. for the audit export.

    A key that is not in ``columns`` is refused rather than silently dropped.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    known = set(columns)
    for number, row in enumerate(rows, start=1):
        extra = set(row) - known
        if extra:
            raise ReportInputError(f"row {number}", f"has columns not in the header: {', '.join(sorted(extra))}")
        writer.writerow([cell_text(row.get(column)) for column in columns])
    return buffer.getvalue()


def programme_csv(courses: Iterable[CourseRecord]) -> str:
    return write_csv((programme_row(c) for c in courses), PROGRAMME_COLUMNS)


def programme_xlsx(courses: Iterable[CourseRecord], created: datetime | None = None) -> bytes:
    """The programme table as an Excel workbook (openpyxl). Numbers are stored as numbers, dates as dates."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Courses"
    sheet.append(list(PROGRAMME_COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for course in courses:
        row = programme_row(course)
        sheet.append([_excel_value(row[column]) for column in PROGRAMME_COLUMNS])
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, date | datetime):
                cell.number_format = "yyyy-mm-dd"
    for index, column in enumerate(PROGRAMME_COLUMNS, start=1):
        sheet.column_dimensions[sheet.cell(1, index).column_letter].width = max(12, min(40, len(column) + 2))
    sheet.freeze_panes = "A2"
    if created is not None:
        naive = created.replace(tzinfo=None) - (created.utcoffset() or timedelta(0))
        workbook.properties.created = workbook.properties.modified = naive  # stored as UTC (OOXML core properties)
    workbook.properties.creator = "mibg"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _excel_value(value: Cell) -> object:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return cell_text(value)
    return value

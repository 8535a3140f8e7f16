"""The programme table (CSV and Excel) and the generic CSV writer used for the audit export."""

import csv
import dataclasses
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from mibg.reports import (
    PROGRAMME_COLUMNS,
    ReportInputError,
    programme_csv,
    programme_row,
    programme_xlsx,
    write_csv,
)
from mibg.reports.sample import sample_course


@pytest.fixture(scope="module")
def course():
    return sample_course()


def test_every_column_header_states_its_unit_or_scale(course):
    header = next(csv.reader(io.StringIO(programme_csv([course]))))
    assert header == list(PROGRAMME_COLUMNS)
    for expected in ("Weight (kg)", "Dose (mCi/kg)", "Prescribed activity (mCi)", "Prescribed activity (MBq)",
                     "Whole-body dose (Gy)", "Worst ANC grade (CTCAE v5.0)", "Administration date (YYYY-MM-DD)"):
        assert expected in header


def test_a_course_row_has_exact_numbers_from_the_record(course):
    rows = list(csv.DictReader(io.StringIO(programme_csv([course]))))
    row = rows[0]
    assert row["Patient MRN"] == "EX-001"
    assert row["Course"] == "1"
    assert row["Administration date (YYYY-MM-DD)"] == "2026-12-10"
    assert Decimal(row["Weight (kg)"]) == Decimal(22)
    assert Decimal(row["Dose (mCi/kg)"]) == Decimal(18)
    assert Decimal(row["Prescribed activity (mCi)"]) == Decimal(396)  # 22 x 18
    assert Decimal(row["Prescribed activity (MBq)"]) == Decimal(14652)  # 396 x 37
    assert Decimal(row["Administered activity (MBq)"]) == Decimal(row["Administered activity (mCi)"]) * 37
    assert Decimal(row["Whole-body dose (Gy)"]) == Decimal("3.82")
    assert (row["Worst ANC grade (CTCAE v5.0)"], row["Worst platelet grade (CTCAE v5.0)"],
            row["Worst haemoglobin grade (CTCAE v5.0)"], row["Worst adverse-event grade (CTCAE v5.0)"]) == (
        "4", "4", "3", "4")
    assert (row["Stem-cell rescue (yes/no)"], row["Stem-cell rescue date (YYYY-MM-DD)"]) == ("yes", "2026-12-24")
    assert row["Response"] == "PR (INRC 2017)"


def test_a_course_without_administration_leaves_those_cells_empty(course):
    planned = dataclasses.replace(course, administration=None, dosimetry=None, labs=(), adverse_events=(),
                                  stem_cell_infusion=None, response=None)
    row = programme_row(planned)
    assert row["Administered activity (mCi)"] is None
    assert row["Administration date (YYYY-MM-DD)"] == date(2026, 12, 10)  # the planned administration time
    assert row["Stem-cell rescue (yes/no)"] is False
    text = programme_csv([planned])
    assert ",no,," in text


def test_text_that_a_spreadsheet_would_run_as_a_formula_is_neutralised(course):
    patient = dataclasses.replace(course.patient, family="=HYPERLINK(1)")
    text = programme_csv([dataclasses.replace(course, patient=patient)])
    assert "'=HYPERLINK(1)" in text


def test_the_excel_workbook_stores_numbers_as_numbers_and_dates_as_dates(course):
    sheet = load_workbook(io.BytesIO(programme_xlsx([course], course.document_time))).active
    header = [cell.value for cell in sheet[1]]
    assert header == list(PROGRAMME_COLUMNS)
    values = dict(zip(header, [cell.value for cell in sheet[2]], strict=True))
    assert values["Prescribed activity (MBq)"] == 14652
    assert values["Whole-body dose (Gy)"] == pytest.approx(3.82)
    assert values["Administration date (YYYY-MM-DD)"] == datetime(2026, 12, 10)
    assert sheet.freeze_panes == "A2"


def test_the_generic_writer_writes_times_in_the_sites_zone_with_its_abbreviation_and_decimals_exactly():
    when = datetime(2026, 12, 10, 18, 0, tzinfo=UTC)
    text = write_csv([{"at": when, "user": "nora", "value": Decimal("0.10"), "ok": True, "note": None}],
                     ["at", "user", "value", "ok", "note"])
    assert text == "at,user,value,ok,note\r\n2026-12-10 10:00 PST,nora,0.10,yes,\r\n"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"at": datetime(2026, 12, 10, 18, 0)}, "no UTC offset"),
        ({"at": 0.1}, "binary float"),
        ({"other": "x"}, "not in the header"),
    ],
)
def test_the_generic_writer_refuses_what_it_cannot_write_faithfully(row, message):
    with pytest.raises(ReportInputError) as error:
        write_csv([row], ["at"])
    assert message in error.value.message


def test_the_summary_worst_haemoglobin_is_the_nadir_8_9_after_the_infusion_not_the_first_grade_2_value():
    from mibg.reports.pdf.summary import worst_grades
    from mibg.reports.record import LabResult

    infusion = datetime(2026, 12, 10, 18, 0, tzinfo=UTC)
    labs = [
        LabResult("hemoglobin", Decimal("7.5"), datetime(2026, 12, 7, 15, 0, tzinfo=UTC), Decimal("11.5"), None, 3),
        LabResult("hemoglobin", Decimal("9.8"), datetime(2026, 12, 14, 15, 0, tzinfo=UTC), Decimal("11.5"), None, 2),
        LabResult("hemoglobin", Decimal("8.9"), datetime(2026, 12, 21, 15, 0, tzinfo=UTC), Decimal("11.5"), None, 2),
        LabResult("alt", Decimal("190"), datetime(2026, 12, 14, 15, 0, tzinfo=UTC), None, Decimal("40"), 2),
        LabResult("alt", Decimal("130"), datetime(2026, 12, 12, 15, 0, tzinfo=UTC), None, Decimal("40"), 2),
    ]
    worst = dict(worst_grades(labs, infusion))
    # decisions.md A32: both post-infusion Hb values are grade 2 (<10.0 - 8.0 g/dL); the nadir is 8.9 on 21 Dec.
    # The 7.5 g/dL of 7 Dec is before the infusion: the course's baseline (A33), not its toxicity.
    assert (worst["hemoglobin"].value, worst["hemoglobin"].grade) == (Decimal("8.9"), 2)
    # ALT peak: 190 / 40 = 4.75 x ULN beats 130 / 40 = 3.25 x ULN, both grade 2.
    assert worst["alt"].value == Decimal("190")

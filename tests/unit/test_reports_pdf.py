"""The PDF documents of a course, read back with pypdf: the numbers, the furniture on every page, and the
same bytes for the same record.

Sample: EX-001, 22.0 kg x 18 mCi/kg = 396 mCi; 396 x 37 = 14652 MBq = 14.652 GBq (clinical-reference §2.3).
"""

import dataclasses
import io
import math
import re
from datetime import UTC, timedelta
from decimal import Decimal

import pytest
from pypdf import PdfReader

from mibg import __version__
from mibg.core.dosing import DoseRequest, plan_dose
from mibg.core.units import Activity
from mibg.reports import (
    ReportInputError,
    administration_record_pdf,
    course_summary_pdf,
    directive_pdf,
    eligibility_checklist_pdf,
)
from mibg.reports.sample import sample_course

BUILDERS = {
    "eligibility": eligibility_checklist_pdf,
    "directive": directive_pdf,
    "administration": administration_record_pdf,
    "summary": course_summary_pdf,
}


@pytest.fixture(scope="module")
def course():
    return sample_course()


@pytest.fixture(scope="module")
def pdfs(course):
    return {name: build(course) for name, build in BUILDERS.items()}


def pages_text(data: bytes) -> list[str]:
    """Each page's text with runs of whitespace collapsed (line breaks fall anywhere in wrapped text)."""
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(data)).pages]


def text_of(data: bytes) -> str:
    return " ".join(pages_text(data))


@pytest.mark.parametrize("name", list(BUILDERS))
def test_every_page_says_page_x_of_y_and_names_the_patient_protocol_and_software(pdfs, course, name):
    pages = pages_text(pdfs[name])
    assert len(pages) >= 1
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in text
        assert "MRN EX-001" in text
        assert "EXAMPLE, Ava" in text
        assert course.protocol_label in text
        assert f"mibg {__version__}" in text


@pytest.mark.parametrize("name", list(BUILDERS))
def test_the_same_record_gives_the_same_bytes(course, pdfs, name):
    assert BUILDERS[name](course) == pdfs[name]


@pytest.mark.parametrize("name", list(BUILDERS))
def test_the_creation_date_is_the_record_time_not_the_clock(pdfs, course, name):
    created = PdfReader(io.BytesIO(pdfs[name])).metadata.creation_date
    assert created == course.document_time
    assert created.utcoffset() == timedelta(hours=-8)


def test_the_directive_shows_the_activity_in_mci_mbq_and_gbq_from_weight_and_dose(pdfs):
    text = text_of(pdfs["directive"])
    assert "396 mCi (14652 MBq; 14.652 GBq)" in text  # 22.0 kg x 18 mCi/kg; x 37 MBq/mCi
    assert "22.0 kg (measured 2026-12-07)" in text
    assert "18 mCi/kg (666 MBq/kg)" in text  # 18 x 37 = 666


def test_the_directive_and_the_checklist_write_the_sex_as_a_word_not_a_code(pdfs):
    # The sample patient is recorded with the FHIR code "female".
    assert "2020-04-17; Female" in text_of(pdfs["directive"])
    assert "Female" in text_of(pdfs["eligibility"])


def test_the_directive_writes_the_formula_with_its_numbers(pdfs):
    text = text_of(pdfs["directive"])
    assert "A = weight x dose = 22.0 kg x 18 mCi/kg = 396.0 mCi" in text
    assert "14.652 GBq" in text


def test_the_directive_shows_preparation_lot_mass_volume_duration_rate_and_calibration(pdfs):
    text = text_of(pdfs["directive"])
    assert "AZEDRA (iobenguane I 131), Progenics" in text
    assert "AZ-26-1187" in text
    assert "2500 mCi/mg" in text
    # decisions.md A28: mass at the lot's calibration, 22 h before the infusion: 396 x exp(0.0036008 x 22) =
    # 396 x 1.08244 = 428.646 mCi; / 2500 mCi/mg = 0.17146 -> 0.1715 mg (not 396 / 2500 = 0.1584 mg).
    assert "0.1715 mg" in text
    assert "0.1584 mg" not in text
    assert "30 mL" in text
    assert "30 min" in text
    assert "60 mL/h" in text  # 30 mL / 0.5 h
    assert "Activity to draw at calibration time" in text
    assert "2026-12-09 12:00 PST" in text


def test_the_directive_carries_the_signature_and_the_independent_verification(pdfs):
    text = text_of(pdfs["directive"])
    assert "Dr A. Patel" in text
    assert "2026-12-09 16:00 PST" in text
    assert "I direct the administration of this dosage (10 CFR 35.40)" in text
    assert "MATCHES the directive" in text
    assert "R. Chen, MS DABR" in text


def test_an_unsigned_unverified_directive_says_so_and_leaves_signature_lines(course):
    unsigned = dataclasses.replace(course, directive=dataclasses.replace(course.directive, signatures=(),
                                                                          verification=None))
    text = text_of(directive_pdf(unsigned))
    assert "NOT SIGNED" in text
    assert "Independent verification pending" in text
    assert "Authorised user (physician)" in text


def test_a_blocked_plan_is_printed_as_blocked_not_as_a_directive(course):
    plan = plan_dose(DoseRequest(weight_kg=Decimal("22.0"), mci_per_kg=Decimal(19), cd34_per_kg=Decimal("5E6")))
    blocked = dataclasses.replace(course, directive=dataclasses.replace(course.directive, plan=plan))
    text = text_of(directive_pdf(blocked))
    assert "BLOCKED" in text
    assert "418 mCi (15466 MBq; 15.466 GBq)" in text  # 22.0 x 19 = 418; 418 x 37 = 15466


def test_a_directive_whose_weight_disagrees_with_its_plan_is_refused(course):
    wrong = dataclasses.replace(course, directive=dataclasses.replace(course.directive, weight_kg=Decimal("22.5")))
    with pytest.raises(ReportInputError) as error:
        directive_pdf(wrong)
    assert error.value.field == "directive.weight_kg"


def test_a_plan_whose_activity_is_not_weight_times_dose_is_refused(course):
    plan = course.directive.plan.replace(activity=Activity(Decimal(395)))
    wrong = dataclasses.replace(course, directive=dataclasses.replace(course.directive, plan=plan))
    with pytest.raises(ReportInputError) as error:
        directive_pdf(wrong)
    assert error.value.field == "directive.plan.activity_mci"


def test_the_checklist_lists_every_criterion_with_its_status_reason_and_protocol_wording(pdfs, course):
    text = text_of(pdfs["eligibility"])
    assert "Overall: ELIGIBLE" in text
    for criterion in course.eligibility.result.criteria:
        assert re.search(rf"\b{criterion.id}\b", text), criterion.id
    h1 = course.eligibility.result.criterion("H1")
    assert h1.reason in text
    assert "absolute neutrophil count (ANC) >.750 x 10E9/L" in text
    assert "2026-12-07 07:30 PST" in text  # an input with its date


def test_the_checklist_shows_chair_decisions_and_signatures(course):
    from mibg.reports import ChairDecision, Signature

    chair = Signature("Prof K. Vo", "Study chair", course.eligibility.evaluated_at + timedelta(hours=2),
                      "I decide this criterion as recorded")
    record = dataclasses.replace(course.eligibility, chair_decisions=(
        ChairDecision("H5", True, "Thrombocytopenia from marrow metastasis; proceed", chair),))
    text = text_of(eligibility_checklist_pdf(dataclasses.replace(course, eligibility=record)))
    assert "Thrombocytopenia from marrow metastasis; proceed" in text
    assert "Prof K. Vo (Study chair)" in text
    assert "I reviewed every criterion and confirm eligibility" in text


def test_the_checklist_names_missing_data_as_the_form_does_and_its_sources_as_the_screens_do(course):
    """Issue 15: no field path ("labs.anc") and no citation of the code's notes ("decisions.md A2",
    "clinical-reference §1.3") on paper: Nora reads what to enter by the form's name for it, and each source by its
    name and title (product decision A2, clinical reference section 1.3 with its title)."""
    from mibg.core.eligibility import EligibilityResult

    result = course.eligibility.result
    criteria = tuple(c._replace(missing=("labs.anc", "consent.signed")) if c.id == "H1" else c for c in result.criteria)
    unsure = EligibilityResult(result.protocol_label, result.treatment_date, result.overall, criteria)
    record = dataclasses.replace(course.eligibility, result=unsure,
                                 missing_labels={"labs.anc": "Laboratory results: ANC"})
    text = " ".join(text_of(eligibility_checklist_pdf(dataclasses.replace(course, eligibility=record))).split())
    assert "Missing: Laboratory results: ANC, consent signed" in text
    assert "labs.anc" not in text
    assert "product decision A2 (" in text
    assert "clinical reference section 1.3 (" in text
    assert not re.search(r"decisions\.md|clinical-reference|§|\bdecisions [A-Z]\d", text)


def test_the_checklist_warns_when_evaluated_under_another_protocol_version(course):
    other = dataclasses.replace(course, protocol_label="NCT01370330 v1.0.0")
    assert "Evaluated under NCT01370330 v1.1.0" in text_of(eligibility_checklist_pdf(other))


def test_the_administration_record_shows_assay_residual_administered_activity_and_readings(pdfs):
    text = text_of(pdfs["administration"])
    assert "399.8 mCi (14793 MBq; 14.793 GBq) at 2026-12-10 08:30 PST" in text  # 399.8 x 37 = 14792.6
    assert "4.1 mCi (152 MBq; 0.152 GBq)" in text
    assert "393.5 mCi (14561 MBq; 14.561 GBq)" in text
    assert "Capintec CRC-55tR #2" in text
    assert "60.0" in text
    assert "1.7" in text
    assert "Written instructions to the parent or guardian given" in text


def test_a_possible_medical_event_is_printed_as_a_banner(course):
    flagged = dataclasses.replace(course, administration=dataclasses.replace(
        course.administration, possible_medical_event=True, deviations=("Line occlusion; infusion stopped at 70 %",)))
    text = text_of(administration_record_pdf(flagged))
    assert "POSSIBLE MEDICAL EVENT" in text
    assert "Line occlusion; infusion stopped at 70 %" in text


def test_the_summary_adds_dosimetry_worst_grades_adverse_events_rescue_and_response(pdfs):
    text = text_of(pdfs["summary"])
    for section in ("1. Eligibility", "2. Written directive", "3. Administration and release",
                    "4. Whole-body dosimetry", "5. Blood counts", "6. Adverse events", "7. Stem-cell rescue"):
        assert section in text
    assert "3.82 Gy" in text
    assert "2.55 Gy" in text  # electron-only lower bound
    assert "Absolute neutrophil count (LOINC 751-8) grade 4" in text
    assert "Platelet count decreased 4" in text
    assert "PR by INRC 2017 on 2027-02-04" in text
    assert "2.5 x 10^6 CD34+/kg" in text


def test_documents_for_sections_not_recorded_are_refused_with_the_missing_field(course):
    empty = dataclasses.replace(course, eligibility=None, directive=None, assay=None, administration=None)
    for build, field in ((eligibility_checklist_pdf, "course.eligibility"), (directive_pdf, "course.directive"),
                         (administration_record_pdf, "course.administration")):
        with pytest.raises(ReportInputError) as error:
            build(empty)
        assert error.value.field == field
    assert "Not recorded for this course." in text_of(course_summary_pdf(empty))


def test_symbols_outside_the_pdf_font_are_spelled_out_not_dropped(course):
    release = dataclasses.replace(course.release, criterion="≤ 2 mR/h at 1 m")
    text = text_of(administration_record_pdf(dataclasses.replace(course, release=release)))
    assert "<= 2 mR/h at 1 m" in text


def test_a_record_time_without_a_time_zone_is_refused():
    from datetime import datetime

    with pytest.raises(ReportInputError) as error:
        dataclasses.replace(sample_course(), document_time=datetime(2027, 1, 15, 17, 0))
    assert error.value.field == "course.document_time"


def test_a_time_given_in_utc_prints_in_the_sites_zone_with_its_abbreviation(course):
    utc = UTC
    moved = dataclasses.replace(course, document_time=course.document_time.astimezone(utc))
    assert "created 2027-01-15 17:00 PST" in text_of(directive_pdf(moved))


# Sample: calibration 2026-12-09 12:00-08:00, administration 2026-12-10 10:00-08:00, so the activity is drawn
# 22 h before it is given: factor = exp(ln2 x 22 h / (8.0207 d x 24 h/d)) = exp(0.0792187) = 1.08244
# (clinical-reference §2.4); 396 mCi x 1.08244 = 428.6 mCi to draw at calibration.
HAND_FACTOR = math.exp(math.log(2) * 22 / (8.0207 * 24))


@pytest.mark.parametrize("document", ["directive", "summary"])
def test_dr_patel_reads_the_decay_factor_beside_the_activity_to_draw_in_the_pdf(pdfs, document):
    text = " ".join(text_of(pdfs[document]).split())
    found = re.search(r"Activity to draw at calibration time (\S+) mCi \(\S+ MBq; \S+ GBq\) \(decay factor (\S+);", text)
    assert found is not None, "the activity to draw is printed with its decay factor"
    assert "None" not in found.group(0)
    assert float(found.group(2)) == pytest.approx(HAND_FACTOR, rel=1e-9)
    assert found.group(1) == "428.6"
    assert "calibration 22 h before administration; T1/2 8.0207 d" in text


def test_the_order_sheet_gives_the_volume_to_draw_and_the_diluent_at_the_calibration_time(pdfs):
    text = " ".join(text_of(pdfs["directive"]).split())
    # decisions.md A38, AZEDRA 15 mCi/mL at calibration (label): 396 mCi x exp(0.0036008 x 22 h) = 428.646 mCi
    # at calibration; / 15 = 28.576 -> 28.58 mL to draw; 30 mL final - 28.576 = 1.424 -> 1.42 mL of saline.
    assert "Volume to draw at calibration time 28.58 mL" in text
    assert "Diluent (0.9 % NaCl) to the final volume 1.42 mL" in text


# ---- layout: no mostly-blank first page, no orphaned rows, table heads repeat -----------------------------------


def test_the_course_summary_starts_part_1_on_its_first_page_not_after_a_page_of_8_rows(pdfs):
    from pypdf import PdfReader

    first = PdfReader(io.BytesIO(pdfs["summary"])).pages[0].extract_text()
    assert "Course summary: course 1" in first
    assert "1. Eligibility" in first


def _table_pages(space_above, rows):
    """Render a heading-less table of ``rows`` body rows under a spacer of ``space_above`` points."""
    from pypdf import PdfReader
    from reportlab.lib.pagesizes import letter
    from reportlab.platypus import SimpleDocTemplate, Spacer

    from mibg.reports.pdf.common import grid

    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=letter)
    document.build([Spacer(1, space_above),
                    grid(["Reading time", "mR/h"], [[f"row-{i:02d}", str(i)] for i in range(rows)], [0.5, 0.5])])
    return [page.extract_text() for page in PdfReader(io.BytesIO(buffer.getvalue())).pages]


@pytest.mark.parametrize("space_above", [560, 580, 600, 610, 620, 630])
def test_a_table_never_leaves_one_or_two_rows_alone_on_a_page_and_repeats_its_head(space_above):
    for rows in (4, 5, 6, 40):
        pages = _table_pages(space_above, rows)
        counts = [page.count("row-") for page in pages]
        assert sum(counts) == rows
        for page, count in zip(pages, counts, strict=True):
            if count:
                assert count >= 3 or count == rows, (space_above, rows, counts)
                assert "Reading time" in page  # the head on every page that holds rows


def test_the_summary_worst_grade_table_shows_the_baseline_clause_only_for_the_terms_that_have_one(course):
    """decisions.md A33: the clause is shown for creatinine (CTCAE grades it against the baseline too); for a count
    (no baseline clause in CTCAE v5.0) the column says '-'."""
    clause = "graded against the baseline 0.4 mg/dL (pre-infusion value, collected 2026-12-07 07:30 PST)"
    labs = (*course.labs, dataclasses.replace(course.labs[6], value=Decimal("1.3"), collected_at=course.labs[7].collected_at,
                                              grade=3, clause=clause))
    text = text_of(course_summary_pdf(dataclasses.replace(course, labs=labs)))
    assert "Creatinine (LOINC 2160-0) grade 3 1.3 mg/dL" in text
    assert clause in text
    assert re.search(r"Absolute neutrophil count \(LOINC 751-8\) grade 4 0\.3 10\^9/L 2026-12-24 09:00 PST - 3 ", text), text

"""The plain input records refuse what a document could not show correctly; numbers print exactly or with
the stated rounding (decisions.md "Units")."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

import mibg.reports
from mibg.reports import (
    Administration,
    LabResult,
    PatientIdentity,
    ReportInputError,
    Signature,
)
from mibg.reports.numbers import activity_text, as_entered, exact, show, when

T = datetime(2026, 12, 10, 10, 0, tzinfo=UTC)


def test_an_activity_is_printed_in_mci_with_mbq_and_gbq_beside_it():
    assert activity_text(Decimal(396)) == "396 mCi (14652 MBq; 14.652 GBq)"  # 396 x 37 = 14652
    # 19.35 kg x 18.5 mCi/kg = 357.975 mCi = 13245.075 MBq: longer than the display precision, so rounded
    assert activity_text(Decimal("357.975")) == "358.0 mCi (13245 MBq; 13.245 GBq)"


def test_exact_values_print_in_full_and_longer_ones_round_half_to_even():
    assert show(Decimal("396.0"), 1) == "396"
    assert show(Decimal("0.125"), 2) == "0.12"
    assert show(Decimal("0.135"), 2) == "0.14"
    assert exact(Decimal("1E+3")) == "1000"
    assert as_entered(Decimal("60.0")) == "60.0"
    assert as_entered(Decimal("1.602176634E-13")) == "1.602176634E-13"


def test_times_print_in_the_sites_zone_with_its_abbreviation():
    assert when(T) == "2026-12-10 02:00 PST"
    assert when(T.replace(month=7)) == "2026-07-10 03:00 PDT"
    assert when(date(2026, 12, 10)) == "2026-12-10"
    with pytest.raises(ReportInputError):
        when(datetime(2026, 12, 10, 10, 0))


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: PatientIdentity("Example", "Ava", " ", date(2020, 4, 17), "female"), "patient.mrn"),
        (lambda: PatientIdentity("Example", "Ava", "EX-1", date(2020, 4, 17), "F"), "patient.sex"),
        (lambda: Signature("Dr A", "AU", datetime(2026, 12, 9, 16, 0), "I direct"), "signature.signed_at"),
        (lambda: Administration(T, T.replace(hour=9), Decimal(396)), "administration.end"),
        (lambda: Administration(T, T, 396.0), "administration.administered_mci"),
        (lambda: LabResult("glucose", Decimal(5), T), "lab.test"),
        (lambda: LabResult("anc", Decimal(5), T, grade=7), "lab.grade"),
    ],
)
def test_records_refuse_bad_values_naming_the_field(build, field):
    with pytest.raises(ReportInputError) as error:
        build()
    assert error.value.field == field


def test_the_package_exposes_its_builders_lazily_and_refuses_unknown_names():
    assert callable(mibg.reports.directive_pdf)
    with pytest.raises(AttributeError):
        _ = mibg.reports.no_such_builder


def test_the_reports_package_does_not_import_django():
    import subprocess
    import sys

    code = ("import sys, mibg.reports as r; r.sample_course; r.directive_pdf; r.course_bundle_json; r.rrdsr_bytes; "
            "r.programme_csv; print('django' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert result.stdout.strip() == "False"

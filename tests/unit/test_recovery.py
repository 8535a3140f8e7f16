"""Count nadir and recovery after a course. The expected numbers are worked out by hand in the comments."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from mibg.core.errors import InputError
from mibg.core.labs import parse_labs_csv
from mibg.core.recovery import (
    Measurement,
    RecoveryStatus,
    TransfusionEvent,
    course_recovery,
    series_from_labs,
)
from mibg.protocol import load_protocol

PST = timezone(timedelta(hours=-8))
INFUSION = datetime(2026, 3, 2, 10, 0, tzinfo=PST)


def at(day: int, hour: int = 8, minute: int = 0) -> datetime:
    """A time on calendar day ``day`` after the infusion day (day 0 = 2 March 2026)."""
    return datetime(2026, 3, 2, hour, minute, tzinfo=PST) + timedelta(days=day)


def series(*pairs: tuple[int, str]) -> list[Measurement]:
    return [Measurement(at(day), Decimal(value)) for day, value in pairs]


# The hand-built course: day -> ANC and platelets (10^9/L); a platelet transfusion on day 19 at 14:00.
ANC = series((-1, "2.1"), (7, "1.2"), (14, "0.3"), (18, "0.2"), (21, "0.4"), (25, "0.7"), (28, "1.1"), (32, "1.5"))
PLATELETS = series((-1, "150"), (7, "80"), (14, "30"), (18, "12"), (21, "35"), (25, "28"), (28, "40"), (32, "60"))
HEMOGLOBIN = series((-1, "11.0"), (14, "8.4"), (18, "7.6"), (21, "9.0"))
PLATELET_TRANSFUSION = TransfusionEvent("platelets", at(19, 14))


@pytest.fixture
def course():
    return course_recovery(
        INFUSION, anc=ANC, platelets=PLATELETS, hemoglobin=HEMOGLOBIN, transfusions=[PLATELET_TRANSFUSION]
    )


def test_the_nadir_of_each_series_and_its_day_after_infusion(course):
    assert (course.anc.nadir, course.anc.nadir_day) == (Decimal("0.2"), 18)
    assert (course.platelets.nadir, course.platelets.nadir_day) == (Decimal("12"), 18)
    assert (course.hemoglobin.nadir, course.hemoglobin.nadir_day) == (Decimal("7.6"), 18)
    assert course.anc.nadir_at == at(18)


def test_days_below_grade_4_are_counted_by_calendar_day_carrying_the_last_value_forward(course):
    # ANC < 0.5 from day 14 (0.3) until the day-25 value 0.7: days 14..24 = 11 days.
    assert course.anc.grade4_below == Decimal("0.5")
    assert (course.anc.days_below_grade4, course.anc.first_day_below_grade4, course.anc.last_day_below_grade4) == (11, 14, 24)
    # Platelets < 25 from day 18 (12) until day 21 (35): days 18, 19, 20 = 3 days; day 14 (30) is not below.
    assert course.platelets.grade4_below == Decimal("25")
    assert course.platelets.days_below_grade4 == 3
    assert course.platelets.below_grade4_at_last_measurement is False
    # Anemia grade 4 is clinical: no day count for haemoglobin.
    assert course.hemoglobin.grade4_below is None
    assert course.hemoglobin.days_below_grade4 is None


def test_a_platelet_transfusion_delays_recovery_until_counts_stand_without_it(course):
    # Counts fell on day 14 (ANC 0.3). Day 21: ANC 0.4 fails. Day 25: ANC 0.7 and platelets 28 pass the counts,
    # but 08:00 on day 25 is within 7 days of the transfusion at 14:00 on day 19. Day 28 and day 32 qualify.
    recovery = course.recovery
    assert recovery.status is RecoveryStatus.RECOVERED
    assert recovery.fell_on_day == 14
    assert recovery.day == 28
    assert recovery.on == datetime(2026, 3, 30).date()
    assert recovery.delayed_by_transfusion == (25,)
    assert "within 7 days after the platelet transfusion of day 19" in " ".join(
        next(a for a in recovery.assessments if a.day == 25).reasons
    )


def test_without_the_transfusion_the_same_counts_recover_on_day_25():
    recovery = course_recovery(INFUSION, anc=ANC, platelets=PLATELETS).recovery
    assert (recovery.status, recovery.day, recovery.delayed_by_transfusion) == (RecoveryStatus.RECOVERED, 25, ())


def test_the_transfusion_window_is_the_site_parameter_of_the_protocol_definition():
    protocol = load_protocol().with_site_parameter("transfusion_lookback_days", Decimal(5), "test: a 5-day window")
    result = course_recovery(INFUSION, anc=ANC, platelets=PLATELETS, transfusions=[PLATELET_TRANSFUSION], protocol=protocol)
    # Five days after day 19 14:00 ends on day 24 14:00, so the day-25 count stands.
    assert result.recovery.day == 25
    assert {p.name: p.value for p in result.parameters}["transfusion_lookback_days"] == Decimal(5)


def test_the_recovery_thresholds_are_read_from_the_protocol_definition(course):
    parameters = {p.name: p for p in course.parameters}
    assert parameters["recovery_anc_10e9_per_l"].value == Decimal("0.5")
    assert parameters["recovery_platelets_10e9_per_l"].value == Decimal("20")
    assert parameters["transfusion_lookback_days"].value == Decimal("7")
    assert "site parameter" in parameters["recovery_anc_10e9_per_l"].source


def _recovery_day(anc, platelets, transfusions=(), **kwargs):
    return course_recovery(INFUSION, anc=anc, platelets=platelets, transfusions=transfusions, **kwargs).recovery


def test_counts_exactly_at_the_thresholds_do_not_qualify():
    # Recovery needs ANC > 0.5 and platelets > 20: 0.5 and 20 themselves fail.
    anc = series((10, "0.2"), (20, "0.5"), (22, "0.6"), (24, "0.6"))
    platelets = series((10, "10"), (20, "25"), (22, "20"), (24, "21"))
    recovery = _recovery_day(anc, platelets)
    assert recovery.status is RecoveryStatus.UNCONFIRMED  # only day 24 qualifies
    assert recovery.day == 24


def test_a_count_exactly_7_days_after_a_platelet_transfusion_is_still_within_the_window():
    anc = series((5, "0.2"), (17, "1.0"), (18, "1.0"), (19, "1.0"))
    platelets = series((5, "10"), (17, "30"), (18, "30"), (19, "30"))
    transfusion = [TransfusionEvent("platelets", at(10, 8, 0))]
    assert _recovery_day(anc, platelets, transfusion).day == 18  # 08:00 on day 17 is exactly 7 x 24 h later
    later = [Measurement(at(17, 8, 1), m.value) if m.at == at(17) else m for m in anc]
    later_platelets = [Measurement(at(17, 8, 1), m.value) if m.at == at(17) else m for m in platelets]
    assert _recovery_day(later, later_platelets, transfusion).day == 17  # one minute past the window


def test_a_red_cell_transfusion_does_not_affect_platelet_recovery():
    anc = series((5, "0.2"), (17, "1.0"), (18, "1.0"))
    platelets = series((5, "10"), (17, "30"), (18, "30"))
    assert _recovery_day(anc, platelets, [TransfusionEvent("red_cells", at(15))]).day == 17


def test_recovery_must_be_sustained_over_consecutive_assessed_days():
    anc = series((10, "0.2"), (20, "0.9"), (22, "0.4"), (24, "0.9"), (26, "1.0"))
    platelets = series((10, "10"), (20, "30"), (22, "30"), (24, "30"), (26, "30"))
    # Day 20 qualifies but day 22 fails (ANC 0.4); days 24 and 26 qualify.
    recovery = _recovery_day(anc, platelets)
    assert recovery.day == 24
    assert _recovery_day(anc, platelets, sustained_assessments=3).status is RecoveryStatus.UNCONFIRMED


def test_a_day_with_only_one_count_breaks_a_run_when_it_fails_and_is_skipped_when_it_passes():
    platelets = series((10, "10"), (20, "30"), (22, "30"), (23, "30"))
    failing = series((10, "0.2"), (20, "0.9"), (21, "0.4"), (22, "0.9"), (23, "0.9"))
    assert _recovery_day(failing, platelets).day == 22
    passing = series((10, "0.2"), (20, "0.9"), (21, "0.9"), (22, "0.9"), (23, "0.9"))
    assert _recovery_day(passing, platelets).day == 20


def test_a_later_fall_is_reported_beside_the_recovery_day():
    anc = series((10, "0.2"), (20, "0.9"), (21, "0.9"), (30, "0.3"))
    platelets = series((10, "10"), (20, "30"), (21, "30"), (30, "30"))
    recovery = _recovery_day(anc, platelets)
    assert (recovery.day, recovery.later_failures) == (20, (30,))


def test_counts_that_never_fall_have_nothing_to_recover_from():
    recovery = _recovery_day(series((7, "1.2"), (14, "0.9")), series((7, "100"), (14, "60")))
    assert recovery.status is RecoveryStatus.NOT_SUPPRESSED
    assert recovery.day is None


def test_counts_still_low_at_the_last_assessment_have_not_recovered():
    recovery = _recovery_day(series((7, "1.2"), (14, "0.3")), series((7, "100"), (14, "15")))
    assert (recovery.status, recovery.day, recovery.fell_on_day) == (RecoveryStatus.NOT_RECOVERED, None, 14)


def test_no_counts_after_the_infusion_is_no_data():
    assert _recovery_day(series((-2, "1.0")), []).status is RecoveryStatus.NO_DATA


def test_baseline_values_are_plotted_but_do_not_make_the_nadir():
    result = course_recovery(INFUSION, anc=series((-1, "0.1"), (10, "0.4")), platelets=series((10, "15")))
    assert result.anc.nadir == Decimal("0.4")
    assert [p.day for p in result.anc.points] == [-1, 10]


def test_days_are_calendar_days_in_the_infusion_time_zone():
    infusion = datetime(2026, 3, 2, 22, 0, tzinfo=PST)
    late_same_evening = datetime(2026, 3, 3, 6, 30, tzinfo=UTC)  # 22:30 on 2 March in PST
    after_midnight = datetime(2026, 3, 3, 8, 30, tzinfo=UTC)  # 00:30 on 3 March in PST
    result = course_recovery(
        infusion,
        anc=[Measurement(late_same_evening, Decimal("0.4")), Measurement(after_midnight, Decimal("0.3"))],
        platelets=[],
    )
    assert [p.day for p in result.anc.points] == [0, 1]
    assert result.anc.points[0].elapsed_days == Decimal(30) / Decimal(1440)


def test_the_plot_data_has_points_grade_bands_and_transfusions(course):
    supported = [p.day for p in course.platelets.points if p.transfusion_supported]
    assert supported == [21, 25]
    assert {b.grade for b in course.anc.bands} == {2, 3, 4}
    assert [(t.product, t.day) for t in course.transfusions] == [("platelets", 19)]
    data = json.loads(json.dumps(course.to_json()))
    assert data["recovery"]["day"] == 28
    assert data["series"]["anc"]["nadir"] == "0.2"
    grade4 = next(b for b in data["series"]["platelets"]["bands"] if b["grade"] == 4)
    assert (grade4["lower"], grade4["upper"], grade4["upper_inclusive"]) == (None, "25.0", False)


def test_a_reference_lln_adds_the_grade_1_band_to_the_plot():
    result = course_recovery(INFUSION, anc=ANC, platelets=PLATELETS, lln={"platelets": Decimal("150")})
    assert {b.grade for b in result.platelets.bands} == {0, 1, 2, 3, 4}


def test_the_rules_are_stated_in_the_result(course):
    assert "infusion day = day 0" in course.day_rule
    assert "sustained over 2 assessed days" in course.recovery.rule
    assert "within 7 days after a platelet transfusion" in course.recovery.rule


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"infusion_at": datetime(2026, 3, 2, 10, 0)}, "infusion_at"),
        ({"anc": [Measurement(at(1), 0.5)]}, "anc[0].value"),  # type: ignore[arg-type]
        ({"anc": [Measurement(at(1), Decimal("-1"))]}, "anc[0].value"),
        ({"platelets": [Measurement(at(1), Decimal(1)), Measurement(datetime(2026, 3, 3), Decimal(1))]}, "platelets[1].at"),
        ({"transfusions": [TransfusionEvent("plasma", at(3))]}, "transfusions[0].product"),  # type: ignore[arg-type]
    ],
)
def test_bad_input_is_refused_naming_the_item(kwargs, field):
    arguments = {"infusion_at": INFUSION, "anc": [], "platelets": []} | kwargs
    infusion_at = arguments.pop("infusion_at")
    with pytest.raises(InputError) as caught:
        course_recovery(infusion_at, **arguments)
    assert caught.value.field == field


def test_a_series_can_be_built_from_a_parsed_labs_file():
    text = (Path(__file__).resolve().parents[2] / "examples" / "labs" / "course-1-labs.csv").read_text(encoding="utf-8")
    labs = parse_labs_csv(text).values()
    anc = series_from_labs(labs, "anc")
    assert [m.value for m in anc] == [Decimal("2.1"), Decimal("0.3"), Decimal("0.9")]
    hemoglobin = series_from_labs(labs, "hemoglobin")
    assert hemoglobin[1].value == Decimal("7.8")  # 78 g/L

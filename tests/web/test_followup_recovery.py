"""Count recovery of one course: nadirs, days below grade 4, the recovery day, and the plot (inline SVG, PNG)."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from mibg.web.followup import services


@pytest.fixture
def course(make_course, people):
    """Infused 20 days ago at 09:00 (day 0). Counts fall to a nadir on day 9, a platelet transfusion on day 9 at
    14:00 props up the platelet count until day 16 at 14:00 (7-day window, decisions.md A8), and the counts
    recover from day 17."""
    course = make_course(until="follow-up", days_ahead=-20)
    start = timezone.localtime(course.administrations.get().started_at)

    def at(day, hour=8):
        return (start + timedelta(days=day)).replace(hour=hour, minute=0)

    series = {
        "anc": [(-1, "2.1"), (3, "1.2"), (7, "0.4"), (9, "0.1"), (12, "0.3"), (14, "0.7"), (17, "1.0"), (18, "1.1")],
        "platelets": [(-1, "180"), (7, "40"), (9, "12"), (12, "30"), (14, "24"), (17, "45"), (18, "60")],
        "hemoglobin": [(-1, "10.5"), (9, "7.8"), (12, "9.4")],
    }
    lln = {"anc": "1.5", "platelets": "150", "hemoglobin": "11.5"}
    units = {"anc": "10^9/L", "platelets": "10^9/L", "hemoglobin": "g/dL"}
    for test, values in series.items():
        for day, value in values:
            services.add_lab(people["nora"], course, services.LabEntry(test, value, units[test], lln[test], "", at(day)))
    services.add_transfusion(people["nora"], course, "platelets", at(9, 14))
    services.add_transfusion(people["nora"], course, "red_cells", at(9, 16))
    return course


def test_the_nadirs_days_below_grade_4_and_recovery_day_are_those_worked_out_by_hand(login, course):
    """ANC below 0.5 on days 7-13 (day 8 carries day 7's value, days 10-11 day 9's, day 13 day 12's): 7 days.
    Platelets below 25 on days 9-11 and 14-16: 6 days. Day 14 meets both counts but its platelet count is
    within 7 days of the day 9 transfusion; days 17 and 18 qualify: recovery on day 17."""
    page = login("morgan").get(f"/followup/courses/{course.pk}/")
    recovery = page.context["recovery"]
    assert (recovery.anc.nadir, recovery.anc.nadir_day, recovery.anc.days_below_grade4) == (Decimal("0.1"), 9, 7)
    assert (recovery.anc.first_day_below_grade4, recovery.anc.last_day_below_grade4) == (7, 13)
    assert (recovery.platelets.nadir, recovery.platelets.nadir_day, recovery.platelets.days_below_grade4) == (
        Decimal("12"), 9, 6)
    assert (recovery.hemoglobin.nadir, recovery.hemoglobin.days_below_grade4) == (Decimal("7.8"), None)
    assert (str(recovery.recovery.status), recovery.recovery.day, recovery.recovery.fell_on_day) == ("recovered", 17, 7)
    assert recovery.recovery.delayed_by_transfusion == (14,)
    text = page.content.decode()
    summary = re.search(r'<table id="recovery-summary">(.*?)</table>', text, re.S).group(1)
    assert re.search(r"ANC</td>\s*<td class=\"num\">0.1 10\^9/L</td>\s*<td class=\"num\">9</td>\s*<td class=\"num\">7 \(below 0.5",
                     summary)
    assert "recovered</span> on day 17" in text


def test_the_recovery_plot_is_inline_svg_that_a_strict_content_security_policy_lets_through(login, course):
    page = login("morgan").get(f"/followup/courses/{course.pk}/")
    assert "style-src 'self'" in page["Content-Security-Policy"]
    figure = re.search(r'<figure class="plot" id="recovery-plot">(.*?)</figure>', page.content.decode(), re.S).group(1)
    svg = re.search(r"<svg .*?</svg>", figure, re.S).group(0)
    assert "style=" not in svg
    assert "<style" not in svg
    assert "<title>Count recovery" in svg
    for label in ("nadir 0.1 on day 9", "nadir 12 on day 9", "CTCAE grade 4", "platelets transfusion",
                  "red cells transfusion", "recovery day 17 (recovered)", "131I-MIBG infusion"):
        assert label in svg, label
    ids = re.findall(r' id="([^"]+)"', svg)
    assert ids
    assert all(i.startswith("fu") for i in ids)
    assert all(ref.lstrip("#") in ids for ref in re.findall(r'(?:href|url\()="?#([^")]+)', svg))


def test_the_recovery_plot_is_available_as_png_for_reports(login, course):
    client = login("morgan")
    png = client.get(f"/followup/courses/{course.pk}/recovery.png")
    assert png["Content-Type"] == "image/png"
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n")
    svg = client.get(f"/followup/courses/{course.pk}/recovery.svg")
    assert svg["Content-Type"] == "image/svg+xml"
    assert b"<svg" in svg.content


def test_a_course_not_yet_infused_has_no_recovery_plot(login, make_course):
    course = make_course(until="eligible")
    assert login("morgan").get(f"/followup/courses/{course.pk}/recovery.png").status_code == 404

"""Programme analytics (issue 13 §6, mibg.core.analytics and mibg.web.analytics.analysis): Spearman's rank
correlation with its 95 % confidence interval, and the share of courses with stem-cell rescue per whole-body-dose
band with its Wilson interval. Reference values worked by hand below."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from mibg.core.analytics import rescue_by_band, spearman, wilson
from mibg.protocol import load_protocol
from mibg.web.analytics.analysis import correlations, csv_rows, rescue


def test_spearman_with_a_tie_and_its_fisher_interval_match_the_hand_calculation():
    # x ranks 1..5; y = 5, 6, 7, 8, 7 -> ranks 1, 2, 3.5, 5, 3.5 (the two 7s share 3 and 4... 3.5).
    # Deviations from 3: dx = -2 -1 0 1 2, dy = -2 -1 0.5 2 0.5; sum dxdy = 4 + 1 + 0 + 2 + 1 = 8; sum dx^2 = 10;
    # sum dy^2 = 4 + 1 + 0.25 + 4 + 0.25 = 9.5; rho = 8 / sqrt(95) = 0.82078 -> 0.821.
    # z = atanh(0.82078) = 1.15920; se = sqrt(1.06 / 2) = 0.72801; z -/+ 1.95996 x 0.72801 = -0.26767, 2.58607;
    # tanh: -0.26146, 0.98872 -> -0.261, 0.989.
    result = spearman([(D(1), D(5)), (D(2), D(6)), (D(3), D(7)), (D(4), D(8)), (D(5), D(7))])
    assert (result.n, result.rho, result.ci_low, result.ci_high) == (5, D("0.821"), D("-0.261"), D("0.989"))
    assert "rho = 0.821 (95 % CI -0.261 to 0.989; n = 5)" in result.text()


def test_a_dose_that_deepens_the_nadir_gives_a_negative_rho():
    # Whole-body dose up, platelet nadir down, without ties: rho = -1 exactly; no interval when ranks agree fully.
    result = spearman([(D("1.5"), D(80)), (D("2.2"), D(40)), (D("2.9"), D(15)), (D("3.6"), D(9))])
    assert result.rho == D("-1.000")
    assert result.ci_low is None
    assert "agree perfectly" in result.note


@pytest.mark.parametrize(("n", "has_rho", "has_ci"), [(2, False, False), (3, True, False), (4, True, True)])
def test_too_few_courses_give_no_figure_and_say_why(n, has_rho, has_ci):
    pairs = [(D(i), D(v)) for i, v in zip(range(n), [3, 1, 4, 2], strict=False)]
    result = spearman(pairs)
    assert (result.rho is not None, result.ci_low is not None) == (has_rho, has_ci)
    if not has_ci:
        assert result.note


def test_every_course_with_the_same_dose_has_no_rank_correlation():
    result = spearman([(D(2), D(1)), (D(2), D(5)), (D(2), D(3)), (D(2), D(4))])
    assert result.rho is None
    assert "same value" in result.note


def test_the_wilson_interval_of_one_rescue_in_four_courses():
    # p = 0.25, z^2/n = 3.84146/4 = 0.960365; centre = (0.25 + 0.480183)/1.960365 = 0.372473;
    # half = 1.959964 x sqrt(0.1875/4 + 3.84146/64)/1.960365 = 0.326886 -> 0.045587 to 0.699359 -> 0.046, 0.699.
    assert wilson(1, 4) == (D("0.046"), D("0.699"))


def test_each_band_includes_its_lower_edge_and_excludes_its_upper_edge():
    edges = load_protocol().whole_body_dose_band_edges_gy
    assert edges == (D(2), D(3), D(4))
    courses = [(D("1.999"), False), (D("2.000"), False), (D("2.001"), True), (D("2.999"), True), (D("3.000"), False),
               (D("3.999"), True), (D("4.000"), True), (D("6.5"), True)]
    bands = rescue_by_band(courses, edges)
    assert [b.label for b in bands] == ["below 2 Gy", "2 to below 3 Gy", "3 to below 4 Gy", "4 Gy or more"]
    assert [(b.courses, b.rescued) for b in bands] == [(1, 0), (3, 2), (2, 1), (2, 2)]
    assert [b.share for b in bands] == [D("0.000"), D("0.667"), D("0.500"), D("1.000")]


def test_a_band_without_courses_has_no_share_rather_than_zero():
    bands = rescue_by_band([(D("2.5"), True)], (D(2), D(3)))
    assert (bands[0].courses, bands[0].share, bands[0].ci_low) == (0, None, None)


def _row(mrn, course, dose, platelets, anc, recovery, rescued):
    return {"mrn": mrn, "course": course, "whole_body_gy": dose, "platelet_nadir": platelets, "anc_nadir": anc,
            "recovery_day": recovery, "stem_cell_rescue": "2026-01-15; 2.0E+06 CD34+/kg" if rescued else None}


ROWS = [_row("A-1", 1, D("1.800"), D(60), D("0.9"), 21, False), _row("B-1", 1, D("2.500"), D(30), D("0.4"), 28, False),
        _row("C-1", 1, D("3.200"), D(12), D("0.1"), 35, True), _row("D-1", 1, D("4.100"), D(8), D("0.05"), None, True),
        _row("E-1", 1, None, D(20), D("0.3"), 30, False)]


def test_the_programme_analyses_leave_out_courses_without_both_values_and_count_them():
    platelet, _anc, recovery = correlations(ROWS)
    assert platelet.correlation.n == 4
    assert platelet.left_out == 1  # E-1: no whole-body dose
    assert platelet.correlation.rho == D("-1.000")  # higher dose, lower nadir, in every pair
    assert recovery.correlation.n == 3  # D-1 not recovered yet, E-1 no dose
    assert recovery.left_out == 2
    result = rescue(ROWS)
    assert [(b.courses, b.rescued) for b in result.bands] == [(1, 0), (1, 0), (1, 1), (1, 1)]
    assert result.left_out == 1


def test_each_csv_has_its_units_in_the_header_and_the_statistic_on_its_last_line():
    table = csv_rows("platelet-nadir", ROWS)
    assert table[0] == ["Course (MRN #number)", "Whole-body dose (Gy)", "Platelet nadir (10^9/L)"]
    assert table[1] == ["A-1 #1", "1.800", "60"]
    assert table[-1][0] == "Spearman rho (n = 4)"
    bands = csv_rows("rescue-by-band", ROWS)
    assert bands[0][0] == "Whole-body-dose band (Gy)"
    assert bands[3][:6] == ["3 to below 4 Gy", "3", "4", "1", "1", "1.000"]

"""Curie score and INRC 2017 overall response (clinical-reference §6.2)."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest

from mibg.core.errors import InputError
from mibg.core.response import (
    COMPONENTS,
    CURIE_SKELETAL_SEGMENTS,
    ComponentResponse,
    OverallResponse,
    curie_score,
    inrc_overall,
    relative_curie,
)


def test_the_curie_score_sums_nine_skeletal_segments_and_soft_tissue():
    score = curie_score([1, 2, 0, 0, 3, 0, 0, 1, 1], 2)
    assert (score.skeletal_total, score.total) == (8, 10)
    assert len(CURIE_SKELETAL_SEGMENTS) == 9


def test_the_highest_curie_score_is_30():
    assert curie_score([3] * 9, 3).total == 30
    assert curie_score([0] * 9, 0).total == 0


def test_segment_scores_may_be_given_as_digits():
    assert curie_score(["1", " 2 ", "0", "0", "0", "0", "0", "0", "0"], "3").total == 6


@pytest.mark.parametrize(
    ("skeletal", "soft_tissue", "field"),
    [
        ([0] * 8, 0, "skeletal"),
        ([0] * 10, 0, "skeletal"),
        ("000000000", 0, "skeletal"),
        ([0, 0, 0, 0, 4, 0, 0, 0, 0], 0, "skeletal.pelvis"),
        ([-1, 0, 0, 0, 0, 0, 0, 0, 0], 0, "skeletal.head_face"),
        ([0, 0, 0, 0, 0, 0, 0, 0, 1.5], 0, "skeletal.legs_feet"),
        ([True, 0, 0, 0, 0, 0, 0, 0, 0], 0, "skeletal.head_face"),
        ([0] * 9, "x", "soft_tissue"),
        ([0] * 9, None, "soft_tissue"),
        ([0] * 9, "٣", "soft_tissue"),  # a non-ASCII digit
    ],
)
def test_a_curie_score_outside_0_to_3_per_segment_is_refused_naming_the_segment(skeletal, soft_tissue, field):
    with pytest.raises(InputError) as caught:
        curie_score(skeletal, soft_tissue)
    assert caught.value.field == field


def test_the_relative_curie_score_is_follow_up_over_baseline():
    baseline = curie_score([1, 2, 0, 0, 3, 0, 0, 1, 1], 2)  # 10
    follow_up = curie_score([0, 1, 0, 0, 1, 0, 0, 0, 0], 0)  # 2
    relative = relative_curie(baseline, follow_up)
    assert relative.ratio == Decimal("0.2")
    assert relative.skeletal_ratio == Decimal("0.25")  # 2 / 8
    assert "2 / 10 = 0.20" in relative.explanation


def test_a_relative_curie_score_against_a_baseline_of_0_is_undefined_and_says_so():
    relative = relative_curie(curie_score([0] * 9, 0), curie_score([1, 0, 0, 0, 0, 0, 0, 0, 0], 0))
    assert relative.ratio is None
    assert relative.skeletal_ratio is None
    assert "undefined" in relative.explanation
    assert relative.to_json()["ratio"] is None


CR, PR, MD, SD, PD, NI = (ComponentResponse[n] for n in ("CR", "PR", "MD", "SD", "PD", "NI"))


@pytest.mark.parametrize(
    ("primary", "metastases", "marrow", "expected"),
    [
        (CR, CR, CR, OverallResponse.CR),
        (NI, CR, NI, OverallResponse.CR),
        (CR, CR, NI, OverallResponse.CR),
        (PR, CR, CR, OverallResponse.PR),
        (PR, PR, MD, OverallResponse.PR),
        (CR, PR, NI, OverallResponse.PR),
        (NI, PR, MD, OverallResponse.PR),
        (PR, SD, CR, OverallResponse.MR),
        (CR, SD, NI, OverallResponse.MR),
        (SD, CR, MD, OverallResponse.MR),
        (SD, SD, SD, OverallResponse.SD),
        (SD, NI, NI, OverallResponse.SD),
        (NI, SD, SD, OverallResponse.SD),
        (PD, CR, CR, OverallResponse.PD),
        (CR, PR, PD, OverallResponse.PD),
        (NI, PD, NI, OverallResponse.PD),
    ],
)
def test_the_overall_response_follows_the_inrc_rules(primary, metastases, marrow, expected):
    result = inrc_overall(primary, metastases, marrow)
    assert result.overall is expected
    assert not result.needs_review
    assert result.rule.startswith(f"{expected.value} = ")


def test_the_explanation_names_the_components_that_decided():
    result = inrc_overall("PR", "SD", "CR")
    assert "SD in the soft-tissue and bone metastases" in result.explanation
    assert inrc_overall("CR", "PD", "CR").explanation.endswith("PD in the soft-tissue and bone metastases.")


@pytest.mark.parametrize(("primary", "metastases", "marrow"), [(CR, CR, MD), (SD, NI, MD), (NI, NI, MD), (CR, NI, MD)])
def test_marrow_minimal_disease_without_a_partial_response_has_no_overall_response_and_needs_review(
    primary, metastases, marrow
):
    result = inrc_overall(primary, metastases, marrow)
    assert result.overall is None
    assert result.needs_review
    assert "A clinician decides" in result.explanation


def test_every_combination_gets_a_response_except_marrow_minimal_disease_without_a_partial_response():
    for primary, metastases, marrow in itertools.product(
        *(sorted(allowed) for _, allowed in COMPONENTS.values())
    ):
        values = {primary, metastases, marrow}
        if values == {NI}:
            continue
        result = inrc_overall(primary, metastases, marrow)
        uncovered = MD in values and PR not in values and PD not in values and not (CR in values and SD in values)
        assert (result.overall is None) == uncovered, (primary, metastases, marrow)


def test_responses_may_be_written_out_in_words():
    result = inrc_overall("complete response", "not involved", "Minimal_Disease")
    assert (result.primary, result.metastases, result.marrow) == (CR, NI, MD)


@pytest.mark.parametrize(
    ("primary", "metastases", "marrow", "field"),
    [
        ("MD", "CR", "CR", "primary"),
        ("CR", "MD", "CR", "metastases"),
        ("CR", "CR", "PR", "marrow"),
        ("CR", "better", "CR", "metastases"),
    ],
)
def test_a_response_a_component_cannot_have_is_refused_naming_the_component(primary, metastases, marrow, field):
    with pytest.raises(InputError) as caught:
        inrc_overall(primary, metastases, marrow)
    assert caught.value.field == field


def test_no_involved_component_is_refused():
    with pytest.raises(InputError) as caught:
        inrc_overall("NI", "NI", "NI")
    assert caught.value.field == "components"


def test_the_result_cites_the_reference_and_serialises():
    data = inrc_overall("PR", "CR", "MD").to_json()
    assert data["overall"] == "PR"
    assert data["components"] == {"primary": "PR", "metastases": "CR", "marrow": "MD"}
    assert "§6.2" in data["reference"]

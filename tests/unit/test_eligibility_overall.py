"""The overall result and what every criterion result carries (decisions.md "Results").

Overall: any not met -> not eligible; else any unknown -> incomplete; else any needs review -> needs review;
else eligible. Every result names its inputs, their dates, and the protocol record's wording.
"""

import re

import pytest
from snapshots import ELIGIBLE, PHEO, attestation, attestations_with, build, evaluate, lab, labs_with

from mibg.core.eligibility import evaluate_eligibility, overall_result
from mibg.core.results import CriterionResult, Overall, Status
from mibg.protocol import load_protocol

MET, NOT_MET, UNKNOWN, REVIEW = Status.MET, Status.NOT_MET, Status.UNKNOWN, Status.NEEDS_REVIEW


def result(status):
    return CriterionResult(id="X", kind="inclusion", title="t", status=status, reason="r", inputs=(), wording="w", reference="ref")


@pytest.mark.parametrize(
    ("statuses", "overall"),
    [
        ([MET, MET], Overall.ELIGIBLE),
        ([MET, NOT_MET], Overall.NOT_ELIGIBLE),
        ([NOT_MET, UNKNOWN, REVIEW], Overall.NOT_ELIGIBLE),
        ([MET, UNKNOWN, REVIEW], Overall.INCOMPLETE),
        ([UNKNOWN], Overall.INCOMPLETE),
        ([MET, REVIEW], Overall.NEEDS_REVIEW),
    ],
)
def test_the_overall_result_rules(statuses, overall):
    assert overall_result([result(s) for s in statuses]) is overall


def test_the_base_example_is_eligible_with_every_criterion_met():
    outcome = evaluate()
    assert outcome.overall is Overall.ELIGIBLE
    assert {c.status for c in outcome.criteria} == {MET}


def test_one_unmet_criterion_outweighs_an_unknown_and_a_review():
    attestations = attestations_with(significant_organ_impairment=attestation(True))  # X1 -> needs review
    outcome = evaluate(labs=labs_with(lab("anc", "0.6"), drop=("bilirubin",)), attestations=attestations)
    assert {outcome.criterion(i).status for i in ("H1", "O1", "X1")} == {NOT_MET, UNKNOWN, REVIEW}
    assert outcome.overall is Overall.NOT_ELIGIBLE


def test_an_unknown_outweighs_a_review():
    attestations = attestations_with(significant_organ_impairment=attestation(True))
    outcome = evaluate(labs=labs_with(drop=("bilirubin",)), attestations=attestations)
    assert outcome.overall is Overall.INCOMPLETE


def test_a_review_alone_gives_needs_review():
    attestations = attestations_with(significant_organ_impairment=attestation(True))
    assert evaluate(attestations=attestations).overall is Overall.NEEDS_REVIEW


def test_every_criterion_of_the_protocol_has_a_result_in_protocol_order():
    ids = [c.id for c in load_protocol().criteria]
    assert [c.id for c in evaluate().criteria] == ids


@pytest.mark.parametrize("base", [ELIGIBLE, PHEO])
def test_every_result_carries_the_records_wording_and_its_reference(base):
    protocol = load_protocol()
    for c in evaluate_eligibility(build(base)).criteria:
        assert c.wording == protocol.criterion(c.id).wording
        assert c.reference.startswith("clinical-reference §")
        assert c.reason


DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

#: Inputs that come from a dated part of the snapshot must show that date (in their value or their "when").
DATED_FIELDS = ("labs.", "attestations.", "mibg_scans", "performance", "consent", "infection_screen", "proteinuria",
                "anti_tumour_therapies", "cytokines", "prior_mibg_courses", "disease_status", "birth_date", "diagnosis.kind")


@pytest.mark.parametrize("base", [ELIGIBLE, PHEO])
def test_every_applicable_result_names_its_inputs_with_their_dates(base):
    for c in evaluate_eligibility(build(base)).criteria:
        if not c.applies:
            continue
        assert c.inputs, f"{c.id} names no input"
        for used in c.inputs:
            if used.field.startswith(DATED_FIELDS) and used.value not in ("none", "no infection"):
                assert DATE.search(f"{used.value} {used.when}"), f"{c.id}: input {used.name!r} ({used.field}) has no date"


def test_to_json_gives_every_criterion_with_status_inputs_and_wording():
    data = evaluate().to_json()
    assert data["overall"] == "eligible"
    assert data["treatment_date"] == "2026-12-10"
    first = data["criteria"][0]
    assert set(first) >= {"id", "status", "reason", "inputs", "wording", "reference", "missing"}
    assert first["id"] == "D1"
    assert first["inputs"][0] == {"name": "diagnosis", "value": "neuroblastoma", "unit": "", "when": "2023-02-10",
                                  "field": "diagnosis.kind"}

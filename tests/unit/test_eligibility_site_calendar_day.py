"""Every door checks the same way: a moment's calendar day is its day at the site, whatever offset it arrives in
(issues 11, 14).

The screening form gives times in the site's zone (America/Los_Angeles by default); the API and the FHIR import may
give the same moment in UTC. The windows of the protocol are counted in calendar days at the site (decisions.md A8,
A12, A20), so a lab, a cytokine dose, a transfusion or an attestation must fall on the same day however it is
written. Reference values by hand, for the base example (planned treatment date 2026-12-10, Pacific Standard Time,
UTC-8):

* laboratory window 7 days: 2026-12-03 to 2026-12-10. 2026-12-02 16:30 PST is 2026-12-03T00:30Z: still
  2026-12-02 at the site, outside the window (the old code read 2026-12-03 from the UTC form and accepted it).
* platelet-transfusion lookback 7 days: from 2026-12-03, the same boundary (a transfusion inside it: not met).
* cytokine without an infusion start (24 h: two calendar days): last dose 2026-12-08 16:30 PST
  (= 2026-12-09T00:30Z) is two days before 2026-12-10, met; 2026-12-09 00:00 PST is one day, unknown.
* assessment window 28 days: from 2026-11-12 (PST); 2026-11-11 16:30 PST = 2026-11-12T00:30Z is outside.
* across the change from daylight time: treatment date 2026-11-05 (PST), lab window from 2026-10-29 (PDT, UTC-7):
  2026-10-28 17:30 PDT = 2026-10-29T00:30Z is outside, 2026-10-29 00:00 PDT = 07:00Z inside.
* cytokine across the change to daylight time (2026-03-08 has 23 hours): treatment 2026-03-09, last dose
  2026-03-07 23:30 PST is two calendar days before but only 23.5 h before 2026-03-09 00:00 PDT: unknown; 23:00 PST
  is 24.0 h: met.

Each moment is screened written in the site's zone and written in UTC, by the compiled rules
(``evaluate_eligibility``) and by the full evaluator (``explain_eligibility``): one verdict.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from snapshots import attestation, attestations_with, build, lab, labs_with

from mibg.core.eligibility import evaluate_eligibility, explain_eligibility
from mibg.core.results import Status

MET, NOT_MET, UNKNOWN = Status.MET, Status.NOT_MET, Status.UNKNOWN


def _utc(site_moment: str) -> str:
    """The same moment written in UTC (``+00:00``), as the API or a FHIR bundle may send it."""
    return datetime.fromisoformat(site_moment).astimezone(UTC).isoformat()


def _statuses(criterion_id: str, **changes: Any) -> set[Status]:
    snapshot = build(**changes)
    return {result.status_of(criterion_id) for result in (evaluate_eligibility(snapshot), explain_eligibility(snapshot))}


def _both(criterion_id: str, make: Any, site_moment: str) -> tuple[set[Status], set[Status]]:
    return _statuses(criterion_id, **make(site_moment)), _statuses(criterion_id, **make(_utc(site_moment)))


def test_the_utc_form_of_a_boundary_moment_is_written_by_hand() -> None:
    assert _utc("2026-12-02T16:30:00-08:00") == "2026-12-03T00:30:00+00:00"
    assert _utc("2026-10-28T17:30:00-07:00") == "2026-10-29T00:30:00+00:00"


@pytest.mark.parametrize(("collected", "expected"), [
    ("2026-12-02T16:30:00-08:00", UNKNOWN),  # the boundary: 00:30Z on the first day of the window, the day before at the site
    ("2026-12-02T23:59:00-08:00", UNKNOWN),  # just before the window opens at the site
    ("2026-12-03T00:00:00-08:00", MET),      # just after: the first day of the window
    ("2026-12-10T17:00:00-08:00", MET),      # the treatment day itself, 01:00Z the day after
])
def test_nurse_kim_enters_an_anc_in_pacific_time_and_the_fhir_import_brings_it_in_utc_with_one_verdict(
        collected: str, expected: Status) -> None:
    def make(at: str) -> dict[str, Any]:
        return {"labs": labs_with(lab("anc", "1.5", at=at))}

    site, utc = _both("H1", make, collected)
    assert site == utc == {expected}


@pytest.mark.parametrize(("collected", "expected"), [
    ("2026-10-28T17:30:00-07:00", UNKNOWN),  # 2026-10-29T00:30Z, still 2026-10-28 at the site (daylight time)
    ("2026-10-28T23:59:00-07:00", UNKNOWN),
    ("2026-10-29T00:00:00-07:00", MET),
])
def test_a_lab_window_that_starts_in_daylight_time_for_a_treatment_in_standard_time_counts_site_days(
        collected: str, expected: Status) -> None:
    def make(at: str) -> dict[str, Any]:
        return {"planned_treatment_date": "2026-11-05", "planned_infusion_start": None, "enrolment_date": "2026-10-20",
                "labs": [{**r, "collected_at": "2026-11-02T08:00:00-08:00"} for r in labs_with(drop=("anc",))]
                + [lab("anc", "1.5", at=at)]}

    site, utc = _both("H1", make, collected)
    assert site == utc == {expected}


@pytest.mark.parametrize(("given", "expected"), [
    ("2026-12-02T16:30:00-08:00", MET),      # 2026-12-03T00:30Z: the day before the lookback at the site
    ("2026-12-02T23:59:00-08:00", MET),
    ("2026-12-03T00:00:00-08:00", NOT_MET),  # inside the 7 days: not independent of platelet transfusions (A8)
])
def test_a_platelet_transfusion_sent_in_utc_falls_on_the_same_site_day_as_when_the_nurse_entered_it(
        given: str, expected: Status) -> None:
    def make(at: str) -> dict[str, Any]:
        # The count itself 2026-12-10 08:00 PST, more than 7 x 24 h after each transfusion: it counts (A8).
        return {"transfusions": [{"product": "platelets", "given_at": at}],
                "labs": labs_with(lab("platelets", "150", at="2026-12-10T08:00:00-08:00"))}

    site, utc = _both("H3", make, given)
    assert site == utc == {expected}


@pytest.mark.parametrize(("last_dose", "expected"), [
    ("2026-12-08T16:30:00-08:00", MET),      # 2026-12-09T00:30Z, still two site days before 2026-12-10
    ("2026-12-08T23:59:00-08:00", MET),
    ("2026-12-09T00:00:00-08:00", UNKNOWN),  # one day before: the infusion start is needed to count 24 h
])
def test_dr_okafor_records_g_csf_without_an_infusion_time_and_the_utc_copy_gets_the_same_t4(
        last_dose: str, expected: Status) -> None:
    def make(at: str) -> dict[str, Any]:
        return {"cytokines": [{"agent": "g_csf", "last_dose_at": at}], "planned_infusion_start": None}

    site, utc = _both("T4", make, last_dose)
    assert site == utc == {expected}


@pytest.mark.parametrize(("attested", "expected"), [
    ("2026-11-11T16:30:00-08:00", UNKNOWN),  # 2026-11-12T00:30Z: the day before the 28-day window at the site
    ("2026-11-12T00:00:00-08:00", MET),
])
def test_an_attestation_sent_in_utc_is_dated_by_the_site_day(attested: str, expected: Status) -> None:
    def make(at: str) -> dict[str, Any]:
        return {"attestations": attestations_with(no_major_organ_disease=attestation(at=at),
                                                  significant_organ_impairment=attestation(False, at=at),
                                                  no_cardiac_dysfunction=attestation(at=at))}

    for criterion_id in ("C1", "X1"):  # an attestation, and the organ-system pair
        site, utc = _both(criterion_id, make, attested)
        assert site == utc == {expected}


@pytest.mark.parametrize(("collected", "expected"), [
    ("2026-12-01T23:30:00-11:00", MET),      # = 2026-12-02T10:30Z = 2026-12-03 00:30 at a +14:00 site: the first day
    ("2026-12-01T21:30:00-11:00", UNKNOWN),  # = 2026-12-02 22:30 at the site: the day before the window
])
def test_a_site_at_plus_fourteen_hours_reads_a_lab_written_at_minus_eleven_by_its_own_day(
        monkeypatch: pytest.MonkeyPatch, collected: str, expected: Status) -> None:
    """Offsets 25 hours apart: the moment's own day is two days from the site's (the compiled rule's margin)."""
    monkeypatch.setenv("MIBG_TIME_ZONE", "Pacific/Kiritimati")
    assert _statuses("H1", labs=labs_with(lab("anc", "1.5", at=collected))) == {expected}


@pytest.mark.parametrize(("last_dose", "expected"), [
    ("2026-03-07T22:30:00-08:00", MET),      # 24.5 h before 2026-03-09 00:00 PDT
    ("2026-03-07T23:00:00-08:00", MET),      # 24.0 h: passes (decisions.md A12)
    ("2026-03-07T23:30:00-08:00", UNKNOWN),  # 23.5 h: two calendar days, but 2026-03-08 has 23 hours
])
def test_g_csf_two_days_before_across_the_change_to_daylight_time_is_met_only_with_24_hours_to_the_day(
        last_dose: str, expected: Status) -> None:
    """Treatment 2026-03-09 without a start time; the clocks go from 02:00 PST to 03:00 PDT on 2026-03-08."""
    def make(at: str) -> dict[str, Any]:
        return {"planned_treatment_date": "2026-03-09", "planned_infusion_start": None, "enrolment_date": "2026-03-01",
                "cytokines": [{"agent": "g_csf", "last_dose_at": at}]}

    site, utc = _both("T4", make, last_dose)
    assert site == utc == {expected}

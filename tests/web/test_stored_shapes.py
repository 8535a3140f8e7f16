"""Every result a course stores is its core result's one shape (issue 11): taken through the real steps from
screening to follow-up, each stored result reads back typed (``from_json``) and writes back exactly the stored
JSON, and no dose in it is a binary float; the API answers carry the same shapes."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from clinic_helpers import floats_in
from mibg.core.administration import AdministeredActivity, AssayCheck
from mibg.core.dosing import DosePlan
from mibg.core.eligibility import EligibilityResult
from mibg.core.verification import VerificationResult
from mibg.web.accounts.models import ApiToken
from mibg.web.courses.services import current_directive
from mibg.web.followup import services as followup


@pytest.fixture
def followed(make_course, people):
    course = make_course(until="follow-up", days_ahead=-30)
    followup.record_inrc(people["patel"], course, timezone.localdate(), "PR", "PR", "CR")
    return course


def _exact(kind, stored):
    """The stored JSON reads back as the typed result, which writes back the same JSON."""
    data = json.loads(json.dumps(stored))
    result = kind.from_json(data)
    assert result.to_json() == data
    return result


def test_every_result_of_a_course_reads_back_exactly_from_what_is_stored_and_no_dose_is_a_float(followed):
    directive = current_directive(followed)
    stored = {
        "plan": (DosePlan, json.loads(directive.plan_json)),
        "screening": (EligibilityResult, json.loads(followed.evaluations.latest("evaluated_at").result_json)),
        **{f"verification {v.pk}": (VerificationResult, v.result_json) for v in directive.verifications.all()},
        **{f"assay {a.pk}": (AssayCheck, a.result_json) for a in followed.assays.all()},
        **{f"administration {a.pk}": (AdministeredActivity, a.result_json) for a in followed.administrations.all()},
    }
    assert len(stored) == 5
    for name, (kind, data) in stored.items():
        _exact(kind, data)
        assert floats_in(data) == [], name
    for record in followed.inrc_assessments.all():
        assert record.result.to_json() == record.result_json
    release = followed.release_record.signed_assessment
    assert json.loads(followed.release_record.assessment_json)["release"] == release.release.to_json()
    assert isinstance(release.release.to_json()["administered_mci"], str)  # the dose is text; only fits are floats


def test_each_api_answer_is_the_stored_results_core_shape(client, people, followed):
    raw = ApiToken.issue(people["morgan"], "tests")[1]
    headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}

    def get(path):
        response = client.get(f"/api/courses/{followed.pk}{path}", **headers)
        assert response.status_code == 200, response.content
        return response.json()

    [assay] = get("/assays")
    assert assay["result"] == followed.assays.get().result.to_json()
    [given] = get("/administrations")
    assert given["result"] == followed.administrations.get().result.to_json()
    [response] = get("/responses")
    assert response["result"] == followed.inrc_assessments.get().result.to_json()
    directive = get("/current-directive")
    assert directive["plan"] == current_directive(followed).dose_plan.to_json()
    for answer in (assay, given, directive):
        assert floats_in(answer) == []

"""The API fuzzed from its own OpenAPI document with schemathesis, in process (WSGI), for the people who write.

For every operation the app serves at /api/openapi.json, schemathesis generates valid requests (positive
mode) and invalid ones (negative mode: wrong types, missing fields, out-of-schema values), sends them with a
persona's bearer token and checks each answer: never a server error (5xx), a status code the document
declares, the declared content type, and a body that matches the declared schema. Path ids are drawn from
real courses and patients at several stages as well as from ids that do not exist, so the handlers that
find a record are exercised, not only the 404.

Bounded and repeatable for CI: a fixed number of examples per operation and mode, derandomized (the same
examples on every run), no example database, no deadline (the 2-core CI machine is shared).
"""

from __future__ import annotations

import collections

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from mibg.web.accounts.models import ApiToken
from mibg.web.permissions import allowed

#: Examples per operation and generation mode (at most): 2 modes x 25 operations x 3 personas x 40 requests.
EXAMPLES = 40
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
MISSING_ID = 987654321


@pytest.fixture
def wsgi_app(db):
    """Django's own WSGI handler, run in the test's transaction.

    A real server closes the database connection at the end of every request (request_finished); inside a
    test that would break the transaction the test runs in, so, as Django's test client does, the app is
    called with that signal handler disconnected.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def records(make_course):
    """Courses at the stages where different operations have something to find (and one patient without any)."""
    courses = [make_course(until="screening"), make_course(until="eligible"), make_course(until="verified", days_ahead=-1),
               make_course(until="in-patient", days_ahead=-2), make_course(until="follow-up", days_ahead=-20)]
    return {"course_id": [c.pk for c in courses] + [MISSING_ID],
            "patient_id": [c.patient_id for c in courses] + [MISSING_ID]}


def _strategy(operation, mode, records):
    """Generated path ids, and the same operation with every path id set to a real record or a missing one."""
    names = [p.name for p in operation.path_parameters]
    strategies = [operation.as_strategy(generation_mode=mode)]
    if names:
        for i in range(len(records["course_id"])):
            fixed = {name: records[name][i] for name in names if name in records}
            strategies.append(operation.as_strategy(generation_mode=mode, path_parameters=fixed))
    return st.one_of(strategies)


#: Reads open to one role only; the others are refused by the permission table (tests/web/test_api_access_matrix.py).
#: The verifications name the fields that differed, which only the authorised user reviews (decisions.md A36).
ROLE_READS = {"GET /api/courses/{course_id}/verifications": "directive.sign"}


def _fuzz(app, token, records, user=None):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    headers = {"Authorization": f"Bearer {token}"}
    failures = []
    seen = collections.Counter()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20, "the API document lists fewer operations than the app serves"
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            # No shrinking phase: a failure is reported as generated (with its curl line), which keeps the run
            # bounded; derandomized, the same examples come on every run.
            @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                      phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
            @given(case=_strategy(operation, mode, records))
            def run(case):
                response = case.call_and_validate(headers=headers, checks=CHECKS)
                seen[(case.operation.label, case.meta.generation.mode.value, response.status_code)] += 1

            try:
                run()
            except (Exception, BaseExceptionGroup) as error:  # every failing operation is reported, not only the first
                failures.append(f"{operation.label} ({mode.value}):\n{str(error)[:1500]}")
    # The fuzz reached real records: every read answered 200 at least once (not only 401/404).
    for operation in operations:
        if operation.method.upper() == "GET" and (user is None or allowed(user, ROLE_READS.get(operation.label,
                                                                                               "patient.view"))):
            assert seen[(operation.label, "positive", 200)], f"{operation.label} never found a record"
    return failures


# The physician's run covers every data path on both databases; the nurse's and the physicist's differ from it
# only in what each role may do, which does not depend on the database: they run once.
@pytest.mark.parametrize("persona", ["patel", pytest.param("nora", marks=pytest.mark.one_backend),
                                     pytest.param("sam", marks=pytest.mark.one_backend)])
def test_every_api_operation_answers_within_its_documented_contract_under_fuzzing(persona, people, records, wsgi_app):
    """Dr Patel (physician), Nora (nurse) and Sam (physicist) send generated valid and invalid requests to every
    operation."""
    _token, raw = ApiToken.issue(people[persona], "fuzz")
    failures = _fuzz(wsgi_app, raw, records, people[persona])
    assert not failures, "\n\n".join(failures)

"""Results stored before they had one shape are converted by data migrations (issue 11 "One exact shape per
result"), each row with an audit record, and read back as the result that was recorded: nothing stored is lost.

Each test takes a course through the real steps with today's code, moves the one app back to the migration
before the conversion, writes rows the way the old code wrote them (parallel Decimal columns), then migrates
forward and reads the typed core result from the stored shape.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from mibg.core.verification import VerificationResult
from mibg.web.audit.chain import verify as verify_chain
from mibg.web.audit.models import AuditEvent
from mibg.web.courses.services import current_directive
from mibg.web.directives.models import Verification


def _back_to(target: tuple[str, str]):
    """Migrate one app back to ``target``; the historical models there."""
    executor = MigrationExecutor(connection)
    executor.migrate([target])
    executor.loader.build_graph()
    return executor.loader.project_state([target]).apps


def _forward() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_sams_verifications_stored_as_columns_read_back_as_the_verification_results_they_were(make_course, people):
    course = make_course(until="directive signed")
    directive = current_directive(course)
    old = _back_to(("directives", "0002_dose_plan_schema_v1")).get_model("directives", "Verification")
    # As verify_directive wrote them before issue 11: a refusal (the weight typed as 22.5), then the match.
    refused = old.objects.create(directive_id=directive.pk, by_id=people["sam"].pk, signed_name="Sam Physicist",
                                 weight_kg=Decimal("22.500"), mci_per_kg=Decimal("18.000"), accepted=False,
                                 differing="weight_kg,activity_mci", message="The entries differ from the written "
                                 "directive. Nothing was accepted.")
    matched = old.objects.create(directive_id=directive.pk, by_id=people["sam"].pk, signed_name="Sam Physicist",
                                 weight_kg=Decimal("22.000"), mci_per_kg=Decimal("18.000"), accepted=True, differing="",
                                 message="Matches the written directive exactly: weight, dose per kg and activity.")
    _forward()
    rows = {v.pk: v for v in Verification.objects.all()}
    # 22.5 kg x 18 mCi/kg = 405 mCi; 22 kg x 18 mCi/kg = 396 mCi (the verifier's own entries).
    assert rows[refused.pk].result == VerificationResult(False, ("weight_kg", "activity_mci"), Decimal("405.000000"),
                                                         refused.message)
    assert rows[matched.pk].result == VerificationResult(True, (), Decimal("396"), matched.message)
    assert rows[matched.pk].result_json["second_activity_mci"] == "396.000000"  # text, never a float
    assert not hasattr(rows[matched.pk], "differing")  # the parallel columns are gone
    assert list(directive.verifications.filter(result_json__accepted=True)) == [rows[matched.pk]]
    events = AuditEvent.objects.filter(model="directives.Verification", field="result_json", username="system")
    assert sorted(int(e.object_id) for e in events) == sorted([refused.pk, matched.pk])
    before = json.loads(events.get(object_id=str(refused.pk)).old_value)
    assert before == {"accepted": False, "differing": "weight_kg,activity_mci", "message": refused.message}
    assert verify_chain().intact

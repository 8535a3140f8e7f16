# Stored screening results: ``EligibilityResult.as_dict()`` becomes the result's one serialization,
# ``mibg.eligibility`` version 1 (``EligibilityResult.to_json()``; issue 11 "One exact shape per result").
#
# The old shape already held every criterion of version 1 (its status, reason, inputs with their dates, wording,
# reference, decisions, chair fields); version 1 adds ``schema`` and ``schema_version``, and the verdict, warnings
# and unverified decisions (decisions.md A27) where a result was stored before they existed.
# Each converted evaluation gets an audit record saying so. A stored result that lacks a field of version 1 stops
# the migration with the evaluation named: nothing is guessed.

import json

from django.db import migrations
from django.utils import timezone

SCHEMA, VERSION = "mibg.eligibility", 1
TOP = ("protocol", "treatment_date", "overall", "criteria")
CRITERION = ("id", "kind", "title", "status", "applies", "reason", "inputs", "missing", "wording", "reference",
             "decisions", "chair_clearable", "cleared_by")
NOTE = ("Stored screening result given its schema (mibg.eligibility version 1) by migration screening.0002 "
        "(issue 11); every other field is unchanged.")
BATCH = 500
#: mibg.core.eligibility.UNVERIFIED_DECISION when this migration was written (decisions.md A27).
UNVERIFIED_DECISION = "recorded outside the application, unverified"


class Unconvertible(RuntimeError):
    pass


def convert(old, pk):
    for key in TOP:
        if key not in old:
            raise Unconvertible(f"screening evaluation {pk}: the stored result has no '{key}'")
    for i, criterion in enumerate(old["criteria"]):
        missing = [key for key in CRITERION if key not in criterion]
        if missing:
            raise Unconvertible(f"screening evaluation {pk}: criterion {i} has no {', '.join(missing)}")
    # Results stored before decisions.md A27 have no warnings and no decisions recorded outside the application
    # (every decision stored here was signed in the application); their verdict is the overall result.
    warnings = old.get("warnings", [])
    unverified = old.get("unverified_decisions", [])
    verdict = old["overall"]
    if unverified:
        verdict += f", depending on chair decisions {UNVERIFIED_DECISION} ({', '.join(unverified)})"
    return {"schema": SCHEMA, "schema_version": VERSION, "protocol": old["protocol"],
            "treatment_date": old["treatment_date"], "overall": old["overall"], "verdict": verdict,
            "warnings": warnings, "unverified_decisions": unverified, "criteria": old["criteria"]}


def forwards(apps, schema_editor):
    from mibg.web.audit.chain import seal

    Evaluation = apps.get_model("screening", "Evaluation")
    AuditEvent = apps.get_model("audit", "AuditEvent")
    last_id = 0
    while True:
        batch = list(Evaluation.objects.select_related("course").filter(pk__gt=last_id).order_by("pk")[:BATCH])
        if not batch:
            return
        last_id = batch[-1].pk
        changed, events = [], []
        for evaluation in batch:
            old = json.loads(evaluation.result_json)
            if old.get("schema") == SCHEMA:
                continue
            evaluation.result_json = json.dumps(convert(old, evaluation.pk))
            changed.append(evaluation)
            events.append(AuditEvent(at=timezone.now(), user=None, username="system", action="update",
                                     model="screening.Evaluation", object_id=str(evaluation.pk),
                                     object_repr=f"Evaluation {evaluation.pk}"[:200],
                                     patient_id=evaluation.course.patient_id, field="result_json", note=NOTE))
        Evaluation.objects.bulk_update(changed, ["result_json"])
        seal(events)
        AuditEvent.objects.bulk_create(events)


class Migration(migrations.Migration):

    dependencies = [
        ("screening", "0001_initial"),
        ("audit", "0004_chain_constraints"),
    ]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]

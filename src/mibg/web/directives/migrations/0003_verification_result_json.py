# Stored verifications: the parallel columns ``accepted``, ``differing`` and ``message`` become the result's one
# serialization, ``mibg.verification`` version 1 (``VerificationResult.to_json()``; issue 11 "One exact shape
# per result"), in the JSON column ``result_json``. Migration 0004 then drops the old columns.
#
# Written out here on plain values, importing nothing of the live core. What the conversion does:
# * ``accepted``, ``message`` and the differing field names are kept as stored;
# * ``second_activity_mci`` (the activity recomputed from the verifier's entry) is the verifier's stored weight
#   times the stored mCi/kg, exactly (the columns hold what was typed, to 0.001).
# A row whose verdict disagrees with its differing fields (accepted with differences, or refused without any),
# or that names a field no verification compares, stops the migration with the verification named: nothing is
# guessed. Every converted row gets an audit record with the old values and the new text.

import json

from django.db import migrations, models
from django.utils import timezone

SCHEMA, VERSION = "mibg.verification", 1
#: mibg.core.verification.FIELD_LABELS when this migration was written.
FIELDS = ("weight_kg", "mci_per_kg", "activity_mci")
NOTE = ("Stored independent verification converted to the result's one serialization (mibg.verification version 1) "
        "by migration directives.0003 (issue 11); the old columns accepted, differing and message are kept here.")


class Unconvertible(RuntimeError):
    pass


def convert(row):
    differing = [name for name in (row.differing or "").split(",") if name]
    unknown = [name for name in differing if name not in FIELDS]
    if unknown:
        raise Unconvertible(f"verification {row.pk}: '{', '.join(unknown)}' is not a verified field")
    if bool(row.accepted) == bool(differing):
        raise Unconvertible(f"verification {row.pk}: accepted={row.accepted} disagrees with the differing fields "
                            f"'{row.differing}'")
    return {"schema": SCHEMA, "schema_version": VERSION, "accepted": bool(row.accepted), "differing": differing,
            "second_activity_mci": str(row.weight_kg * row.mci_per_kg), "message": row.message}


def forwards(apps, schema_editor):
    from mibg.web.audit.chain import seal

    Verification = apps.get_model("directives", "Verification")
    AuditEvent = apps.get_model("audit", "AuditEvent")
    for row in Verification.objects.select_related("directive__course").order_by("pk").iterator():
        if row.result_json is not None:
            continue
        new = convert(row)
        Verification.objects.filter(pk=row.pk).update(result_json=new)
        old = {"accepted": row.accepted, "differing": row.differing, "message": row.message}
        event = AuditEvent(at=timezone.now(), user=None, username="system", action="update",
                           model="directives.Verification", object_id=str(row.pk),
                           object_repr=f"Verification {row.pk} of directive {row.directive_id}"[:200],
                           patient_id=row.directive.course.patient_id, field="result_json",
                           old_value=json.dumps(old, sort_keys=True), new_value=json.dumps(new, sort_keys=True),
                           note=NOTE)
        seal([event])
        event.save()


class Migration(migrations.Migration):

    dependencies = [
        ("directives", "0002_dose_plan_schema_v1"),
        ("audit", "0004_chain_constraints"),
    ]

    operations = [
        migrations.AddField(model_name="verification", name="result_json", field=models.JSONField(null=True)),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]

# Stored INRC 2017 assessments: the parallel columns (primary, metastases, marrow, overall, needs_review, rule,
# explanation) become the result's one serialization, ``mibg.inrc_response`` version 1 (``InrcResponse.to_json()``;
# issue 11 "One exact shape per result"), in the JSON column ``result_json``. Migration 0005 drops the old columns.
#
# Written out here on plain values, importing nothing of the live core: every column is kept as it was stored
# (an overall response stored blank is a combination the rules do not define: ``null``, needing review), with the
# reference the core named when this was written. Every converted row gets an audit record with the old columns
# and the new text.

import json

from django.db import migrations, models
from django.utils import timezone

SCHEMA, VERSION = "mibg.inrc_response", 1
#: mibg.core.response.InrcResponse.reference when this migration was written.
REFERENCE = "clinical-reference §6.2 (INRC 2017, Park et al. J Clin Oncol 2017; component tables UNVERIFIED)"
COLUMNS = ("primary", "metastases", "marrow", "overall", "needs_review", "rule", "explanation")
NOTE = ("Stored INRC 2017 assessment converted to the result's one serialization (mibg.inrc_response version 1) by "
        "migration followup.0004 (issue 11); the old columns are kept here.")


class Unconvertible(RuntimeError):
    pass


def convert(row):
    if bool(row.needs_review) != (row.overall == ""):
        raise Unconvertible(f"INRC assessment {row.pk}: overall '{row.overall}' disagrees with "
                            f"needs_review={row.needs_review}")
    return {"schema": SCHEMA, "schema_version": VERSION,
            "components": {"primary": row.primary, "metastases": row.metastases, "marrow": row.marrow},
            "overall": row.overall or None, "rule": row.rule, "explanation": row.explanation,
            "needs_review": bool(row.needs_review), "reference": REFERENCE}


def forwards(apps, schema_editor):
    from mibg.web.audit.chain import seal

    InrcAssessment = apps.get_model("followup", "InrcAssessment")
    AuditEvent = apps.get_model("audit", "AuditEvent")
    for row in InrcAssessment._base_manager.select_related("course").order_by("pk").iterator():
        if row.result_json is not None:
            continue
        new = convert(row)
        InrcAssessment._base_manager.filter(pk=row.pk).update(result_json=new)
        event = AuditEvent(at=timezone.now(), user=None, username="system", action="update",
                           model="followup.InrcAssessment", object_id=str(row.pk),
                           object_repr=f"INRC assessment {row.pk} of course {row.course_id}"[:200],
                           patient_id=row.course.patient_id, field="result_json",
                           old_value=json.dumps({name: getattr(row, name) for name in COLUMNS}, sort_keys=True),
                           new_value=json.dumps(new, sort_keys=True), note=NOTE)
        seal([event])
        event.save()


class Migration(migrations.Migration):

    dependencies = [
        ("followup", "0003_nurse_draft_adverse_events"),
        ("audit", "0004_chain_constraints"),
    ]

    operations = [
        migrations.AddField(model_name="inrcassessment", name="result_json", field=models.JSONField(null=True)),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]

"""decisions.md A34: MRNs that differ only in spaces or case are the same patient, and an MRN is unique.

Adds ``mrn_key`` (the MRN without spaces, upper-cased) and a unique constraint on it. Stored records are
converted safely, never merged or deleted:
- an MRN stored with spaces around it is trimmed, unless the trimmed MRN is already another record's;
- when several records share one key (e.g. "DEMO-1006" and "DEMO-1006 " stored by the API before A34), the
  oldest keeps it and each later one is flagged with ``mrn_duplicate_of`` pointing at it. Flagged records stay
  readable and are shown as possible duplicates on the patient page until a person resolves them; the unique
  constraint (0004, its own transaction after this data migration) covers every unflagged record, so no door
  can add another.
"""

import django.db.models.deletion
from django.db import migrations, models


def _key(mrn):
    return "".join(str(mrn).split()).upper()


def forwards(apps, schema_editor):
    Patient = apps.get_model("patients", "Patient")
    taken_mrns = set(Patient.objects.values_list("mrn", flat=True))
    first_by_key = {}
    for patient in Patient.objects.order_by("created_at", "pk"):
        fields = ["mrn_key"]
        trimmed = patient.mrn.strip()
        if trimmed != patient.mrn and trimmed and trimmed not in taken_mrns:
            taken_mrns.discard(patient.mrn)
            taken_mrns.add(trimmed)
            patient.mrn = trimmed
            fields.append("mrn")
        patient.mrn_key = _key(patient.mrn)
        first = first_by_key.setdefault(patient.mrn_key, patient.pk)
        if first != patient.pk:
            patient.mrn_duplicate_of_id = first
            fields.append("mrn_duplicate_of")
        patient.save(update_fields=fields)


class Migration(migrations.Migration):

    dependencies = [
        ("patients", "0002_patient_list_order_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="patient",
            name="mrn_key",
            field=models.CharField(default="", editable=False, max_length=40),
        ),
        migrations.AddField(
            model_name="patient",
            name="mrn_duplicate_of",
            field=models.ForeignKey(blank=True, editable=False, null=True,
                                    on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                    to="patients.patient"),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]

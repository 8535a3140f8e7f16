"""decisions.md A34: one patient per MRN key among records not flagged as duplicates (see 0003)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("patients", "0003_patient_mrn_key"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="patient",
            constraint=models.UniqueConstraint(condition=models.Q(("mrn_duplicate_of__isnull", True)),
                                               fields=("mrn_key",), name="patient_mrn_key_unique"),
        ),
    ]

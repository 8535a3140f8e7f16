# After 0003 converted every stored assay and administration to its one shape: the shape is required and the
# parallel columns go (issue 11). Its own transaction, after the data migration.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("treatment", "0003_assay_administration_result_json"),
    ]

    operations = [
        migrations.AlterField(model_name="assay", name="result_json", field=models.JSONField()),
        migrations.AlterField(model_name="administration", name="result_json", field=models.JSONField()),
        *[migrations.RemoveField(model_name="assay", name=name)
          for name in ("measured_mci", "measured_at", "corrected_mci", "deviation_percent", "within_tolerance",
                       "message")],
        *[migrations.RemoveField(model_name="administration", name=name)
          for name in ("residual_mci", "residual_measured_at", "pre_corrected_mci", "residual_corrected_mci",
                       "administered_mci", "deviation_percent", "possible_medical_event", "message")],
    ]

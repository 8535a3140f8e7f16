# After 0004 converted every stored INRC assessment to its one shape: the shape is required and the parallel
# columns go (issue 11). Its own transaction, after the data migration.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("followup", "0004_inrc_result_json"),
    ]

    operations = [
        migrations.AlterField(model_name="inrcassessment", name="result_json", field=models.JSONField()),
        *[migrations.RemoveField(model_name="inrcassessment", name=name)
          for name in ("primary", "metastases", "marrow", "overall", "needs_review", "rule", "explanation")],
    ]

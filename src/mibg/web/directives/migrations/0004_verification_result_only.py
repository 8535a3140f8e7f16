# After 0003 converted every stored verification to its one shape: the shape is required and the parallel
# columns go (issue 11). Its own transaction, after the data migration.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("directives", "0003_verification_result_json"),
    ]

    operations = [
        migrations.AlterField(model_name="verification", name="result_json", field=models.JSONField()),
        migrations.RemoveField(model_name="verification", name="accepted"),
        migrations.RemoveField(model_name="verification", name="differing"),
        migrations.RemoveField(model_name="verification", name="message"),
    ]

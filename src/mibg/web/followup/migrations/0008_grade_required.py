# After 0007 stored every laboratory result's grade: the grade is required (issue 11). Its own transaction, after
# the data migration.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("followup", "0007_stored_grades_and_recovery"),
    ]

    operations = [
        migrations.AlterField(model_name="labresult", name="grade_json", field=models.JSONField()),
    ]

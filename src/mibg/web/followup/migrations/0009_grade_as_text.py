# The stored grade becomes JSON text (issue 11, after 0007/0008): the same shape, mibg.core.course_grades.grade_text,
# so that the typed grade is read once per process for the same text instead of decoded and checked on every view
# of every page that shows a course's grades. The column's JSON is kept as text (PostgreSQL: jsonb::text);
# mibg.web.followup.services compares shapes, not texts, so a grade stored in the old spacing is not "changed".

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("followup", "0008_grade_required"),
    ]

    operations = [
        migrations.AlterField(model_name="labresult", name="grade_json", field=models.TextField()),
    ]

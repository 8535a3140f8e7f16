# Issue 12: TSH, free T4 and blood pressure among the follow-up tests (Django 5.2)

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('followup', '0005_inrc_result_only'),
    ]

    operations = [
        migrations.AlterField(
            model_name='labresult',
            name='test',
            field=models.CharField(choices=[('anc', 'Absolute neutrophil count'), ('platelets', 'Platelets'), ('hemoglobin', 'Haemoglobin'), ('bilirubin', 'Total bilirubin'), ('ast', 'AST'), ('alt', 'ALT'), ('creatinine', 'Creatinine'), ('tsh', 'TSH'), ('free_t4', 'Free T4'), ('systolic_bp', 'Systolic blood pressure'), ('diastolic_bp', 'Diastolic blood pressure')], max_length=20),
        ),
    ]

# decisions.md A38: the stock concentration of the directive (Django 5.2)

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('directives', '0004_verification_result_only'),
    ]

    operations = [
        migrations.AddField(
            model_name='writtendirective',
            name='stock_concentration_mci_per_ml',
            field=models.DecimalField(blank=True, decimal_places=4, max_digits=9, null=True),
        ),
    ]

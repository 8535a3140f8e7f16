# The hash chain, step 3 of 3: every record has its place; seq is unique (no fork), the hash is indexed.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0003_chain_existing_records'),
    ]

    operations = [
        migrations.AlterField(
            model_name='auditevent',
            name='seq',
            field=models.BigIntegerField(editable=False, unique=True),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='record_hash',
            field=models.CharField(db_index=True, editable=False, max_length=64),
        ),
    ]

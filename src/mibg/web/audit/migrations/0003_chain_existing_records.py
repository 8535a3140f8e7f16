# The hash chain, step 2 of 3: chain the records already written, in the order they were written (by id), and
# set the chain head. Its own migration (own transaction on PostgreSQL) so step 3 can alter the table after.

from django.db import migrations

from mibg.web.audit.hashing import GENESIS, hash_existing

BATCH = 2000


def chain_existing(apps, schema_editor):
    AuditEvent = apps.get_model("audit", "AuditEvent")
    AuditChainHead = apps.get_model("audit", "AuditChainHead")

    def batches():
        # Read by key, a batch at a time, never updating a table under an open cursor on it.
        last_id = 0
        while True:
            batch = list(AuditEvent.objects.filter(pk__gt=last_id).order_by("pk")[:BATCH])
            if not batch:
                return
            yield batch
            last_id = batch[-1].pk

    seq, last = 0, GENESIS
    for batch in batches():
        seq, last = hash_existing(batch, start=(seq, last))
        AuditEvent.objects.bulk_update(batch, ["seq", "prev_hash", "record_hash"])
    AuditChainHead.objects.update_or_create(pk=1, defaults={"seq": seq, "record_hash": last})


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0002_chain_fields'),
    ]

    operations = [
        migrations.RunPython(chain_existing, migrations.RunPython.noop),
    ]

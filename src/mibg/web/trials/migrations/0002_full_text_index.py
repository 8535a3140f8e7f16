"""The full-text index of related trials, in the database's own engine (issue 13 §5): SQLite FTS5 (porter stemming
over unicode61) or a PostgreSQL generated tsvector column (English configuration) with a GIN index."""

from django.db import migrations


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute("CREATE VIRTUAL TABLE trials_fts USING fts5(body, tokenize='porter unicode61')")
    elif vendor == "postgresql":
        schema_editor.execute("ALTER TABLE trials_relatedtrial ADD COLUMN search tsvector "
                              "GENERATED ALWAYS AS (to_tsvector('english', body)) STORED")
        schema_editor.execute("CREATE INDEX trials_relatedtrial_search ON trials_relatedtrial USING GIN (search)")
    else:
        raise RuntimeError(f"related trials need SQLite FTS5 or PostgreSQL full-text search, not {vendor}")


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute("DROP TABLE IF EXISTS trials_fts")
    elif vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS trials_relatedtrial_search")
        schema_editor.execute("ALTER TABLE trials_relatedtrial DROP COLUMN IF EXISTS search")


class Migration(migrations.Migration):
    dependencies = [("trials", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]

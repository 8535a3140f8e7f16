"""The full-text index of related trials, in the database's own engine (issue 13 §5): SQLite FTS5 (porter stemming
over unicode61) or PostgreSQL generated tsvector columns (English configuration) with GIN indexes. Two fields each:
``facets`` (conditions and interventions only: small, searched first) and ``body`` (the title, facets and every
eligibility term)."""

from django.db import migrations


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute("CREATE VIRTUAL TABLE trials_fts USING fts5(facets, body, tokenize='porter unicode61')")
    elif vendor == "postgresql":
        schema_editor.execute("ALTER TABLE trials_relatedtrial ADD COLUMN search tsvector "
                              "GENERATED ALWAYS AS (to_tsvector('english', body)) STORED")
        schema_editor.execute("CREATE INDEX trials_relatedtrial_search ON trials_relatedtrial USING GIN (search)")
        schema_editor.execute("ALTER TABLE trials_relatedtrial ADD COLUMN facets tsvector GENERATED ALWAYS AS "
                              "(to_tsvector('english', conditions || ' ' || interventions || ' ' || intervention_words)) "
                              "STORED")
        schema_editor.execute("CREATE INDEX trials_relatedtrial_facets ON trials_relatedtrial USING GIN (facets)")
    else:
        raise RuntimeError(f"related trials need SQLite FTS5 or PostgreSQL full-text search, not {vendor}")


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute("DROP TABLE IF EXISTS trials_fts")
    elif vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS trials_relatedtrial_search")
        schema_editor.execute("DROP INDEX IF EXISTS trials_relatedtrial_facets")
        schema_editor.execute("ALTER TABLE trials_relatedtrial DROP COLUMN IF EXISTS facets")
        schema_editor.execute("ALTER TABLE trials_relatedtrial DROP COLUMN IF EXISTS search")


class Migration(migrations.Migration):
    dependencies = [("trials", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]

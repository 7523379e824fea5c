"""The full-text index of services: FTS5 on SQLite, a GIN index on PostgreSQL."""

from django.db import migrations

SQLITE_CREATE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS directory_service_fts USING fts5("
    "network_id UNINDEXED, name, organization_name, body, "
    "tokenize = 'porter unicode61 remove_diacritics 2')"
)
SQLITE_DROP = "DROP TABLE IF EXISTS directory_service_fts"
POSTGRES_CREATE = (
    "CREATE INDEX IF NOT EXISTS directory_servicesearch_document_gin "
    "ON directory_servicesearch USING gin (document)"
)
POSTGRES_DROP = "DROP INDEX IF EXISTS directory_servicesearch_document_gin"


def _run(statements):
    def run(apps, schema_editor):
        sql = statements.get(schema_editor.connection.vendor)
        if sql:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("directory", "0002_search_listings_uploads")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_CREATE, "postgresql": POSTGRES_CREATE}),
            _run({"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP}),
        )
    ]

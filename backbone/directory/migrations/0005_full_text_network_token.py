"""Index the network in the SQLite full-text table, so a search matches one network's
services inside FTS5 instead of reading every match's row to check its network.

The column holds one token per row (`net<network id>`); searches add it to the MATCH.
The rows are rebuilt from the search entries. PostgreSQL is unchanged.
"""

from django.db import migrations

CREATE = (
    "CREATE VIRTUAL TABLE directory_service_fts USING fts5("
    "{network}, name, organization_name, body, "
    "tokenize = 'porter unicode61 remove_diacritics 2')"
)
FILL = (
    "INSERT INTO directory_service_fts (rowid, {column}, name, organization_name, body) "
    "SELECT service_id, {value}, name, organization_name, body FROM directory_servicesearch"
)


def _rebuild(network: str, column: str, value: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "sqlite":
            return
        schema_editor.execute("DROP TABLE IF EXISTS directory_service_fts")
        schema_editor.execute(CREATE.format(network=network))
        schema_editor.execute(FILL.format(column=column, value=value))

    return run


class Migration(migrations.Migration):
    dependencies = [("directory", "0004_service_facets")]

    operations = [
        migrations.RunPython(
            _rebuild("network", "network", "'net' || network_id"),
            _rebuild("network_id UNINDEXED", "network_id", "network_id"),
        )
    ]

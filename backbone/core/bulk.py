"""Inserting many rows fast: executemany with values prepared once per field.

Django's bulk_create spends most of its time building and preparing model instances;
for hundreds of thousands of rows (directory imports, search indexes) that dominates.
Rows here are dicts keyed by field attname (`network_id`, `service_id`); fields a row
leaves out get their model default, so columns added later keep working. No signals,
no save(): callers are services that check, audit and log themselves.
"""

from __future__ import annotations

import contextlib
import json
import uuid

from django.db import connection, models

BATCH = 5000
# Field types whose Python value is what the database driver takes as it is.
PLAIN_FIELDS = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.FloatField,
    models.BooleanField,
    models.ForeignKey,
)


def _uuid_hex(value) -> str:
    """A UUID as SQLite stores it: 32 hex digits. Canonical text is taken as it is."""
    if isinstance(value, uuid.UUID):
        return value.hex
    if len(value) == 36 and value == value.lower():
        return value.replace("-", "")
    return uuid.UUID(value).hex


def _prep(field: models.Field):
    """How a value of FIELD goes to the driver: None when as it is."""
    if isinstance(field, PLAIN_FIELDS):
        return None
    if connection.vendor == "sqlite":
        # What Django's UUIDField and JSONField store on SQLite, without the field calls.
        if isinstance(field, models.UUIDField):
            return _uuid_hex
        if isinstance(field, models.JSONField) and field.encoder is None:
            return json.dumps
        # Django's SQLite adapters for these are str() (a search index has one per row).
        if type(field) in (models.DateField, models.TimeField):
            return str
    return lambda value: field.get_db_prep_save(value, connection)


def inserter(model: type[models.Model]):
    """(SQL, row builder) to insert MODEL rows with executemany."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    names = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    table = connection.ops.quote_name(model._meta.db_table)
    sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608 (names from the model)
    plan = [(f.attname, f.get_default(), _prep(f)) for f in fields]

    def row(values: dict) -> list:
        out = []
        for name, default, prep in plan:
            value = values.get(name, default)
            out.append(value if prep is None or value is None else prep(value))
        return out

    return sql, row


def bulk_insert(model: type[models.Model], rows: list[dict]) -> None:
    """Insert ROWS (dicts by attname) into MODEL's table, in batches."""
    if not rows:
        return
    sql, build = inserter(model)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH):
            cursor.executemany(sql, [build(row) for row in rows[start : start + BATCH]])


# SQLite's default page cache is 2 MB; a bulk load into tables with several indexes
# evicts and re-reads index pages all the time. Per connection and restored after;
# durability settings are left alone.
LOAD_CACHE_KIB = 128 * 1024


@contextlib.contextmanager
def bulk_load():
    """A larger SQLite page cache for the duration of a bulk load (no-op elsewhere)."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        before = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA cache_size = -{LOAD_CACHE_KIB}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(before)}")

"""Inserting many rows fast: executemany (SQLite) or COPY (PostgreSQL), with values
prepared once per field.

Django's bulk_create spends most of its time building and preparing model instances;
for hundreds of thousands of rows (directory imports, search indexes) that dominates.
On PostgreSQL, COPY in the same transaction: the same constraints and the same
all-or-nothing, without a statement per row (executemany was over half of a state-size
directory import there, client and server).
Rows here are dicts keyed by field attname (`network_id`, `service_id`); fields a row
leaves out get their model default, so columns added later keep working. No signals,
no save(): callers are services that check, audit and log themselves.
"""

from __future__ import annotations

import contextlib
import gc
import json
import uuid

import orjson
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


def json_text(value) -> str:
    """VALUE as JSON text, as Django's JSONField would store it (orjson: several times
    faster; what it refuses, e.g. integers past 64 bits, goes through json)."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(value)


def _uuid_hex(value) -> str:
    """A UUID as SQLite stores it: 32 hex digits. Canonical text is taken as it is."""
    if isinstance(value, uuid.UUID):
        return value.hex
    if len(value) == 32 and value == value.lower():  # already as stored (change-log ids)
        return value
    if len(value) == 36 and value == value.lower():
        return value.replace("-", "")
    return uuid.UUID(value).hex


def _prep(field: models.Field):
    """How a value of FIELD goes to the driver: None when as it is."""
    if isinstance(field, PLAIN_FIELDS):
        return None
    if connection.vendor == "postgresql":
        # COPY takes text: a UUID's text (canonical or 32 hex digits) and JSON as text
        # are what PostgreSQL parses for uuid and jsonb; psycopg dumps the rest.
        if isinstance(field, models.UUIDField):
            return None
        if isinstance(field, models.JSONField) and field.encoder is None:
            return json_text
        # Django passes these to psycopg as they are (a search index has one per row).
        if type(field) in (models.DateField, models.TimeField):
            return None
    if connection.vendor == "sqlite":
        # What Django's UUIDField and JSONField store on SQLite, without the field calls.
        if isinstance(field, models.UUIDField):
            return _uuid_hex
        if isinstance(field, models.JSONField) and field.encoder is None:
            return json_text
        # Django's SQLite adapters for these are str() (a search index has one per row).
        if type(field) in (models.DateField, models.TimeField):
            return str
    return lambda value: field.get_db_prep_save(value, connection)


def inserter(model: type[models.Model]):
    """(SQL, row builder) to insert MODEL rows: INSERT for executemany, or on PostgreSQL
    COPY ... FROM STDIN."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    names = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    table = connection.ops.quote_name(model._meta.db_table)
    if connection.vendor == "postgresql":
        sql = f"COPY {table} ({names}) FROM STDIN"
    else:
        sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608 (names from the model)
    # The builder is compiled once per call: a row is one tuple display, with no loop
    # over fields and no call for the fields that need no preparing (a state-size
    # directory import builds over half a million rows).
    env: dict = {}
    parts = []
    for index, field in enumerate(fields):
        env[f"d{index}"], prep = field.get_default(), _prep(field)
        value = f"get({field.attname!r}, d{index})"
        if prep is None:
            parts.append(value)
        else:
            env[f"p{index}"] = prep
            parts.append(f"(None if (v := {value}) is None else p{index}(v))")
    source = "def row(values):\n    get = values.get\n    return (" + ", ".join(parts) + ",)\n"
    exec(source, env)  # noqa: S102 (the source is built from the model's own field names)
    return sql, env["row"]


def bulk_insert(model: type[models.Model], rows: list[dict]) -> None:
    """Insert ROWS (dicts by attname) into MODEL's table, in batches."""
    if not rows:
        return
    sql, build = inserter(model)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The driver's own cursor (Django's wrapper has no copy()); errors still
            # come out as Django's IntegrityError and friends.
            with connection.wrap_database_errors, cursor.cursor.copy(sql) as copy:
                for row in rows:
                    copy.write_row(build(row))
            return
        for start in range(0, len(rows), BATCH):
            cursor.executemany(sql, [build(row) for row in rows[start : start + BATCH]])


# SQLite's default page cache is 2 MB; a bulk load into tables with several indexes
# evicts and re-reads index pages all the time. Per connection and restored after;
# durability settings are left alone.
LOAD_CACHE_KIB = 128 * 1024


@contextlib.contextmanager
def collector_paused():
    """Python's cyclic garbage collector off inside the block. Bulk loads and exports
    make millions of small objects and no reference cycles; the collector's full passes
    over them were a quarter of a state-size directory import. Restored afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextlib.contextmanager
def bulk_load():
    """A larger SQLite page cache and the garbage collector paused for a bulk load."""
    with collector_paused():
        if connection.vendor != "sqlite":
            yield
            return
        with _sqlite_cache():
            yield


@contextlib.contextmanager
def _sqlite_cache():
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        before = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA cache_size = -{LOAD_CACHE_KIB}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(before)}")

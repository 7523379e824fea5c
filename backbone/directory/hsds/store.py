"""Directory rows <-> flat HSDS records (the CSV form of one row)."""

from __future__ import annotations

import json
import uuid

import orjson
from django.core.exceptions import EmptyResultSet
from django.db import connections

from backbone.directory.models import HsdsRecord


def link_targets(model: type[HsdsRecord]) -> dict[str, str]:
    """HSDS foreign-key field -> the HSDS table it points at."""
    return {
        hsds_field: model._meta.get_field(field_name).related_model.hsds_table
        for hsds_field, field_name in model.hsds_links.items()
    }


def stored(network, model: type[HsdsRecord]) -> dict[str, tuple[int, dict]]:
    """Every row of MODEL in NETWORK as hsds id -> (pk, flat HSDS record); one query."""
    return flat_rows(model._default_manager.filter(network=network))


def _raw(queryset) -> list[tuple]:
    try:
        sql, params = queryset.query.sql_with_params()
    except EmptyResultSet:  # a filter that can match nothing, e.g. pk__in=[]
        return []
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def stored_ids(network, model: type[HsdsRecord]) -> set[str]:
    """The HSDS ids of MODEL's rows in NETWORK."""
    rows = _raw(model._default_manager.filter(network=network).values_list("hsds_id"))
    return {uuid_text(hsds_id) for (hsds_id,) in rows}


def pks_by_id(network, model: type[HsdsRecord]) -> dict[str, int]:
    """HSDS id -> primary key of MODEL's rows in NETWORK."""
    rows = _raw(model._default_manager.filter(network=network).values_list("hsds_id", "pk"))
    return {uuid_text(hsds_id): pk for hsds_id, pk in rows}


def uuid_text(value) -> str | None:
    """A UUID column as canonical text: SQLite gives 32 hex digits, PostgreSQL a UUID."""
    if value is None:
        return None
    if isinstance(value, uuid.UUID):
        return str(value)
    if len(value) == 32:
        return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
    return str(uuid.UUID(value))


def _json(value) -> dict:
    if value is None:
        return {}
    if not isinstance(value, str | bytes):
        return value
    try:
        return orjson.loads(value)  # several times faster than json on a state directory
    except orjson.JSONDecodeError:  # e.g. NaN, which json reads
        return json.loads(value)


def flat_rows(queryset) -> dict[str, tuple[int, dict]]:
    """The rows of QUERYSET (of one HSDS model) as hsds id -> (pk, flat HSDS record)."""
    model = queryset.model
    links = [(f"{name}__hsds_id", hsds_field) for hsds_field, name in model.hsds_links.items()]
    columns = model.hsds_columns
    # A state directory has hundreds of thousands of rows: read raw tuples and convert
    # the two column types here rather than through the ORM's per-value converters.
    fetched = _raw(
        queryset.values_list("pk", "hsds_id", "data", *columns, *(name for name, _ in links))
    )
    first_column, first_link = 3, 3 + len(columns)
    link_fields = [hsds_field for _, hsds_field in links]
    out = {}
    for row in fetched:
        hsds_id = uuid_text(row[1])
        record = {"id": hsds_id}
        for index, name in enumerate(columns, start=first_column):
            if row[index] is not None:
                record[name] = row[index]
        for index, hsds_field in enumerate(link_fields, start=first_link):
            if row[index] is not None:
                record[hsds_field] = uuid_text(row[index])
        record.update(_json(row[2]))
        out[hsds_id] = (row[0], record)
    return out


def split(model: type[HsdsRecord], record: dict) -> tuple[dict, dict, dict]:
    """(columns, links as hsds field -> hsds id, data) of a flat RECORD."""
    columns = {name: record.get(name) for name in model.hsds_columns}
    links = {field: record.get(field) for field in model.hsds_links}
    data = {
        key: value
        for key, value in record.items()
        if key != "id" and key not in columns and key not in links
    }
    return columns, links, data

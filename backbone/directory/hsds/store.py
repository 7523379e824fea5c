"""Directory rows <-> flat HSDS records (the CSV form of one row)."""

from __future__ import annotations

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


def flat_rows(queryset) -> dict[str, tuple[int, dict]]:
    """The rows of QUERYSET (of one HSDS model) as hsds id -> (pk, flat HSDS record)."""
    model = queryset.model
    links = {f"{name}__hsds_id": hsds_field for hsds_field, name in model.hsds_links.items()}
    rows = queryset.values("pk", "hsds_id", "data", *model.hsds_columns, *links)
    out = {}
    for row in rows:
        record = {"id": str(row["hsds_id"])}
        for name in model.hsds_columns:
            if row[name] is not None:
                record[name] = row[name]
        for lookup, hsds_field in links.items():
            if row[lookup] is not None:
                record[hsds_field] = str(row[lookup])
        record.update(row["data"])
        out[record["id"]] = (row["pk"], record)
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

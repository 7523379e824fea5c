"""The bulk write of a planned data file (see data_file.data_import), in the caller's
transaction: multi-row INSERTs of the new values (RETURNING their ids), batched UPDATEs
of the changed ones (guarded by their version), one DataValueVersion per value written,
one audit record for the whole import, and the analytics told after the commit.

It talks to the DB-API cursor itself: Django's cursor wrapper rewrites and logs every
statement, which costs more than the insert on a million rows.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from backbone.core import audit, tabular
from backbone.core.models import AuditEvent
from backbone.core.tabular import RowPlan
from backbone.measurement.data_file import (
    _COM,
    _DEN,
    _NUM,
    _PK,
    _REVIEW,
    _STATUS,
    _SUB,
    _VAL,
    _VER,
    EMPTY,
    TRACKED,
    DataError,
)
from backbone.measurement.models import DataValue, DataValueVersion, ImportJob


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def _batches(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]


class _Texts(dict):
    """Numbers as the versions record them ("12", "0.5"), each worked out once: a file
    repeats the same few thousand values."""

    def __missing__(self, value: Decimal) -> str:
        text = self[value] = format(value.normalize(), "f")
        return text


class _Quoted(dict):
    """Numbers as JSON strings ('"12"'), None as null."""

    def __init__(self, texts: _Texts):
        super().__init__({None: "null"})
        self.texts = texts

    def __missing__(self, value: Decimal) -> str:
        text = self[value] = f'"{self.texts[value]}"'
        return text


def write_plans(access, plans, data, filename, via, reason, submission, progress, job) -> None:
    """Write every planned change in bulk: values, their versions, one audit record."""
    ops = connection.ops
    now = timezone.now()
    stamp = ops.adapt_datetimefield_value(now)
    actor_id = access.actor.pk if access.actor else None
    network_id = access.network.pk
    submission_id = submission.pk if submission is not None else None
    create, update, unchanged = RowPlan.CREATE, RowPlan.UPDATE, RowPlan.UNCHANGED
    creates = [p for p in plans if p.action == create]
    updates = [p for p in plans if p.action == update]
    relinks = [
        p.existing[_PK]
        for p in plans
        if p.action == unchanged and submission_id and p.existing[_SUB] != submission_id
    ]
    total = len(creates) + len(updates)
    dumps = json.dumps
    postgres = connection.vendor == "postgresql"
    cast = "::jsonb" if postgres else ""
    value_table = DataValue._meta.db_table
    version_table = DataValueVersion._meta.db_table
    columns = (
        "network_id, indicator_id, measure_id, submission_id, period, period_start, period_end, "
        "organization_id, area_id, disaggregation, categories, value, numerator, denominator, "
        "comment, status, review_comment, version, created_by_id, updated_by_id, created_at, "
        "updated_at"
    )
    mark = "%s" if postgres else "?"
    placeholder = "(" + ", ".join([mark] * 10 + [f"{mark}{cast}"] + [mark] * 11) + ")"
    texts = _Texts()
    quoted = _Quoted(texts)
    versions = []
    written_ids = []
    category_json: dict[str, str] = {}
    period_dates: dict[str, tuple] = {}
    draft = DataValue.Status.DRAFT
    connection.ensure_connection()
    # The DB-API cursor itself: Django's wrapper rewrites and logs every statement, which
    # costs more than the insert on a million rows.
    cursor = connection.connection.cursor()
    restore = _sqlite_cache(cursor) if not postgres else None
    try:
        # The rows as the driver takes them: SQLite gets the numbers as text (its NUMERIC
        # column stores "12" and "12.0000" alike), PostgreSQL the Decimals.
        rows = []
        for item in creates:
            kind, subject_id, period, organization_id, area_id, key_text = item.key
            fields = item.fields
            start, end, categories = fields["_dates"]
            dates = period_dates.get(period)
            if dates is None:
                dates = (start, end) if postgres else (start.isoformat(), end.isoformat())
                period_dates[period] = dates
            value, numerator, denominator = (
                fields["value"],
                fields["numerator"],
                fields["denominator"],
            )
            category_text = category_json.get(key_text)
            if category_text is None:
                category_text = category_json[key_text] = dumps(categories)
            if not postgres:
                value = texts[value]
                numerator = None if numerator is None else texts[numerator]
                denominator = None if denominator is None else texts[denominator]
            rows.append(
                (
                    network_id,
                    subject_id if kind == "i" else None,
                    subject_id if kind == "m" else None,
                    submission_id,
                    period,
                    *dates,
                    organization_id,
                    area_id,
                    key_text,
                    category_text,
                    value,
                    numerator,
                    denominator,
                    fields["comment"],
                    draft,
                    "",
                    1,
                    actor_id,
                    actor_id,
                    stamp,
                    stamp,
                )
            )
        ids = _insert_values(cursor, value_table, columns, placeholder, rows, postgres, progress)
        del rows
        for item, pk in zip(creates, ids, strict=True):
            fields = item.fields
            numerator, denominator, comment = (
                fields["numerator"],
                fields["denominator"],
                fields["comment"],
            )
            # The first version's state as JSON, spelled out: numbers need no escaping
            # and json.dumps of a dict per row is a third of the write.
            new = (
                f'{{"value": {quoted[fields["value"]]}, '
                f'"numerator": {quoted[numerator]}, "denominator": {quoted[denominator]}, '
                f'"comment": {dumps(comment) if comment else EMPTY}, '
                f'"status": "{draft}", "review_comment": ""}}'
            )
            versions.append((network_id, pk, 1, actor_id, stamp, None, new, "", via))
        written_ids += ids
        if updates:
            _write_updates(cursor, access, updates, stamp, submission_id, reason, via, versions)
            written_ids += [item.existing[_PK] for item in updates]
        for batch in _batches(relinks, 500):
            marks = ", ".join([mark] * len(batch))
            cursor.execute(
                f"UPDATE {value_table} SET submission_id = {mark} WHERE id IN ({marks})",  # noqa: S608
                [submission_id, *batch],
            )
        version_sql = (
            f"INSERT INTO {version_table} (network_id, data_value_id, version, changed_by_id, "  # noqa: S608
            f"changed_at, old, new, reason, via) VALUES ({mark}, {mark}, {mark}, {mark}, "
            f"{mark}, {mark}{cast}, {mark}{cast}, {mark}, {mark})"
        )
        for batch in _batches(versions, 20000):
            cursor.executemany(version_sql, batch)
    finally:
        if restore:
            restore()
        cursor.close()
    if progress:
        progress(total, total)
    if not written_ids:
        return
    _audit(access, plans, data, filename, via, reason, submission, job, len(creates), len(updates))
    _after_commit(network_id, written_ids)


# SQLite's page cache while an import writes: the indexes of millions of rows do not fit
# the default 2,000 pages. Negative: KiB. Set on this connection only, and put back.
SQLITE_CACHE_KIB = 256 * 1024


def _sqlite_cache(cursor):
    (saved,) = cursor.execute("PRAGMA cache_size").fetchone()
    cursor.execute(f"PRAGMA cache_size = {-SQLITE_CACHE_KIB}")

    def restore():
        cursor.execute(f"PRAGMA cache_size = {int(saved)}")

    return restore


def _insert_values(cursor, table, columns, placeholder, rows, postgres, progress) -> list[int]:
    """Insert ROWS (tuples in COLUMNS order) and return their ids in the same order."""
    total = len(rows)
    if not postgres:
        # One prepared statement for every row. The import holds SQLite's write lock, and
        # ids only grow, so the new rows are those past the largest id, in insertion order.
        (before,) = cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()  # noqa: S608
        sql = f"INSERT INTO {table} ({columns}) VALUES {placeholder}"  # noqa: S608
        for start in range(0, total, 50000):
            cursor.executemany(sql, rows[start : start + 50000])
            if progress:
                progress(min(start + 50000, total), total)
        cursor.execute(f"SELECT id FROM {table} WHERE id > ? ORDER BY id", [before])  # noqa: S608
        ids = [row[0] for row in cursor.fetchall()]
        if len(ids) != total:
            raise RuntimeError(f"Inserted {total} values but found {len(ids)} new ids.")
        return ids
    # PostgreSQL: multi-row INSERTs that return their ids (in VALUES order).
    width = placeholder.count("%s")
    limit = connection.features.max_query_params or 30000
    size = max(1, min(2000, limit // width))
    ids = []
    for batch in _batches(rows, size):
        sql = (
            f"INSERT INTO {table} ({columns}) VALUES "  # noqa: S608 (no user text)
            + ", ".join([placeholder] * len(batch))
            + " RETURNING id"
        )
        cursor.execute(sql, [param for row in batch for param in row])
        ids += [row[0] for row in cursor.fetchall()]
        if progress:
            progress(len(ids), total)
    return ids


def _write_updates(cursor, access, updates, stamp, submission_id, reason, via, versions):
    postgres = connection.vendor == "postgresql"
    table = DataValue._meta.db_table
    rows = []
    for item in updates:
        existing, fields = item.existing, item.fields
        status = existing[_STATUS]
        if status != DataValue.Status.APPROVED:
            status = DataValue.Status.DRAFT
        version = existing[_VER] + 1
        old = {
            name: _text(existing[index])
            for name, index in zip(TRACKED, (_VAL, _NUM, _DEN, _COM, _STATUS, _REVIEW), strict=True)
        }
        new = {
            "value": _text(fields["value"]),
            "numerator": _text(fields["numerator"]),
            "denominator": _text(fields["denominator"]),
            "comment": fields["comment"],
            "status": status,
            "review_comment": existing[_REVIEW],
        }
        values = [fields["value"], fields["numerator"], fields["denominator"]]
        if not postgres:
            values = [None if v is None else str(v) for v in values]
        rows.append(
            (
                *values,
                fields["comment"],
                status,
                version,
                access.actor.pk if access.actor else None,
                stamp,
                submission_id or existing[_SUB],
                existing[_PK],
                existing[_VER],
            )
        )
        versions.append(
            (
                access.network.pk,
                existing[_PK],
                version,
                access.actor.pk if access.actor else None,
                stamp,
                json.dumps(old),
                json.dumps(new),
                reason,
                via,
            )
        )
    mark = "%s" if postgres else "?"
    names = ["value", "numerator", "denominator", "comment", "status", "version"]
    names += ["updated_by_id", "updated_at", "submission_id"]
    assignments = ", ".join(f"{name} = {mark}" for name in names)
    sql = f"UPDATE {table} SET {assignments} WHERE id = {mark} AND version = {mark}"  # noqa: S608
    changed = 0
    for batch in _batches(rows, 20000):
        cursor.executemany(sql, batch)
        changed += cursor.rowcount
    if changed != len(rows):
        # Someone changed one of these values between the check and the write.
        raise tabular.ImportFailed(
            [
                DataError(
                    0,
                    "",
                    "",
                    "Some values changed while the file was being imported; import it again.",
                    rule="conflict",
                )
            ]
        )


def _audit(access, plans, data, filename, via, reason, submission, job, created, updated):
    """One audit record per import (not one per value: the values' versions hold those)."""
    summary = {
        "filename": filename,
        "sha256": hashlib.sha256(data).hexdigest(),
        "created": created,
        "updated": updated,
        "unchanged": len(plans) - created - updated,
        "reason": reason,
        "submission_id": submission.pk if submission is not None else None,
    }
    # The record is on the job; the entry grid of a submission has none, so on it; the
    # command line gets a finished job of its own.
    target = job or submission
    if target is None:
        target = ImportJob.objects.create(
            network=access.network,
            organization_id=access.organization_id,
            created_by=access.actor,
            filename=filename[:255],
            content=b"",
            sha256=summary["sha256"],
            via=via[:20],
            reason=reason,
            commit=True,
            status=ImportJob.Status.DONE,
            total_rows=len(plans),
            processed_rows=len(plans),
            report={"created": created, "updated": updated, "unchanged": summary["unchanged"]},
            finished_at=timezone.now(),
        )
    audit.record_for(
        access, action=AuditEvent.Action.CREATE, obj=target, after=summary, via=via[:20]
    )


def _after_commit(network_id: int, value_ids: list[int]) -> None:
    from backbone.insights.refresh import data_values_changed

    transaction.on_commit(lambda: data_values_changed(network_id=network_id, value_ids=value_ids))

"""Import HSDS 3.0 records into one network's directory.

Strict by default: every problem is reported with file, row, table, record id and
field, and any problem means nothing is written. `repair` applies the safe repairs of
`repairs.py` first; `skip_invalid` leaves out the records that still fail (and the
records that point at them) and lists them. Records are upserted by HSDS id, so
importing the same data twice changes nothing the second time. Every created or
changed record gets HSDS metadata (change log) rows.

Fast path: the validators are compiled once, every table is read once (one query), and
rows are written with bulk_create / bulk_update; nothing is queried per row.
"""

from __future__ import annotations

import datetime
import functools
import json
import os
import re
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

from django.db import transaction

from backbone.core.bulk import bulk_insert
from backbone.core.models import Organization, OrganizationIdentifier
from backbone.directory.hsds import repairs
from backbone.directory.hsds.reading import Record
from backbone.directory.hsds.schema import tables
from backbone.directory.hsds.store import link_targets, pks_by_id, split, stored, stored_ids
from backbone.directory.models import (
    HSDS_MODELS,
    MODEL_FOR_TABLE,
    DirectoryOrganization,
    HsdsRecord,
    Metadata,
)

BATCH = 1000
# Long free text: padding there is harmless (the official examples have some), so it
# is kept as given; everywhere else it is a problem (`--repair` trims it).
FREE_TEXT = {
    "description",
    "alert",
    "details",
    "notes",
    "transportation",
    "application_process",
    "eligibility_description",
    "fees_description",
    "amount_description",
    "interpretation_services",
    "accreditations",
}
NOT_LOGGED = {"metadata", "meta_table_description"}
LINK_TARGETS = {target for model in HSDS_MODELS for target in link_targets(model).values()}


@dataclass(frozen=True)
class Problem:
    file: str
    row: str
    table: str
    record_id: str
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file} row {self.row} ({self.table} {self.record_id or '?'})"
        return (
            f"{where}, field {self.field}: {self.message}"
            if self.field
            else f"{where}: {self.message}"
        )


@dataclass(frozen=True)
class Repair:
    file: str
    row: str
    table: str
    field: str
    before: object
    after: object

    def __str__(self) -> str:
        where = f"{self.file} row {self.row} ({self.table}), field {self.field}"
        return f"{where}: {self.before!r} -> {self.after!r}"


@dataclass
class HsdsImportResult:
    form: str = ""
    errors: list[Problem] = field(default_factory=list)
    repairs: list[Repair] = field(default_factory=list)
    skipped: list[Problem] = field(default_factory=list)
    created: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    unchanged: Counter = field(default_factory=Counter)
    change_log: int = 0
    committed: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def changed(self) -> bool:
        return bool(sum(self.created.values()) or sum(self.updated.values()))

    def summary(self) -> dict:
        return {
            "created": dict(self.created),
            "updated": dict(self.updated),
            "unchanged": sum(self.unchanged.values()),
            "skipped": len({(p.table, p.record_id, p.row) for p in self.skipped}),
            "repairs": len(self.repairs),
            "change_log": self.change_log,
        }


def _problem(record: Record, name: str, message: str) -> Problem:
    return Problem(record.file, record.row, record.table, record.id, name, message)


CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@functools.lru_cache(maxsize=1 << 20)
def _uuid_text(value: str) -> str:
    if CANONICAL_UUID.fullmatch(value):  # already what str(UUID(value)) gives back
        return value
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return value


def _uuid(value) -> str:
    """The canonical text of an id (a state directory repeats each id many times)."""
    return _uuid_text(str(value))


def _merge_duplicates(records: list[Record], problems: dict[int, list[Problem]]) -> list[Record]:
    """Nested JSON repeats shared records (an organization in every service): keep one.

    A repeat that disagrees with the first copy is a problem of the first copy."""
    seen: dict[tuple[str, str], Record] = {}
    out = []
    for record in records:
        key = (record.table, _uuid(record.values.get("id", "")))
        first = seen.get(key)
        if first is None or not record.id:
            seen[key] = record
            out.append(record)
            continue
        for name, value in record.values.items():
            if name not in first.values:
                first.values[name] = value
            elif first.values[name] != value:
                problems.setdefault(id(first), []).append(
                    _problem(
                        record,
                        name,
                        f"this {record.table} also appears at {first.file} row {first.row} "
                        f"with {name} {first.values[name]!r}",
                    )
                )
    return out


def _check_values(record: Record, form: str) -> list[Problem]:
    spec = tables()[record.table]
    values = record.values
    # Most records pass: the yes/no check is half the cost of listing no errors.
    problems = (
        []
        if spec.validator.is_valid(values)
        else [_problem(record, name, message) for name, message in spec.errors(values)]
    )
    for name, value in values.items():
        if not isinstance(value, str):
            continue
        if value != value.strip() and name not in FREE_TEXT:
            problems.append(_problem(record, name, f"{value!r} has spaces before or after it"))
            continue
        kind = spec.types.get(name)
        if kind == "time" and not repairs.TIME_RE.match(value):
            problems.append(_problem(record, name, f"{value!r} is not a 24-hour time like 09:00"))
        elif kind == "date" and repairs.normal_date(value) != value:
            problems.append(_problem(record, name, f"{value!r} is not a date like 2024-01-31"))
        elif name == "byday" and not repairs.BYDAY_RE.match(value):
            problems.append(
                _problem(record, name, f"{value!r} is not a list of weekdays like MO,TU,FR")
            )
    if form == "csv":
        for name in sorted(spec.tabular_required - set(record.values)):
            problems.append(_problem(record, name, "is required in the CSV form"))
    return problems


def _references(record: Record) -> list[tuple[str, str, str]]:
    """(field, table, id) of every record that RECORD points at."""
    model = MODEL_FOR_TABLE[record.table]
    values = record.values
    refs = [
        (name, target, _uuid(values[name]))
        for name, target in link_targets(model).items()
        if values.get(name) is not None
    ]
    # HSDS leaves link_entity open (the official example says "link_entity"); a link
    # into a table the directory holds must resolve.
    if (
        record.table == "attribute"
        and values.get("link_id")
        and values.get("link_entity") in MODEL_FOR_TABLE
    ):
        refs.append(("link_id", values["link_entity"], _uuid(values["link_id"])))
    return refs


def _reference_problems(record: Record, known: dict[str, set[str]]) -> list[Problem]:
    problems = []
    for name, target, target_id in _references(record):
        if target not in MODEL_FOR_TABLE:
            message = f"{target!r} is not an HSDS table"
        elif target_id in known[target]:
            continue
        elif target == "taxonomy_term":
            message = f"unknown taxonomy term {target_id}"
        else:
            message = f"points at {target} {target_id}, which is neither in the data nor stored"
        problems.append(_problem(record, name, message))
    return problems


def _drop_dangling(record: Record, found: list[Problem], result) -> list[Problem]:
    """The repair for an optional foreign key that points at nothing: drop the link."""
    spec = tables()[record.table]
    left = []
    for problem in found:
        name = problem.field
        if name in spec.required or name in spec.tabular_required or name not in record.values:
            left.append(problem)
            continue
        before = record.values.pop(name)
        result.repairs.append(Repair(record.file, record.row, record.table, name, before, None))
    return left


class _StoredIds(dict):
    """Table -> ids of its stored rows in the network, read on first use."""

    def __init__(self, network, existing: dict[str, dict]):
        super().__init__({table: set(rows) for table, rows in existing.items() if rows})
        self.network = network

    def __missing__(self, table: str) -> set[str]:
        ids = stored_ids(self.network, MODEL_FOR_TABLE[table])
        self[table] = ids
        return ids


class _Known(dict):
    """Table -> ids known to exist: stored, or in the data being imported."""

    def __init__(self, stored_ids: _StoredIds):
        super().__init__()
        self.stored_ids = stored_ids

    def __missing__(self, table: str) -> set[str]:
        ids = set(self.stored_ids[table])
        self[table] = ids
        return ids


def plan_and_check(
    *, network, records: list[Record], form: str, repair: bool, skip_invalid: bool
) -> tuple[HsdsImportResult, list[Record], dict]:
    """Repair (when asked), check, and split RECORDS into the ones to write and problems."""
    result = HsdsImportResult(form=form)
    specs = tables()
    if repair:
        for record in records:
            for name, before, after in repairs.repair(
                record.table, record.values, specs[record.table].types
            ):
                result.repairs.append(
                    Repair(record.file, record.row, record.table, name, before, after)
                )
    problems: dict[int, list[Problem]] = {}
    records = _merge_duplicates(records, problems)
    for record in records:
        found = _check_values(record, form)
        if found:
            problems.setdefault(id(record), []).extend(found)
    # Stored rows in full only for the tables the data brings rows for (to upsert them);
    # of the others only the ids, and only when a record points there: a state
    # directory's change log alone is a row per record.
    present = {record.table for record in records}
    existing = {
        model.hsds_table: stored(network, model) if model.hsds_table in present else {}
        for model in HSDS_MODELS
    }
    stored_ids = _StoredIds(network, existing)
    # Leaving a record out can break the records that point at it: check again until
    # nothing more is left out.
    while True:
        candidates = [r for r in records if not skip_invalid or id(r) not in problems]
        known = _Known(stored_ids)
        for record in candidates:
            known[record.table].add(_uuid(record.values.get("id", "")))
        new = False
        for record in candidates:
            found = _reference_problems(record, known)
            if repair:
                found = _drop_dangling(record, found, result)
            for problem in found:
                if problem not in problems.get(id(record), []):
                    problems.setdefault(id(record), []).append(problem)
                    new = True
        if not (skip_invalid and new):
            break
    listed = [problem for record in records for problem in problems.get(id(record), [])]
    if skip_invalid:
        result.skipped = listed
        return result, [r for r in records if id(r) not in problems], existing
    result.errors = listed
    return result, records, existing


def _normalized(record: Record) -> dict:
    values = dict(record.values)
    model = MODEL_FOR_TABLE[record.table]
    for name in ("id", *model.hsds_links, "link_id", "resource_id"):
        if values.get(name) is not None and name in values:
            values[name] = _uuid(values[name])
    return values


def hsds_import(
    *,
    network,
    records: list[Record],
    form: str,
    repair: bool = False,
    skip_invalid: bool = False,
    dry_run: bool = False,
    updated_by: str = "Backbone import",
) -> HsdsImportResult:
    """Check RECORDS and, when they pass (or `skip_invalid`), upsert them into NETWORK."""
    result, valid, existing = plan_and_check(
        network=network, records=records, form=form, repair=repair, skip_invalid=skip_invalid
    )
    if result.errors:
        return result
    incoming: dict[str, dict[str, dict]] = {model.hsds_table: {} for model in HSDS_MODELS}
    for record in valid:
        values = _normalized(record)
        incoming[record.table][values["id"]] = values
    for table, rows in incoming.items():
        for hsds_id, values in rows.items():
            before = existing[table].get(hsds_id)
            if before is None:
                result.created[table] += 1
            elif before[1] != values:
                result.updated[table] += 1
            else:
                result.unchanged[table] += 1
    if dry_run or not result.changed:
        return result
    _write(network, incoming, existing, result, updated_by)
    result.committed = True
    return result


def _organization_matches(network) -> tuple[dict[str, int], dict[str, int]]:
    """Members of NETWORK by lowercased name and by EIN, to link directory organizations."""
    members = Organization.objects.filter(memberships__network=network).values_list("pk", "name")
    by_name = {name.strip().lower(): pk for pk, name in members}
    by_ein = dict(
        OrganizationIdentifier.objects.filter(
            organization__memberships__network=network, scheme=OrganizationIdentifier.Scheme.EIN
        ).values_list("value", "organization_id")
    )
    return by_name, by_ein


@transaction.atomic
def _write(network, incoming, existing, result: HsdsImportResult, updated_by: str) -> None:
    today = datetime.date.today().isoformat()
    network_id = network.pk  # a property: read once, not once per row
    pks: dict[str, dict[str, int]] = {}
    change_log: list[dict] = []
    by_name, by_ein = _organization_matches(network)
    for model in HSDS_MODELS:
        table = model.hsds_table
        rows = incoming[table]
        stored_rows = existing[table]
        targets = link_targets(model)
        to_create: list[dict] = []
        to_update: list[HsdsRecord] = []
        for hsds_id, values in rows.items():
            before = stored_rows.get(hsds_id)
            if before is not None and before[1] == values:
                continue
            columns, links, data = split(model, values)
            fields = {"network_id": network_id, "hsds_id": hsds_id, "data": data}
            fields.update(columns)
            for hsds_field, target_id in links.items():
                name = model.hsds_links[hsds_field]
                fields[f"{name}_id"] = pks[targets[hsds_field]][target_id] if target_id else None
            if model is DirectoryOrganization:
                fields["organization_id"] = by_ein.get(
                    str(values.get("tax_id", ""))
                ) or by_name.get(str(values.get("name", "")).strip().lower())
            if before is None:
                to_create.append(fields)
                if table not in NOT_LOGGED:
                    change_log.append(
                        _log(
                            network_id,
                            table,
                            hsds_id,
                            "create",
                            "id",
                            None,
                            hsds_id,
                            today,
                            updated_by,
                        )
                    )
                continue
            to_update.append(model(pk=before[0], **fields))
            if table not in NOT_LOGGED:
                for name in sorted(set(values) | set(before[1])):
                    if values.get(name) != before[1].get(name):
                        change_log.append(
                            _log(
                                network_id,
                                table,
                                hsds_id,
                                "update",
                                name,
                                before[1].get(name),
                                values.get(name),
                                today,
                                updated_by,
                            )
                        )
        # By id: the unique (network, hsds_id) index then grows at its end.
        to_create.sort(key=lambda row: row["hsds_id"])
        bulk_insert(model, to_create)
        if to_update:
            fields = ["data", *model.hsds_columns, *model.hsds_links.values()]
            if model is DirectoryOrganization:
                fields.append("organization")
            model._default_manager.bulk_update(to_update, fields, batch_size=BATCH)
        if table in LINK_TARGETS:
            pks[table] = pks_by_id(network, model)
    # In index order: by the resource it logs, and ids ascending in that order.
    change_log.sort(key=lambda row: (row["resource_type"], row["resource_id"]))
    for row, log_id in zip(change_log, _change_log_ids(len(change_log)), strict=True):
        row["hsds_id"] = log_id
    bulk_insert(Metadata, change_log)
    result.change_log = len(change_log)


def _text(value) -> str:
    """A value as change-log text: an absent value is "null" (HSDS requires the field,
    and the CSV form cannot tell an empty string from no value)."""
    if value is None:
        return "null"
    return value if isinstance(value, str) and value else json.dumps(value)


def _change_log_ids(count: int) -> list[str]:
    """COUNT ascending version 7 UUIDs (RFC 9562, time-ordered; the 74 bits after the
    millisecond timestamp are a counter from a random start, the standard's monotonic
    method) as 32 hex digits. Rows sorted by these go into the unique index in order
    instead of at random places: a state directory's first import logs 180,000."""
    millis = time.time_ns() // 1_000_000
    start = int.from_bytes(os.urandom(10)) >> 9  # 71 random bits: room to count
    ids = []
    for counter in range(start, start + count):
        rand_a, rand_b = counter >> 62, counter & ((1 << 62) - 1)
        value = (millis << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b
        ids.append(f"{value:032x}")
    return ids


def _log(network_id, table, hsds_id, action, field_name, before, after, today, updated_by) -> dict:
    return dict(
        network_id=network_id,
        resource_id=hsds_id,
        resource_type=table,
        data={
            "last_action_date": today,
            "last_action_type": action,
            "field_name": field_name,
            "previous_value": _text(before),
            "replacement_value": _text(after),
            "updated_by": updated_by,
        },
    )

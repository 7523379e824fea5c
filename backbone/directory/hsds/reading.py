"""Reading HSDS 3.0 into flat records, one per row of an HSDS table.

JSON comes in three forms: one object (`service_full.json`), a list of objects, or an
API page (`{"contents": [...]}`); nested objects and arrays are unfolded into their own
tables and joined back by the `*_id` foreign keys, as in the CSV form. A CSV
datapackage is a folder (or its `datapackage.json`) with one file per table; a folder in
the older 1.1/2.0 layout is read by `legacy.py`.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from backbone.core.bulk import collector_paused
from backbone.directory.hsds.schema import tables


class ReadError(Exception):
    """The input as a whole cannot be read."""


@dataclass
class Record:
    table: str
    values: dict
    file: str
    row: str  # CSV: the line number (header is 1); JSON: the record's path in the file

    @property
    def id(self) -> str:
        return str(self.values.get("id", ""))


# Nested arrays: key -> (child table, child's foreign key to the parent).
CHILDREN = {
    "organization": {
        "funding": ("funding", "organization_id"),
        "fundings": ("funding", "organization_id"),
        "contacts": ("contact", "organization_id"),
        "phones": ("phone", "organization_id"),
        "locations": ("location", "organization_id"),
        "programs": ("program", "organization_id"),
        "organization_identifiers": ("organization_identifier", "organization_id"),
        "services": ("service", "organization_id"),
    },
    "service": {
        "phones": ("phone", "service_id"),
        "schedules": ("schedule", "service_id"),
        "service_areas": ("service_area", "service_id"),
        "service_at_locations": ("service_at_location", "service_id"),
        "languages": ("language", "service_id"),
        "funding": ("funding", "service_id"),
        "fundings": ("funding", "service_id"),
        "cost_options": ("cost_option", "service_id"),
        "required_documents": ("required_document", "service_id"),
        "contacts": ("contact", "service_id"),
    },
    "service_at_location": {
        "contacts": ("contact", "service_at_location_id"),
        "phones": ("phone", "service_at_location_id"),
        "schedules": ("schedule", "service_at_location_id"),
    },
    "location": {
        "languages": ("language", "location_id"),
        "addresses": ("address", "location_id"),
        "addresss": ("address", "location_id"),
        "contacts": ("contact", "location_id"),
        "accessibility": ("accessibility", "location_id"),
        "accessibilitys": ("accessibility", "location_id"),
        "phones": ("phone", "location_id"),
        "schedules": ("schedule", "location_id"),
    },
    "contact": {"phones": ("phone", "contact_id")},
    "phone": {"languages": ("language", "phone_id")},
}
# Nested single objects: key -> (table, the parent's foreign key to it).
ONE = {
    "service": {
        "organization": ("organization", "organization_id"),
        "program": ("program", "program_id"),
    },
    "service_at_location": {
        "location": ("location", "location_id"),
        "service": ("service", "service_id"),
    },
    "attribute": {"taxonomy_term": ("taxonomy_term", "taxonomy_term_id")},
    "taxonomy_term": {"taxonomy": ("taxonomy", "taxonomy_id")},
}
# Extra detail objects that only the API form carries (e.g. `taxonomy_detail`).
IGNORED_OBJECTS = {"taxonomy_term": {"taxonomy_detail": ("taxonomy", "taxonomy_id")}}


def flatten(table: str, obj: dict, file: str, path: str, out: list[Record]) -> None:
    """Append OBJ and everything nested in it to OUT as flat records."""
    if not isinstance(obj, dict):
        raise ReadError(f"{file} {path}: expected an object, found {type(obj).__name__}.")
    flat = {}
    for key, value in obj.items():
        if key in CHILDREN.get(table, {}) or key in ("attributes", "metadata"):
            continue
        if key in ONE.get(table, {}) or key in IGNORED_OBJECTS.get(table, {}):
            continue
        if isinstance(value, dict | list):
            continue
        if value is not None:
            flat[key] = value
    for key, (child_table, parent_key) in ONE.get(table, {}).items():
        child = obj.get(key)
        if isinstance(child, dict):
            if child.get("id") is not None:
                flat.setdefault(parent_key, child["id"])
            flatten(child_table, child, file, f"{path}.{key}", out)
    detail = obj.get("taxonomy_detail") if table == "taxonomy_term" else None
    if isinstance(detail, dict) and "taxonomy" not in obj:
        if detail.get("id") is not None:
            flat.setdefault("taxonomy_id", detail["id"])
        flatten("taxonomy", detail, file, f"{path}.taxonomy_detail", out)
    out.append(Record(table, flat, file, path))
    links = dict(CHILDREN.get(table, {}))
    links["attributes"] = ("attribute", "link_id")
    links["metadata"] = ("metadata", "resource_id")
    for key, (child_table, parent_key) in links.items():
        children = obj.get(key)
        if not isinstance(children, list):
            continue
        for index, child in enumerate(children):
            child_path = f"{path}.{key}[{index}]"
            if isinstance(child, dict):
                child = dict(child)
                if "id" in obj:
                    child.setdefault(parent_key, obj["id"])
                if child_table == "attribute":
                    child.setdefault("link_entity", table)
                if child_table == "metadata":
                    child.setdefault("resource_type", table)
            flatten(child_table, child, file, child_path, out)


def guess_table(obj: dict, filename: str) -> str:
    stem = Path(filename).stem
    for name in ("service_at_location", "taxonomy_term", "taxonomy", "organization", "location"):
        if stem.startswith(name):
            return name
    if stem.startswith("service"):
        return "service"
    if "services" in obj or "organization_identifiers" in obj:
        return "organization"
    if "location" in obj and isinstance(obj.get("location"), dict):
        return "service_at_location"
    if "status" in obj:
        return "service"
    if "location_type" in obj:
        return "location"
    if "code" in obj or "taxonomy_id" in obj or "taxonomy" in obj:
        return "taxonomy_term"
    return "organization"


def read_json(path: Path, table: str | None = None) -> list[Record]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReadError(f"{path.name}: not readable JSON ({exc}).") from exc
    if isinstance(document, dict) and isinstance(document.get("contents"), list):
        items, prefix = document["contents"], "$.contents"
    elif isinstance(document, list):
        items, prefix = document, "$"
    else:
        items, prefix = [document], None
    out: list[Record] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise ReadError(f"{path.name}: item {index} is not an object.")
        where = "$" if prefix is None else f"{prefix}[{index}]"
        flatten(table or guess_table(item, path.name), item, path.name, where, out)
    return out


def _typed(value: str, kind: str):
    """A CSV cell as the JSON value HSDS expects; text that is not a number stays text
    so that the schema check reports it."""
    if kind in ("number", "integer"):
        try:
            number = float(value)
        except ValueError:
            return value
        return int(number) if number.is_integer() and "." not in value else number
    return value


def read_datapackage(folder: Path) -> list[Record]:
    specs = tables()
    out: list[Record] = []
    known = {spec.filename: spec for spec in specs.values()}
    descriptor = folder / "datapackage.json"
    if descriptor.exists():
        try:
            package = json.loads(descriptor.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ReadError(f"datapackage.json: not readable ({exc}).") from exc
        files = [(r.get("name"), r.get("path")) for r in package.get("resources", [])]
    else:
        files = [(spec.name, spec.filename) for spec in specs.values()]
    for name, filename in files:
        spec = specs.get(name) or known.get(filename)
        if spec is None or not (folder / filename).exists():
            continue
        numeric = {name for name, kind in spec.types.items() if kind in ("number", "integer")}
        with (folder / filename).open(newline="", encoding="utf-8-sig") as handle:
            # csv.reader rather than DictReader (a state directory has 180,000 rows);
            # the same rows: blank lines skipped, cells past the header or empty left out.
            reader = csv.reader(handle)
            header = next(reader, None) or []
            line = 1
            for row in reader:
                if not row:
                    continue
                line += 1
                values = {
                    key: _typed(value, spec.types[key]) if key in numeric else value
                    for key, value in zip(header, row)  # noqa: B905 (short rows are allowed)
                    if key and value
                }
                out.append(Record(spec.name, values, filename, str(line)))
    return out


@collector_paused()
def read(path: Path) -> tuple[list[Record], str]:
    """The records at PATH and its form ("json" or "csv")."""
    from backbone.directory.hsds import legacy

    if legacy.is_legacy(path):
        return legacy.read_legacy(path), "csv"
    if path.is_dir():
        if (path / "datapackage.json").exists() or any(path.glob("*.csv")):
            return read_datapackage(path), "csv"
        records: list[Record] = []
        for json_file in sorted(path.glob("*.json")):
            records += read_json(json_file)
        return records, "json"
    if path.name == "datapackage.json":
        return read_datapackage(path.parent), "csv"
    if path.suffix.lower() == ".json":
        return read_json(path), "json"
    raise ReadError(f"{path}: give a JSON file, a datapackage.json or a folder of CSV files.")

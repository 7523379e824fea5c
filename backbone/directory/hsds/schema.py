"""The official HSDS 3.0 schemas, loaded once per process.

The schemas are not copied into the project: they are read from the shared fixtures
(`$BACKBONE_HSDS_DIR`, else `$BACKBONE_SHARED/fixtures/hsds-3.0`, else `shared/` beside
the repository). The raw per-table schemas `$ref` each other by bare file name; the
importer checks one flat record at a time, so each table's validator is built from its
raw schema with the nested (array and `$ref`) properties taken out. Validators are
compiled once (jsonschema-rs) and reused for every record.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import jsonschema_rs

import backbone

VERSION = "3.0"


class SchemasMissing(RuntimeError):
    """The HSDS schema files are not where they should be."""


def shared_dir() -> Path:
    if os.environ.get("BACKBONE_SHARED"):
        return Path(os.environ["BACKBONE_SHARED"])
    return Path(backbone.__file__).resolve().parents[2] / "shared"


def hsds_dir() -> Path:
    if os.environ.get("BACKBONE_HSDS_DIR"):
        return Path(os.environ["BACKBONE_HSDS_DIR"])
    return shared_dir() / "fixtures" / "hsds-3.0"


@dataclass
class TableSpec:
    name: str
    filename: str  # the CSV file of the datapackage
    fields: list[str]  # CSV column order
    types: dict[str, str]  # datapackage type of each field: string, number, date, time...
    required: set[str]
    tabular_required: set[str]
    foreign_keys: dict[str, str]  # field -> table it points at
    validator: object = field(repr=False, default=None)

    def errors(self, record: dict):
        """(field, message) for every way RECORD breaks the official schema."""
        for error in self.validator.iter_errors(record):
            path = list(error.instance_path)
            name = str(path[0]) if path else getattr(error.kind, "property", "")
            yield str(name), error.message


def _flat(schema: dict) -> dict:
    properties = {
        name: prop
        for name, prop in schema.get("properties", {}).items()
        if prop.get("type") != "array" and "$ref" not in prop and prop.get("type") != "object"
    }
    return {
        "type": "object",
        "properties": properties,
        "required": [name for name in schema.get("required", []) if name in properties],
    }


@functools.cache
def tables() -> dict[str, TableSpec]:
    """Every HSDS table, in the datapackage's order."""
    root = hsds_dir()
    if not (root / "datapackage.json").exists():
        raise SchemasMissing(
            f"The HSDS 3.0 schemas are not in {root}; set BACKBONE_HSDS_DIR or BACKBONE_SHARED."
        )
    package = json.loads((root / "datapackage.json").read_text())
    specs = {}
    for resource in package["resources"]:
        name = resource["name"]
        raw = json.loads((root / "schema" / f"{name}.json").read_text())
        fields = resource["schema"]["fields"]
        types = {f["name"]: f["type"] for f in fields}
        for prop_name, prop in raw.get("properties", {}).items():
            if prop.get("datapackage_type") in ("date", "time", "datetime"):
                types[prop_name] = prop["datapackage_type"]
        specs[name] = TableSpec(
            name=name,
            filename=resource["path"],
            fields=[f["name"] for f in fields],
            types=types,
            required=set(raw.get("required", [])),
            tabular_required={
                f["name"] for f in fields if f.get("constraints", {}).get("tablular_required")
            }
            | set(TABULAR_REQUIRED.get(name, ())),
            foreign_keys={
                key["fields"]: key["reference"]["resource"]
                for key in resource["schema"].get("foreignKeys", [])
            },
            validator=jsonschema_rs.validator_for(_flat(raw), validate_formats=True),
        )
    return specs


# From the schemas' `tabular_required` (SOURCE.md): foreign keys a CSV row must carry.
TABULAR_REQUIRED = {
    "service": ("organization_id",),
    "service_at_location": ("service_id", "location_id"),
    "attribute": ("link_id", "taxonomy_term_id", "link_entity"),
}


@functools.cache
def compiled_validator(name: str):
    """The self-contained compiled schema NAME (service, organization...), compiled once."""
    schema = json.loads((hsds_dir() / "schema" / "compiled" / f"{name}.json").read_text())
    return jsonschema_rs.validator_for(schema)

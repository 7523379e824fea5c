"""Export a network's directory as HSDS 3.0: a CSV datapackage and nested JSON.

The CSV datapackage (one file per table, the official `datapackage.json`) carries
everything; importing it gives back the same directory. `services.json` and
`organizations.json` hold the nested API form of each service and organization, each
valid against the official compiled schema. Fields that only the JSON form knows
(e.g. `wait_time`) are in the JSON files only.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path

from backbone.directory.hsds.reading import CHILDREN
from backbone.directory.hsds.schema import hsds_dir, tables
from backbone.directory.hsds.store import stored
from backbone.directory.models import HSDS_MODELS

# The key each nested array has in the compiled schemas (the raw ones say `addresss`).
JSON_CHILDREN = {
    table: {
        key: link
        for key, link in children.items()
        if key not in ("fundings", "addresss", "accessibilitys", "services")
    }
    for table, children in CHILDREN.items()
}


def flat_records(network) -> dict[str, list[dict]]:
    """Every table of NETWORK's directory as flat HSDS records, ordered by id."""
    return {
        model.hsds_table: sorted(
            (record for _, record in stored(network, model).values()), key=lambda r: r["id"]
        )
        for model in HSDS_MODELS
    }


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def write_datapackage(records: dict[str, list[dict]], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "datapackage.json").write_text(
        (hsds_dir() / "datapackage.json").read_text(encoding="utf-8"), encoding="utf-8"
    )
    for spec in tables().values():
        with (folder / spec.filename).open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(spec.fields)
            for record in records.get(spec.name, []):
                writer.writerow([_cell(record.get(name)) for name in spec.fields])


class Nester:
    """Builds the nested JSON form of a record from the flat tables."""

    def __init__(self, records: dict[str, list[dict]]):
        self.by_id = {table: {r["id"]: r for r in rows} for table, rows in records.items()}
        self.children: dict[tuple[str, str, str], list[dict]] = defaultdict(list)
        for table, rows in records.items():
            for row in rows:
                for name, value in row.items():
                    if name.endswith("_id") or name in ("link_id", "resource_id"):
                        self.children[(table, name, str(value))].append(row)
        self.attributes = defaultdict(list)
        for row in records.get("attribute", []):
            # HSDS leaves link_entity open; one that names no table goes with its link_id.
            entity = row.get("link_entity")
            self.attributes[(entity if entity in records else "*", row.get("link_id"))].append(row)
        self.metadata = defaultdict(list)
        for row in records.get("metadata", []):
            self.metadata[(row.get("resource_type"), row.get("resource_id"))].append(row)

    def _extras(self, table: str, record: dict) -> dict:
        out = dict(record)
        out["attributes"] = [
            self.attribute(a)
            for key in ((table, record["id"]), ("*", record["id"]))
            for a in self.attributes.get(key, [])
        ]
        out["metadata"] = [dict(m) for m in self.metadata.get((table, record["id"]), [])]
        return out

    def attribute(self, record: dict) -> dict:
        out = dict(record)
        term = self.by_id["taxonomy_term"].get(record.get("taxonomy_term_id"))
        if term:
            out["taxonomy_term"] = dict(term)
            taxonomy = self.by_id["taxonomy"].get(term.get("taxonomy_id"))
            if taxonomy:
                # In HSDS 3.0 a term's `taxonomy` is text; the vocabulary object nests as
                # `taxonomy_detail` (as in the official service_full.json).
                out["taxonomy_term"]["taxonomy_detail"] = dict(taxonomy)
        return out

    def nest(self, table: str, record: dict) -> dict:
        out = self._extras(table, record)
        for key, (child_table, parent_key) in JSON_CHILDREN.get(table, {}).items():
            out[key] = [
                self.nest(child_table, child)
                for child in self.children.get((child_table, parent_key, record["id"]), [])
            ]
        return out

    def service(self, record: dict) -> dict:
        out = self.nest("service", record)
        organization = self.by_id["organization"].get(record.get("organization_id"))
        if organization:
            out["organization"] = self._extras("organization", organization)
        program = self.by_id["program"].get(record.get("program_id"))
        if program:
            out["program"] = self._extras("program", program)
        for link in out["service_at_locations"]:
            location = self.by_id["location"].get(link.get("location_id"))
            if location:
                link["location"] = self.nest("location", location)
        return out


def json_documents(records: dict[str, list[dict]]) -> dict[str, list[dict]]:
    nester = Nester(records)
    return {
        "services.json": [nester.service(r) for r in records["service"]],
        "organizations.json": [nester.nest("organization", r) for r in records["organization"]],
        "taxonomy_terms.json": [
            nester.attribute({"taxonomy_term_id": r["id"]})["taxonomy_term"]
            for r in records["taxonomy_term"]
        ],
    }


def hsds_export(*, network, folder: Path) -> dict[str, int]:
    """Write NETWORK's directory to FOLDER: `csv/` (datapackage) and the JSON files."""
    records = flat_records(network)
    write_datapackage(records, folder / "csv")
    for name, documents in json_documents(records).items():
        (folder / name).write_text(json.dumps(documents, indent=2), encoding="utf-8")
    return {table: len(rows) for table, rows in records.items() if rows}

"""Export a network's directory as HSDS 3.0: a CSV datapackage and nested JSON.

The CSV datapackage (one file per table, the official `datapackage.json`) carries
everything; importing it gives back the same directory. `services.json` and
`organizations.json` hold the nested API form of each service and organization. Every
record is validated against the official schemas before anything is written. Fields
that only the JSON form knows (e.g. `wait_time`) are in the JSON files only.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path

import orjson

from backbone.core.bulk import collector_paused
from backbone.directory.hsds.reading import CHILDREN
from backbone.directory.hsds.schema import compiled_validator, hsds_dir, tables
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
NESTED = {table: tuple(children.items()) for table, children in JSON_CHILDREN.items()}
NONE: tuple = ()


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
            fields = spec.fields
            writer.writerows(
                [value if type(value) is str else _cell(value) for value in map(row.get, fields)]
                for row in records.get(spec.name, [])
            )


class Nester:
    """Builds the nested JSON form of a record from the flat tables."""

    def __init__(self, records: dict[str, list[dict]]):
        self.by_id = {table: {r["id"]: r for r in rows} for table, rows in records.items()}
        # Only the (child table, foreign key) pairs that nest: indexing every `*_id`
        # field of every row was a third of a state-size export.
        self.children: dict[tuple[str, str, str], list[dict]] = defaultdict(list)
        nested = {link for children in JSON_CHILDREN.values() for link in children.values()}
        for child_table, parent_key in nested:
            for row in records.get(child_table, []):
                value = row.get(parent_key)
                if value is not None:
                    self.children[(child_table, parent_key, str(value))].append(row)
        self.attributes: dict[tuple, list] = defaultdict(list)
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
            for a in self.attributes.get(key, NONE)
        ]
        # Shared, not copied: documents are only serialized (a state directory has a
        # change-log row for every record).
        out["metadata"] = list(self.metadata.get((table, record["id"]), NONE))
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
        record_id = record["id"]
        for key, (child_table, parent_key) in NESTED.get(table, NONE):
            out[key] = [
                self.nest(child_table, child)
                for child in self.children.get((child_table, parent_key, record_id), NONE)
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


class ExportInvalid(Exception):
    """Some stored records do not validate against the official schemas."""

    def __init__(self, problems: list[str]):
        super().__init__(f"{len(problems)} records do not validate: " + "; ".join(problems[:5]))
        self.problems = problems


# The schema each JSON file's documents are checked against: the compiled (nested) one
# where HSDS publishes one, else the table's own.
JSON_SCHEMAS = {
    "services.json": ("compiled", "service"),
    "organizations.json": ("compiled", "organization"),
    "taxonomy_terms.json": ("table", "taxonomy_term"),
}


def _errors(validator, document: dict) -> list[str]:
    # is_valid is the fast path; messages are built only for the rare invalid record.
    if validator.is_valid(document):
        return []
    return [error.message for error in validator.iter_errors(document)]


def validation_problems(records: dict[str, list[dict]], documents: dict[str, list[dict]]):
    """Every way the flat RECORDS and the JSON DOCUMENTS break the official schemas."""
    problems = []
    for name, spec in tables().items():
        for record in records.get(name, []):
            problems += [f"{name} {record.get('id')}: {m}" for m in _errors(spec.validator, record)]
    for filename, items in documents.items():
        kind, schema = JSON_SCHEMAS[filename]
        validator = compiled_validator(schema) if kind == "compiled" else tables()[schema].validator
        for item in items:
            problems += [f"{filename} {item.get('id')}: {m}" for m in _errors(validator, item)]
    return problems


def _dumps(document: dict) -> bytes:
    try:
        return orjson.dumps(document)
    except TypeError:  # what orjson refuses (e.g. integers past 64 bits) json writes
        return json.dumps(document, ensure_ascii=False).encode()


def _write_json(path: Path, documents: list[dict]) -> None:
    # One document per line, written by orjson (an indented dump with json's
    # pure-Python encoder was half of a state-size export; json's C encoder, a fifth).
    with path.open("wb") as handle:
        handle.write(b"[\n")
        handle.write(b",\n".join(map(_dumps, documents)))
        handle.write(b"\n]\n")


@collector_paused()
def hsds_export(*, network, folder: Path) -> dict[str, int]:
    """Write NETWORK's directory to FOLDER: `csv/` (datapackage) and the JSON files.

    Every flat record and every JSON document is validated against the official
    schemas first; if any fails, ExportInvalid lists them and nothing is written."""
    records = flat_records(network)
    documents = json_documents(records)
    problems = validation_problems(records, documents)
    if problems:
        raise ExportInvalid(problems)
    write_datapackage(records, folder / "csv")
    for name, items in documents.items():
        _write_json(folder / name, items)
    return {table: len(rows) for table, rows in records.items() if rows}

"""Reading the older HSDS CSV layouts (1.1 and the 2.0 tables that 211 exports still
use) as HSDS 3.0 records.

A folder is in the old layout when it has any of `services_taxonomy.csv`,
`regular_schedules.csv`, `holiday_schedules.csv`, `physical_addresses.csv`,
`postal_addresses.csv` or `services_at_location.csv`. Each old table becomes its 3.0
table, and every record then goes through the same checks as a 3.0 file. Old ids are
often not UUIDs ("1234", "BD-1800.2000"); they become stable UUIDs (uuid5 of the table
and the id), so importing the same export again updates instead of duplicating, and the
references between files still meet. An id that is already a UUID is kept.

What has no 3.0 home is folded in and said so in the docs: `eligibility` rows become the
service's `eligibility_description`, `payment_accepted` its `fees_description`
("Payment accepted: …"), an organization's `tax_id` an organization_identifier,
`address_3`/`address_4` join `address_2`. The old `metadata` table is not read: the
import writes its own change log.
"""

from __future__ import annotations

import csv
import uuid
from collections import defaultdict
from pathlib import Path

from backbone.directory.hsds.reading import ReadError, Record, _typed
from backbone.directory.hsds.schema import tables

MARKERS = (
    "services_taxonomy.csv",
    "regular_schedules.csv",
    "holiday_schedules.csv",
    "physical_addresses.csv",
    "postal_addresses.csv",
    "services_at_location.csv",
)
NAMESPACE = uuid.UUID("6f1d2c3e-5b1a-4c8e-9a57-0b2c6d8e4f10")
WEEKDAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
DAY_NAMES = {
    **{
        name: code
        for code, name in zip(
            WEEKDAYS,
            ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"),
            strict=True,
        )
    },
    **{
        name[:3]: code
        for code, name in zip(
            WEEKDAYS, ("mon", "tue", "wed", "thu", "fri", "sat", "sun"), strict=True
        )
    },
    **{code.lower(): code for code in WEEKDAYS},
    # ISO 8601 numbering, Monday = 1.
    **{str(number): code for number, code in enumerate(WEEKDAYS, start=1)},
}


def is_legacy(folder: Path) -> bool:
    return folder.is_dir() and any((folder / name).exists() for name in MARKERS)


def stable_id(table: str, value: str) -> str:
    """A UUID for an old id: the id itself when it is one, else uuid5(table:id)."""
    text = str(value).strip()
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return str(uuid.uuid5(NAMESPACE, f"{table}:{text}"))


class _Reader:
    def __init__(self, folder: Path):
        self.folder = folder
        self.specs = tables()
        self.out: list[Record] = []

    def rows(self, filename: str):
        path = self.folder / filename
        if not path.exists():
            return
        try:
            with path.open(newline="", encoding="utf-8-sig") as handle:
                for line, row in enumerate(csv.DictReader(handle), start=2):
                    yield (
                        line,
                        {
                            (key or "").strip(): value
                            for key, value in row.items()
                            if key and value not in ("", None)
                        },
                    )
        except UnicodeDecodeError as exc:
            raise ReadError(f"{filename}: not UTF-8 text ({exc.reason}).") from exc

    def add(self, table: str, values: dict, filename: str, line: int) -> None:
        types = self.specs[table].types
        typed = {
            key: _typed(value, types.get(key, "string")) if isinstance(value, str) else value
            for key, value in values.items()
            if value not in ("", None)
        }
        self.out.append(Record(table, typed, filename, str(line)))


# old file -> (3.0 table, {old column: new column}, {column: table its id points into})
SIMPLE = {
    "organizations.csv": (
        "organization",
        {"url": "website"},
        {"id": "organization"},
    ),
    "programs.csv": ("program", {}, {"id": "program", "organization_id": "organization"}),
    "locations.csv": ("location", {}, {"id": "location", "organization_id": "organization"}),
    "services_at_location.csv": (
        "service_at_location",
        {},
        {"id": "service_at_location", "service_id": "service", "location_id": "location"},
    ),
    "contacts.csv": (
        "contact",
        {},
        {
            "id": "contact",
            "organization_id": "organization",
            "service_id": "service",
            "service_at_location_id": "service_at_location",
        },
    ),
    "phones.csv": (
        "phone",
        {},
        {
            "id": "phone",
            "location_id": "location",
            "service_id": "service",
            "organization_id": "organization",
            "contact_id": "contact",
            "service_at_location_id": "service_at_location",
        },
    ),
    "funding.csv": (
        "funding",
        {},
        {"id": "funding", "organization_id": "organization", "service_id": "service"},
    ),
    "service_area.csv": (
        "service_area",
        {"service_area": "name"},
        {"id": "service_area", "service_id": "service"},
    ),
    "required_document.csv": (
        "required_document",
        {},
        {"id": "required_document", "service_id": "service"},
    ),
    "language.csv": (
        "language",
        {"language": "name"},
        {"id": "language", "service_id": "service", "location_id": "location"},
    ),
    "accessibility_for_disabilities.csv": (
        "accessibility",
        {"accessibility": "description"},
        {"id": "accessibility", "location_id": "location"},
    ),
}
# Plural spellings some exports use.
ALIASES = {
    "service_areas.csv": "service_area.csv",
    "required_documents.csv": "required_document.csv",
    "languages.csv": "language.csv",
    "services_at_locations.csv": "services_at_location.csv",
}


def _mapped(values: dict, renames: dict, ids: dict) -> dict:
    out = {}
    for key, value in values.items():
        name = renames.get(key, key)
        out[name] = stable_id(ids[key], value) if key in ids else value
    return out


def read_legacy(folder: Path) -> list[Record]:
    """The records of an HSDS 1.1/2.0 CSV folder, as HSDS 3.0 records."""
    reader = _Reader(folder)
    known_columns = {table: set(spec.types) for table, spec in reader.specs.items()}
    files = {name: name for name in SIMPLE}
    for alias, name in ALIASES.items():
        if (folder / alias).exists() and not (folder / name).exists():
            files[name] = alias

    eligibility: dict[str, list[str]] = defaultdict(list)
    for _line, row in reader.rows("eligibility.csv"):
        if row.get("service_id") and row.get("eligibility"):
            eligibility[stable_id("service", row["service_id"])].append(row["eligibility"])
    payments: dict[str, list[str]] = defaultdict(list)
    for _line, row in reader.rows("payment_accepted.csv"):
        if row.get("service_id") and row.get("payment"):
            payments[stable_id("service", row["service_id"])].append(row["payment"])

    for name, (table, renames, ids) in SIMPLE.items():
        for line, row in reader.rows(files[name]):
            values = _mapped(row, renames, ids)
            if table == "organization":
                values.pop("tax_status", None)
                tax_id = values.pop("tax_id", None)
                if tax_id:
                    reader.add(
                        "organization_identifier",
                        {
                            "id": stable_id("organization_identifier", f"{row.get('id')}:tax"),
                            "organization_id": values.get("id"),
                            "identifier_type": "Tax ID",
                            "identifier_scheme": "US-EIN",
                            "identifier": tax_id,
                        },
                        files[name],
                        line,
                    )
            if table == "location":
                has_place = values.get("latitude") or values.get("longitude")
                values.setdefault("location_type", "physical" if has_place else "postal")
            if table == "phone":
                values.pop("language", None)
            reader.add(table, _known(values, known_columns[table]), files[name], line)

    for line, row in reader.rows("services.csv"):
        values = _mapped(
            row,
            {"fees": "fees_description"},
            {"id": "service", "organization_id": "organization", "program_id": "program"},
        )
        values.pop("wait_time", None)
        values.pop("licenses", None)
        if values.get("id") in eligibility and not values.get("eligibility_description"):
            values["eligibility_description"] = "; ".join(eligibility[values["id"]])
        if values.get("id") in payments:
            paid = "Payment accepted: " + ", ".join(payments[values["id"]])
            fees = values.get("fees_description")
            values["fees_description"] = f"{fees}. {paid}" if fees else paid
        reader.add("service", _known(values, known_columns["service"]), "services.csv", line)

    for filename, kind in (
        ("physical_addresses.csv", "physical"),
        ("postal_addresses.csv", "postal"),
    ):
        for line, row in reader.rows(filename):
            values = _mapped(row, {}, {"location_id": "location"})
            values["id"] = stable_id("address", f"{kind}:{row.get('id', line)}")
            extra = [values.pop(key) for key in ("address_3", "address_4") if values.get(key)]
            if extra:
                values["address_2"] = ", ".join([values.get("address_2", ""), *extra]).strip(", ")
            values["address_type"] = kind
            reader.add("address", _known(values, known_columns["address"]), filename, line)

    schedule_ids = {
        "service_id": "service",
        "location_id": "location",
        "service_at_location_id": "service_at_location",
    }
    for line, row in reader.rows("regular_schedules.csv"):
        values = _mapped(row, {}, schedule_ids)
        values["id"] = stable_id("schedule", f"regular:{row.get('id', line)}")
        weekday = str(values.pop("weekday", "")).strip()
        values["freq"] = "WEEKLY"
        values["byday"] = DAY_NAMES.get(weekday.lower(), weekday)
        reader.add(
            "schedule", _known(values, known_columns["schedule"]), "regular_schedules.csv", line
        )
    for line, row in reader.rows("holiday_schedules.csv"):
        values = _mapped(row, {"start_date": "valid_from", "end_date": "valid_to"}, schedule_ids)
        values["id"] = stable_id("schedule", f"holiday:{row.get('id', line)}")
        closed = str(values.pop("closed", "")).strip().lower() in ("1", "true", "yes", "t", "y")
        if closed:
            values.pop("opens_at", None)
            values.pop("closes_at", None)
            values["description"] = "Closed"
        reader.add(
            "schedule", _known(values, known_columns["schedule"]), "holiday_schedules.csv", line
        )

    _read_taxonomy(reader)
    if not reader.out:
        raise ReadError(f"{folder}: no HSDS tables found in the old layout.")
    return reader.out


def _known(values: dict, columns: set[str]) -> dict:
    """Leave out old columns that 3.0 no longer has (they have no place to go)."""
    return {key: value for key, value in values.items() if key in columns}


def _read_taxonomy(reader: _Reader) -> None:
    """`taxonomy.csv` (id, name, parent_id, parent_name, vocabulary) becomes one 3.0
    taxonomy per vocabulary with its terms (the old id is the term's code);
    `services_taxonomy.csv` becomes attributes linking services to terms."""
    vocabularies: dict[str, str] = {}
    for line, row in reader.rows("taxonomy.csv"):
        vocabulary = row.get("vocabulary") or "Imported taxonomy"
        taxonomy_id = vocabularies.get(vocabulary)
        if taxonomy_id is None:
            taxonomy_id = vocabularies[vocabulary] = stable_id("taxonomy", vocabulary)
            reader.add(
                "taxonomy",
                {
                    "id": taxonomy_id,
                    "name": vocabulary,
                    "description": f"{vocabulary} (from an HSDS 1.1 export)",
                },
                "taxonomy.csv",
                line,
            )
        values = {
            "id": stable_id("taxonomy_term", row.get("id", "")),
            "code": row.get("id"),
            "name": row.get("name"),
            "description": row.get("description") or row.get("name"),
            "taxonomy_id": taxonomy_id,
        }
        if row.get("parent_id"):
            values["parent_id"] = stable_id("taxonomy_term", row["parent_id"])
        reader.add("taxonomy_term", values, "taxonomy.csv", line)
    for line, row in reader.rows("services_taxonomy.csv"):
        values = {
            "id": stable_id("attribute", f"service:{row.get('id', line)}"),
            "link_entity": "service",
            "link_type": "service_taxonomy",
        }
        if row.get("service_id"):
            values["link_id"] = stable_id("service", row["service_id"])
        if row.get("taxonomy_id"):
            values["taxonomy_term_id"] = stable_id("taxonomy_term", row["taxonomy_id"])
        if row.get("taxonomy_detail"):
            values["value"] = row["taxonomy_detail"]
        reader.add("attribute", values, "services_taxonomy.csv", line)

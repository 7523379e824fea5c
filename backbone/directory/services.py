"""Writes of the directory app.

A bulk import writes ONE summarizing core AuditEvent (who, what file, how many records
created/updated) instead of one per row: at 25,000 services a per-row audit would
dwarf the import itself, and the per-record detail already lives in the HSDS change log
(`Metadata` rows: field, previous value, new value, who, when), which is part of the
directory and exported with it.
"""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.db import transaction

from backbone.core import audit
from backbone.core.access import Access
from backbone.core.models import AuditEvent
from backbone.directory.hsds.exporter import hsds_export
from backbone.directory.hsds.importer import HsdsImportResult, hsds_import
from backbone.directory.hsds.reading import Record, read
from backbone.directory.models import Service
from backbone.directory.taxonomy import starter_taxonomy_records


def _require_import(access: Access) -> None:
    if not access.allows(Service, "import"):
        raise PermissionDenied("Only network admins may import into the directory.")


@transaction.atomic
def directory_import_records(
    *,
    access: Access,
    records: list[Record],
    form: str,
    source: str,
    repair: bool = False,
    skip_invalid: bool = False,
    dry_run: bool = False,
    via: str = "import",
) -> HsdsImportResult:
    """Check and upsert HSDS RECORDS into the access's network (see hsds.importer)."""
    _require_import(access)
    actor = access.actor
    result = hsds_import(
        network=access.network,
        records=records,
        form=form,
        repair=repair,
        skip_invalid=skip_invalid,
        dry_run=dry_run,
        updated_by=actor.email if actor else "Backbone import",
    )
    if result.committed:
        audit.record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            obj=access.network,
            network=access.network,
            before=None,
            after={"hsds_import": source, **result.summary()},
            via=via,
        )
    return result


def directory_import(
    *,
    access: Access,
    path: Path,
    repair: bool = False,
    skip_invalid: bool = False,
    dry_run: bool = False,
    via: str = "import",
) -> HsdsImportResult:
    """Import the HSDS JSON file or CSV datapackage at PATH."""
    _require_import(access)
    records, form = read(path)
    return directory_import_records(
        access=access,
        records=records,
        form=form,
        source=path.name,
        repair=repair,
        skip_invalid=skip_invalid,
        dry_run=dry_run,
        via=via,
    )


def starter_taxonomy_install(*, access: Access, via: str = "web") -> HsdsImportResult:
    """Add (or refresh) the framework's need categories to the network's directory."""
    return directory_import_records(
        access=access,
        records=starter_taxonomy_records(),
        form="json",
        source="starter taxonomy",
        via=via,
    )


def directory_export(*, access: Access, folder: Path) -> dict[str, int]:
    """Write the network's directory to FOLDER as HSDS 3.0 (CSV datapackage and JSON)."""
    if not access.allows(Service, "view"):
        raise PermissionDenied("Your role may not see the directory.")
    return hsds_export(network=access.network, folder=folder)

"""Writes of the directory app.

A bulk import writes ONE summarizing core AuditEvent (who, what file, how many records
created/updated) instead of one per row: at 25,000 services a per-row audit would
dwarf the import itself, and the per-record detail already lives in the HSDS change log
(`Metadata` rows: field, previous value, new value, who, when), which is part of the
directory and exported with it.
"""

from __future__ import annotations

import copy
import json
import re
import secrets
import uuid
from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from backbone.core import audit
from backbone.core.access import ORG_ADMIN, ORG_MEMBER, Access
from backbone.core.bulk import bulk_load
from backbone.core.models import AuditEvent
from backbone.directory.hsds.exporter import hsds_export
from backbone.directory.hsds.importer import HsdsImportResult, hsds_import
from backbone.directory.hsds.reading import Record, read
from backbone.directory.models import (
    DirectoryUpload,
    ListingChangeRequest,
    Metadata,
    ResourceList,
    Service,
)
from backbone.directory.search import search_index_refresh
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
    with bulk_load():
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
            search_index_refresh(access.network)
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


# Listings: partner edits with approval, verification, resource lists ----------------------

EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")

# Service fields a partner may propose changing: HSDS field -> (label, kind).
EDITABLE_FIELDS = {
    "name": ("Name", "text"),
    "alternate_name": ("Alternate name", "text"),
    "description": ("Description", "long"),
    "url": ("Web site", "url"),
    "email": ("Email", "email"),
    "application_process": ("How to apply", "long"),
    "eligibility_description": ("Who is eligible", "long"),
    "fees_description": ("Fees", "long"),
    "minimum_age": ("Minimum age", "age"),
    "maximum_age": ("Maximum age", "age"),
    "alert": ("Alert", "long"),
}


def listing_values(service: Service) -> dict:
    """The editable fields of SERVICE as they are now (absent fields as "")."""
    values = {name: service.data.get(name, "") for name in EDITABLE_FIELDS}
    values["name"] = service.name or ""
    return {name: "" if value is None else value for name, value in values.items()}


def listing_changes_check(service: Service, proposed: dict) -> tuple[dict, dict[str, str]]:
    """(changed fields -> clean value, field -> error) of PROPOSED against SERVICE."""
    current = listing_values(service)
    changes, errors = {}, {}
    for name, (label, kind) in EDITABLE_FIELDS.items():
        if name not in proposed:
            continue
        raw = proposed[name]
        value = raw.strip() if isinstance(raw, str) and kind != "long" else raw
        if kind == "age" and value not in ("", None):
            try:
                value = int(value)
            except (TypeError, ValueError):
                errors[name] = f"{label}: {raw!r} is not a whole number of years."
                continue
            if not 0 <= value <= 130:
                errors[name] = f"{label}: {value} is not between 0 and 130."
                continue
        if name == "name" and not value:
            errors[name] = "Name: a listing needs a name."
            continue
        if kind == "email" and value and not EMAIL_RE.fullmatch(value):
            errors[name] = f"Email: {value!r} is not an email address."
            continue
        if kind == "url" and value and not value.startswith(("http://", "https://")):
            errors[name] = f"Web site: {value!r} must start with http:// or https://."
            continue
        if value != current[name]:
            changes[name] = value
    minimum = changes.get("minimum_age", current["minimum_age"])
    maximum = changes.get("maximum_age", current["maximum_age"])
    both = minimum not in ("", None) and maximum not in ("", None)
    if both and not errors and int(minimum) > int(maximum):
        errors["maximum_age"] = f"Maximum age: {maximum} is below the minimum age {minimum}."
    return changes, errors


class ListingError(ValueError):
    """A proposed listing change that cannot be made; `errors` maps field -> message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def listing_editable_by(access: Access, service: Service) -> bool:
    """May ACCESS propose changes to SERVICE: its partner's own people only."""
    return (
        access.role in (ORG_ADMIN, ORG_MEMBER)
        and access.organization_id is not None
        and service.organization_id is not None
        and service.organization.organization_id == access.organization_id
    )


@transaction.atomic
def listing_change_propose(
    *, access: Access, service: Service, values: dict, note: str = "", via: str = "web"
) -> ListingChangeRequest:
    """Record a partner's proposed change to its own listing, for the backbone to approve."""
    if not listing_editable_by(access, service):
        raise PermissionDenied("Only the listing's own organization may propose changes.")
    changes, errors = listing_changes_check(service, values)
    if errors:
        raise ListingError(errors)
    if not changes:
        raise ListingError({"": "Nothing was changed."})
    current = listing_values(service)
    change = ListingChangeRequest.objects.create(
        network=access.network,
        service=service,
        organization_id=access.organization_id,
        proposed=changes,
        current={name: current[name] for name in changes},
        note=note.strip(),
        proposed_by=access.actor,
    )
    audit.record_for(
        access, action=AuditEvent.Action.CREATE, obj=change, after=audit.snapshot(change), via=via
    )
    return change


def _change_log(access: Access, service: Service, name: str, before, after, action="update"):
    return Metadata(
        network=access.network,
        hsds_id=uuid.uuid4(),
        resource_id=str(service.hsds_id),
        resource_type="service",
        data={
            "last_action_date": timezone.localdate().isoformat(),
            "last_action_type": action,
            "field_name": name,
            "previous_value": before if isinstance(before, str) and before else json.dumps(before),
            "replacement_value": after if isinstance(after, str) and after else json.dumps(after),
            "updated_by": access.actor.email if access.actor else "Backbone",
        },
    )


def _apply(access: Access, service: Service, changes: dict, via: str) -> None:
    """Write CHANGES to SERVICE with change-log rows, an audit record and a fresh index."""
    # A copy: `data` is changed in place below.
    before = copy.deepcopy(audit.snapshot(service))
    rows = []
    for name, value in changes.items():
        old = service.name if name == "name" else service.data.get(name)
        if name == "name":
            service.name = value
        elif value in ("", None):
            service.data.pop(name, None)
        else:
            service.data[name] = value
        rows.append(_change_log(access, service, name, old, None if value == "" else value))
    service.save(update_fields=["name", "data"])
    Metadata.objects.bulk_create(rows)
    audit.record_for(
        access,
        action=AuditEvent.Action.UPDATE,
        obj=service,
        before=before,
        after=audit.snapshot(service),
        via=via,
    )
    search_index_refresh(access.network, [service.pk])


@transaction.atomic
def listing_change_approve(
    *, access: Access, change: ListingChangeRequest, comment: str = "", via: str = "web"
) -> ListingChangeRequest:
    """Apply a pending change to the listing (network admins)."""
    access.require("change", change)
    if change.status != ListingChangeRequest.Status.PENDING:
        raise ListingError({"": f"This change was already {change.get_status_display().lower()}."})
    service = Service.objects.select_for_update().get(pk=change.service_id)
    changes, errors = listing_changes_check(service, change.proposed)
    if errors:
        raise ListingError(errors)
    _apply(access, service, changes, via)
    before = audit.snapshot(change)
    change.status = ListingChangeRequest.Status.APPROVED
    change.decided_by, change.decided_at, change.comment = access.actor, timezone.now(), comment
    change.save()
    audit.record_for(
        access,
        action=AuditEvent.Action.UPDATE,
        obj=change,
        before=before,
        after=audit.snapshot(change),
        via=via,
    )
    return change


@transaction.atomic
def listing_change_reject(
    *, access: Access, change: ListingChangeRequest, comment: str, via: str = "web"
) -> ListingChangeRequest:
    """Turn down a pending change with a comment for the partner (network admins)."""
    access.require("change", change)
    if change.status != ListingChangeRequest.Status.PENDING:
        raise ListingError({"": f"This change was already {change.get_status_display().lower()}."})
    if not comment.strip():
        raise ListingError({"comment": "Say why the change is rejected."})
    before = audit.snapshot(change)
    change.status = ListingChangeRequest.Status.REJECTED
    change.decided_by, change.decided_at, change.comment = (
        access.actor,
        timezone.now(),
        comment.strip(),
    )
    change.save()
    audit.record_for(
        access,
        action=AuditEvent.Action.UPDATE,
        obj=change,
        before=before,
        after=audit.snapshot(change),
        via=via,
    )
    return change


@transaction.atomic
def listing_edit(*, access: Access, service: Service, values: dict, via: str = "web") -> dict:
    """Change a listing directly (network admins); returns the fields changed."""
    access.require("change", service)
    changes, errors = listing_changes_check(service, values)
    if errors:
        raise ListingError(errors)
    if changes:
        _apply(access, service, changes, via)
    return changes


def listing_verifiable_by(access: Access, service: Service) -> bool:
    return access.is_admin or listing_editable_by(access, service)


@transaction.atomic
def service_mark_verified(*, access: Access, service: Service, via: str = "web") -> Service:
    """Record that the listing was checked today: HSDS `assured_date` and `assurer_email`."""
    if not listing_verifiable_by(access, service):
        raise PermissionDenied("Only the backbone or the listing's organization may verify it.")
    changes = {"assured_date": timezone.localdate().isoformat()}
    if access.actor:
        changes["assurer_email"] = access.actor.email
    # A copy: `data` is changed in place below.
    before = copy.deepcopy(audit.snapshot(service))
    rows = []
    for name, value in changes.items():
        rows.append(_change_log(access, service, name, service.data.get(name), value))
        service.data[name] = value
    service.save(update_fields=["data"])
    Metadata.objects.bulk_create(rows)
    audit.record_for(
        access,
        action=AuditEvent.Action.UPDATE,
        obj=service,
        before=before,
        after=audit.snapshot(service),
        via=via,
    )
    search_index_refresh(access.network, [service.pk])
    return service


MAX_LIST = 50


@transaction.atomic
def resource_list_create(*, access: Access, service_ids: list[int]) -> ResourceList:
    """A shareable list of services of the network (ids only, no personal data)."""
    found = set(access.scope(Service).filter(pk__in=service_ids).values_list("pk", flat=True))
    ordered = [pk for pk in dict.fromkeys(service_ids) if pk in found][:MAX_LIST]
    if not ordered:
        raise ListingError({"": "Add at least one service to the list first."})
    return ResourceList.objects.create(
        network=access.network, token=secrets.token_urlsafe(18), service_ids=ordered
    )


# Web uploads ------------------------------------------------------------------------------


@transaction.atomic
def directory_upload_create(
    *,
    access: Access,
    filename: str,
    content: bytes,
    repair: bool = False,
    skip_invalid: bool = False,
    dry_run: bool = False,
) -> DirectoryUpload:
    """Store an uploaded HSDS file and queue its import (see tasks.directory_upload_run)."""
    _require_import(access)
    from backbone.directory.tasks import directory_upload_run

    upload = DirectoryUpload.objects.create(
        network=access.network,
        created_by=access.actor,
        filename=Path(filename).name[:255],
        content=content,
        repair=repair,
        skip_invalid=skip_invalid,
        dry_run=dry_run,
        step="Waiting for a worker",
    )
    audit.record_for(
        access,
        action=AuditEvent.Action.CREATE,
        obj=upload,
        after={
            "filename": upload.filename,
            "bytes": len(content),
            "repair": repair,
            "skip_invalid": skip_invalid,
            "dry_run": dry_run,
        },
    )
    directory_upload_run.enqueue(upload.pk)
    return upload

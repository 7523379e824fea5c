"""Writes on data values: every change bumps the version, keeps a DataValueVersion
(who, when, old, new, why) and an audit record, in the caller's transaction."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from backbone.core import audit
from backbone.core.access import Access
from backbone.core.models import AuditEvent
from backbone.measurement.models import DataValue, DataValueVersion


def _changed(access: Access, value_ids: list[int]) -> None:
    """Tell the analytics, once the transaction commits, which values changed."""
    from backbone.insights.refresh import data_values_changed

    network_id = access.network.pk
    transaction.on_commit(lambda: data_values_changed(network_id=network_id, value_ids=value_ids))


TRACKED = ("value", "numerator", "denominator", "comment", "status", "review_comment")


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def data_value_state(value: DataValue) -> dict:
    """The tracked fields of VALUE as JSON-able data, for its version history."""
    return {name: _text(getattr(value, name)) for name in TRACKED}


def _record(
    *,
    access: Access,
    value: DataValue,
    old: dict | None,
    before: dict | None,
    reason: str,
    via: str,
):
    new = data_value_state(value)
    DataValueVersion.objects.create(
        network=access.network,
        data_value=value,
        version=value.version,
        changed_by=access.actor,
        old=old,
        new=new,
        reason=reason,
        via=via,
    )
    audit.record_for(
        access,
        action=AuditEvent.Action.CREATE if old is None else AuditEvent.Action.UPDATE,
        obj=value,
        before=before,
        after=audit.snapshot(value),
        via=via,
    )


@transaction.atomic
def data_value_create(*, access: Access, fields: dict, via: str = "web") -> DataValue:
    """A new draft value; the caller has checked it (see data_file.data_import)."""
    organization = fields.get("organization")
    access.require_add(DataValue, organization_id=organization.pk if organization else None)
    value = DataValue(network=access.network, created_by=access.actor, updated_by=access.actor)
    for name, item in fields.items():
        setattr(value, name, item)
    value.save()
    _record(access=access, value=value, old=None, before=None, reason="", via=via)
    _changed(access, [value.pk])
    return value


@transaction.atomic
def data_value_update(
    *, access: Access, value: DataValue, fields: dict, reason: str = "", via: str = "web"
) -> DataValue:
    """Change a value. An approved value changes only as a network admin's correction
    with a REASON, and stays approved; any other change goes back to draft."""
    stored = DataValue.objects.select_for_update().get(pk=value.pk, network=access.network)
    old, before = data_value_state(stored), audit.snapshot(stored)
    if stored.status == DataValue.Status.APPROVED:
        if not access.is_admin:
            raise PermissionDenied("Approved data is locked.")
        if not reason.strip():
            raise ValidationError("Correcting approved data needs a reason.")
    else:
        access.require("change", stored)
    for name, item in fields.items():
        setattr(stored, name, item)
    if data_value_state(stored) == old:
        return stored
    if stored.status != DataValue.Status.APPROVED:
        stored.status = DataValue.Status.DRAFT
    stored.version += 1
    stored.updated_by = access.actor
    stored.save()
    _record(access=access, value=stored, old=old, before=before, reason=reason, via=via)
    _changed(access, [stored.pk])
    return stored


REVIEW = {
    # action: (statuses it starts from, the status it leads to, who may do it)
    "submit": ({DataValue.Status.DRAFT, DataValue.Status.RETURNED}, DataValue.Status.SUBMITTED),
    "approve": ({DataValue.Status.SUBMITTED}, DataValue.Status.APPROVED),
    "return": ({DataValue.Status.SUBMITTED}, DataValue.Status.RETURNED),
}


@transaction.atomic
def data_values_review(
    *, access: Access, values, action: str, comment: str = "", via: str = "web"
) -> int:
    """Submit (writers), approve or return with comments (network admins) VALUES;
    returns how many changed status."""
    sources, target = REVIEW[action]
    if action != "submit" and not access.is_admin:
        raise PermissionDenied("Only network admins approve or return data.")
    if action == "return" and not comment.strip():
        raise ValidationError("Returning data needs a comment saying what to fix.")
    count, changed = 0, []
    for value in values:
        stored = DataValue.objects.select_for_update().get(pk=value.pk, network=access.network)
        if stored.status not in sources:
            raise ValidationError(f"{stored} is {stored.get_status_display().lower()}.")
        if action == "submit":
            access.require("change", stored)
        old, before = data_value_state(stored), audit.snapshot(stored)
        stored.status = target
        stored.review_comment = comment if action == "return" else ""
        stored.version += 1
        stored.updated_by = access.actor
        stored.save()
        _record(access=access, value=stored, old=old, before=before, reason=comment, via=via)
        changed.append(stored.pk)
        count += 1
    if changed:
        _changed(access, changed)
    return count

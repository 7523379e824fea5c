"""Audit records: a JSON snapshot of an object before and after each write."""

from __future__ import annotations

import datetime
import decimal
import uuid

from django.db import models

from backbone.core.models import AuditEvent


def _plain(value):
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if hasattr(value, "name") and hasattr(value, "storage"):  # a FieldFile
        return value.name or ""
    return value


def snapshot(obj: models.Model) -> dict:
    """Field values of OBJ as JSON-able data, many-to-many fields as sorted id lists."""
    data = {}
    for field in obj._meta.concrete_fields:
        # auto_now timestamps change on every save; they would make a no-op look like a change.
        if field.name in {"password", "token", "token_hash"} or getattr(field, "auto_now", False):
            continue
        data[field.attname if field.is_relation else field.name] = _plain(
            field.value_from_object(obj)
        )
    if obj.pk:
        for field in obj._meta.many_to_many:
            data[field.name] = sorted(getattr(obj, field.name).values_list("pk", flat=True))
    return data


def record(
    *,
    actor,
    action: str,
    obj: models.Model,
    network=None,
    before: dict | None = None,
    after: dict | None = None,
    via: str = "",
    object_id=None,
) -> AuditEvent | None:
    if action == AuditEvent.Action.UPDATE and before == after:
        return None
    actor = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEvent.objects.create(
        network=network,
        actor=actor,
        actor_email=actor.email if actor else "",
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(object_id if object_id is not None else obj.pk),
        object_repr=str(obj)[:300],
        before=before,
        after=after,
        via=via,
    )


def record_for(
    access,
    *,
    action: str,
    obj: models.Model,
    before=None,
    after=None,
    via: str = "",
    object_id=None,
) -> AuditEvent | None:
    """`record` for a write made through an Access: its actor, in its network."""
    return record(
        actor=access.actor,
        action=action,
        obj=obj,
        network=access.network,
        before=before,
        after=after,
        via=via,
        object_id=object_id,
    )

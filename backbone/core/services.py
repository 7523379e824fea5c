"""Generic writes on tenant data: check the policy, write, audit, in one transaction.

Domain services build on these; views and API operations call services, never `save()`.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import models, transaction

from backbone.core import audit
from backbone.core.access import Access
from backbone.core.models import AuditEvent, NetworkRole
from backbone.core.models.tenancy import ORGANIZATION_ROLES


def _assign(instance: models.Model, fields: dict) -> dict:
    m2m = {}
    m2m_names = {f.name for f in instance._meta.many_to_many}
    for name, value in fields.items():
        if name in m2m_names:
            m2m[name] = value
        else:
            setattr(instance, name, value)
    return m2m


def _set_m2m(instance: models.Model, m2m: dict) -> None:
    for name, values in m2m.items():
        getattr(instance, name).set(list(values) if isinstance(values, Iterable) else values)


@transaction.atomic
def object_create(
    *,
    access: Access,
    model: type[models.Model],
    fields: dict,
    via: str = "web",
    check: bool = True,
) -> models.Model:
    """Create a MODEL row in the access's network from FIELDS (m2m included)."""
    instance = model()
    if any(f.name == "network" for f in model._meta.concrete_fields):
        instance.network = access.network
    m2m = _assign(instance, fields)
    if check:
        access.require_add(
            model, **{f.attname: getattr(instance, f.attname) for f in model._meta.concrete_fields}
        )
    instance.full_clean()
    instance.save()
    _set_m2m(instance, m2m)
    audit.record_for(
        access,
        action=AuditEvent.Action.CREATE,
        obj=instance,
        before=None,
        after=audit.snapshot(instance),
        via=via,
    )
    return instance


@transaction.atomic
def object_update(
    *,
    access: Access,
    instance: models.Model,
    fields: dict,
    via: str = "web",
    action: str = "change",
) -> models.Model:
    """Change INSTANCE's FIELDS; the audit row keeps the stored values before and after."""
    access.require(action, instance)
    stored = type(instance)._default_manager.select_for_update().get(pk=instance.pk)
    before = audit.snapshot(stored)
    m2m = _assign(stored, fields)
    stored.full_clean()
    stored.save()
    _set_m2m(stored, m2m)
    audit.record_for(
        access,
        action=AuditEvent.Action.UPDATE,
        obj=stored,
        before=before,
        after=audit.snapshot(stored),
        via=via,
    )
    return stored


@transaction.atomic
def object_delete(
    *, access: Access, instance: models.Model, via: str = "web", check: bool = True
) -> None:
    """Delete INSTANCE; CHECK=False only where the caller already checked the policy."""
    if check:
        access.require("delete", instance)
    before = audit.snapshot(instance)
    pk = instance.pk
    try:
        instance.delete()
    except models.ProtectedError as exc:
        names = ", ".join(sorted({str(o) for o in exc.protected_objects})[:5])
        raise ValidationError(
            f"{instance} cannot be deleted while other records depend on it: {names}."
        ) from exc
    audit.record_for(
        access,
        action=AuditEvent.Action.DELETE,
        obj=instance,
        before=before,
        after=None,
        via=via,
        object_id=pk,
    )


# Invitations and people ---------------------------------------------------------------


@transaction.atomic
def role_update(*, access: Access, role: NetworkRole, fields: dict, via: str = "web"):
    """Change someone's role; giving a role follows the same rule as inviting to it."""
    from django.core.exceptions import PermissionDenied

    new_role = fields.get("role", role.role)
    organization = fields.get("organization", role.organization)
    if not access.can_add(
        NetworkRole, role=new_role, organization_id=getattr(organization, "pk", None)
    ):
        raise PermissionDenied("Your role may not give that role.")
    return object_update(access=access, instance=role, fields=fields, via=via)


INVITATION_DAYS = 14


@transaction.atomic
def invitation_create(
    *, access: Access, email: str, role: str, organization=None, via: str = "web"
):
    """Invite EMAIL to the network with ROLE; the email goes out after commit."""
    import datetime
    import secrets

    from django.utils import timezone

    from backbone.core.models import Invitation
    from backbone.core.tasks import send_invitation

    email = email.strip().lower()
    organization_id = organization.pk if organization else None
    access.require_add(Invitation, organization_id=organization_id, role=role)
    if access.network.roles.filter(user__email__iexact=email).exists():
        raise ValidationError({"email": f"{email} already has a role in this network."})
    invitation = Invitation(
        network=access.network,
        organization=organization,
        email=email,
        role=role,
        token=secrets.token_urlsafe(32),
        invited_by=access.actor,
        expires_at=timezone.now() + datetime.timedelta(days=INVITATION_DAYS),
    )
    if role in ORGANIZATION_ROLES and organization is None:
        raise ValidationError({"organization": "Organization roles need an organization."})
    invitation.full_clean()
    invitation.save()
    audit.record_for(
        access,
        action=AuditEvent.Action.CREATE,
        obj=invitation,
        after=audit.snapshot(invitation),
        via=via,
    )
    transaction.on_commit(lambda: send_invitation.enqueue(invitation_id=invitation.pk))
    return invitation


@transaction.atomic
def invitation_revoke(*, access: Access, invitation, via: str = "web") -> None:
    from django.utils import timezone

    access.require("delete", invitation)
    if invitation.state != "pending":
        raise ValidationError(f"This invitation is already {invitation.state}.")
    before = audit.snapshot(invitation)
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    audit.record_for(
        access,
        action=AuditEvent.Action.UPDATE,
        obj=invitation,
        before=before,
        after=audit.snapshot(invitation),
        via=via,
    )


@transaction.atomic
def invitation_accept(*, invitation, user=None, full_name: str = "", password: str = ""):
    """Turn a pending invitation into a role, creating the account if needed."""
    from django.utils import timezone

    from backbone.core.models import Invitation, NetworkRole, User

    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.state != "pending":
        raise ValidationError(f"This invitation is {invitation.state}.")
    if user is None:
        user = User.objects.filter(email__iexact=invitation.email).first()
    if user is None:
        user = User.objects.create_user(invitation.email, password, full_name=full_name)
        audit.record(
            actor=user,
            action=AuditEvent.Action.CREATE,
            obj=user,
            network=invitation.network,
            after=audit.snapshot(user),
            via="invitation",
        )
    elif user.email.lower() != invitation.email.lower():
        raise ValidationError("This invitation was sent to another email address.")
    role, _ = NetworkRole.objects.update_or_create(
        user=user,
        network=invitation.network,
        defaults={"role": invitation.role, "organization": invitation.organization},
    )
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    audit.record(
        actor=user,
        action=AuditEvent.Action.CREATE,
        obj=role,
        network=invitation.network,
        after=audit.snapshot(role),
        via="invitation",
    )
    return user


def token_create(*, user, name: str, expires_at=None):
    """A new personal access token; the raw value is returned once and never stored."""
    from backbone.core.models import AccessToken
    from backbone.core.models.users import hash_token

    raw = AccessToken.generate()
    token = AccessToken.objects.create(
        user=user, name=name, token_hash=hash_token(raw), hint=raw[:8], expires_at=expires_at
    )
    return token, raw


def token_revoke(*, user, token) -> None:
    from django.utils import timezone

    if token.user_id != user.pk:
        raise ValidationError("That token is not yours.")
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])

"""Life stages, areas, people (network roles), invitations and the audit log."""

from datetime import date, datetime
from typing import Annotated, Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from ninja import Field, FilterLookup, FilterSchema, Path, Router, Schema
from pydantic import AfterValidator

from backbone.api.auth import path_id, secured
from backbone.api.errors import ERRORS, field_errors, invalid
from backbone.api.resources import Resource, add_routes, ref
from backbone.api.schemas import MAX_ID, Id, Search, Text, choices, patch_schema
from backbone.core import services
from backbone.core.access import Access
from backbone.core.models import (
    Area,
    AuditEvent,
    Invitation,
    LifeStage,
    NetworkRole,
    Organization,
    Role,
)
from backbone.core.models.tenancy import ORGANIZATION_ROLES

router = Router()

# Life stages ------------------------------------------------------------------------------


class LifeStageOut(Schema):
    id: int
    name: str
    position: int
    description: str


class LifeStageIn(Schema):
    name: Annotated[Text, Field(max_length=100)]
    position: int = Field(0, ge=0, le=32767)
    description: Text = ""


class LifeStageFilters(FilterSchema):
    q: Annotated[Search, FilterLookup(["name__icontains", "description__icontains"])] = None


# Areas ------------------------------------------------------------------------------------


class AreaOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    parent_id: int | None
    population: int | None


class AreaIn(Schema):
    code: Annotated[Text, Field(max_length=40, description="Stable code, e.g. a FIPS code.")]
    name: Annotated[Text, Field(max_length=200)]
    kind: choices(Area.Kind)
    parent_id: Id | None = None
    population: int | None = Field(None, ge=0, le=2_147_483_647)


class AreaFilters(FilterSchema):
    q: Annotated[Search, FilterLookup(["name__icontains", "code__icontains"])] = None
    kind: choices(Area.Kind) | None = None
    parent_id: Id | None = None


# People -----------------------------------------------------------------------------------


class PersonOut(Schema):
    id: int = Field(description="The id of the person's role in this network.")
    user_id: int
    email: str = Field(alias="user.email")
    full_name: str = Field(alias="user.full_name")
    role: str
    organization_id: int | None
    created_at: datetime


class PersonChange(Schema):
    role: choices(Role)
    organization_id: Id | None


class PersonFilters(FilterSchema):
    q: Annotated[
        Search,
        FilterLookup(
            [
                "user__email__icontains",
                "user__full_name__icontains",
                "organization__name__icontains",
            ]
        ),
    ] = None
    role: choices(Role) | None = None
    organization_id: Id | None = None


def person_update(access: Access, role: NetworkRole, fields: dict) -> NetworkRole:
    return services.role_update(access=access, role=role, fields=fields, via="api")


# Invitations ------------------------------------------------------------------------------


def _email(value: str) -> str:
    value = value.strip().lower()
    try:
        validate_email(value)
    except ValidationError:
        raise ValueError("Enter a valid email address.") from None
    return value


class InvitationOut(Schema):
    id: int
    email: str
    role: str
    organization_id: int | None
    state: str = Field(description="pending, accepted, revoked or expired")
    invited_by_id: int | None
    created_at: datetime
    expires_at: datetime
    accepted_at: datetime | None
    revoked_at: datetime | None


class InvitationIn(Schema):
    email: Annotated[Text, Field(max_length=254), AfterValidator(_email)]
    role: choices(Role)
    organization_id: Id | None = None


class InvitationFilters(FilterSchema):
    q: Annotated[Search, FilterLookup("email__icontains")] = None
    role: choices(Role) | None = None
    organization_id: Id | None = None


def invitation_create(access: Access, fields: dict) -> Invitation:
    if fields["role"] in ORGANIZATION_ROLES and fields.get("organization") is None:
        raise invalid("organization_id", "Organization roles need an organization.")
    return services.invitation_create(
        access=access,
        email=fields["email"],
        role=fields["role"],
        organization=fields.get("organization"),
        via="api",
    )


def invitation_revoke(access: Access, invitation: Invitation) -> None:
    if invitation.state != "pending":
        raise ValidationError(f"This invitation is already {invitation.state}.")
    services.invitation_revoke(access=access, invitation=invitation, via="api")


# Audit log --------------------------------------------------------------------------------


class AuditEventOut(Schema):
    id: int
    created_at: datetime
    actor_id: int | None
    actor_email: str
    action: str
    object_type: str
    object_id: str
    object_repr: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    via: str


class AuditEventFilters(FilterSchema):
    object_type: Annotated[
        Search, FilterLookup("object_type"), Field(description="app_label.model")
    ] = None
    action: choices(AuditEvent.Action) | None = None
    actor: Annotated[
        Search, FilterLookup("actor_email__icontains"), Field(description="Actor email")
    ] = None
    object_id: Annotated[Search, FilterLookup("object_id")] = None
    since: Annotated[date | None, FilterLookup("created_at__date__gte")] = None
    until: Annotated[date | None, FilterLookup("created_at__date__lte")] = None


RESOURCES = [
    Resource(
        model=LifeStage,
        path="life-stages",
        name="life_stage",
        tag="life stages",
        out=LifeStageOut,
        filters=LifeStageFilters,
        create_in=LifeStageIn,
        update_in=patch_schema(LifeStageIn, "LifeStagePatch"),
    ),
    Resource(
        model=Area,
        path="areas",
        name="area",
        tag="areas",
        out=AreaOut,
        filters=AreaFilters,
        create_in=AreaIn,
        update_in=patch_schema(AreaIn, "AreaPatch"),
        refs={"parent_id": ref("parent", Area)},
    ),
    Resource(
        model=NetworkRole,
        path="people",
        name="person",
        tag="people",
        out=PersonOut,
        filters=PersonFilters,
        update_in=patch_schema(PersonChange, "PersonPatch"),
        refs={"organization_id": ref("organization", Organization)},
        rows=lambda access, rows: rows.select_related("user"),
        update=person_update,
    ),
    Resource(
        model=Invitation,
        path="invitations",
        name="invitation",
        tag="invitations",
        out=InvitationOut,
        filters=InvitationFilters,
        create_in=InvitationIn,
        refs={"organization_id": ref("organization", Organization)},
        create=invitation_create,
        deletable=False,
    ),
    Resource(
        model=AuditEvent,
        path="audit-events",
        name="audit_event",
        tag="audit log",
        out=AuditEventOut,
        filters=AuditEventFilters,
        deletable=False,
    ),
]
for resource in RESOURCES:
    add_routes(router, resource)


def invitation_check(access: Access, path: dict) -> None:
    if (pk := path_id(path.get("id"))) is not None:
        access.get_object(Invitation, "delete", pk=pk)


@router.post(
    "/{network}/invitations/{id}/revoke",
    **secured(Invitation, "delete", invitation_check),
    response={200: InvitationOut, **ERRORS},
    operation_id="revoke_invitation",
    url_name="revoke_invitation",
    tags=["invitations"],
    summary="Revoke an invitation",
)
def revoke_invitation(request, network: str, id: int = Path(..., ge=1, le=MAX_ID)):
    access = request.auth
    invitation = access.get_object(Invitation, "delete", pk=id)
    with field_errors(prefix=()):
        invitation_revoke(access, invitation)
    invitation.refresh_from_db()
    return invitation

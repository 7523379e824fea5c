"""Partner organizations (by slug or id) and their identifiers."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from django.db.models import Prefetch, Q
from ninja import Field, Path, Query, Router, Schema, Status
from ninja.pagination import paginate

from backbone.api.auth import SLUG, path_id, secured
from backbone.api.errors import ERRORS, field_errors
from backbone.api.resources import ref, resolve_refs
from backbone.api.schemas import (
    MAX_ID,
    Id,
    Ids,
    Pages,
    Search,
    Text,
    choices,
    context_access,
    patch_schema,
)
from backbone.core import services as core_services
from backbone.core.access import Access
from backbone.core.models import Area, Membership, Organization, OrganizationIdentifier, Sector
from backbone.core.models.tenancy import SECTORS
from backbone.partners import services

router = Router()
SectorCode = Literal[tuple(code for code, _ in SECTORS)]

# Organizations ----------------------------------------------------------------------------


class MembershipSummary(Schema):
    id: int
    status: str
    role: str
    joined_on: date | None


class OrganizationOut(Schema):
    id: int
    slug: str
    name: str
    sectors: list[str] = Field(description="Sector codes.")
    mission: str
    website: str
    email: str
    phone: str
    street_address: str
    city: str
    state: str
    postal_code: str
    area_ids: list[int] = Field(description="Areas of this network the organization serves.")
    populations_served: list[str]
    size: str
    annual_budget: Decimal | None = Field(description="Shown to network members only.")
    membership: MembershipSummary | None = Field(description="Its membership of this network.")
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_sectors(obj) -> list[str]:
        return [sector.code for sector in obj.sectors.all()]

    @staticmethod
    def resolve_area_ids(obj, context) -> list[int]:
        network_id = context_access(context).network.pk
        return [area.pk for area in obj.areas_served.all() if area.network_id == network_id]

    @staticmethod
    def resolve_populations_served(obj) -> list[str]:
        return obj.populations_list

    @staticmethod
    def resolve_annual_budget(obj, context) -> Decimal | None:
        return obj.annual_budget if context_access(context).is_member else None

    @staticmethod
    def resolve_membership(obj) -> Membership | None:
        return obj.network_memberships[0] if obj.network_memberships else None


class OrganizationChange(Schema):
    name: Annotated[Text, Field(max_length=200)]
    sectors: list[SectorCode] = Field(min_length=1, max_length=len(SECTORS))
    mission: Text = ""
    website: Annotated[Text, Field(max_length=200)] = ""
    email: Annotated[Text, Field(max_length=254)] = ""
    phone: Annotated[Text, Field(max_length=40)] = ""
    street_address: Annotated[Text, Field(max_length=200)] = ""
    city: Annotated[Text, Field(max_length=100)] = ""
    state: Annotated[Text, Field(max_length=2)] = ""
    postal_code: Annotated[Text, Field(max_length=10)] = ""
    area_ids: Ids = Field([], description="Areas of this network the organization serves.")
    populations_served: list[Annotated[Text, Field(max_length=500)]] = Field([], max_length=100)
    size: choices(Organization.Size, blank=True) = ""
    annual_budget: Decimal | None = Field(None, max_digits=14, decimal_places=2, ge=0)


class MembershipNew(Schema):
    status: choices(Membership.Status) = Membership.Status.PROSPECT.value
    role: choices(Membership.Role) = Membership.Role.PARTNER.value
    joined_on: date | None = None


class OrganizationNew(OrganizationChange):
    membership: MembershipNew = Field(
        MembershipNew(), description="Its membership of this network (prospect by default)."
    )


OrganizationPatch = patch_schema(OrganizationChange, "OrganizationPatch")


class OrganizationFilters(Schema):
    q: Search = Field(None, description="Words in the name or mission.")
    status: choices(Membership.Status) | None = None
    role: choices(Membership.Role) | None = None
    sector: SectorCode | None = None
    area_id: Id | None = None


ORGANIZATION_REFS = {"area_ids": ref("areas_served", Area, many=True)}
ORGANIZATION_FIELDS = {"areas_served": "area_ids"}
ORGANIZATION_PATH = Path(
    ..., pattern=r"^[-a-zA-Z0-9_]{1,120}$", description="The organization's slug (or its id)."
)


def organization_rows(access: Access):
    return (
        access.scope(Organization)
        .prefetch_related(
            "sectors",
            "areas_served",
            Prefetch(
                "memberships", queryset=access.scope(Membership), to_attr="network_memberships"
            ),
        )
        .order_by("name", "pk")
    )


def organization_lookup(access: Access, reference: str) -> dict:
    """A slug, or else an id (slugs win, since a slug may be all digits)."""
    if (
        reference.isdigit()
        and int(reference) <= MAX_ID
        and not access.scope(Organization).filter(slug=reference).exists()
    ):
        return {"pk": int(reference)}
    return {"slug": reference}


def get_organization(access: Access, reference: str, action: str = "view") -> Organization:
    return access.get_object(Organization, action, **organization_lookup(access, reference))


def organization_check(action: str = "view"):
    """The row check of an operation on the organization named in the path."""

    def check(access: Access, path: dict) -> None:
        if SLUG.fullmatch(path.get("organization_slug", "")):
            get_organization(access, path["organization_slug"], action)

    return check


def organization_fields(access: Access, data: dict) -> dict:
    data = {**data}
    if "sectors" in data:
        data["sectors"] = list(Sector.objects.filter(code__in=data["sectors"]))
    if "populations_served" in data:
        data["populations_served"] = "\n".join(p.strip() for p in data["populations_served"])
    return resolve_refs(access, data, ORGANIZATION_REFS)


def organization_output(access: Access, organization: Organization) -> Organization:
    return organization_rows(access).get(pk=organization.pk)


@router.get(
    "/{network}/organizations",
    **secured(Organization),
    response={200: list[OrganizationOut], **ERRORS},
    operation_id="list_organizations",
    url_name="list_organizations",
    tags=["organizations"],
    summary="List partner organizations",
)
@paginate(Pages)
def list_organizations(request, network: str, filters: Query[OrganizationFilters]):
    access = request.auth
    memberships = access.scope(Membership)
    if filters.status:
        memberships = memberships.filter(status=filters.status)
    if filters.role:
        memberships = memberships.filter(role=filters.role)
    organizations = organization_rows(access).filter(pk__in=memberships.values("organization_id"))
    if filters.q:
        organizations = organizations.filter(
            Q(name__icontains=filters.q) | Q(mission__icontains=filters.q)
        )
    if filters.sector:
        organizations = organizations.filter(sectors__code=filters.sector)
    if filters.area_id:
        organizations = organizations.filter(
            areas_served__in=access.scope(Area).filter(pk=filters.area_id)
        )
    return organizations.distinct()


@router.get(
    "/{network}/organizations/{organization_slug}",
    **secured(Organization, row=organization_check()),
    response={200: OrganizationOut, **ERRORS},
    operation_id="get_organization",
    url_name="get_organization",
    tags=["organizations"],
    summary="Get a partner organization",
)
def get_organization_detail(request, network: str, organization_slug: str = ORGANIZATION_PATH):
    access = request.auth
    return organization_output(access, get_organization(access, organization_slug))


@router.post(
    "/{network}/organizations",
    **secured(Organization, "add"),
    response={201: OrganizationOut, **ERRORS},
    operation_id="create_organization",
    url_name="create_organization",
    tags=["organizations"],
    summary="Add a partner organization and its membership",
)
def create_organization(request, network: str, payload: OrganizationNew):
    access = request.auth
    data = payload.model_dump(exclude_unset=True)
    membership = {k: v for k, v in data.pop("membership", {}).items() if v is not None}
    fields = organization_fields(access, data)
    names = {**ORGANIZATION_FIELDS, **{name: ("membership", name) for name in membership}}
    with field_errors(names):
        organization = services.organization_create(
            access=access, fields=fields, membership=membership, via="api"
        )
    return Status(201, organization_output(access, organization))


@router.patch(
    "/{network}/organizations/{organization_slug}",
    **secured(Organization, "change", organization_check("change")),
    response={200: OrganizationOut, **ERRORS},
    operation_id="update_organization",
    url_name="update_organization",
    tags=["organizations"],
    summary="Change a partner organization's profile",
)
def update_organization(
    request, network: str, payload: OrganizationPatch, organization_slug: str = ORGANIZATION_PATH
):
    access = request.auth
    instance = get_organization(access, organization_slug, "change")
    fields = organization_fields(access, payload.model_dump(exclude_unset=True))
    if "areas_served" in fields:
        # Areas of other networks the organization serves are kept as they are.
        others = instance.areas_served.exclude(network=access.network)
        fields["areas_served"] = [*fields["areas_served"], *others]
    with field_errors(ORGANIZATION_FIELDS):
        core_services.object_update(access=access, instance=instance, fields=fields, via="api")
    return organization_output(access, instance)


@router.delete(
    "/{network}/organizations/{organization_slug}",
    **secured(Organization, "delete", organization_check("delete")),
    response={204: None, **ERRORS},
    operation_id="delete_organization",
    url_name="delete_organization",
    tags=["organizations"],
    summary="Delete a partner organization",
)
def delete_organization(request, network: str, organization_slug: str = ORGANIZATION_PATH):
    """Only an organization in no other network: deleting it would reach into theirs."""
    access = request.auth
    instance = get_organization(access, organization_slug, "delete")
    with field_errors(prefix=()):
        services.organization_delete(access=access, organization=instance, via="api")
    return Status(204, None)


# Identifiers (under an organization) ------------------------------------------------------


class IdentifierOut(Schema):
    id: int
    organization_id: int
    scheme: str
    value: str


class IdentifierIn(Schema):
    scheme: choices(OrganizationIdentifier.Scheme)
    value: Annotated[Text, Field(max_length=60)]


IdentifierPatch = patch_schema(IdentifierIn, "IdentifierPatch")
IDENTIFIERS = "/{network}/organizations/{organization_slug}/identifiers"
IDENTIFIER = IDENTIFIERS + "/{id}"


def identifier_names(operation_id: str) -> dict:
    return {"operation_id": operation_id, "url_name": operation_id, "tags": ["organizations"]}


def get_identifier(access: Access, organization: str, pk: int, action: str = "view"):
    parent = get_organization(access, organization)
    return access.get_object(OrganizationIdentifier, action, pk=pk, organization=parent)


def identifier_check(action: str = "view"):
    def check(access: Access, path: dict) -> None:
        if not SLUG.fullmatch(path.get("organization_slug", "")):
            return
        if "id" not in path:
            get_organization(access, path["organization_slug"])
        elif (pk := path_id(path["id"])) is not None:
            get_identifier(access, path["organization_slug"], pk, action)

    return check


@router.get(
    IDENTIFIERS,
    **secured(OrganizationIdentifier, row=identifier_check()),
    response={200: list[IdentifierOut], **ERRORS},
    summary="List identifiers",
    **identifier_names("list_organization_identifiers"),
)
@paginate(Pages)
def list_identifiers(request, network: str, organization_slug: str = ORGANIZATION_PATH):
    access = request.auth
    parent = get_organization(access, organization_slug)
    return access.scope(OrganizationIdentifier).filter(organization=parent).order_by("scheme", "pk")


@router.get(
    IDENTIFIER,
    **secured(OrganizationIdentifier, row=identifier_check()),
    response={200: IdentifierOut, **ERRORS},
    summary="Get an identifier",
    **identifier_names("get_organization_identifier"),
)
def get_identifier_detail(
    request,
    network: str,
    organization_slug: str = ORGANIZATION_PATH,
    id: int = Path(..., ge=1, le=MAX_ID),
):
    return get_identifier(request.auth, organization_slug, id)


@router.post(
    IDENTIFIERS,
    **secured(OrganizationIdentifier, "add", identifier_check()),
    response={201: IdentifierOut, **ERRORS},
    summary="Add an identifier",
    **identifier_names("create_organization_identifier"),
)
def create_identifier(
    request, network: str, payload: IdentifierIn, organization_slug: str = ORGANIZATION_PATH
):
    access = request.auth
    parent = get_organization(access, organization_slug)
    with field_errors():
        identifier = core_services.object_create(
            access=access,
            model=OrganizationIdentifier,
            via="api",
            fields={**payload.model_dump(), "organization": parent},
        )
    return Status(201, identifier)


@router.patch(
    IDENTIFIER,
    **secured(OrganizationIdentifier, "change", identifier_check("change")),
    response={200: IdentifierOut, **ERRORS},
    summary="Change an identifier",
    **identifier_names("update_organization_identifier"),
)
def update_identifier(
    request,
    network: str,
    payload: IdentifierPatch,
    organization_slug: str = ORGANIZATION_PATH,
    id: int = Path(..., ge=1, le=MAX_ID),
):
    access = request.auth
    identifier = get_identifier(access, organization_slug, id, "change")
    with field_errors():
        return core_services.object_update(
            access=access,
            instance=identifier,
            fields=payload.model_dump(exclude_unset=True),
            via="api",
        )


@router.delete(
    IDENTIFIER,
    **secured(OrganizationIdentifier, "delete", identifier_check("delete")),
    response={204: None, **ERRORS},
    summary="Delete an identifier",
    **identifier_names("delete_organization_identifier"),
)
def delete_identifier(
    request,
    network: str,
    organization_slug: str = ORGANIZATION_PATH,
    id: int = Path(..., ge=1, le=MAX_ID),
):
    access = request.auth
    identifier = get_identifier(access, organization_slug, id, "delete")
    with field_errors(prefix=()):
        core_services.object_delete(access=access, instance=identifier, via="api")
    return Status(204, None)

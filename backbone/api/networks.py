"""The networks themselves: the ones a caller can see, and a network's profile."""

from datetime import datetime
from typing import Annotated

from django.db.models import Q
from ninja import Field, Router, Schema
from ninja.pagination import paginate

from backbone.api.auth import secured
from backbone.api.errors import ERRORS, field_errors
from backbone.api.resources import ref, resolve_refs
from backbone.api.schemas import Ids, Pages, Text, patch_schema
from backbone.core import services
from backbone.core.access import Access
from backbone.core.models import Area, Network, NetworkRole

router = Router(tags=["networks"])


class NetworkOut(Schema):
    id: int
    slug: str
    name: str
    purpose: str
    community_description: str
    geography_description: str
    geography_served_ids: list[int]
    equity_focus: list[str] = Field(description="Populations the network focuses on.")
    is_public: bool
    role: str | None = Field(
        description="The caller's role here: network_admin … viewer, or public."
    )
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_geography_served_ids(obj, context) -> list[int]:
        return [area.pk for area in obj.geography_served.all() if area.network_id == obj.pk]

    @staticmethod
    def resolve_equity_focus(obj) -> list[str]:
        return obj.equity_focus_list

    @staticmethod
    def resolve_role(obj, context) -> str | None:
        request = context["request"]
        if isinstance(request.auth, Access):
            return request.auth.role
        return getattr(request, "caller_roles", {}).get(obj.pk, "public")


class NetworkChange(Schema):
    """The network's public profile, as a network admin edits it."""

    name: Annotated[Text, Field(max_length=200)]
    purpose: Text
    community_description: Text
    geography_description: Annotated[Text, Field(max_length=300)]
    geography_served_ids: Ids
    equity_focus: list[Annotated[Text, Field(max_length=500)]] = Field(
        max_length=100, description="Populations the network focuses on, one per item."
    )
    is_public: bool


NetworkPatch = patch_schema(NetworkChange, "NetworkPatch")
NETWORK_REFS = {"geography_served_ids": ref("geography_served", Area, many=True)}


@router.get(
    "",
    **secured(None),
    response={200: list[NetworkOut], **ERRORS},
    operation_id="list_networks",
    url_name="list_networks",
    summary="List networks",
)
@paginate(Pages)
def list_networks(request):
    """The networks where the caller has a role, and every public network."""
    visible = Q(is_public=True)
    request.caller_roles = {}
    if request.user.is_authenticated:
        # The caller's own roles: how a client learns which networks it may work in.
        request.caller_roles = dict(
            NetworkRole.objects.filter(user=request.user).values_list("network_id", "role")
        )
        visible |= Q(pk__in=request.caller_roles)
    return (
        Network.objects.filter(visible).prefetch_related("geography_served").order_by("name", "pk")
    )


@router.get(
    "/{network}",
    **secured(Network),
    response={200: NetworkOut, **ERRORS},
    operation_id="get_network",
    url_name="get_network",
    summary="Get a network",
)
def get_network(request, network: str):
    return request.auth.network


@router.patch(
    "/{network}",
    **secured(Network, "change"),
    response={200: NetworkOut, **ERRORS},
    operation_id="update_network",
    url_name="update_network",
    summary="Change a network's profile",
)
def update_network(request, network: str, payload: NetworkPatch):
    access = request.auth
    data = payload.model_dump(exclude_unset=True)
    if "equity_focus" in data:
        data["equity_focus"] = "\n".join(line.strip() for line in data["equity_focus"])
    fields = resolve_refs(access, data, NETWORK_REFS)
    with field_errors({"geography_served": "geography_served_ids"}):
        return services.object_update(
            access=access, instance=access.network, fields=fields, via="api"
        )

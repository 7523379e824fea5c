"""Access policies for the directory app (see backbone.core.access).

The directory is a public resource directory: everyone who may see the network,
including the public of a public network, may read it; network admins write it.
A partner's people propose changes to their own listings (change requests), which
network admins decide; each organization sees only its own change requests.
"""

from backbone.core.access import (
    ADMINS,
    EVERYONE,
    NETWORK_ADMIN,
    ORG_ADMIN,
    ORG_MEMBER,
    Policy,
    register,
    roles,
)
from backbone.directory.models import (
    DIRECTORY_MODELS,
    DirectoryUpload,
    ListingChangeRequest,
    ResourceList,
    ServiceFacet,
    ServiceOpening,
    ServiceSearch,
    ServiceSearchPoint,
)


class DirectoryPolicy(Policy):
    rules = {"view": EVERYONE, "add": ADMINS, "change": ADMINS, "delete": ADMINS, "import": ADMINS}


for _model in (*DIRECTORY_MODELS, ServiceSearch, ServiceFacet, ServiceSearchPoint, ServiceOpening):
    register(type(f"{_model.__name__}Policy", (DirectoryPolicy,), {"model": _model}))


@register
class ResourceListPolicy(Policy):
    """Anyone who reads the directory may build and share a list of its services."""

    model = ResourceList
    rules = {"view": EVERYONE, "add": EVERYONE}


@register
class ListingChangeRequestPolicy(Policy):
    model = ListingChangeRequest
    rules = {
        "view": roles(NETWORK_ADMIN, ORG_ADMIN, ORG_MEMBER),
        "add": roles(ORG_ADMIN, ORG_MEMBER),
        "change": ADMINS,
    }

    def rows(self, access, action, queryset):
        if access.is_admin:
            return queryset
        if access.organization_id is None:
            return queryset.none()
        return queryset.filter(organization_id=access.organization_id)


@register
class DirectoryUploadPolicy(Policy):
    model = DirectoryUpload
    rules = {"view": ADMINS, "add": ADMINS}

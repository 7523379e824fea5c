"""Access policies of the ecosystem app (see backbone.core.access).

Everyone who may see the network reads the gap map settings and the pathways. Network
admins write everything; an organization admin writes the pathways its organization
owns (and their steps), never the backbone's or another partner's.
"""

from backbone.core.access import (
    ADMINS,
    EVERYONE,
    NETWORK_ADMIN,
    ORG_ADMIN,
    Policy,
    register,
    roles,
)
from backbone.ecosystem.models import NeedIndicator, Pathway, PathwayEdge, PathwayStep

PATHWAY_WRITERS = roles(NETWORK_ADMIN, ORG_ADMIN)


@register
class NeedIndicatorPolicy(Policy):
    model = NeedIndicator
    rules = {"view": EVERYONE, "add": ADMINS, "change": ADMINS, "delete": ADMINS}


@register
class PathwayPolicy(Policy):
    model = Pathway
    rules = {
        "view": EVERYONE,
        "add": PATHWAY_WRITERS,
        "change": PATHWAY_WRITERS,
        "delete": PATHWAY_WRITERS,
    }
    owner_path = "owner_organization_id"

    def rows(self, access, action, queryset):
        if action == "view" or access.role == NETWORK_ADMIN:
            return queryset
        return queryset.filter(**{self.owner_path: access.organization_id})

    def can_add(self, access, **values):
        if access.role == NETWORK_ADMIN:
            return True
        return (
            access.role == ORG_ADMIN
            and access.organization_id is not None
            and values.get("owner_organization_id") == access.organization_id
        )


@register
class PathwayStepPolicy(PathwayPolicy):
    model = PathwayStep
    owner_path = "pathway__owner_organization_id"

    def can_add(self, access, **values):
        """A step (or an edge) may be added to a pathway the access may change."""
        pathway_id = values.get("pathway_id")
        if pathway_id is None or not self.allows(access, "add"):
            return False
        return PathwayPolicy().scope(access, "change").filter(pk=pathway_id).exists()


@register
class PathwayEdgePolicy(PathwayStepPolicy):
    model = PathwayEdge

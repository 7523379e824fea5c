"""Access policies for the core tenancy models."""

from django.db.models import Q

from backbone.core.access import (
    ADMINS,
    EVERYONE,
    MEMBERS,
    NETWORK_ADMIN,
    ORG_ADMIN,
    ORG_MEMBER,
    PUBLIC,
    Access,
    Policy,
    register,
    roles,
)
from backbone.core.models import (
    Area,
    AuditEvent,
    Invitation,
    LifeStage,
    Membership,
    Network,
    NetworkRole,
    Organization,
    OrganizationIdentifier,
)

READ_EVERYONE_WRITE_ADMIN = {
    "view": EVERYONE,
    "add": ADMINS,
    "change": ADMINS,
    "delete": ADMINS,
}


@register
class NetworkPolicy(Policy):
    model = Network
    network_path = "pk"
    rules = {"view": EVERYONE, "change": ADMINS}


@register
class LifeStagePolicy(Policy):
    model = LifeStage
    rules = READ_EVERYONE_WRITE_ADMIN


@register
class AreaPolicy(Policy):
    model = Area
    rules = READ_EVERYONE_WRITE_ADMIN


@register
class MembershipPolicy(Policy):
    model = Membership
    rules = {**READ_EVERYONE_WRITE_ADMIN, "view_agreement": MEMBERS}

    def rows(self, access, action, queryset):
        if access.role == PUBLIC:
            return queryset.filter(status=Membership.Status.ACTIVE)
        if access.role != NETWORK_ADMIN:
            # Prospects are the backbone's private pipeline.
            return queryset.exclude(status=Membership.Status.PROSPECT)
        return queryset


@register
class OrganizationPolicy(Policy):
    """Organizations are visible through their membership of the network."""

    model = Organization
    network_path = "memberships__network"
    rules = {
        "view": EVERYONE,
        "add": ADMINS,
        "change": roles(NETWORK_ADMIN, ORG_ADMIN),
        "delete": ADMINS,
    }

    def scope(self, access, action="view"):
        if not self.allows(access, action):
            return Organization.objects.none()
        memberships = MembershipPolicy().scope(access, "view")
        queryset = Organization.objects.filter(pk__in=memberships.values("organization_id"))
        if action == "change" and access.role == ORG_ADMIN:
            queryset = queryset.filter(pk=access.organization_id)
        return queryset


@register
class OrganizationIdentifierPolicy(Policy):
    model = OrganizationIdentifier
    rules = {"view": EVERYONE, "add": ADMINS, "change": ADMINS, "delete": ADMINS}

    def scope(self, access, action="view"):
        if not self.allows(access, action):
            return OrganizationIdentifier.objects.none()
        organizations = OrganizationPolicy().scope(access, "view")
        return OrganizationIdentifier.objects.filter(organization__in=organizations)


@register
class NetworkRolePolicy(Policy):
    """People: the backbone sees everyone; an organization's admins see their colleagues."""

    model = NetworkRole
    rules = {
        "view": MEMBERS,
        "add": roles(NETWORK_ADMIN, ORG_ADMIN),
        "change": roles(NETWORK_ADMIN, ORG_ADMIN),
        "delete": roles(NETWORK_ADMIN, ORG_ADMIN),
    }

    def rows(self, access, action, queryset):
        if access.role == NETWORK_ADMIN:
            return queryset
        if access.role == ORG_ADMIN:
            mine = Q(organization_id=access.organization_id)
            if action == "view":
                return queryset.filter(mine | Q(user=access.user))
            return queryset.filter(mine, role__in=[ORG_ADMIN, ORG_MEMBER])
        return queryset.filter(user=access.user)

    def can_add(self, access, **values):
        if access.role == NETWORK_ADMIN:
            return True
        return (
            access.role == ORG_ADMIN
            and values.get("organization_id") == access.organization_id
            and values.get("role") in (ORG_ADMIN, ORG_MEMBER)
        )


@register
class InvitationPolicy(NetworkRolePolicy):
    model = Invitation

    def rows(self, access: Access, action, queryset):
        if access.role == NETWORK_ADMIN:
            return queryset
        if access.role == ORG_ADMIN:
            return queryset.filter(organization_id=access.organization_id)
        return queryset.none()


@register
class AuditEventPolicy(Policy):
    model = AuditEvent
    rules = {"view": ADMINS, "export": ADMINS}

from backbone.core.access import (
    ADMINS,
    NETWORK_ADMIN,
    ORG_ADMIN,
    ORG_MEMBER,
    Policy,
    register,
    roles,
)
from backbone.partners.models import ProspectAssessment, ReadinessAssessment


@register
class ProspectAssessmentPolicy(Policy):
    """The backbone's partner pipeline is private to backbone staff."""

    model = ProspectAssessment
    rules = {"view": ADMINS, "add": ADMINS, "change": ADMINS, "delete": ADMINS}


ORG_PEOPLE = roles(NETWORK_ADMIN, ORG_ADMIN, ORG_MEMBER)


@register
class ReadinessAssessmentPolicy(Policy):
    """An organization and the backbone see the organization's readiness; nobody else."""

    model = ReadinessAssessment
    rules = {"view": ORG_PEOPLE, "add": ORG_PEOPLE, "change": ORG_PEOPLE, "delete": ADMINS}

    def rows(self, access, action, queryset):
        if access.role == NETWORK_ADMIN:
            return queryset
        return queryset.filter(organization_id=access.organization_id)

    def can_add(self, access, **values):
        if access.role == NETWORK_ADMIN:
            return True
        return self.allows(access, "add") and (
            values.get("organization_id") == access.organization_id
        )

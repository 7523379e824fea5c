"""Access policies for the measurement app (see backbone.core.access).

The results framework is the network's public promise: every member, and the public of
a public network, may read it; network admins write it. Partner-level measures and their
targets are for members only; a partner's org admins write their own.
"""

from django.db.models import Q

from backbone.core.access import (
    ADMINS,
    EVERYONE,
    MEMBERS,
    NETWORK_ADMIN,
    ORG_ADMIN,
    ORG_MEMBER,
    PUBLIC,
    Policy,
    register,
    roles,
)
from backbone.measurement.models import (
    Category,
    DataValue,
    DataValueVersion,
    Dimension,
    Framework,
    ImportJob,
    Indicator,
    IndicatorTarget,
    MeasureTarget,
    PerformanceMeasure,
    ReportingAssignment,
    Result,
    ResultNarrative,
    Strategy,
    Submission,
    ValidationRule,
)

FRAMEWORK_RULES = {"view": EVERYONE, "add": ADMINS, "change": ADMINS, "delete": ADMINS}
PARTNER_WRITERS = roles(NETWORK_ADMIN, ORG_ADMIN)
PARTNER_RULES = {
    "view": MEMBERS,
    "add": PARTNER_WRITERS,
    "change": PARTNER_WRITERS,
    "delete": PARTNER_WRITERS,
}


@register
class FrameworkPolicy(Policy):
    model = Framework
    rules = FRAMEWORK_RULES


@register
class DimensionPolicy(Policy):
    model = Dimension
    rules = FRAMEWORK_RULES


@register
class CategoryPolicy(Policy):
    model = Category
    rules = FRAMEWORK_RULES


@register
class ResultPolicy(Policy):
    model = Result
    rules = FRAMEWORK_RULES


@register
class IndicatorPolicy(Policy):
    model = Indicator
    rules = FRAMEWORK_RULES


@register
class IndicatorTargetPolicy(Policy):
    model = IndicatorTarget
    rules = FRAMEWORK_RULES


@register
class StrategyPolicy(Policy):
    model = Strategy
    rules = FRAMEWORK_RULES


class PartnerOwnedPolicy(Policy):
    """Members read; network admins write all; an org admin writes its organization's rows."""

    rules = PARTNER_RULES

    def rows(self, access, action, queryset):
        if action == "view" or access.role == NETWORK_ADMIN:
            return queryset
        return queryset.filter(organization_id=access.organization_id)

    def can_add(self, access, **values):
        if access.role == NETWORK_ADMIN:
            return True
        return (
            self.allows(access, "add")
            and access.organization_id is not None
            and values.get("organization_id") == access.organization_id
        )


@register
class PerformanceMeasurePolicy(PartnerOwnedPolicy):
    model = PerformanceMeasure


@register
class MeasureTargetPolicy(PartnerOwnedPolicy):
    model = MeasureTarget


DATA_WRITERS = roles(NETWORK_ADMIN, ORG_ADMIN, ORG_MEMBER)


@register
class DataValuePolicy(Policy):
    """Network admins read all data. An organization's admins and members read their own
    organization's values in any status and everyone's approved values; funders and
    viewers read approved values only; the public reads approved population-level values
    (no organization's data). Network admins write anything; an organization's admins and
    members write their own organization's values until they are approved."""

    model = DataValue
    rules = {"view": EVERYONE, "add": DATA_WRITERS, "change": DATA_WRITERS, "delete": ADMINS}

    def rows(self, access, action, queryset):
        approved = Q(status=DataValue.Status.APPROVED)
        if access.role == NETWORK_ADMIN:
            return queryset
        if access.role == PUBLIC:
            return queryset.filter(approved, organization__isnull=True)
        if action == "view":
            if access.role in (ORG_ADMIN, ORG_MEMBER) and access.organization_id:
                return queryset.filter(approved | Q(organization_id=access.organization_id))
            return queryset.filter(approved)
        return queryset.filter(organization_id=access.organization_id).exclude(
            status=DataValue.Status.APPROVED
        )

    def can_add(self, access, **values):
        if access.role == NETWORK_ADMIN:
            return True
        return (
            self.allows(access, "add")
            and access.organization_id is not None
            and values.get("organization_id") == access.organization_id
        )


@register
class DataValueVersionPolicy(Policy):
    """The history of data values, for members; written only by the data services."""

    model = DataValueVersion
    rules = {"view": MEMBERS}

    def rows(self, access, action, queryset):
        # A value's history is visible exactly where the value is.
        return queryset.filter(data_value__in=DataValuePolicy().scope(access, "view"))


@register
class ValidationRulePolicy(Policy):
    """Members read the checks their data must pass; network admins write them."""

    model = ValidationRule
    rules = {"view": MEMBERS, "add": ADMINS, "change": ADMINS, "delete": ADMINS}


@register
class ResultNarrativePolicy(Policy):
    """The story behind the curve is part of the public report card."""

    model = ResultNarrative
    rules = FRAMEWORK_RULES


class OwnOrganizationPolicy(Policy):
    """Network admins see and write every row; an organization's people see their own."""

    def rows(self, access, action, queryset):
        if access.role == NETWORK_ADMIN:
            return queryset
        if access.organization_id is None:
            return queryset.none()
        return queryset.filter(organization_id=access.organization_id)


@register
class ReportingAssignmentPolicy(OwnOrganizationPolicy):
    model = ReportingAssignment
    rules = {
        "view": roles(NETWORK_ADMIN, ORG_ADMIN, ORG_MEMBER),
        "add": ADMINS,
        "change": ADMINS,
        "delete": ADMINS,
    }


@register
class SubmissionPolicy(OwnOrganizationPolicy):
    """Writers of the organization fill in and submit; network admins review."""

    model = Submission
    rules = {"view": DATA_WRITERS, "add": ADMINS, "change": DATA_WRITERS, "delete": ADMINS}


@register
class ImportJobPolicy(Policy):
    """A data file sent on the web or the API: its sender and network admins see it."""

    model = ImportJob
    rules = {"view": DATA_WRITERS, "add": DATA_WRITERS, "change": ADMINS, "delete": ADMINS}

    def rows(self, access, action, queryset):
        if access.role == NETWORK_ADMIN:
            return queryset
        return queryset.filter(created_by_id=getattr(access.user, "pk", None))

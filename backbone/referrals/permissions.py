"""Access policies of the referrals app (see backbone.core.access).

A person's record is seen only by the organizations serving them (a care relationship)
while a consent allows it; backbone staff see aggregates. The consent check at read time
lives in selectors.py; these policies are the first, coarse filter.
"""

from backbone.core.access import ADMINS, MEMBERS, ORG_ADMIN, ORG_MEMBER, Policy, register, roles
from backbone.referrals.models import (
    CareRelationship,
    Consent,
    Milestone,
    Notification,
    Person,
    PersonAccess,
    PersonMerge,
    Referral,
    ReferralEvent,
    ReferralMessage,
    ReferralSettings,
)

PARTNER_STAFF = roles(ORG_ADMIN, ORG_MEMBER)
CLIENT_RULES = {
    "view": PARTNER_STAFF,
    "add": PARTNER_STAFF,
    "change": PARTNER_STAFF,
    "delete": roles(ORG_ADMIN),
}


class _ServedByOrganization(Policy):
    """Rows whose person the access's organization serves."""

    rules = CLIENT_RULES
    person_path = "person"

    def rows(self, access, action, queryset):
        if access.organization_id is None:
            return queryset.none()
        served = CareRelationship.objects.filter(
            organization_id=access.organization_id, ended_on__isnull=True
        ).values("person_id")
        key = "pk" if self.person_path == "" else f"{self.person_path}_id"
        return queryset.filter(**{f"{key}__in": served})


@register
class PersonPolicy(_ServedByOrganization):
    model = Person
    person_path = ""


@register
class CareRelationshipPolicy(_ServedByOrganization):
    model = CareRelationship


@register
class ConsentPolicy(_ServedByOrganization):
    model = Consent


@register
class MilestonePolicy(_ServedByOrganization):
    model = Milestone


@register
class PersonMergePolicy(_ServedByOrganization):
    model = PersonMerge
    person_path = "kept"


@register
class PersonAccessPolicy(_ServedByOrganization):
    model = PersonAccess
    rules = {"view": PARTNER_STAFF}


class _ReferralParty(Policy):
    """Referrals the access's organization sent or received."""

    rules = CLIENT_RULES
    referral_path = ""

    def rows(self, access, action, queryset):
        if access.organization_id is None:
            return queryset.none()
        prefix = f"{self.referral_path}__" if self.referral_path else ""
        from django.db.models import Q

        return queryset.filter(
            Q(**{f"{prefix}from_organization_id": access.organization_id})
            | Q(**{f"{prefix}to_organization_id": access.organization_id})
        )


@register
class ReferralPolicy(_ReferralParty):
    model = Referral


@register
class ReferralEventPolicy(_ReferralParty):
    model = ReferralEvent
    referral_path = "referral"


@register
class ReferralMessagePolicy(_ReferralParty):
    model = ReferralMessage
    referral_path = "referral"


@register
class NotificationPolicy(Policy):
    model = Notification
    rules = {"view": MEMBERS, "change": MEMBERS}

    def rows(self, access, action, queryset):
        return queryset.filter(user_id=getattr(access.user, "pk", None))


@register
class ReferralSettingsPolicy(Policy):
    model = ReferralSettings
    rules = {"view": MEMBERS, "change": ADMINS, "add": ADMINS}

"""Access policies of the referrals app (see backbone.core.access).

A person's record is seen only by the organization holding it and by the organizations
an active consent allows (selectors.visible_people, checked at every read); backbone
staff (network admins) see a person only when a consent names the backbone organization,
and aggregates otherwise. Funders, viewers and the public see no one. Rows about a
person (consents, care relationships, milestones, the access log) follow the person.
"""

from django.db.models import Q

from backbone.core.access import (
    ADMINS,
    MEMBERS,
    NETWORK_ADMIN,
    ORG_ADMIN,
    ORG_MEMBER,
    Policy,
    register,
    roles,
)
from backbone.referrals import selectors
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
CLIENT_READERS = PARTNER_STAFF | {NETWORK_ADMIN}
CLIENT_RULES = {
    "view": CLIENT_READERS,
    "add": PARTNER_STAFF,
    "change": PARTNER_STAFF,
    "delete": roles(ORG_ADMIN),
}


class _AboutVisiblePerson(Policy):
    """Rows whose person the access may see (the `information` part of the record)."""

    rules = CLIENT_RULES
    person_path = "person"
    information = "identity"

    def rows(self, access, action, queryset):
        visible = selectors.visible_people(access, self.information).values("pk")
        key = "pk" if self.person_path == "" else f"{self.person_path}_id"
        return queryset.filter(**{f"{key}__in": visible})


@register
class PersonPolicy(_AboutVisiblePerson):
    model = Person
    person_path = ""


@register
class CareRelationshipPolicy(_AboutVisiblePerson):
    model = CareRelationship
    information = "referrals"


@register
class ConsentPolicy(_AboutVisiblePerson):
    model = Consent


@register
class MilestonePolicy(_AboutVisiblePerson):
    model = Milestone
    information = "outcomes"


@register
class PersonMergePolicy(_AboutVisiblePerson):
    model = PersonMerge
    person_path = "kept"
    rules = {"view": PARTNER_STAFF, "add": PARTNER_STAFF}


@register
class PersonAccessPolicy(_AboutVisiblePerson):
    """The read audit of a person: for the organizations serving them (HIPAA
    §164.312(b) review), not for every organization a consent lets read."""

    model = PersonAccess
    rules = {"view": PARTNER_STAFF}

    def rows(self, access, action, queryset):
        serving = CareRelationship.objects.filter(
            organization_id__in=selectors.acting_organization_ids(access),
            ended_on__isnull=True,
        ).values("person_id")
        return super().rows(access, action, queryset).filter(person_id__in=serving)


class _ReferralParty(Policy):
    """Referrals the access's organization sent or received."""

    rules = CLIENT_RULES
    referral_path = ""

    def rows(self, access, action, queryset):
        if access.organization_id is None:
            return queryset.none()
        prefix = f"{self.referral_path}__" if self.referral_path else ""
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

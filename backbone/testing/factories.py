"""factory_boy factories for the core models, shared by every app's tests."""

import factory
from django.utils import timezone

from backbone.core.models import (
    Area,
    LifeStage,
    Membership,
    Network,
    NetworkRole,
    Organization,
    Sector,
    User,
)
from backbone.governance.models import WorkingGroup
from backbone.partners.models import ProspectAssessment

DEFAULT_PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    full_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class NetworkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Network

    name = factory.Sequence(lambda n: f"Network {n}")
    slug = factory.Sequence(lambda n: f"network-{n}")
    purpose = "Every child succeeds, cradle to career."


class LifeStageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LifeStage

    network = factory.SubFactory(NetworkFactory)
    name = factory.Sequence(lambda n: f"Stage {n}")
    position = factory.Sequence(lambda n: n)


class AreaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Area

    network = factory.SubFactory(NetworkFactory)
    code = factory.Sequence(lambda n: f"A{n:05d}")
    name = factory.Sequence(lambda n: f"Area {n}")
    kind = Area.Kind.COUNTY


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Organization {n}")
    slug = factory.Sequence(lambda n: f"organization-{n}")
    mission = "Helps families."

    @factory.post_generation
    def sectors(obj, create, extracted, **kwargs):
        if create:
            obj.sectors.set(extracted or [Sector.objects.get(code="nonprofit")])


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    network = factory.SubFactory(NetworkFactory)
    organization = factory.SubFactory(OrganizationFactory)
    status = Membership.Status.ACTIVE
    role = Membership.Role.PARTNER
    joined_on = factory.LazyFunction(timezone.localdate)


class NetworkRoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NetworkRole

    user = factory.SubFactory(UserFactory)
    network = factory.SubFactory(NetworkFactory)
    role = "viewer"


class WorkingGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkingGroup

    network = factory.SubFactory(NetworkFactory)
    name = factory.Sequence(lambda n: f"Working group {n}")
    charter = "Improve kindergarten readiness."


class ProspectAssessmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProspectAssessment

    network = factory.SubFactory(NetworkFactory)
    organization = factory.SubFactory(OrganizationFactory)
    influence = 4
    alignment = 3
    capacity = 2
    reach = 5


def activate_totp(user) -> str:
    """Give USER a TOTP authenticator (network admins need one); returns the secret."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


# --- referrals (people, consent, referrals): test builders -------------------------------


def client_world(world, *, given_name="Maria", family_name="Quintero", consent_to_second=True):
    """A person recorded by `world.organization` (org A), consent naming
    `world.second_organization` (org B), a referral from A to B with an event, a message
    and a milestone. Returns a dict of the rows."""
    import datetime
    import uuid

    from backbone.core.access import Access
    from backbone.directory import models as directory
    from backbone.referrals import consents, people
    from backbone.referrals.models import (
        Milestone,
        Referral,
        ReferralEvent,
        ReferralMessage,
    )

    user_a = world.users["org_admin"]
    access_a = Access(
        user=user_a, network=world.network, role="org_admin", organization_id=world.organization.pk
    )
    person = people.person_create(
        access=access_a,
        given_name=given_name,
        family_name=family_name,
        birth_date=datetime.date(2001, 4, 3),
        phone="555-0134",
        email="maria.q@example.org",
    )
    consent = (
        consents.consent_record(
            access=access_a,
            person=person,
            recipients="named",
            recipient_organizations=[world.second_organization] if consent_to_second else [],
            information=["identity", "demographics", "referrals", "outcomes", "notes"],
            purpose="referral",
            expires_on=timezone.localdate() + datetime.timedelta(days=365),
            signature="electronic",
            signed_by=f"{given_name} {family_name}",
        )
        if consent_to_second
        else None
    )
    listing = directory.DirectoryOrganization.objects.create(
        network=world.network,
        hsds_id=uuid.uuid4(),
        name="Second partner listing",
        organization=world.second_organization,
    )
    service = directory.Service.objects.create(
        network=world.network,
        hsds_id=uuid.uuid4(),
        organization=listing,
        name="Tutoring",
        status="active",
    )
    referral = None
    if consent is not None:
        referral = Referral.objects.create(
            network=world.network,
            person=person,
            consent=consent,
            from_organization=world.organization,
            to_organization=world.second_organization,
            to_service=service,
            reason="Needs tutoring in algebra.",
            respond_by=timezone.now() + datetime.timedelta(days=3),
            created_by=user_a,
        )
        ReferralEvent.objects.create(
            network=world.network,
            referral=referral,
            to_status="sent",
            actor=user_a,
            organization=world.organization,
            note="Sent with consent.",
        )
        ReferralMessage.objects.create(
            network=world.network,
            referral=referral,
            organization=world.organization,
            author=user_a,
            body="She prefers afternoon sessions.",
        )
    milestone = Milestone.objects.create(
        network=world.network,
        person=person,
        name="Enrolled in college",
        organization=world.organization,
        source="recorded",
        achieved_on=datetime.date(2024, 9, 1),
        recorded_by=user_a,
    )
    return {
        "access_a": access_a,
        "person": person,
        "consent": consent,
        "service": service,
        "referral": referral,
        "milestone": milestone,
    }

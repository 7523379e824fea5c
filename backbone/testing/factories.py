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

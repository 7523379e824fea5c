"""The cast of the referral workflow tests: organization A (`world.organization`) refers
a consenting person to a service of organization B (`world.second_organization`);
organization C is a third partner of the same network."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass

import pytest
from django.utils import timezone

from backbone.core.access import access_for
from backbone.directory.models import DirectoryOrganization, Service
from backbone.referrals import consents, people
from backbone.testing import factories as f

ALL_INFORMATION = ["identity", "demographics", "referrals", "outcomes", "notes"]
GIVEN, FAMILY = "Maribel", "Quintanilla"


@dataclass
class Cast:
    world: object
    network: object
    a: object
    b: object
    c: object
    a_admin: object
    a_member: object
    b_admin: object
    b_member: object
    c_admin: object
    service_b: Service
    service_c: Service
    service_a: Service
    person: object
    consent: object

    def access(self, user):
        return access_for(user, self.network)


def listing(network, organization, name: str) -> Service:
    directory_org = DirectoryOrganization.objects.create(
        network=network,
        hsds_id=uuid.uuid4(),
        name=f"{organization.name} listing",
        organization=organization,
    )
    return Service.objects.create(
        network=network,
        hsds_id=uuid.uuid4(),
        organization=directory_org,
        name=name,
        status="active",
    )


def record_person(cast_or_access, *, given=GIVEN, family=FAMILY, recipients=None, information=None):
    access = cast_or_access
    person = people.person_create(
        access=access,
        given_name=given,
        family_name=family,
        birth_date=datetime.date(2003, 5, 17),
        email="m.q@example.org",
    )
    consent = consents.consent_record(
        access=access,
        person=person,
        recipients="named",
        recipient_organizations=recipients or [],
        information=information or ALL_INFORMATION,
        purpose="referral",
        expires_on=timezone.localdate() + datetime.timedelta(days=365),
        signature="electronic",
        signed_by=f"{given} {family}",
    )
    return person, consent


def org_user(network, organization, role: str, email: str):
    user = f.UserFactory(email=email)
    f.NetworkRoleFactory(user=user, network=network, role=role, organization=organization)
    return user


@pytest.fixture(name="cast")
def cast_fixture(world) -> Cast:
    network = world.network
    a, b = world.organization, world.second_organization
    c = f.MembershipFactory(network=network).organization
    b_admin = org_user(network, b, "org_admin", "b-admin@river.example")
    b_member = org_user(network, b, "org_member", "b-member@river.example")
    c_admin = org_user(network, c, "org_admin", "c-admin@river.example")
    access_a = access_for(world.users["org_admin"], network)
    person, consent = record_person(access_a, recipients=[b, c])
    return Cast(
        world=world,
        network=network,
        a=a,
        b=b,
        c=c,
        a_admin=world.users["org_admin"],
        a_member=world.users["org_member"],
        b_admin=b_admin,
        b_member=b_member,
        c_admin=c_admin,
        service_b=listing(network, b, "Algebra tutoring"),
        service_c=listing(network, c, "Job coaching"),
        service_a=listing(network, a, "Family advocacy"),
        person=person,
        consent=consent,
    )

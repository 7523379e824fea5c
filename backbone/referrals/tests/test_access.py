"""The authorization matrix for client data inside one network.

The person is recorded by org A (`world.organization`); a consent names org B
(`world.second_organization`); org C is a third partner. Every route of the people and
consent pages, and the selectors, are checked for org A's and org B's staff (with
consent, after revocation, after expiry by date and by event, without it), org C, the
network admin (with and without a consent naming the backbone organization), the
funder, the viewer and the public.
"""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from backbone.core.access import access_for
from backbone.core.models import Membership
from backbone.referrals import consents, selectors
from backbone.referrals.models import CareRelationship, Consent, Person
from backbone.testing import factories as f

pytestmark = pytest.mark.django_db

NAME = "Quintero"
# Route -> which object its <pk> is.
ROUTES = {
    "person-list": None,
    "person-detail": "person",
    "person-edit": "person",
    "person-merge": "person",
    "person-access-log": "person",
    "consent-add": "person",
    "consent-revoke": "consent",
    "consent-event": "consent",
}
SEES = {  # a reader who may see the person: the status of each page
    "person-list": 200,
    "person-detail": 200,
    "person-edit": 200,
    "person-merge": 200,
    "consent-add": 200,
    "consent-revoke": 200,
    "consent-event": 200,
}
HIDDEN = {  # partner staff who may not see the person
    "person-list": 200,
    "person-detail": 404,
    "person-edit": 404,
    "person-merge": 404,
    "person-access-log": 404,
    "consent-add": 404,
    "consent-revoke": 404,
    "consent-event": 404,
}
NO_CLIENT_DATA = dict.fromkeys(ROUTES, 403)  # funders and viewers


def staff(world, organization, email):
    user = f.UserFactory(email=email)
    f.NetworkRoleFactory(
        user=user, network=world.network, role="org_member", organization=organization
    )
    return user


@pytest.fixture
def cast(world):
    built = f.client_world(world)
    third = f.MembershipFactory(network=world.network).organization
    users = {
        "org A": world.users["org_member"],
        "org B": staff(world, world.second_organization, "b@river.example"),
        "org C": staff(world, third, "c@river.example"),
        "network admin": world.users["network_admin"],
        "funder": world.users["funder"],
        "viewer": world.users["viewer"],
    }
    return {"world": world, "built": built, "users": users, "third": third}


def statuses(cast, who: str) -> tuple[dict, dict]:
    """The status of every route for WHO, and whether the response showed the name."""
    client = Client()
    if who != "public":
        client.force_login(cast["users"][who])
    built, slug = cast["built"], cast["world"].network.slug
    codes, named = {}, {}
    for route, kind in ROUTES.items():
        args = [slug] + ([built[kind].pk] if kind else [])
        response = client.get(reverse(f"referrals:{route}", args=args))
        codes[route] = response.status_code
        named[route] = NAME in response.content.decode()
    return codes, named


def visible_to(cast, who: str) -> bool:
    access = access_for(cast["users"][who], cast["world"].network)
    return selectors.visible_people(access).filter(pk=cast["built"]["person"].pk).exists()


def test_org_a_holds_the_record_and_sees_everything(cast):
    codes, named = statuses(cast, "org A")
    assert codes == {**SEES, "person-access-log": 200}
    assert all(named.values())
    assert visible_to(cast, "org A")


def test_org_b_with_consent_reads_the_person_but_does_not_keep_the_record(cast):
    codes, named = statuses(cast, "org B")
    # Reading under consent is not serving: no edit, merge, consent or access log.
    assert codes == {
        **SEES,
        "person-edit": 403,
        "person-merge": 403,
        "consent-add": 403,
        "person-access-log": 403,
    }
    assert named["person-list"] and named["person-detail"]
    assert visible_to(cast, "org B")
    # Once B serves the person (an accepted referral), it keeps the record too.
    CareRelationship.objects.create(
        network=cast["world"].network,
        person=cast["built"]["person"],
        organization=cast["world"].second_organization,
        source="referral",
    )
    codes, _ = statuses(cast, "org B")
    assert codes == {**SEES, "person-access-log": 200}
    person = cast["built"]["person"]
    assert selectors.consent_allows(person, cast["world"].second_organization.pk)


def test_org_b_after_revocation_sees_nothing(cast):
    consents.consent_revoke(access=cast["built"]["access_a"], consent=cast["built"]["consent"])
    codes, named = statuses(cast, "org B")
    assert codes == HIDDEN
    assert not any(named.values())
    assert not visible_to(cast, "org B")
    # The holder keeps the record.
    assert visible_to(cast, "org A")


def test_org_b_after_expiry_by_date_sees_nothing(cast):
    Consent.objects.filter(pk=cast["built"]["consent"].pk).update(
        expires_on=timezone.localdate() - datetime.timedelta(days=1)
    )
    codes, named = statuses(cast, "org B")
    assert codes == HIDDEN and not any(named.values())
    assert not visible_to(cast, "org B")


def test_org_b_after_expiry_by_event_sees_nothing(cast):
    Consent.objects.filter(pk=cast["built"]["consent"].pk).update(
        expiry_event="When the referral closes", expired_by_event_at=timezone.now()
    )
    codes, named = statuses(cast, "org B")
    assert codes == HIDDEN and not any(named.values())


def test_org_b_without_consent_sees_nothing(world):
    built = f.client_world(world, consent_to_second=False)
    b_user = staff(world, world.second_organization, "b@river.example")
    access = access_for(b_user, world.network)
    assert not selectors.visible_people(access).filter(pk=built["person"].pk).exists()
    client = Client()
    client.force_login(b_user)
    url = reverse("referrals:person-detail", args=[world.network.slug, built["person"].pk])
    assert client.get(url).status_code == 404


def test_a_consent_without_identity_shows_no_name(cast):
    world, built = cast["world"], cast["built"]
    Consent.objects.filter(pk=built["consent"].pk).update(information=["referrals", "outcomes"])
    codes, named = statuses(cast, "org B")
    assert codes == HIDDEN and not any(named.values())
    person = built["person"]
    assert selectors.consent_allows(person, world.second_organization.pk, "identity") is None
    assert selectors.consent_allows(person, world.second_organization.pk, "referrals")


def test_org_c_not_named_sees_nothing(cast):
    codes, named = statuses(cast, "org C")
    assert codes == HIDDEN and not any(named.values())
    assert not visible_to(cast, "org C")
    person = cast["built"]["person"]
    assert selectors.consent_allows(person, cast["third"].pk) is None


def test_network_admin_sees_counts_not_identity(cast):
    codes, named = statuses(cast, "network admin")
    assert codes == {
        "person-list": 200,
        "person-detail": 404,
        "person-edit": 403,
        "person-merge": 403,
        "person-access-log": 403,
        "consent-add": 403,
        "consent-revoke": 403,
        "consent-event": 403,
    }
    assert not any(named.values())
    assert not visible_to(cast, "network admin")
    client = Client()
    client.force_login(cast["users"]["network admin"])
    page = client.get(reverse("referrals:person-list", args=[cast["world"].network.slug]))
    assert "People served" in page.content.decode()
    assert page.context["summary"]["people"] == 1


def test_network_admin_sees_a_person_whose_consent_names_the_backbone(cast):
    world, built = cast["world"], cast["built"]
    backbone = f.MembershipFactory(network=world.network, role=Membership.Role.BACKBONE)
    consents.consent_record(
        access=built["access_a"],
        person=built["person"],
        recipients="named",
        recipient_organizations=[backbone.organization],
        information=["identity"],
        purpose="evaluation",
        expires_on=timezone.localdate() + datetime.timedelta(days=10),
        signature="electronic",
        signed_by="Maria Quintero",
    )
    assert visible_to(cast, "network admin")
    codes, named = statuses(cast, "network admin")
    assert codes["person-detail"] == 200 and named["person-detail"]
    assert named["person-list"]
    # Still no access log (the backbone does not serve the person) and no writes.
    assert codes["person-access-log"] == 403
    assert codes["consent-add"] == 403


@pytest.mark.parametrize("who", ["funder", "viewer"])
def test_funders_and_viewers_see_nothing_identifying(cast, who):
    codes, named = statuses(cast, who)
    assert codes == NO_CLIENT_DATA
    assert not any(named.values())
    assert not visible_to(cast, who)


def test_the_public_is_sent_to_sign_in(cast):
    codes, named = statuses(cast, "public")
    assert set(codes.values()) == {302}
    assert not any(named.values())


def test_the_public_of_a_public_network_sees_nothing(cast):
    network = cast["world"].network
    network.is_public = True
    network.save()
    codes, named = statuses(cast, "public")
    assert set(codes.values()) <= {302, 404}
    assert not any(named.values())


def test_an_organization_that_left_the_network_sees_nothing(cast):
    Membership.objects.filter(
        network=cast["world"].network, organization=cast["world"].second_organization
    ).update(status=Membership.Status.INACTIVE)
    assert not visible_to(cast, "org B")


def test_person_for_read_404s_and_records_only_visible_reads(cast):
    from django.http import Http404

    person = cast["built"]["person"]
    access_c = access_for(cast["users"]["org C"], cast["world"].network)
    with pytest.raises(Http404):
        selectors.person_for_read(access_c, person.pk, what="person", route="test")
    access_a = access_for(cast["users"]["org A"], cast["world"].network)
    assert selectors.person_for_read(access_a, person.pk, what="person", route="test") == person
    assert person.accesses.filter(route="test").count() == 1
    with pytest.raises(Http404):
        selectors.person_for_read(access_a, 10**9, what="person", route="test")


def test_policies_scope_rows_about_the_person(cast):
    person = cast["built"]["person"]
    access_b = access_for(cast["users"]["org B"], cast["world"].network)
    access_c = access_for(cast["users"]["org C"], cast["world"].network)
    assert list(access_b.scope(Person)) == [person]
    assert list(access_c.scope(Person)) == []
    assert access_b.scope(Consent).count() == 1
    assert access_c.scope(Consent).count() == 0
    consents.consent_revoke(access=cast["built"]["access_a"], consent=cast["built"]["consent"])
    assert list(access_b.scope(Person)) == []
    assert access_b.scope(Consent).count() == 0

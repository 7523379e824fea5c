"""Partner organizations and their identifiers over the API."""

import pytest

from backbone.api.tests.conftest import audited, network_path
from backbone.core.models import (
    AuditEvent,
    Membership,
    Organization,
    OrganizationIdentifier,
)
from backbone.testing import factories as f

pytestmark = pytest.mark.django_db


# Organizations ----------------------------------------------------------------------------


def test_organization_lifecycle_as_admin(world, admin_api):
    area = f.AreaFactory(network=world.network)

    created = admin_api.post(
        network_path(world, "/organizations"),
        {
            "name": "Northside Reads",
            "sectors": ["nonprofit", "community_group"],
            "area_ids": [area.pk],
            "populations_served": ["Children 0-5", "Parents"],
            "annual_budget": "125000.50",
            "membership": {"status": "active", "role": "partner", "joined_on": "2024-09-01"},
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["slug"] == "northside-reads"
    assert body["sectors"] == ["nonprofit", "community_group"]
    assert body["area_ids"] == [area.pk]
    assert body["populations_served"] == ["Children 0-5", "Parents"]
    assert body["membership"]["status"] == "active"
    assert body["membership"]["joined_on"] == "2024-09-01"
    membership = Membership.objects.get(network=world.network, organization_id=body["id"])
    assert audited(Organization, body["id"], "create")
    assert audited(membership, membership.pk, "create")

    by_slug = admin_api.get(network_path(world, "/organizations/northside-reads"))
    by_id = admin_api.get(network_path(world, f"/organizations/{body['id']}"))
    assert by_slug.json() == by_id.json()

    listed = admin_api.get(network_path(world, "/organizations"), q="northside").json()
    assert [item["id"] for item in listed["items"]] == [body["id"]]

    changed = admin_api.patch(
        network_path(world, "/organizations/northside-reads"),
        {"mission": "Every child reads.", "area_ids": []},
    )
    assert changed.status_code == 200
    assert changed.json()["mission"] == "Every child reads."
    assert changed.json()["area_ids"] == []
    assert audited(Organization, body["id"], "update")

    deleted = admin_api.delete(network_path(world, "/organizations/northside-reads"))
    assert deleted.status_code == 204
    assert not Organization.objects.filter(pk=body["id"]).exists()
    assert audited(Organization, body["id"], "delete")


def test_new_organization_is_a_prospect_by_default(world, admin_api):
    created = admin_api.post(
        network_path(world, "/organizations"), {"name": "Quiet Partner", "sectors": ["business"]}
    )

    assert created.json()["membership"]["status"] == "prospect"


def test_org_member_gets_403_on_creating_an_organization(world, api_as):
    response = api_as("org_member").post(
        network_path(world, "/organizations"), {"name": "Sneaky", "sectors": ["nonprofit"]}
    )

    assert response.status_code == 403
    assert not Organization.objects.filter(name="Sneaky").exists()


def test_org_member_gets_403_even_with_an_empty_body(world, api_as):
    response = api_as("org_member").post(network_path(world, "/organizations"), {})

    assert response.status_code == 403


def test_area_of_other_network_in_organization_gives_422_and_writes_nothing(world, admin_api):
    foreign = f.AreaFactory(network=world.other_network)

    response = admin_api.post(
        network_path(world, "/organizations"),
        {
            "name": "Northside Reads",
            "sectors": ["nonprofit"],
            "area_ids": [foreign.pk],
        },
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "payload", "area_ids"]
    assert not Organization.objects.filter(name="Northside Reads").exists()
    assert not AuditEvent.objects.exists()


def test_bad_membership_status_names_the_membership_field(world, admin_api):
    response = admin_api.post(
        network_path(world, "/organizations"),
        {
            "name": "Northside Reads",
            "sectors": ["nonprofit"],
            "membership": {"status": "bogus"},
        },
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][:4] == ["body", "payload", "membership", "status"]


def test_org_admin_patches_own_organization_but_not_another(world, api_as):
    org_admin = api_as("org_admin")

    own = org_admin.patch(
        network_path(world, f"/organizations/{world.organization.slug}"), {"mission": "Ours."}
    )
    other = org_admin.patch(
        network_path(world, f"/organizations/{world.second_organization.slug}"),
        {"mission": "Theirs."},
    )

    assert own.status_code == 200
    assert other.status_code == 403
    world.second_organization.refresh_from_db()
    assert world.second_organization.mission == "Helps families."


def test_organization_patch_keeps_areas_of_other_networks(world, admin_api):
    shared = world.organization
    f.MembershipFactory(network=world.other_network, organization=shared)
    foreign = f.AreaFactory(network=world.other_network)
    shared.areas_served.add(foreign)
    area = f.AreaFactory(network=world.network)

    response = admin_api.patch(
        network_path(world, f"/organizations/{shared.slug}"), {"area_ids": [area.pk]}
    )

    assert response.json()["area_ids"] == [area.pk]
    assert set(shared.areas_served.all()) == {area, foreign}


def test_organization_in_another_network_too_cannot_be_deleted(world, admin_api):
    f.MembershipFactory(network=world.other_network, organization=world.organization)

    response = admin_api.delete(network_path(world, f"/organizations/{world.organization.pk}"))

    assert response.status_code == 422
    assert Organization.objects.filter(pk=world.organization.pk).exists()


def test_organization_of_other_network_is_404(world, admin_api):
    path = network_path(world, f"/organizations/{world.other_organization.slug}")

    assert admin_api.get(path).status_code == 404
    assert admin_api.patch(path, {"name": "Mine now"}).status_code == 404


def test_public_sees_no_budget_and_no_membership_notes(world, api_as):
    world.network.is_public = True
    world.network.save()
    world.organization.annual_budget = 1000
    world.organization.save()

    organization = (
        api_as("outsider")
        .get(network_path(world, f"/organizations/{world.organization.slug}"))
        .json()
    )

    assert organization["annual_budget"] is None


# Prospects are the backbone's private pipeline ---------------------------------------------


@pytest.mark.parametrize("role", ["org_admin", "org_member", "funder", "viewer"])
def test_prospects_are_invisible_to_non_admins(world, api_as, role):
    api = api_as(role)
    prospect = world.prospect
    membership = Membership.objects.get(network=world.network, organization=prospect)

    organizations = api.get(network_path(world, "/organizations")).json()
    memberships = api.get(network_path(world, "/memberships")).json()

    assert prospect.pk not in [item["id"] for item in organizations["items"]]
    assert membership.pk not in [item["id"] for item in memberships["items"]]
    assert api.get(network_path(world, f"/organizations/{prospect.slug}")).status_code == 404
    assert api.get(network_path(world, f"/memberships/{membership.pk}")).status_code == 404
    assert api.get(network_path(world, "/prospect-assessments")).status_code == 403


def test_admin_sees_prospects(world, admin_api):
    listed = admin_api.get(network_path(world, "/organizations"), status="prospect").json()

    assert [item["id"] for item in listed["items"]] == [world.prospect.pk]


# Identifiers ------------------------------------------------------------------------------


def test_identifier_lifecycle_as_admin(world, admin_api):
    base = network_path(world, f"/organizations/{world.organization.slug}/identifiers")

    created = admin_api.post(base, {"scheme": "ein", "value": "12-3456789"})
    assert created.status_code == 201
    pk = created.json()["id"]
    assert audited(OrganizationIdentifier, pk, "create")

    assert admin_api.get(base).json()["count"] == 1
    assert admin_api.get(f"{base}/{pk}").json()["value"] == "12-3456789"

    changed = admin_api.patch(f"{base}/{pk}", {"value": "98-7654321"})
    assert changed.json()["value"] == "98-7654321"
    assert audited(OrganizationIdentifier, pk, "update")

    assert admin_api.delete(f"{base}/{pk}").status_code == 204
    assert audited(OrganizationIdentifier, pk, "delete")


def test_malformed_ein_gives_422(world, admin_api):
    base = network_path(world, f"/organizations/{world.organization.slug}/identifiers")

    response = admin_api.post(base, {"scheme": "ein", "value": "123"})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "payload", "value"]
    assert not OrganizationIdentifier.objects.exists()


def test_identifier_is_only_reachable_through_its_organization(world, admin_api):
    identifier = OrganizationIdentifier.objects.create(
        organization=world.organization, scheme="ein", value="12-3456789"
    )
    wrong = network_path(
        world, f"/organizations/{world.second_organization.slug}/identifiers/{identifier.pk}"
    )

    assert admin_api.get(wrong).status_code == 404

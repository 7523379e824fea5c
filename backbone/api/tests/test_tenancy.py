"""Networks, life stages, areas, people, invitations and the audit log over the API."""

import pytest

from backbone.api.tests.conftest import audited, network_path
from backbone.core.models import (
    Area,
    AuditEvent,
    Invitation,
    LifeStage,
    NetworkRole,
)
from backbone.testing import factories as f

pytestmark = pytest.mark.django_db


# Network ----------------------------------------------------------------------------------


def test_admin_changes_the_network_profile(world, admin_api):
    area = f.AreaFactory(network=world.network)

    response = admin_api.patch(
        network_path(world),
        {
            "purpose": "Every child thrives.",
            "geography_served_ids": [area.pk],
            "equity_focus": ["Black students", "English learners"],
        },
    )

    assert response.status_code == 200
    body = response.json()
    assert body["purpose"] == "Every child thrives."
    assert body["geography_served_ids"] == [area.pk]
    assert body["equity_focus"] == ["Black students", "English learners"]
    assert audited(world.network, world.network.pk, "update")


def test_network_geography_of_other_network_is_refused(world, admin_api):
    foreign = f.AreaFactory(network=world.other_network)

    response = admin_api.patch(network_path(world), {"geography_served_ids": [foreign.pk]})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "payload", "geography_served_ids"]
    assert not world.network.geography_served.exists()


def test_viewer_cannot_change_the_network(world, api_as):
    response = api_as("viewer").patch(network_path(world), {"name": "Renamed"})

    assert response.status_code == 403
    world.network.refresh_from_db()
    assert world.network.name == "River City Cradle to Career"


# Life stages ------------------------------------------------------------------------------


def test_life_stage_lifecycle_as_admin(world, admin_api):
    created = admin_api.post(
        network_path(world, "/life-stages"), {"name": "Kindergarten", "position": 2}
    )
    assert created.status_code == 201
    pk = created.json()["id"]
    assert audited(LifeStage, pk, "create")

    listed = admin_api.get(network_path(world, "/life-stages"))
    assert listed.json()["count"] == 1
    assert listed.json()["items"][0]["name"] == "Kindergarten"

    got = admin_api.get(network_path(world, f"/life-stages/{pk}"))
    assert got.json() == {"id": pk, "name": "Kindergarten", "position": 2, "description": ""}

    changed = admin_api.patch(
        network_path(world, f"/life-stages/{pk}"), {"description": "Ready to learn"}
    )
    assert changed.status_code == 200
    assert changed.json()["name"] == "Kindergarten"
    assert changed.json()["description"] == "Ready to learn"
    assert audited(LifeStage, pk, "update")

    deleted = admin_api.delete(network_path(world, f"/life-stages/{pk}"))
    assert deleted.status_code == 204
    assert not LifeStage.objects.filter(pk=pk).exists()
    assert audited(LifeStage, pk, "delete")


def test_duplicate_life_stage_name_gives_422_and_writes_nothing(world, admin_api):
    f.LifeStageFactory(network=world.network, name="Kindergarten")

    response = admin_api.post(network_path(world, "/life-stages"), {"name": "Kindergarten"})

    assert response.status_code == 422
    assert LifeStage.objects.filter(network=world.network).count() == 1


def test_viewer_cannot_patch_a_life_stage(world, api_as):
    stage = f.LifeStageFactory(network=world.network, name="Kindergarten")

    response = api_as("viewer").patch(
        network_path(world, f"/life-stages/{stage.pk}"), {"name": "Renamed"}
    )

    assert response.status_code == 403
    stage.refresh_from_db()
    assert stage.name == "Kindergarten"


def test_life_stage_list_is_paginated_with_a_total(world, admin_api):
    for n in range(3):
        f.LifeStageFactory(network=world.network, name=f"Stage {n}", position=n)

    page = admin_api.get(network_path(world, "/life-stages"), page=2, page_size=2).json()

    assert page["count"] == 3
    assert [item["name"] for item in page["items"]] == ["Stage 2"]


# Areas ------------------------------------------------------------------------------------


def test_area_lifecycle_as_admin(world, admin_api):
    county = f.AreaFactory(network=world.network, code="27053", name="Hennepin")

    created = admin_api.post(
        network_path(world, "/areas"),
        {
            "code": "55401",
            "name": "Downtown",
            "kind": "zip",
            "parent_id": county.pk,
            "population": 5000,
        },
    )
    assert created.status_code == 201
    pk = created.json()["id"]
    assert created.json()["parent_id"] == county.pk
    assert audited(Area, pk, "create")

    filtered = admin_api.get(network_path(world, "/areas"), kind="zip").json()
    assert [item["id"] for item in filtered["items"]] == [pk]

    changed = admin_api.patch(network_path(world, f"/areas/{pk}"), {"parent_id": None})
    assert changed.json()["parent_id"] is None
    assert audited(Area, pk, "update")

    assert admin_api.delete(network_path(world, f"/areas/{pk}")).status_code == 204
    assert audited(Area, pk, "delete")


def test_area_parent_of_other_network_gives_422_and_writes_nothing(world, admin_api):
    foreign = f.AreaFactory(network=world.other_network)

    response = admin_api.post(
        network_path(world, "/areas"),
        {
            "code": "55401",
            "name": "Downtown",
            "kind": "zip",
            "parent_id": foreign.pk,
        },
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "payload", "parent_id"]
    assert not Area.objects.filter(code="55401").exists()
    assert not AuditEvent.objects.exists()


def test_area_cannot_be_its_own_parent(world, admin_api):
    area = f.AreaFactory(network=world.network)

    response = admin_api.patch(network_path(world, f"/areas/{area.pk}"), {"parent_id": area.pk})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "payload", "parent_id"]


def test_area_with_children_cannot_be_deleted(world, admin_api):
    county = f.AreaFactory(network=world.network)
    f.AreaFactory(network=world.network, parent=county)

    response = admin_api.delete(network_path(world, f"/areas/{county.pk}"))

    assert response.status_code == 422
    assert Area.objects.filter(pk=county.pk).exists()


def test_admin_gets_404_for_an_area_of_another_network(world, admin_api):
    foreign = f.AreaFactory(network=world.other_network)

    for call in (admin_api.get, admin_api.patch, admin_api.delete):
        assert call(network_path(world, f"/areas/{foreign.pk}")).status_code == 404
    assert Area.objects.filter(pk=foreign.pk).exists()


# People -----------------------------------------------------------------------------------


def test_people_lifecycle_as_admin(world, admin_api):
    viewer = NetworkRole.objects.get(user=world.users["viewer"], network=world.network)

    listed = admin_api.get(network_path(world, "/people"), role="viewer").json()
    assert [item["email"] for item in listed["items"]] == ["viewer@river.example"]

    changed = admin_api.patch(network_path(world, f"/people/{viewer.pk}"), {"role": "funder"})
    assert changed.status_code == 200
    assert changed.json()["role"] == "funder"
    assert audited(viewer, viewer.pk, "update")

    assert admin_api.delete(network_path(world, f"/people/{viewer.pk}")).status_code == 204
    assert not NetworkRole.objects.filter(pk=viewer.pk).exists()
    assert audited(viewer, viewer.pk, "delete")


def test_org_admin_cannot_make_a_colleague_network_admin(world, api_as):
    member = NetworkRole.objects.get(user=world.users["org_member"], network=world.network)

    response = api_as("org_admin").patch(
        network_path(world, f"/people/{member.pk}"), {"role": "network_admin"}
    )

    assert response.status_code == 403
    member.refresh_from_db()
    assert member.role == "org_member"


def test_org_member_sees_only_their_own_role(world, api_as):
    listed = api_as("org_member").get(network_path(world, "/people")).json()

    assert [item["email"] for item in listed["items"]] == ["org-member@river.example"]


def test_organization_role_needs_an_organization(world, admin_api):
    viewer = NetworkRole.objects.get(user=world.users["viewer"], network=world.network)

    response = admin_api.patch(network_path(world, f"/people/{viewer.pk}"), {"role": "org_admin"})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "payload", "organization_id"]


# Invitations ------------------------------------------------------------------------------


def test_invitation_lifecycle_as_admin(world, admin_api):
    created = admin_api.post(
        network_path(world, "/invitations"),
        {
            "email": " New.Person@Example.org ",
            "role": "org_member",
            "organization_id": world.organization.pk,
        },
    )
    assert created.status_code == 201
    body = created.json()
    assert body["email"] == "new.person@example.org"
    assert body["state"] == "pending"
    assert "token" not in body
    assert audited(Invitation, body["id"], "create")

    listed = admin_api.get(network_path(world, "/invitations")).json()
    assert listed["count"] == 1

    revoked = admin_api.post(network_path(world, f"/invitations/{body['id']}/revoke"))
    assert revoked.status_code == 200
    assert revoked.json()["state"] == "revoked"
    assert audited(Invitation, body["id"], "update")

    again = admin_api.post(network_path(world, f"/invitations/{body['id']}/revoke"))
    assert again.status_code == 422


def test_invitation_to_organization_of_other_network_gives_422(world, admin_api):
    response = admin_api.post(
        network_path(world, "/invitations"),
        {
            "email": "x@example.org",
            "role": "org_member",
            "organization_id": world.other_organization.pk,
        },
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "payload", "organization_id"]
    assert not Invitation.objects.exists()


def test_invitation_of_someone_already_in_the_network_gives_422(world, admin_api):
    response = admin_api.post(
        network_path(world, "/invitations"), {"email": "viewer@river.example", "role": "viewer"}
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "payload", "email"]


def test_org_admin_may_invite_colleagues_only(world, api_as):
    org_admin = api_as("org_admin")

    own = org_admin.post(
        network_path(world, "/invitations"),
        {
            "email": "colleague@example.org",
            "role": "org_member",
            "organization_id": world.organization.pk,
        },
    )
    other = org_admin.post(
        network_path(world, "/invitations"),
        {
            "email": "stranger@example.org",
            "role": "org_member",
            "organization_id": world.second_organization.pk,
        },
    )
    admin = org_admin.post(
        network_path(world, "/invitations"), {"email": "boss@example.org", "role": "network_admin"}
    )

    assert own.status_code == 201
    assert other.status_code == 403
    assert admin.status_code == 403
    assert Invitation.objects.count() == 1


def test_viewer_cannot_invite(world, api_as):
    response = api_as("viewer").post(
        network_path(world, "/invitations"), {"email": "x@example.org", "role": "viewer"}
    )

    assert response.status_code == 403


# Audit log --------------------------------------------------------------------------------


def test_admin_filters_the_audit_log(world, admin_api):
    admin_api.post(network_path(world, "/life-stages"), {"name": "Kindergarten"})
    admin_api.post(
        network_path(world, "/areas"), {"code": "1", "name": "North", "kind": "neighborhood"}
    )

    events = admin_api.get(
        network_path(world, "/audit-events"),
        object_type="core.lifestage",
        action="create",
        actor="network-admin",
    ).json()

    assert events["count"] == 1
    event = events["items"][0]
    assert event["via"] == "api"
    assert event["after"]["name"] == "Kindergarten"
    detail = admin_api.get(network_path(world, f"/audit-events/{event['id']}"))
    assert detail.json()["object_repr"] == "Kindergarten"


def test_audit_log_of_other_network_is_not_listed(world, api_as):
    api_as("outsider").post(
        network_path(world, "/life-stages", world.other_network), {"name": "Elsewhere"}
    )

    assert api_as("network_admin").get(network_path(world, "/audit-events")).json()["count"] == 0


@pytest.mark.parametrize("role", ["org_admin", "org_member", "funder", "viewer"])
def test_members_get_403_on_the_audit_log(world, api_as, role):
    assert api_as(role).get(network_path(world, "/audit-events")).status_code == 403

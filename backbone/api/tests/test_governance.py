"""Working groups over the API."""

import pytest

from backbone.api.tests.conftest import audited, network_path
from backbone.governance.models import WorkingGroup
from backbone.testing import factories as f

pytestmark = pytest.mark.django_db


def test_working_group_lifecycle_as_admin(world, admin_api):
    stage = f.LifeStageFactory(network=world.network)
    chair, member = world.users["org_admin"], world.users["org_member"]

    created = admin_api.post(
        network_path(world, "/working-groups"),
        {
            "name": "Early literacy",
            "charter": "Every child reads by grade 3.",
            "life_stage_id": stage.pk,
            "organization_ids": [world.organization.pk],
            "people_ids": [chair.pk, member.pk],
            "chair_id": chair.pk,
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["organization_ids"] == [world.organization.pk]
    assert sorted(body["people_ids"]) == sorted([chair.pk, member.pk])
    assert body["chair_id"] == chair.pk
    assert body["chair_name"] == str(chair)
    assert audited(WorkingGroup, body["id"], "create")

    path = network_path(world, f"/working-groups/{body['id']}")
    changed = admin_api.patch(
        path, {"organization_ids": [world.second_organization.pk], "chair_id": None}
    )
    assert changed.json()["organization_ids"] == [world.second_organization.pk]
    assert changed.json()["chair_id"] is None
    assert changed.json()["life_stage_id"] == stage.pk
    assert audited(WorkingGroup, body["id"], "update")

    assert (
        admin_api.get(network_path(world, "/working-groups"), life_stage_id=stage.pk).json()[
            "count"
        ]
        == 1
    )
    assert admin_api.delete(path).status_code == 204
    assert audited(WorkingGroup, body["id"], "delete")


@pytest.mark.parametrize("field", ["life_stage_id", "organization_ids", "people_ids", "chair_id"])
def test_references_to_other_network_give_422_and_write_nothing(world, admin_api, field):
    foreign = {
        "life_stage_id": f.LifeStageFactory(network=world.other_network).pk,
        "organization_ids": [world.other_organization.pk],
        "people_ids": [world.outsider.pk],
        "chair_id": world.outsider.pk,
    }[field]

    response = admin_api.post(
        network_path(world, "/working-groups"),
        {
            "name": "Early literacy",
            "charter": "Every child reads.",
            field: foreign,
        },
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "payload", field]
    assert not WorkingGroup.objects.exists()


def test_public_sees_the_group_but_not_its_people(world, api_as):
    world.network.is_public = True
    world.network.save()
    group = f.WorkingGroupFactory(network=world.network)
    group.people.add(world.users["viewer"])
    group.organizations.add(world.organization, world.prospect)

    body = api_as(None).get(network_path(world, f"/working-groups/{group.pk}")).json()

    assert body["people_ids"] == []
    assert body["organization_ids"] == [world.organization.pk]


def test_viewer_cannot_patch_a_working_group(world, api_as):
    group = f.WorkingGroupFactory(network=world.network, name="Early literacy")

    response = api_as("viewer").patch(
        network_path(world, f"/working-groups/{group.pk}"), {"name": "Renamed"}
    )

    assert response.status_code == 403
    group.refresh_from_db()
    assert group.name == "Early literacy"

import pytest

from backbone.core.access import access_for, registered_models
from backbone.directory.models import DIRECTORY_MODELS, Service
from backbone.directory.services import directory_import


@pytest.fixture
def listed(world, admin_access, hsds):
    directory_import(access=admin_access, path=hsds / "examples" / "service_full.json")
    other = access_for(world.outsider, world.other_network)
    directory_import(access=other, path=hsds / "examples" / "service_list.json")


def test_every_directory_model_has_a_policy_and_a_network():
    for model in DIRECTORY_MODELS:
        assert model in registered_models()
        assert model._meta.get_field("network")


@pytest.mark.parametrize("role", ["network_admin", "org_admin", "org_member", "funder", "viewer"])
def test_members_read_their_networks_directory_only(world, listed, role):
    access = access_for(world.users[role], world.network)

    services = access.scope(Service)

    assert services.count() == 1
    assert set(services.values_list("network", flat=True)) == {world.network.pk}
    assert access.allows(Service, "change") == (role == "network_admin")


def test_the_public_reads_a_public_networks_directory(world, listed):
    world.network.is_public = True
    world.network.save()
    from django.contrib.auth.models import AnonymousUser

    access = access_for(AnonymousUser(), world.network)

    assert access.role == "public"
    assert access.scope(Service).count() == 1
    assert not access.allows(Service, "import")


def test_outsiders_see_nothing_of_a_private_network(world, listed):
    assert not world.network.is_public
    assert access_for(world.outsider, world.network) is None


def test_an_outsider_in_a_public_network_sees_only_that_networks_rows(world, listed):
    world.network.is_public = True
    world.network.save()

    access = access_for(world.outsider, world.network)

    assert access.role == "public"
    assert list(access.scope(Service).values_list("network", flat=True)) == [world.network.pk]

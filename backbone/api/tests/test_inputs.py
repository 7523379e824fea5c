"""Malformed input is refused with a 4xx before it reaches the database."""

import pytest

from backbone.api.tests.conftest import ApiClient, network_path
from backbone.core.models import LifeStage, Organization
from backbone.testing import factories as f

pytestmark = pytest.mark.django_db


def test_nul_characters_are_refused_in_filters_and_bodies(world, admin_api):
    search = admin_api.get(network_path(world, "/areas"), q="a\x00b")
    body = admin_api.post(network_path(world, "/life-stages"), {"name": "K\x00"})

    assert search.status_code == 422
    assert search.json()["detail"][0]["loc"] == ["query", "q"]
    assert body.status_code == 422
    assert not LifeStage.objects.exists()


@pytest.mark.parametrize("params", [{"page": 10**20}, {"page": 0}, {"page_size": 10**6}])
def test_out_of_range_pages_give_422(world, admin_api, params):
    response = admin_api.get(network_path(world, "/areas"), **params)

    assert response.status_code == 422


@pytest.mark.parametrize("segment", ["99999999999999999999999", "0", "abc"])
def test_malformed_ids_give_422(world, admin_api, segment):
    assert admin_api.get(network_path(world, f"/areas/{segment}")).status_code == 422


def test_malformed_network_slug_is_404_or_401(world, admin_api):
    assert admin_api.get("/networks/not%20a%20slug/areas").status_code == 404
    assert ApiClient().get("/networks/not%20a%20slug/areas").status_code == 401


def test_row_checks_come_before_the_body(world, api_as, admin_api):
    """A malformed body tells nothing about rows the caller may not touch."""
    foreign = f.AreaFactory(network=world.other_network)
    second = world.second_organization.slug

    other_org = api_as("org_admin").patch(
        network_path(world, f"/organizations/{second}"), {"name": 5}
    )
    other_network = admin_api.patch(network_path(world, f"/areas/{foreign.pk}"), {"kind": 5})

    assert other_org.status_code == 403
    assert other_network.status_code == 404


def test_unknown_sector_gives_422_and_writes_nothing(world, admin_api):
    response = admin_api.post(
        network_path(world, "/organizations"), {"name": "Northside", "sectors": ["pirates"]}
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][:3] == ["body", "payload", "sectors"]
    assert not Organization.objects.filter(name="Northside").exists()


def test_explicit_null_for_a_required_text_gives_422(world, admin_api):
    stage = f.LifeStageFactory(network=world.network, name="Kindergarten")

    response = admin_api.patch(network_path(world, f"/life-stages/{stage.pk}"), {"name": None})

    assert response.status_code == 422
    stage.refresh_from_db()
    assert stage.name == "Kindergarten"

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", ["network_admin", "org_admin", "org_member", "funder", "viewer"])
def test_member_pages_render(world, client_for, role):
    client = client_for(role)
    slug = world.network.slug
    for name in [
        "framework:network-home",
        "partners:partner-list",
        "governance:working-group-list",
        "core:life-stage-list",
        "core:area-list",
        "framework:overview",
        "core:people",
    ]:
        response = client.get(reverse(name, args=[slug]))
        assert response.status_code == 200, (name, response.status_code)
    org = client.get(reverse("partners:organization-detail", args=[slug, world.organization.slug]))
    assert org.status_code == 200
    assert world.organization.name in org.content.decode()

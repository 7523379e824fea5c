"""Who may call the API: tokens, the browser session, the anonymous public, outsiders."""

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from backbone.api.tests.conftest import ApiClient, network_path
from backbone.core import services
from backbone.core.models import AccessToken
from backbone.testing import factories as f

pytestmark = pytest.mark.django_db


def test_token_reads_the_network_and_records_its_use(world):
    token, raw = services.token_create(user=world.users["viewer"], name="laptop")

    response = ApiClient(raw).get(network_path(world))

    assert response.status_code == 200
    assert response.json()["role"] == "viewer"
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_token_use_is_recorded_at_most_once_a_minute(world):
    token, raw = services.token_create(user=world.users["viewer"], name="laptop")
    recent = timezone.now() - datetime.timedelta(seconds=20)
    AccessToken.objects.filter(pk=token.pk).update(last_used_at=recent)

    ApiClient(raw).get(network_path(world))

    token.refresh_from_db()
    assert token.last_used_at == recent


@pytest.mark.parametrize(
    "change",
    [
        {"revoked_at": timezone.now()},
        {"expires_at": timezone.now() - datetime.timedelta(minutes=1)},
    ],
)
def test_revoked_or_expired_token_gets_401(world, change):
    token, raw = services.token_create(user=world.users["network_admin"], name="old")
    AccessToken.objects.filter(pk=token.pk).update(**change)

    response = ApiClient(raw).get(network_path(world))

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_unknown_token_gets_401_even_on_a_public_network(world):
    world.network.is_public = True
    world.network.save()

    assert ApiClient("bbk_not-a-token").get(network_path(world)).status_code == 401


def test_token_of_a_deactivated_user_gets_401(world):
    _, raw = services.token_create(user=world.users["viewer"], name="laptop")
    world.users["viewer"].is_active = False
    world.users["viewer"].save()

    assert ApiClient(raw).get(network_path(world)).status_code == 401


@pytest.mark.parametrize("slug", ["river-city", "no-such-network"])
def test_anonymous_gets_401_on_private_or_unknown_network(world, slug):
    response = ApiClient().get(f"/networks/{slug}/organizations")

    assert response.status_code == 401


@pytest.mark.parametrize("slug", ["river-city", "no-such-network"])
def test_outsider_gets_404_on_private_or_unknown_network(world, api_as, slug):
    response = api_as("outsider").get(f"/networks/{slug}/organizations")

    assert response.status_code == 404


def test_anonymous_reads_a_public_network_but_may_not_write(world):
    world.network.is_public = True
    world.network.save()
    anonymous = ApiClient()

    read = anonymous.get(network_path(world, "/organizations"))
    write = anonymous.post(network_path(world, "/life-stages"), {"name": "Kindergarten"})

    assert read.status_code == 200
    names = {item["name"] for item in read.json()["items"]}
    assert world.organization.name in names
    assert world.prospect.name not in names
    assert write.status_code == 401


def test_anonymous_gets_401_on_members_only_data_of_a_public_network(world):
    world.network.is_public = True
    world.network.save()

    assert ApiClient().get(network_path(world, "/people")).status_code == 401


def test_outsider_reads_a_public_network_as_public_but_not_its_people(world, api_as):
    world.network.is_public = True
    world.network.save()
    outsider = api_as("outsider")

    assert outsider.get(network_path(world)).json()["role"] == "public"
    assert outsider.get(network_path(world, "/people")).status_code == 404
    assert outsider.post(network_path(world, "/areas"), {}).status_code == 404


def test_network_list_has_own_and_public_networks_only(world, api_as):
    public = f.NetworkFactory(name="Open Valley", slug="open-valley", is_public=True)

    response = api_as("viewer").get("/networks")

    assert response.status_code == 200
    body = response.json()
    roles = {item["slug"]: item["role"] for item in body["items"]}
    assert roles == {"river-city": "viewer", public.slug: "public"}
    assert body["count"] == 2


def test_anonymous_network_list_has_public_networks_only(world):
    f.NetworkFactory(slug="open-valley", is_public=True)

    slugs = [item["slug"] for item in ApiClient().get("/networks").json()["items"]]

    assert slugs == ["open-valley"]


def test_session_reads_and_writes_with_csrf_token(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users["network_admin"])
    api = ApiClient(client=client)

    assert api.get(network_path(world, "/life-stages")).status_code == 200
    refused = api.post(network_path(world, "/life-stages"), {"name": "Kindergarten"})
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]

    client.cookies["csrftoken"] = "a" * 32
    api.headers = {"X-CSRFToken": "a" * 32}
    created = api.post(network_path(world, "/life-stages"), {"name": "Kindergarten"})
    assert created.status_code == 201


def test_session_of_admin_without_two_factor_is_refused(world, settings):
    settings.BACKBONE_REQUIRE_ADMIN_MFA = True
    admin = f.UserFactory()
    f.NetworkRoleFactory(user=admin, network=world.network, role="network_admin")
    client = Client()
    client.force_login(admin)

    response = ApiClient(client=client).get(network_path(world))

    assert response.status_code == 403
    assert "two-factor" in response.json()["detail"]


def test_token_writes_need_no_csrf_token(world):
    _, raw = services.token_create(user=world.users["network_admin"], name="script")
    api = ApiClient(raw, client=Client(enforce_csrf_checks=True))

    response = api.post(network_path(world, "/life-stages"), {"name": "Kindergarten"})

    assert response.status_code == 201

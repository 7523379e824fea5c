"""Directory pages: search, service page, the shareable resource list."""

import pytest
from django.test import Client
from django.urls import reverse

from backbone.directory.models import ResourceList
from backbone.directory.tests.sample import hid, sample_directory

pytestmark = pytest.mark.django_db


@pytest.fixture
def services(world, hsds):
    return sample_directory(world)


@pytest.fixture
def public(world):
    world.network.is_public = True
    world.network.save()
    return world.network


def search_url(world):
    return reverse("directory:directory-search", args=[world.network.slug])


def service_url(world, key):
    return reverse("directory:service-detail", args=[world.network.slug, hid(key)])


def test_public_reads_search_and_service_pages_anonymously(world, services, public):
    client = Client()
    page = client.get(search_url(world), {"q": "groceries"})
    assert page.status_code == 200
    text = page.content.decode()
    assert "Harbor Food Pantry" in text and "Riverside Meals" not in text
    assert "Harbor Community Services" in text and "Verified 2026-10-01" in text
    detail = client.get(service_url(world, "pantry")).content.decode()
    for expected in (
        "Free groceries every week",
        "Residents of Harbor County.",
        "6 Main Street, River City, OH 44101",
        "216-555-0100",
        "Monday, Wednesday 09:00–17:00",
        "Spanish",
        "Food pantry",
        "Last verified 2026-10-01",
    ):
        assert expected in detail, expected
    assert "Propose a change" not in detail and "Mark verified" not in detail


def test_stale_listing_is_flagged_on_its_page(world, services, public):
    detail = Client().get(service_url(world, "meals")).content.decode()
    assert "Stale: never verified (over 12 months)" in detail
    listing = Client().get(search_url(world), {"category": "food.meals"}).content.decode()
    assert "Not verified in 12 months" in listing


def test_filters_on_the_page(world, services, client_for):
    client = client_for("viewer")
    text = client.get(search_url(world), {"language": "es"}).content.decode()
    assert "Harbor Food Pantry" in text and "Night Shelter" not in text
    near = client.get(search_url(world), {"lat": "41.5", "lon": "-81.69", "radius": "5"})
    text = near.content.decode()
    assert "0.0 km away" in text and "1.4 km away" in text and "Riverside Meals" not in text


def test_htmx_search_returns_the_results(world, services, client_for):
    response = client_for("viewer").get(
        search_url(world), {"q": "shelter"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200 and "Night Shelter" in response.content.decode()


def test_admin_sees_stale_filter_and_upload_link(world, services, client_for):
    text = client_for("network_admin").get(search_url(world), {"stale": "on"}).content.decode()
    assert "Only stale listings" in text and "Upload an HSDS file" in text
    assert "Harbor Food Pantry" not in text and "Night Shelter" in text
    viewer = client_for("viewer").get(search_url(world)).content.decode()
    assert "Only stale listings" not in viewer and "Upload an HSDS file" not in viewer


def test_bad_distance_input_names_the_field(world, services, client_for):
    client = client_for("viewer")
    response = client.get(search_url(world), {"lat": "200", "lon": "-81"})
    assert response.status_code == 400
    assert "Latitude: Ensure this value is less than or equal to 90" in response.content.decode()
    response = client.get(search_url(world), {"lat": "41.5"})
    assert response.status_code == 400
    assert "Distance: give both latitude and longitude" in response.content.decode()


def test_private_network_sends_the_anonymous_to_login(world, services):
    response = Client().get(search_url(world))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_outsider_gets_404_everywhere(world, services, client_for):
    outsider = client_for("outsider")
    assert outsider.get(search_url(world)).status_code == 404
    assert outsider.get(service_url(world, "pantry")).status_code == 404
    shared = ResourceList.objects.create(network=world.network, token="t" * 24, service_ids=[1])
    url = reverse("directory:list-shared", args=[world.network.slug, shared.token])
    assert outsider.get(url).status_code == 404


def test_service_of_another_network_is_404_under_this_network(world, services, client_for):
    url = reverse("directory:service-detail", args=[world.other_network.slug, hid("pantry")])
    assert client_for("outsider").get(url).status_code == 404
    assert client_for("viewer").get(url).status_code == 404
    bad = reverse("directory:service-detail", args=[world.network.slug, "not-a-uuid"])
    assert client_for("viewer").get(bad).status_code == 404


def test_resource_list_is_built_shared_and_readable_without_login(world, services, public):
    client = Client()
    for key in ("pantry", "shelter"):
        toggle = reverse("directory:list-toggle", args=[world.network.slug, hid(key)])
        assert client.post(toggle).status_code == 302
    list_url = reverse("directory:list", args=[world.network.slug])
    assert "Night Shelter" in client.get(list_url).content.decode()
    response = client.post(list_url)
    shared = ResourceList.objects.get(network=world.network)
    assert shared.service_ids == [services["pantry"].pk, services["shelter"].pk]
    assert response["Location"].endswith(f"/directory/list/{shared.token}/")
    page = Client().get(response["Location"])
    text = page.content.decode()
    assert page.status_code == 200
    assert "Harbor Food Pantry" in text and "Night Shelter" in text
    assert "Monday, Wednesday 09:00–17:00" in text and "@media print" not in text


def test_empty_resource_list_cannot_be_shared(world, services, client_for):
    client = client_for("viewer")
    list_url = reverse("directory:list", args=[world.network.slug])
    response = client.post(list_url, follow=True)
    assert "Add at least one service to the list first." in response.content.decode()
    assert not ResourceList.objects.exists()


def test_unknown_list_token_is_404(world, services, public):
    url = reverse("directory:list-shared", args=[world.network.slug, "nope"])
    assert Client().get(url).status_code == 404


def test_list_toggle_never_redirects_off_site(world, services, client_for):
    toggle = reverse("directory:list-toggle", args=[world.network.slug, hid("pantry")])
    response = client_for("viewer").post(toggle, {"next": "https://evil.example/"})
    assert response["Location"] == reverse("directory:list", args=[world.network.slug])

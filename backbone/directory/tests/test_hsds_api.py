import json
import uuid

import jsonschema_rs
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from backbone.core.access import access_for
from backbone.core.services import token_create
from backbone.directory.hsds.reading import Record
from backbone.directory.hsds.schema import compiled_validator, hsds_dir
from backbone.directory.models import DirectoryOrganization, Service
from backbone.directory.services import directory_import, directory_import_records

pytestmark = pytest.mark.django_db

SERVICE = "ac148810-d857-441c-9679-408f346de14b"
ORGANIZATION = "d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610"
SERVICE_AT_LOCATION = "e94c9f38-1e8f-4564-91d4-d53501ab1765"


@pytest.fixture
def imported(world, admin_access, hsds):
    for name in (
        "service_full.json",
        "location.json",
        "taxonomy.json",
        "taxonomy_term_list.json",
    ):
        assert directory_import(access=admin_access, path=hsds / "examples" / name).ok
    return world


@pytest.fixture
def public(world):
    world.network.is_public = True
    world.network.save()
    return world.network


def base(world) -> str:
    return f"/hsds/{world.network.slug}"


def member(world) -> Client:
    client = Client()
    client.force_login(world.users["viewer"])
    return client


def raw_validator(name: str):
    """A raw per-table schema, its bare `"x.json"` $refs resolved from the same folder."""
    folder = hsds_dir() / "schema"
    resources = [
        (f"{folder.as_uri()}/{path.name}", json.loads(path.read_text()))
        for path in folder.glob("*.json")
        if path.name != "openapi.json"
    ]
    schema = json.loads((folder / f"{name}.json").read_text())
    schema["$id"] = f"{folder.as_uri()}/{name}.json"
    return jsonschema_rs.validator_for(schema, registry=jsonschema_rs.Registry(resources))


def errors(validator, document) -> list[str]:
    return [e.message for e in validator.iter_errors(document)]


PAGE_KEYS = {
    "total_items",
    "total_pages",
    "page_number",
    "size",
    "first_page",
    "last_page",
    "empty",
    "contents",
}


def test_root_describes_the_api(world, imported):
    body = member(world).get(f"{base(world)}/").json()

    assert body["version"] == "3.0" and body["openapi_url"].endswith("openapi.json")


def test_services_list_in_the_official_shape(world, imported):
    body = member(world).get(f"{base(world)}/services").json()

    assert set(body) == PAGE_KEYS
    assert (body["total_items"], body["size"], body["first_page"], body["last_page"]) == (
        1,
        1,
        True,
        True,
    )
    service = body["contents"][0]
    assert service["id"] == SERVICE and service["organization"]["id"] == ORGANIZATION
    assert not errors(compiled_validator("service_list"), service)


def test_full_services_and_service_detail_validate_against_the_compiled_schema(world, imported):
    client = member(world)
    full = client.get(f"{base(world)}/services", {"full": "true"}).json()["contents"][0]
    detail = client.get(f"{base(world)}/services/{SERVICE}").json()

    assert full == detail
    assert detail["service_at_locations"][0]["location"]["addresses"]
    assert detail["attributes"] and detail["organization"]["id"] == ORGANIZATION
    assert not errors(compiled_validator("service"), detail)


def test_minimal_services_are_ids_and_modified_dates(world, imported):
    body = member(world).get(f"{base(world)}/services", {"minimal": "true"}).json()

    assert [set(item) for item in body["contents"]] == [{"id", "modified_date"}]


def test_service_at_locations(world, imported):
    client = member(world)
    listing = client.get(f"{base(world)}/service_at_locations").json()
    detail = client.get(f"{base(world)}/service_at_locations/{SERVICE_AT_LOCATION}").json()

    item = listing["contents"][0]
    assert item["service"]["id"] == SERVICE and item["location"]["id"]
    assert not errors(compiled_validator("service_at_location_list"), item)
    assert detail["service"]["id"] == SERVICE and detail["location"]["addresses"]
    assert not errors(compiled_validator("service_at_location"), detail)


def test_organizations(world, imported):
    client = member(world)
    listing = client.get(f"{base(world)}/organizations").json()
    detail = client.get(f"{base(world)}/organizations/{ORGANIZATION}").json()
    with_services = client.get(
        f"{base(world)}/organizations/{ORGANIZATION}", {"full_service": "true"}
    ).json()

    assert not errors(compiled_validator("organization_list"), listing["contents"][0])
    assert [s["id"] for s in detail["services"]] == [SERVICE]
    assert not errors(compiled_validator("organization"), detail)
    assert with_services["services"][0]["service_at_locations"]
    assert not errors(compiled_validator("organization"), with_services)


def test_taxonomies_and_terms(world, imported):
    client = member(world)
    taxonomies = client.get(f"{base(world)}/taxonomies").json()
    terms = client.get(f"{base(world)}/taxonomy_terms").json()

    assert taxonomies["total_items"] >= 1 and terms["total_items"] >= 1
    for taxonomy in taxonomies["contents"]:
        assert not errors(raw_validator("taxonomy"), taxonomy)
        one = client.get(f"{base(world)}/taxonomies/{taxonomy['id']}").json()
        assert one == taxonomy
    for term in terms["contents"]:
        assert not errors(raw_validator("taxonomy_term"), term)
        assert client.get(f"{base(world)}/taxonomy_terms/{term['id']}").json() == term


def test_filters(world, imported):
    client = member(world)
    term = client.get(f"{base(world)}/services/{SERVICE}").json()["attributes"][0]

    def ids(**params):
        return [s["id"] for s in client.get(f"{base(world)}/services", params).json()["contents"]]

    assert ids(search="COUNSELLING") == [SERVICE]
    assert ids(search="no such words") == []
    assert ids(taxonomy_term_id=term["taxonomy_term_id"]) == [SERVICE]
    assert ids(taxonomy_term_id=str(uuid.uuid4())) == []
    assert ids(organization_id=ORGANIZATION) == [SERVICE]
    assert ids(organization_id="not-a-uuid") == []
    assert ids(modified_after="2000-01-01") == [SERVICE]
    assert ids(modified_after="2999-01-01T00:00:00Z") == []


def test_bad_parameters_get_400(world, imported):
    client = member(world)
    for params in ({"page": "x"}, {"per_page": "0"}, {"per_page": "501"}, {"page": "0"}):
        assert client.get(f"{base(world)}/services", params).status_code == 400, params
    assert client.get(f"{base(world)}/services", {"modified_after": "soon"}).status_code == 400


def seed_services(world, count: int):
    organization = str(uuid.uuid4())
    records = [{"id": organization, "name": "Harbor", "description": "d"}]
    services = [
        {"id": str(uuid.uuid4()), "name": f"Service {n:03}", "status": "active"}
        for n in range(count)
    ]
    for service in services:
        service["organization_id"] = organization
    access = access_for(world.users["network_admin"], world.network)
    tables = [("organization", records[0])] + [("service", s) for s in services]
    result = directory_import_records(
        access=access,
        records=[Record(table, values, "seed", str(n)) for n, (table, values) in enumerate(tables)],
        form="json",
        source="seed",
    )
    assert result.ok, result.errors


def test_pagination(world, admin_access):
    seed_services(world, 7)
    client = member(world)

    body = client.get(f"{base(world)}/services", {"page": 3, "per_page": 3}).json()
    past = client.get(f"{base(world)}/services", {"page": 9, "per_page": 3}).json()

    assert (body["total_items"], body["total_pages"], body["size"]) == (7, 3, 1)
    assert (body["first_page"], body["last_page"], body["empty"]) == (False, True, False)
    assert [s["name"] for s in body["contents"]] == ["Service 006"]
    assert past["contents"] == [] and past["size"] == 0 and not past["empty"]


def test_list_query_count_does_not_grow_with_the_page(world, admin_access):
    client = member(world)
    seed_services(world, 5)
    counts = {}
    for size in (5, 50):
        if size == 50:
            seed_services(world, 45)
        for full in ("false", "true"):
            with CaptureQueriesContext(connection) as queries:
                body = client.get(f"{base(world)}/services", {"per_page": 50, "full": full})
            assert body.json()["size"] == size
            counts[(size, full)] = len(queries)
    assert counts[(5, "false")] == counts[(50, "false")]
    assert counts[(5, "true")] == counts[(50, "true")]


def test_token_holder_reads_the_directory(world, imported):
    token = token_create(user=world.users["viewer"], name="hsds")[1]

    response = Client().get(f"{base(world)}/services", HTTP_AUTHORIZATION=f"Bearer {token}")
    wrong = Client().get(f"{base(world)}/services", HTTP_AUTHORIZATION="Bearer bbk_nope")

    assert response.status_code == 200 and response.json()["total_items"] == 1
    assert wrong.status_code == 401


def test_public_network_is_readable_anonymously(world, imported, public):
    response = Client().get(f"{base(world)}/services/{SERVICE}")

    assert response.status_code == 200 and response.json()["id"] == SERVICE


def test_private_network_is_404_for_the_anonymous_and_the_outsider(world, imported):
    outsider = Client()
    outsider.force_login(world.outsider)
    for path in ("/", "/services", f"/services/{SERVICE}", "/organizations"):
        assert Client().get(base(world) + path).status_code == 404, path
        assert outsider.get(base(world) + path).status_code == 404, path
    assert Client().get("/hsds/no-such-network/services").status_code == 404


def test_another_networks_record_is_404_under_this_network(world, imported, hsds):
    other = access_for(world.outsider, world.other_network)
    assert directory_import(access=other, path=hsds / "examples" / "organization_full.json").ok
    theirs = Service.objects.filter(network=world.other_network).first()
    organization = DirectoryOrganization.objects.filter(network=world.other_network).first()
    # The same HSDS ids exist in both networks; a fresh id is only theirs.
    theirs.hsds_id = uuid.uuid4()
    theirs.save()
    client = member(world)

    assert client.get(f"{base(world)}/services/{theirs.hsds_id}").status_code == 404
    assert client.get(f"{base(world)}/services/not-an-id").status_code == 404
    listed = client.get(f"{base(world)}/organizations").json()["contents"]
    assert all(o["name"] == organization.name for o in listed) and len(listed) == 1


def test_writes_are_refused(world, imported):
    client = member(world)

    assert client.post(f"{base(world)}/services").status_code == 405
    assert Client().post(f"{base(world)}/services").status_code == 404


def test_a_nul_character_in_a_query_parameter_is_a_400_not_a_database_error(world, imported):
    response = member(world).get(f"{base(world)}/taxonomy_terms", {"taxonomy_id": "a\x00b"})

    assert response.status_code == 400
    assert "taxonomy_id" in response.json()["detail"]

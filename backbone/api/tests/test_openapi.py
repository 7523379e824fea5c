"""The OpenAPI document: version 3.1, every path, unique operation ids, declared errors."""

import pytest

from backbone.api import api

pytestmark = pytest.mark.django_db

EXPECTED_PATHS = {
    "/api/v1/networks",
    "/api/v1/networks/{network}",
    *(
        f"/api/v1/networks/{{network}}/{resource}{suffix}"
        for resource in [
            "life-stages",
            "areas",
            "people",
            "invitations",
            "audit-events",
            "memberships",
            "prospect-assessments",
            "readiness-assessments",
            "working-groups",
        ]
        for suffix in ["", "/{id}"]
    ),
    "/api/v1/networks/{network}/invitations/{id}/revoke",
    "/api/v1/networks/{network}/organizations",
    "/api/v1/networks/{network}/organizations/{organization_slug}",
    "/api/v1/networks/{network}/organizations/{organization_slug}/identifiers",
    "/api/v1/networks/{network}/organizations/{organization_slug}/identifiers/{id}",
    "/api/v1/networks/{network}/data/imports",
    "/api/v1/networks/{network}/data/imports/{id}",
}


def operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield method, path, operation


def test_document_is_openapi_3_1_and_lists_every_path(client):
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.1.")
    assert set(document["paths"]) == EXPECTED_PATHS


def test_every_operation_has_a_unique_id_and_declares_its_errors(client):
    document = client.get("/api/v1/openapi.json").json()
    ids = [operation["operationId"] for _, _, operation in operations(document)]

    assert len(ids) == len(set(ids)) == 53
    for method, path, operation in operations(document):
        codes = set(operation["responses"])
        assert {"401", "403", "404", "422"} <= codes, (method, path)
        # A data import answers 202 (a new job) or 200 (the same job, by Idempotency-Key).
        created = method == "post" and not path.endswith(("/revoke", "/data/imports"))
        success = {"delete": "204"}.get(method, "201" if created else "200")
        assert success in codes, (method, path)
        assert operation["security"][:2] == [{"BearerToken": []}, {"SessionCookie": []}]


def test_only_public_reads_allow_anonymous_callers(client):
    document = client.get("/api/v1/openapi.json").json()

    anonymous = {
        (method, path)
        for method, path, operation in operations(document)
        if {} in operation["security"]
    }

    assert all(method == "get" for method, _ in anonymous)
    assert ("get", "/api/v1/networks/{network}/areas") in anonymous
    assert ("get", "/api/v1/networks/{network}/people") not in anonymous
    assert ("get", "/api/v1/networks/{network}/audit-events") not in anonymous


def test_interactive_docs_are_served(client):
    response = client.get("/api/v1/docs")

    assert response.status_code == 200
    assert b"openapi.json" in response.content


def test_schema_builds_without_duplicate_operation_warnings(capsys):
    api.get_openapi_schema()

    assert "already used" not in capsys.readouterr().out

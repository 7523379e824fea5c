# ruff: noqa: F811 - `framework` is a fixture imported from test_data_file
"""POST /api/v1/networks/{slug}/data/imports with an Idempotency-Key, and its GET."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from backbone.core import services as core_services
from backbone.core.models import AuditEvent
from backbone.measurement.models import DataValue, DataValueVersion, ImportJob
from backbone.measurement.tests.test_data_file import framework, good_file  # noqa: F401

pytestmark = pytest.mark.django_db


def token_client(user) -> Client:
    _, raw = core_services.token_create(user=user, name="bulk")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def url(world, network=None) -> str:
    return f"/api/v1/networks/{network or world.network.slug}/data/imports"


def send_file(client, world, data: bytes, key="", **form):
    body = {"file": SimpleUploadedFile("values.csv", data, content_type="text/csv"), **form}
    return client.post(url(world), body, HTTP_IDEMPOTENCY_KEY=key)


def counts(world):
    return (
        DataValue.objects.filter(network=world.network).count(),
        DataValueVersion.objects.filter(network=world.network).count(),
        AuditEvent.objects.filter(network=world.network).count(),
        ImportJob.objects.filter(network=world.network).count(),
    )


def test_a_file_is_checked_and_committed_and_a_retry_does_nothing_new(framework):
    client = token_client(framework.users["network_admin"])

    first = send_file(client, framework, good_file(framework), key="k-1", commit="true")
    after_first = counts(framework)
    again = send_file(client, framework, good_file(framework), key="k-1", commit="true")

    assert first.status_code == 202, first.content
    job = first.json()
    assert job["status"] == "done" and job["report"]["created"] == 11
    assert job["progress"] == 100 and job["commit"] is True
    assert after_first[:2] == (11, 11)
    assert again.status_code == 200 and again.json()["id"] == job["id"]
    assert counts(framework) == after_first


def test_the_same_key_with_another_body_is_409_and_writes_nothing(framework):
    client = token_client(framework.users["network_admin"])
    send_file(client, framework, good_file(framework), key="k-2")
    before = counts(framework)

    changed = good_file(framework).replace(b",40,,,", b",41,,,")
    conflict = send_file(client, framework, changed, key="k-2")
    options = send_file(client, framework, good_file(framework), key="k-2", commit="true")

    assert conflict.status_code == 409 and "Idempotency-Key" in conflict.json()["detail"]
    assert options.status_code == 409
    assert counts(framework) == before


def test_json_rows_report_errors_with_row_column_rule(framework):
    client = token_client(framework.users["network_admin"])
    rows = [
        {"indicator": "enrolled", "period": "2024", "value": 5},
        {"indicator": "enrolled", "period": "2024-13", "value": 5},
        {"indicator": "reading", "period": "2024", "numerator": 60, "denominator": 50},
    ]
    before = counts(framework)

    response = client.post(
        url(framework),
        json.dumps({"rows": rows, "commit": True}),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="rows-1",
    )

    assert response.status_code == 202
    job = response.json()
    assert job["status"] == "failed"
    assert [(e["row"], e["column"], e["rule"]) for e in job["report"]["errors"]] == [
        (3, "period", "period"),
        (4, "numerator", "ratio"),
    ]
    assert counts(framework)[:3] == before[:3]
    fetched = client.get(f"{url(framework)}/{job['id']}")
    assert fetched.status_code == 200 and fetched.json()["report"] == job["report"]


def test_json_rows_write_values(framework):
    client = token_client(framework.users["network_admin"])
    rows = [{"indicator": "enrolled", "period": "2024", "value": 5, "comment": None}]

    response = client.post(
        url(framework), {"rows": rows, "commit": True}, content_type="application/json"
    )

    assert response.status_code == 202 and response.json()["status"] == "done"
    assert DataValue.objects.get().value == 5


@pytest.mark.parametrize(
    "body",
    ["not json", json.dumps([1]), json.dumps({"rows": []}), json.dumps({"rows": [[1]]})],
)
def test_a_malformed_body_is_422(framework, body):
    client = token_client(framework.users["network_admin"])

    response = client.post(url(framework), body, content_type="application/json")

    assert response.status_code == 422
    assert not ImportJob.objects.exists()


def test_outsiders_get_404_and_viewers_403(framework):
    data = good_file(framework)
    outsider = send_file(token_client(framework.outsider), framework, data)
    viewer = send_file(token_client(framework.users["viewer"]), framework, data)
    anonymous = send_file(Client(), framework, data)

    assert outsider.status_code == 404 and viewer.status_code == 403
    assert anonymous.status_code == 401
    assert not ImportJob.objects.exists()


def test_a_job_is_hidden_from_other_users_and_networks(framework):
    admin = token_client(framework.users["network_admin"])
    job = send_file(admin, framework, good_file(framework)).json()

    member = token_client(framework.users["org_member"]).get(f"{url(framework)}/{job['id']}")
    outsider = token_client(framework.outsider).get(f"{url(framework)}/{job['id']}")
    theirs = token_client(framework.outsider).get(
        f"{url(framework, framework.other_network.slug)}/{job['id']}"
    )

    assert member.status_code == 404 and outsider.status_code == 404
    assert theirs.status_code == 404

"""Every operation of the OpenAPI document against rows of another network: no leaks.

A small version of the project's authorization matrix, kept here so the API's own
suite fails first when an operation forgets its guard.
"""

import datetime

import pytest
from django.utils import timezone

from backbone.api import api
from backbone.api.tests.conftest import API, ApiClient
from backbone.core.models import (
    AuditEvent,
    Invitation,
    Membership,
    NetworkRole,
    OrganizationIdentifier,
)
from backbone.measurement.models import ImportJob
from backbone.partners.models import ReadinessAssessment
from backbone.testing import factories as f

pytestmark = pytest.mark.django_db

ANSWERS = {"leadership": 3, "data_capacity": 1, "staff_time": 2, "alignment": 3, "collaboration": 0}


def rows_of(network, organization) -> dict:
    """One row of each resource in NETWORK, by the path segment that names it."""
    stage = f.LifeStageFactory(network=network)
    area = f.AreaFactory(network=network)
    group = f.WorkingGroupFactory(network=network, life_stage=stage)
    group.organizations.add(organization)
    return {
        "network": network.slug,
        "organization_slug": organization.slug,
        "life-stages": stage.pk,
        "areas": area.pk,
        "working-groups": group.pk,
        "people": NetworkRole.objects.filter(network=network).first().pk,
        "memberships": Membership.objects.get(network=network, organization=organization).pk,
        "identifiers": OrganizationIdentifier.objects.create(
            organization=organization, scheme="other", value=f"x-{network.slug}"
        ).pk,
        "invitations": Invitation.objects.create(
            network=network,
            email=f"someone@{network.slug}.example",
            role="viewer",
            token=f"token-{network.slug}",
            expires_at=timezone.now() + datetime.timedelta(days=3),
        ).pk,
        "prospect-assessments": f.ProspectAssessmentFactory(
            network=network, organization=organization
        ).pk,
        "readiness-assessments": ReadinessAssessment.objects.create(
            network=network, organization=organization, answers=ANSWERS, score=60, level="ready"
        ).pk,
        "imports": ImportJob.objects.create(
            network=network, filename="values.csv", content=b"indicator,period", sha256="0" * 64
        ).pk,
        "audit-events": AuditEvent.objects.create(
            network=network,
            action="create",
            object_type="core.area",
            object_id=str(area.pk),
            object_repr="An area",
        ).pk,
    }


def operations():
    for path, item in api.get_openapi_schema()["paths"].items():
        if "{network}" in path:
            for method in item:
                yield method, path


OPERATIONS = sorted(operations())


def url(path: str, rows: dict, network_rows: dict | None = None) -> str:
    """PATH with its parameters filled from ROWS (the network from NETWORK_ROWS)."""
    segments = path.removeprefix(API).split("/")
    filled = []
    for index, segment in enumerate(segments):
        if segment == "{network}":
            segment = (network_rows or rows)["network"]
        elif segment == "{organization_slug}":
            segment = rows["organization_slug"]
        elif segment == "{id}":
            segment = str(rows[segments[index - 1]])
        filled.append(segment)
    return "/".join(filled)


def call(client: ApiClient, method: str, path: str):
    return (
        getattr(client, method)(path)
        if method in ("get", "delete")
        else getattr(client, method)(path, {})
    )


@pytest.fixture
def both(world):
    return (
        rows_of(world.network, world.organization),
        rows_of(world.other_network, world.other_organization),
    )


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_outsider_gets_404_on_every_operation(world, api_as, both, method, path):
    ours, _ = both

    response = call(api_as("outsider"), method, url(path, ours))

    assert response.status_code == 404, response.content


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_anonymous_gets_401_on_every_operation_of_a_private_network(world, both, method, path):
    ours, _ = both

    assert call(ApiClient(), method, url(path, ours)).status_code == 401


@pytest.mark.parametrize(
    ("method", "path"),
    [
        (method, path)
        for method, path in OPERATIONS
        if "{id}" in path or "{organization_slug}" in path
    ],
)
def test_admin_gets_404_for_rows_of_another_network(world, api_as, both, method, path):
    ours, theirs = both
    events = AuditEvent.objects.count()

    response = call(api_as("network_admin"), method, url(path, theirs, network_rows=ours))

    assert response.status_code == 404, response.content
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize(
    ("method", "path"), [(method, path) for method, path in OPERATIONS if method != "get"]
)
def test_viewer_gets_403_on_every_write(world, api_as, both, method, path):
    ours, _ = both

    response = call(api_as("viewer"), method, url(path, ours))

    assert response.status_code == 403, response.content

"""Property-based check of the read operations: whatever the parameters, no 5xx.

Schemathesis generates requests from the OpenAPI document and sends them, as the
network admin of `world`, straight to the WSGI application.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from backbone.config.wsgi import application
from backbone.core import services
from backbone.testing import factories as f

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application).include(method="GET")


@pytest.fixture
def admin_token(world):
    f.AreaFactory(network=world.network)
    f.LifeStageFactory(network=world.network)
    f.WorkingGroupFactory(network=world.network)
    _, raw = services.token_create(user=world.users["network_admin"], name="schemathesis")
    return raw


@pytest.fixture
def in_test_transaction():
    """Keep the WSGI handler from closing the test's database connection mid-transaction
    (Django's own test client does the same)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=5,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_read_operations_never_fail_with_a_server_error(
    case, world, admin_token, in_test_transaction
):
    # Aim most requests at the real network and organization so they reach the queries.
    if "network" in (case.path_parameters or {}):
        case.path_parameters["network"] = world.network.slug
    if "organization" in (case.path_parameters or {}):
        case.path_parameters["organization"] = world.organization.slug
    case.call_and_validate(
        headers={"Authorization": f"Bearer {admin_token}"}, checks=[not_a_server_error]
    )

"""The named people of every test (STYLE.md): one user per role in `network`, plus an
outsider who holds the same roles in `other_network` only.

`world` bundles them; `client_for(role)` gives a logged-in test client.
"""

from dataclasses import dataclass

import pytest
from django.test import Client

from backbone.core.models import Membership
from backbone.testing import factories as f

ROLES = ["network_admin", "org_admin", "org_member", "funder", "viewer"]


@dataclass
class World:
    network: object
    other_network: object
    organization: object  # the org_admin's and org_member's organization, active partner
    second_organization: object  # another active partner of the same network
    prospect: object  # a prospect organization of `network`
    other_organization: object  # a partner of other_network only
    users: dict  # role -> user in `network`
    outsider: object  # network_admin of other_network, no role in `network`


@pytest.fixture
def world(db) -> World:
    network = f.NetworkFactory(name="River City Cradle to Career", slug="river-city")
    other_network = f.NetworkFactory(name="Lake County Promise", slug="lake-county")
    organization = f.MembershipFactory(network=network).organization
    second = f.MembershipFactory(network=network).organization
    prospect = f.MembershipFactory(network=network, status=Membership.Status.PROSPECT).organization
    other_org = f.MembershipFactory(network=other_network).organization
    users = {}
    for role in ROLES:
        org = organization if role in ("org_admin", "org_member") else None
        user = f.UserFactory(email=f"{role.replace('_', '-')}@river.example")
        f.NetworkRoleFactory(user=user, network=network, role=role, organization=org)
        users[role] = user
    f.activate_totp(users["network_admin"])
    outsider = f.UserFactory(email="outsider@lake.example")
    f.NetworkRoleFactory(user=outsider, network=other_network, role="network_admin")
    f.activate_totp(outsider)
    return World(network, other_network, organization, second, prospect, other_org, users, outsider)


@pytest.fixture
def client_for(world):
    def make(role: str | None) -> Client:
        client = Client()
        if role == "outsider":
            client.force_login(world.outsider)
        elif role:
            client.force_login(world.users[role])
        return client

    return make


@pytest.fixture(autouse=True)
def _tasks_run_immediately(settings):
    """Tasks run in-process in tests; test_tasks.py drives the real database queue."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _private_cache(settings):
    """Each test its own cache, so throttling counters never leak between tests."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": str(id(settings)),
        }
    }


@pytest.fixture(autouse=True)
def _fixed_vocabularies(request):
    """Transactional tests (browser, task queue) flush the database, and with it the
    sectors a data migration loaded; put them back for every test that uses the database."""
    uses_db = request.node.get_closest_marker("django_db") or any(
        name in request.fixturenames for name in ("db", "transactional_db", "live_server")
    )
    if uses_db:
        from backbone.core.models import Sector

        request.getfixturevalue(
            "transactional_db" if "transactional_db" in request.fixturenames else "db"
        )
        Sector.ensure_defaults()

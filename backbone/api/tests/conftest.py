"""API test helpers: a token per named user of `world`, and a client that sends it."""

import json

import pytest
from django.test import Client

from backbone.core import services
from backbone.core.models import AuditEvent

API = "/api/v1"


class ApiClient:
    """A test client that sends JSON and, when given a token, the Authorization header."""

    def __init__(self, token: str | None = None, client: Client | None = None):
        self.client = client or Client()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def _call(self, method: str, path: str, body=None, **params):
        url = path if path.startswith(API) else f"{API}{path}"
        kwargs = {"headers": self.headers}
        if body is not None:
            kwargs.update(data=json.dumps(body), content_type="application/json")
        elif params:
            kwargs["data"] = params
        return getattr(self.client, method)(url, **kwargs)

    def get(self, path, **params):
        return self._call("get", path, **params)

    def post(self, path, body=None):
        return self._call("post", path, {} if body is None else body)

    def patch(self, path, body=None):
        return self._call("patch", path, {} if body is None else body)

    def delete(self, path):
        return self._call("delete", path)


@pytest.fixture
def api_as(world):
    """`api_as("viewer")` → a client with a fresh token of that named user of `world`;
    `api_as("outsider")` for the admin of the other network, `api_as(None)` for anyone."""

    def make(role: str | None) -> ApiClient:
        if role is None:
            return ApiClient()
        user = world.outsider if role == "outsider" else world.users[role]
        _, raw = services.token_create(user=user, name=f"{role} test token")
        return ApiClient(raw)

    return make


@pytest.fixture
def admin_api(api_as):
    return api_as("network_admin")


def network_path(world, suffix: str = "", network=None) -> str:
    return f"/networks/{(network or world.network).slug}{suffix}"


def audited(obj_or_type, object_id, action: str) -> bool:
    object_type = obj_or_type if isinstance(obj_or_type, str) else obj_or_type._meta.label_lower
    return AuditEvent.objects.filter(
        via="api", action=action, object_type=object_type, object_id=str(object_id)
    ).exists()

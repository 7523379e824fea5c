import pytest

from backbone.core.models import (
    Area,
    AuditEvent,
    Membership,
    Network,
    NetworkRole,
    Organization,
    Sector,
    User,
)
from backbone.demo import seed
from backbone.governance.models import WorkingGroup
from backbone.measurement.models import Indicator

pytestmark = pytest.mark.django_db

COUNTED = [Network, Organization, Membership, Area, User, NetworkRole, WorkingGroup]


def counts():
    return {model.__name__: model.objects.count() for model in COUNTED}


def test_small_seed_is_realistic_and_idempotent():
    network = seed.seed("small", log=lambda *a: None)
    first = counts()
    assert first["Organization"] == 40
    sectors = set(
        Sector.objects.filter(organizations__memberships__network=network).values_list(
            "code", flat=True
        )
    )
    assert sectors == set(Sector.objects.values_list("code", flat=True)), "every sector"
    roles = set(NetworkRole.objects.filter(network=network).values_list("role", flat=True))
    assert roles == {"network_admin", "org_admin", "org_member", "funder", "viewer"}
    assert set(Membership.objects.filter(network=network).values_list("status", flat=True)) >= {
        "active",
        "prospect",
        "inactive",
    }
    assert network.life_stages.count() == 6
    assert Area.objects.filter(network=network, kind="tract").exists()
    assert Indicator.objects.filter(network=network).count() >= 10
    events = AuditEvent.objects.count()

    seed.seed("small", log=lambda *a: None)
    assert counts() == first
    assert AuditEvent.objects.count() == events


def test_demo_logins_work():
    seed.seed("small", log=lambda *a: None)
    for _role, local, _label in seed.DEMO_LOGINS:
        user = User.objects.get(email=f"{local}@{seed.DEMO_DOMAIN}")
        assert user.check_password(seed.DEMO_PASSWORD)

import csv
import io

import pytest
from django.urls import reverse

from backbone.core.models import AuditEvent, LifeStage

pytestmark = pytest.mark.django_db


def test_create_update_delete_are_audited_with_before_and_after(world, client_for):
    client = client_for("network_admin")
    slug = world.network.slug
    assert (
        client.post(
            reverse("core:life-stage-create", args=[slug]),
            {"name": "Early childhood", "position": 0},
        ).status_code
        == 302
    )
    stage = LifeStage.objects.get(name="Early childhood")
    assert (
        client.post(
            reverse("core:life-stage-edit", args=[slug, stage.pk]),
            {"name": "Birth to five", "position": 0},
        ).status_code
        == 302
    )
    assert client.post(reverse("core:life-stage-delete", args=[slug, stage.pk])).status_code == 302
    events = list(AuditEvent.objects.filter(object_type="core.lifestage").order_by("pk"))
    assert [e.action for e in events] == ["create", "update", "delete"]
    assert all(e.actor == world.users["network_admin"] for e in events)
    assert all(e.network == world.network for e in events)
    assert events[0].before is None and events[0].after["name"] == "Early childhood"
    assert events[1].changes == [("name", "Early childhood", "Birth to five")]
    assert events[2].before["name"] == "Birth to five" and events[2].after is None


def test_invalid_input_writes_nothing(world, client_for):
    client = client_for("network_admin")
    response = client.post(
        reverse("core:life-stage-create", args=[world.network.slug]),
        {"name": "", "position": "first"},
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "name" in errors and "position" in errors
    assert not LifeStage.objects.exists()
    assert not AuditEvent.objects.exists()


def test_saving_without_changes_writes_no_audit_row(world, client_for):
    client = client_for("network_admin")
    stage = LifeStage.objects.create(network=world.network, name="K-12", position=1)
    client.post(
        reverse("core:life-stage-edit", args=[world.network.slug, stage.pk]),
        {"name": "K-12", "position": 1},
    )
    assert not AuditEvent.objects.exists()


def test_admin_filters_and_exports_the_audit_log(world, client_for):
    client = client_for("network_admin")
    slug = world.network.slug
    client.post(reverse("core:life-stage-create", args=[slug]), {"name": "K-12", "position": 1})
    client.post(
        reverse("core:area-create", args=[slug]),
        {"code": "RL", "name": "Riverland", "kind": "state"},
    )
    page = client.get(reverse("core:audit-log", args=[slug]), {"object_type": "core.area"})
    assert page.status_code == 200
    assert [e.object_type for e in page.context["page"]] == ["core.area"]
    export = client.get(reverse("core:audit-export", args=[slug]))
    assert export.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert {r["object_type"] for r in rows} == {"core.lifestage", "core.area"}
    assert any(r["field"] == "name" and r["after"] == "Riverland" for r in rows)
    assert all(r["actor"] == "network-admin@river.example" for r in rows)


def test_audit_log_of_another_network_is_invisible(world, client_for):
    AuditEvent.objects.create(
        network=world.other_network,
        action="create",
        object_type="core.lifestage",
        object_id="1",
        object_repr="Secret stage",
    )
    page = client_for("network_admin").get(reverse("core:audit-log", args=[world.network.slug]))
    assert "Secret stage" not in page.content.decode()
    export = client_for("network_admin").get(
        reverse("core:audit-export", args=[world.network.slug])
    )
    assert b"Secret stage" not in b"".join(export.streaming_content)
    assert (
        client_for("viewer")
        .get(reverse("core:audit-export", args=[world.network.slug]))
        .status_code
        == 403
    )
    assert (
        client_for("outsider")
        .get(reverse("core:audit-export", args=[world.network.slug]))
        .status_code
        == 404
    )

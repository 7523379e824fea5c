import datetime

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from backbone.core.models import AuditEvent, Invitation, NetworkRole, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def invite(django_capture_on_commit_callbacks):
    """POST the invitation form; the email is queued on commit, so run those callbacks."""

    def post(client, world, **data):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("core:invitation-create", args=[world.network.slug]), data)

    return post


def test_admin_invites_and_the_person_joins(world, client_for, invite):
    response = invite(
        client_for("network_admin"),
        world,
        email="New.Person@Example.org",
        role="org_member",
        organization=world.organization.pk,
    )
    assert response.status_code == 302
    invitation = Invitation.objects.get()
    assert invitation.email == "new.person@example.org"
    assert len(mail.outbox) == 1
    accept_url = reverse("core:invitation-accept", args=[invitation.token])
    assert accept_url in mail.outbox[0].body

    newcomer = Client()
    weak = newcomer.post(accept_url, {"full_name": "Nia", "password": "123"})
    assert weak.status_code == 400
    assert not User.objects.filter(email="new.person@example.org").exists()

    joined = newcomer.post(
        accept_url, {"full_name": "Nia Jones", "password": "a-long-enough-passphrase"}
    )
    assert joined.status_code == 302
    role = NetworkRole.objects.get(user__email="new.person@example.org")
    assert (role.role, role.organization) == ("org_member", world.organization)
    assert (
        newcomer.get(reverse("framework:network-home", args=[world.network.slug])).status_code
        == 200
    )
    assert AuditEvent.objects.filter(object_type="core.networkrole", action="create").exists()
    # an invitation works once
    again = Client().post(accept_url, {"password": "another-long-passphrase"})
    assert "accepted" in again.content.decode()


def test_expired_invitation_is_refused(world, client_for, invite):
    invite(client_for("network_admin"), world, email="late@example.org", role="viewer")
    invitation = Invitation.objects.get()
    invitation.expires_at = timezone.now() - datetime.timedelta(days=1)
    invitation.save()
    response = Client().post(
        reverse("core:invitation-accept", args=[invitation.token]),
        {"password": "a-long-enough-passphrase"},
    )
    assert "expired" in response.content.decode()
    assert not User.objects.filter(email="late@example.org").exists()


def test_org_admin_invites_only_into_own_organization(world, client_for, invite):
    client = client_for("org_admin")
    ok = invite(
        client,
        world,
        email="colleague@example.org",
        role="org_member",
        organization=world.organization.pk,
    )
    assert ok.status_code == 302
    other_org = invite(
        client,
        world,
        email="x@example.org",
        role="org_member",
        organization=world.second_organization.pk,
    )
    assert other_org.status_code == 400  # not a choice for this role
    escalate = invite(
        client,
        world,
        email="y@example.org",
        role="network_admin",
        organization=world.organization.pk,
    )
    assert escalate.status_code == 400
    assert set(Invitation.objects.values_list("email", flat=True)) == {"colleague@example.org"}


def test_viewer_cannot_invite(world, client_for, invite):
    assert (
        invite(client_for("viewer"), world, email="z@example.org", role="viewer").status_code == 403
    )
    assert not Invitation.objects.exists()


def test_inviting_an_existing_member_is_a_clear_error(world, client_for, invite):
    response = invite(
        client_for("network_admin"), world, email="viewer@river.example", role="viewer"
    )
    assert response.status_code == 400
    assert "already has a role" in response.content.decode()


# The worker closes its database connection when done, as a real one does: on PostgreSQL
# that needs a real transaction, and serialized_rollback restores the sectors afterwards.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_invitation_email_goes_through_the_database_queue(world, client_for, invite, settings):
    """With the real backend the email waits in the queue until a worker runs it."""
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }
    invite(client_for("network_admin"), world, email="queued@example.org", role="viewer")
    assert len(mail.outbox) == 0
    from django_tasks_db.models import DBTaskResult

    assert DBTaskResult.objects.filter(status="READY").count() == 1
    call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["queued@example.org"]
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"

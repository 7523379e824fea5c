"""The response-time standard: referrals still "sent" after respond_by (business days)
are escalated once, through the Tasks API, to the receiver's admins and the backbone."""

from __future__ import annotations

import datetime

import pytest
from django.core.management.base import CommandError
from django_tasks import TaskResultStatus

from backbone.core.models import AuditEvent
from backbone.referrals import workflow
from backbone.referrals.models import Notification, Referral, ReferralSettings
from backbone.referrals.tasks import escalate_command, escalate_overdue_referrals
from backbone.referrals.tests.workflow_world import FAMILY, GIVEN, cast_fixture  # noqa: F401
from backbone.testing import factories as f

pytestmark = pytest.mark.django_db
FRIDAY = datetime.datetime(2026, 3, 6, 10, 0, tzinfo=datetime.UTC)


def sent_on_friday(cast) -> Referral:
    referral = workflow.referral_send(
        access=cast.access(cast.a_admin),
        person=cast.person,
        service=cast.service_b,
        consent=cast.consent,
    )
    # Sent on a Friday morning: three business days later is Wednesday morning.
    Referral.objects.filter(pk=referral.pk).update(
        sent_at=FRIDAY, respond_by=workflow.add_business_days(FRIDAY, 3)
    )
    referral.refresh_from_db()
    return referral


def run(cast, moment: datetime.datetime) -> int:
    result = escalate_overdue_referrals.enqueue(cast.network.pk, moment.isoformat())
    assert result.status == TaskResultStatus.SUCCESSFUL
    return result.return_value


def test_respond_by_skips_the_weekend(cast):
    referral = sent_on_friday(cast)
    assert referral.respond_by == datetime.datetime(2026, 3, 11, 10, 0, tzinfo=datetime.UTC)


def test_not_escalated_before_the_business_days_pass(cast):
    sent_on_friday(cast)
    # Tuesday, and Wednesday 9:59: still within three business days.
    assert run(cast, datetime.datetime(2026, 3, 10, 12, tzinfo=datetime.UTC)) == 0
    assert run(cast, datetime.datetime(2026, 3, 11, 9, 59, tzinfo=datetime.UTC)) == 0
    assert Notification.objects.count() == 0


def test_escalates_once_to_the_receivers_admins_and_the_network_admins(cast):
    referral = sent_on_friday(cast)
    thursday = datetime.datetime(2026, 3, 12, 12, tzinfo=datetime.UTC)
    assert run(cast, thursday) == 1
    referral.refresh_from_db()
    assert referral.escalated_at == thursday
    assert AuditEvent.objects.filter(
        object_type="referrals.referral", object_id=str(referral.pk), via="escalation task"
    ).exists()
    notified = Notification.objects.filter(referral=referral, kind="overdue")
    # Organization admins of the receiver (not its members), and the backbone's admins.
    assert {n.user for n in notified} == {cast.b_admin, cast.world.users["network_admin"]}
    assert all(GIVEN not in n.text and FAMILY not in n.text for n in notified)
    assert "1 day" in notified[0].text
    # A second run does not notify again.
    assert run(cast, thursday + datetime.timedelta(hours=1)) == 0
    assert Notification.objects.count() == 2


def test_escalation_contact_replaces_the_network_admins(cast):
    contact = f.UserFactory(email="coordinator@river.example")
    f.NetworkRoleFactory(user=contact, network=cast.network, role="viewer")
    ReferralSettings.objects.create(network=cast.network, escalate_to=contact)
    referral = sent_on_friday(cast)
    assert run(cast, datetime.datetime(2026, 3, 16, 9, tzinfo=datetime.UTC)) == 1
    assert set(Notification.objects.filter(referral=referral).values_list("user", flat=True)) == {
        cast.b_admin.pk,
        contact.pk,
    }


def test_answered_referrals_are_not_escalated(cast):
    referral = sent_on_friday(cast)
    workflow.referral_accept(access=cast.access(cast.b_member), referral=referral)
    assert run(cast, datetime.datetime(2026, 3, 20, tzinfo=datetime.UTC)) == 0
    referral.refresh_from_db()
    assert referral.escalated_at is None


def test_other_networks_are_left_alone(cast):
    sent_on_friday(cast)
    result = escalate_overdue_referrals.enqueue(
        cast.world.other_network.pk, "2026-03-20T00:00:00+00:00"
    )
    assert result.return_value == 0
    assert Referral.objects.get().escalated_at is None


def test_command_runs_or_queues_the_task(cast):
    sent_on_friday(cast)
    queued = escalate_command(cast.network.slug, "2026-03-20T00:00:00+00:00")
    assert queued.startswith(f"Queued the escalation of overdue referrals of {cast.network.name}")
    # The immediate test backend ran it already, so running now finds nothing left.
    assert escalate_command(cast.network.slug, "2026-03-21T00:00:00", run_now=True) == (
        f"Escalated 0 overdue referrals of {cast.network.name}."
    )
    assert Referral.objects.get().escalated_at is not None


@pytest.mark.parametrize(
    ("slug", "now", "message"),
    [("nowhere", "", "No network has the slug"), ("river-city", "friday", "is not a time")],
)
def test_command_refuses_bad_input(cast, slug, now, message):
    with pytest.raises(CommandError, match=message):
        escalate_command(slug, now)
    assert Referral.objects.filter(escalated_at__isnull=False).count() == 0


def test_management_command(cast):
    from io import StringIO

    from django.core.management import call_command

    sent_on_friday(cast)
    out = StringIO()
    call_command(
        "referrals",
        "escalate",
        "--network",
        cast.network.slug,
        "--now",
        "2026-03-20T00:00",
        stdout=out,
    )
    assert "Queued the escalation" in out.getvalue()
    assert Referral.objects.get().escalated_at is not None

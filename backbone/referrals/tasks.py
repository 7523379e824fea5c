"""Background tasks of referrals: escalation of referrals past the response-time standard,
and recomputing the referral analytics after a change.

`backbone referrals escalate --network SLUG` (see `escalate_command`) queues
`escalate_overdue_referrals`; run it daily or hourly from cron, `db_worker` runs it.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone
from django_tasks import task


@task()
def escalate_overdue_referrals(network_id: int, now: str = "") -> int:
    """Mark referrals still "sent" after their respond_by as escalated (once each) and tell
    the receiving organization's admins and the network's escalation contact (or, when
    none is set, the network admins). Returns how many referrals were escalated."""
    from backbone.core.audit import record
    from backbone.core.models import AuditEvent, Network, NetworkRole
    from backbone.referrals.models import Notification, Referral
    from backbone.referrals.workflow import _describe, settings_for, staff_ids

    network = Network.objects.get(pk=network_id)
    moment = datetime.datetime.fromisoformat(now) if now else timezone.now()
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    contact = settings_for(network).escalate_to_id
    backbone_staff = (
        [contact]
        if contact
        else list(
            NetworkRole.objects.filter(network=network, role="network_admin").values_list(
                "user_id", flat=True
            )
        )
    )
    overdue = (
        Referral.objects.filter(
            network=network,
            status=Referral.Status.SENT,
            respond_by__lt=moment,
            escalated_at__isnull=True,
        )
        .select_related("to_service", "to_organization")
        .order_by("respond_by", "pk")
    )
    escalated = 0
    for referral in overdue.iterator(chunk_size=500):
        with transaction.atomic():
            # Claim the referral first so a second run (or worker) does not notify again.
            claimed = Referral.objects.filter(
                pk=referral.pk, status=Referral.Status.SENT, escalated_at__isnull=True
            ).update(escalated_at=moment)
            if not claimed:
                continue
            record(
                actor=None,
                action=AuditEvent.Action.UPDATE,
                obj=referral,
                network=network,
                before={"escalated_at": None},
                after={"escalated_at": moment.isoformat()},
                via="escalation task",
            )
            days = max((moment - referral.respond_by).days, 0)
            late = f"{days} day{'s' if days != 1 else ''}" if days else "less than a day"
            users = set(staff_ids(network, referral.to_organization_id, admins_only=True))
            users.update(backbone_staff)
            Notification.objects.bulk_create(
                [
                    Notification(
                        network=network,
                        user_id=user_id,
                        kind=Notification.Kind.OVERDUE,
                        referral=referral,
                        text=f"Overdue: the {_describe(referral)} has waited {late} past the "
                        "network's response time without being accepted or declined.",
                    )
                    for user_id in sorted(users)
                ]
            )
        escalated += 1
    return escalated


def escalate_command(network_slug: str, now: str = "", *, run_now: bool = False) -> str:
    """The body of `backbone referrals escalate --network SLUG [--now ISO] [--run-now]`:
    queue the task (or run it in this process) and say what happened. Raises
    CommandError on bad input."""
    from django.core.management.base import CommandError

    from backbone.core.models import Network

    network = Network.objects.filter(slug=network_slug).first()
    if network is None:
        raise CommandError(f"No network has the slug {network_slug!r}.")
    if now:
        try:
            datetime.datetime.fromisoformat(now)
        except ValueError as exc:
            raise CommandError(f"--now: {now!r} is not a time like 2026-01-31T09:00.") from exc
    if run_now:
        count = escalate_overdue_referrals.call(network.pk, now)
        return f"Escalated {count} overdue referral{'s' if count != 1 else ''} of {network.name}."
    result = escalate_overdue_referrals.enqueue(network.pk, now)
    return f"Queued the escalation of overdue referrals of {network.name} (task {result.id})."


@task()
def refresh_referral_insights(network_id: int, name: str, params: dict) -> None:
    """Compute a referral analytics result (network analytics, a funnel, flows) for the
    network's data as it is now, while pages serve the previous one (insights_cache)."""
    from backbone.referrals.insights_cache import refresh

    refresh(network_id, name, params)

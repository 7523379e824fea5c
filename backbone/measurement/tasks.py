"""Background tasks of measurement: reminders of reporting due soon."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django_tasks import task


@task()
def send_reporting_reminders(network_id: int, today: str = "") -> int:
    """Email each organization's people about its submissions due within the assignment's
    reminder_days that are not yet submitted, once per submission (Submission.reminded_at).
    Returns how many submissions were reminded."""
    from backbone.core.models import Network, NetworkRole
    from backbone.core.models.tenancy import ORGANIZATION_ROLES
    from backbone.measurement import reporting
    from backbone.measurement.models import Submission

    network = Network.objects.get(pk=network_id)
    day = datetime.date.fromisoformat(today) if today else timezone.localdate()
    reporting.submissions_sync(network, day)
    due = (
        Submission.objects.filter(
            network=network,
            status__in=reporting.OPEN,
            reminded_at__isnull=True,
            due_date__gte=day,
            assignment__is_active=True,
        )
        .select_related("assignment", "organization")
        .order_by("due_date", "pk")
    )
    reminded = 0
    for submission in due:
        if submission.due_date - datetime.timedelta(days=submission.assignment.reminder_days) > day:
            continue
        emails = sorted(
            NetworkRole.objects.filter(
                network=network,
                organization=submission.organization,
                role__in=ORGANIZATION_ROLES,
            ).values_list("user__email", flat=True)
        )
        # Claim the submission first so a second run (or worker) does not email again.
        claimed = Submission.objects.filter(pk=submission.pk, reminded_at__isnull=True).update(
            reminded_at=timezone.now()
        )
        if not claimed or not emails:
            continue
        url = settings.SITE_URL.rstrip("/") + reverse(
            "measurement:submission-edit", args=[network.slug, submission.pk]
        )
        body = render_to_string(
            "measurement/email/reminder.txt",
            {"submission": submission, "network": network, "url": url, "today": day},
        )
        send_mail(
            f"{network.name}: {submission.period} data due {submission.due_date:%B %-d, %Y}",
            body,
            settings.DEFAULT_FROM_EMAIL,
            emails,
        )
        reminded += 1
    return reminded

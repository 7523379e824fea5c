"""`backbone reporting remind --network SLUG [--today YYYY-MM-DD]`: queue the reminder
emails of submissions due soon (run it daily, e.g. from cron; `db_worker` sends them)."""

import datetime

from django.core.management.base import BaseCommand, CommandError

from backbone.core.models import Network
from backbone.measurement.tasks import send_reporting_reminders


class Command(BaseCommand):
    help = "Reporting cycles: queue reminders of data due soon."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        remind = actions.add_parser("remind", help="Queue the reminder emails of a network.")
        remind.add_argument("--network", required=True, metavar="SLUG")
        remind.add_argument(
            "--today", default="", metavar="YYYY-MM-DD", help="Count due dates from this day."
        )

    def handle(self, *args, **options):
        network = Network.objects.filter(slug=options["network"]).first()
        if network is None:
            raise CommandError(f"No network has the slug {options['network']!r}.")
        today = options["today"]
        if today:
            try:
                datetime.date.fromisoformat(today)
            except ValueError as exc:
                raise CommandError(f"--today: {today!r} is not a date like 2025-01-31.") from exc
        result = send_reporting_reminders.enqueue(network.pk, today)
        self.stdout.write(f"Queued the reminders of {network.name} (task {result.id}).")

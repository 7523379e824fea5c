from allauth.mfa.totp.internal.auth import (
    format_hotp_value,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.core.management.base import BaseCommand

from backbone.demo import seed


class Command(BaseCommand):
    help = "Print the current two-factor code of the demo network admin (demo data only)."

    def handle(self, *args, **options):
        counter = next(yield_hotp_counters_from_time())
        self.stdout.write(format_hotp_value(hotp_value(seed.DEMO_TOTP_SECRET, counter)))

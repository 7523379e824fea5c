"""`backbone referrals ACTION`: service coordination from the command line
(see docs/referrals.md).

    new-key | rotate-key [--batch-size N] [--dry-run]      encryption keys of client fields
    reindex [--batch-size N] [--dry-run]                   blind indexes after a key change
    escalate --network SLUG [--now ISO] [--run-now]        overdue referrals (cron)
    export FILE --network SLUG [--as EMAIL]                de-identified referrals (CSV)
    import FILE --network SLUG [--dry-run] [--as EMAIL]    people and referrals (CSV)
    feed-measurement --network SLUG [--period CODE ...]    referral measures into measurement
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from backbone.referrals import crypto


class Command(BaseCommand):
    help = "Service coordination: keys, escalation, exchange and the measurement feed."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        actions.add_parser(
            "new-key",
            help="Print a new Fernet key to put in front of BACKBONE_ENCRYPTION_KEYS.",
        )
        rotate = actions.add_parser(
            "rotate-key",
            help="Re-encrypt every encrypted field with the newest key.",
            description="Run after putting a new key first in BACKBONE_ENCRYPTION_KEYS "
            "(keep the old ones after it); drop the old keys only when this reports no "
            "value left to rotate. Safe to run again: values under the newest key are kept.",
        )
        rotate.add_argument("--batch-size", type=int, default=1000, metavar="N")
        rotate.add_argument("--dry-run", action="store_true", help="Count only; write nothing.")
        reindex = actions.add_parser(
            "reindex",
            help="Recompute the blind indexes (duplicate detection, name search).",
            description="Run after BACKBONE_BLIND_INDEX_KEY (or, without it, SECRET_KEY) "
            "changed: people's indexes are recomputed from their decrypted name and date "
            "of birth. Safe to run again: indexes already right are kept.",
        )
        reindex.add_argument("--batch-size", type=int, default=1000, metavar="N")
        reindex.add_argument("--dry-run", action="store_true", help="Count only; write nothing.")
        escalate = actions.add_parser(
            "escalate", help="Escalate referrals past the network's response-time standard."
        )
        escalate.add_argument("--network", required=True, metavar="SLUG")
        escalate.add_argument("--now", default="", help="Judge as of this ISO time.")
        escalate.add_argument("--run-now", action="store_true", help="Run here, do not queue.")
        export = actions.add_parser("export", help="Write the de-identified referrals (CSV).")
        export.add_argument("file", metavar="FILE")
        export.add_argument("--network", required=True, metavar="SLUG")
        export.add_argument("--as", dest="as_email", metavar="EMAIL")
        importing = actions.add_parser(
            "import", help="Import people and referrals from a CSV (all or nothing)."
        )
        importing.add_argument("file", metavar="FILE")
        importing.add_argument("--network", required=True, metavar="SLUG")
        importing.add_argument("--dry-run", action="store_true")
        importing.add_argument("--as", dest="as_email", metavar="EMAIL")
        feed = actions.add_parser(
            "feed-measurement", help="Compute the referral measures and indicators now."
        )
        feed.add_argument("--network", required=True, metavar="SLUG")
        feed.add_argument("--period", action="append", metavar="CODE")

    def handle(self, *args, **options):
        action = options["action"]
        if action == "new-key":
            self.stdout.write(crypto.new_key())
            return
        if action in self.OTHER_ACTIONS:
            getattr(self, self.OTHER_ACTIONS[action])(options)
            return
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        try:
            counts = crypto.rotate_all(batch_size=options["batch_size"], dry_run=options["dry_run"])
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        totals = {"rotated": 0, "current": 0, "encrypted": 0}
        for table, tally in counts.items():
            self.stdout.write(
                f"{table}: {tally['rotated']} rotated, {tally['current']} already current, "
                f"{tally['encrypted']} plain values encrypted"
            )
            for key in totals:
                totals[key] += tally[key]
        suffix = " Dry run: nothing was written." if options["dry_run"] else ""
        self.stdout.write(
            f"Total: {totals['rotated']} rotated, {totals['current']} already current, "
            f"{totals['encrypted']} encrypted.{suffix}"
        )

    OTHER_ACTIONS = {
        "escalate": "escalate",
        "export": "export",
        "import": "import_file",
        "feed-measurement": "feed_measurement",
        "reindex": "reindex",
    }

    def reindex(self, options) -> None:
        from backbone.referrals.people import reindex_all

        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        try:
            counts = reindex_all(batch_size=options["batch_size"], dry_run=options["dry_run"])
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        suffix = " Dry run: nothing was written." if options["dry_run"] else ""
        self.stdout.write(
            f"People: {counts['reindexed']} reindexed, {counts['current']} already current.{suffix}"
        )

    def escalate(self, options) -> None:
        from backbone.referrals.tasks import escalate_command

        self.stdout.write(
            escalate_command(options["network"], options["now"], run_now=options["run_now"])
        )

    def export(self, options) -> None:
        from backbone.referrals.exchange import export_referrals

        count = export_referrals(options["network"], options["file"], as_email=options["as_email"])
        self.stdout.write(f"Wrote {count} de-identified referrals to {options['file']}.")

    def import_file(self, options) -> None:
        from backbone.referrals.exchange import import_file

        path = options["file"]
        try:
            result = import_file(
                options["network"], path, options["dry_run"], as_email=options["as_email"]
            )
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from exc
        if result.errors:
            for error in result.errors:
                self.stderr.write(str(error))
            count = len(result.errors)
            raise CommandError(
                f"{count} problem{'s' if count != 1 else ''} in {path}; nothing was imported."
            )
        suffix = " Dry run: nothing was written." if options["dry_run"] else ""
        self.stdout.write(f"{result.summary()}{suffix}")

    def feed_measurement(self, options) -> None:
        from backbone.referrals.measurement_feed import feed_command

        self.stdout.write(feed_command(options["network"], options["period"]))

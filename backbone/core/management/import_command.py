"""The shared shape of `backbone <entity> import FILE --network SLUG [--dry-run] [--as EMAIL]`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from backbone.core.access import Access, access_for
from backbone.core.models import Network, NetworkRole, Role


class ImportCommand(BaseCommand):
    """Subclasses set `entity` and `importer` (a function like `areas_import`)."""

    entity: str
    importer: Callable

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        command = actions.add_parser(
            "import",
            help=f"Import {self.entity} from a .csv or .xlsx file.",
            description=f"Import {self.entity} from a .csv or .xlsx file. Every row is "
            "checked first; if any row has a problem nothing is written.",
        )
        command.add_argument("file", help="The .csv or .xlsx file.")
        command.add_argument(
            "--network", required=True, metavar="SLUG", help="The network to import into."
        )
        command.add_argument(
            "--dry-run",
            action="store_true",
            help="Check the file and report what would change; write nothing.",
        )
        command.add_argument(
            "--as",
            dest="as_email",
            metavar="EMAIL",
            help="The network admin recorded in the audit log "
            "(default: the network's first network admin).",
        )

    def handle(self, *args, **options):
        access = self.access(options["network"], options["as_email"])
        path = Path(options["file"])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from exc
        dry_run = options["dry_run"]
        result = self.importer(
            access=access, data=data, filename=path.name, commit=not dry_run, via="import"
        )
        if result.errors:
            for error in result.errors:
                self.stderr.write(str(error))
            count = len(result.errors)
            raise CommandError(
                f"{count} problem{'s' if count != 1 else ''} in {path.name}; nothing was imported."
            )
        for plan in result.plans:
            if plan.action != plan.UNCHANGED or options["verbosity"] >= 2:
                self.stdout.write(self.describe(plan))
        suffix = " Dry run: nothing was written." if dry_run else ""
        self.stdout.write(f"{result.summary()}{suffix}")

    @staticmethod
    def describe(plan) -> str:
        line = f"row {plan.row}: {plan.action} {plan.label}"
        if plan.action == plan.UPDATE:
            changes = "; ".join(
                f"{what}: {before or '(empty)'} → {after or '(empty)'}"
                for what, before, after in plan.changes
            )
            line += f" ({changes})"
        return line

    def access(self, network_slug: str, email: str | None) -> Access:
        network = Network.objects.filter(slug=network_slug).first()
        if network is None:
            raise CommandError(f"No network has the slug {network_slug!r}.")
        admins = NetworkRole.objects.filter(network=network, role=Role.NETWORK_ADMIN)
        if email:
            role = admins.filter(user__email__iexact=email).select_related("user").first()
            if role is None:
                raise CommandError(f"{email} is not a network admin of {network_slug}.")
        else:
            role = admins.order_by("created_at", "pk").select_related("user").first()
            if role is None:
                raise CommandError(
                    f"{network_slug} has no network admin to act as; give one with --as EMAIL."
                )
        access = access_for(role.user, network)
        if access is None or not access.is_admin:
            raise CommandError(f"{role.user.email} is not a network admin of {network_slug}.")
        return access

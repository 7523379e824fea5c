"""`backbone hsds import PATH --network SLUG [--dry-run] [--repair] [--skip-invalid]`
and `backbone hsds export DIR --network SLUG`."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import CommandError

from backbone.core.management.import_command import ImportCommand
from backbone.directory.hsds.exporter import ExportInvalid
from backbone.directory.hsds.reading import ReadError
from backbone.directory.hsds.schema import SchemasMissing
from backbone.directory.services import directory_export, directory_import


class Command(ImportCommand):
    help = "Import and export a network's service directory as Open Referral HSDS 3.0."
    entity = "HSDS"

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        command = actions.add_parser(
            "import",
            help="Import an HSDS 3.0 JSON file or CSV datapackage.",
            description="Every record is checked against the official HSDS 3.0 schemas "
            "first; by default any problem means nothing is written.",
        )
        command.add_argument("path", help="A .json file, a datapackage.json or its folder.")
        command.add_argument("--network", required=True, metavar="SLUG")
        command.add_argument("--dry-run", action="store_true", help="Check only; write nothing.")
        command.add_argument(
            "--repair", action="store_true", help="Apply the safe repairs (trim, times, states)."
        )
        command.add_argument(
            "--skip-invalid",
            action="store_true",
            help="Leave out records that still fail, list them, and import the rest.",
        )
        command.add_argument("--as", dest="as_email", metavar="EMAIL")
        export = actions.add_parser("export", help="Write the directory as HSDS 3.0.")
        export.add_argument("folder", help="The folder to write (created if missing).")
        export.add_argument("--network", required=True, metavar="SLUG")
        export.add_argument("--as", dest="as_email", metavar="EMAIL")

    def handle(self, *args, **options):
        access = self.access(options["network"], options["as_email"])
        try:
            if options["action"] == "export":
                counts = directory_export(access=access, folder=Path(options["folder"]))
                self.stdout.write(f"Exported {counts} to {options['folder']}.")
                return
            self.run_import(access, options)
        except ExportInvalid as exc:
            for problem in exc.problems:
                self.stderr.write(problem)
            raise CommandError(f"Nothing exported: {len(exc.problems)} problems.") from exc
        except (ReadError, SchemasMissing, OSError) as exc:
            raise CommandError(str(exc)) from exc

    def run_import(self, access, options):
        path = Path(options["path"])
        if not path.exists():
            raise CommandError(f"{path} does not exist.")
        result = directory_import(
            access=access,
            path=path,
            repair=options["repair"],
            skip_invalid=options["skip_invalid"],
            dry_run=options["dry_run"],
        )
        for repair in result.repairs:
            self.stdout.write(f"repaired {repair}")
        for problem in result.skipped:
            self.stdout.write(f"skipped {problem}")
        if result.errors:
            for error in result.errors:
                self.stderr.write(str(error))
            count = len(result.errors)
            raise CommandError(
                f"{count} problem{'s' if count != 1 else ''} in {path.name}; nothing was imported."
            )
        suffix = " Dry run: nothing was written." if options["dry_run"] else ""
        self.stdout.write(f"{result.summary()}{suffix}")

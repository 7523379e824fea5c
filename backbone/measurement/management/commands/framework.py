"""`backbone framework export FILE --network SLUG` and
`backbone framework import FILE|--template NAME --network SLUG [--dry-run] [--as EMAIL]`."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from backbone.core.management.import_command import ImportCommand
from backbone.measurement.defaults import TEMPLATES
from backbone.measurement.framework_file import framework_export, framework_import, template_path


class Command(BaseCommand):
    help = "Export or import a network's results framework as one YAML file."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        export = actions.add_parser("export", help="Write the framework to a YAML file.")
        export.add_argument("file", help="The .yaml file to write ('-' for standard output).")
        importing = actions.add_parser(
            "import",
            help="Create or update the framework from a YAML file or a starter template.",
            description="Rows are matched by code; if any row has a problem nothing is written.",
        )
        importing.add_argument("file", nargs="?", help="The .yaml file.")
        importing.add_argument(
            "--template", choices=sorted(TEMPLATES), help="Import a starter template instead."
        )
        importing.add_argument(
            "--dry-run", action="store_true", help="Check and report; write nothing."
        )
        for command in (export, importing):
            command.add_argument("--network", required=True, metavar="SLUG")
            command.add_argument(
                "--as",
                dest="as_email",
                metavar="EMAIL",
                help="The network admin to act as (default: the first network admin).",
            )

    def handle(self, *args, **options):
        access = ImportCommand.access(self, options["network"], options["as_email"])
        if options["action"] == "export":
            text = framework_export(access=access)
            if options["file"] == "-":
                self.stdout.write(text, ending="")
            else:
                Path(options["file"]).write_text(text, encoding="utf-8")
                self.stdout.write(
                    f"Wrote the framework of {access.network.slug} to {options['file']}."
                )
            return
        if bool(options["file"]) == bool(options["template"]):
            raise CommandError("Give either a FILE or --template NAME.")
        path = Path(options["file"]) if options["file"] else template_path(options["template"])
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read {path}: {exc}.") from exc
        report = framework_import(access=access, text=text, commit=not options["dry_run"])
        if report.errors:
            for error in report.errors:
                self.stderr.write(error)
            count = len(report.errors)
            raise CommandError(
                f"{count} problem{'s' if count != 1 else ''} in {path.name}; nothing was imported."
            )
        suffix = " Dry run: nothing was written." if options["dry_run"] else ""
        self.stdout.write(f"{report.summary()}{suffix}")

"""`backbone data import FILE --network SLUG [--dry-run] [--reason TEXT] [--as EMAIL]` and
`backbone data export --network SLUG [--indicator CODE] FILE`, in the tidy format."""

from pathlib import Path

from django.core.management.base import CommandError

from backbone.core.management.import_command import ImportCommand
from backbone.measurement.data_file import data_export, data_import
from backbone.measurement.models import Indicator, PerformanceMeasure


class Command(ImportCommand):
    help = "Import or export indicator and measure data in the tidy format (one row per value)."
    entity = "indicator data"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        actions = next(a for a in parser._actions if a.dest == "action")
        importing = actions.choices["import"]
        importing.add_argument(
            "--reason",
            default="",
            help="A correction reason: lets the file change approved values, each as a new "
            "version that records this reason.",
        )
        export = actions.add_parser("export", help="Write the network's data to a file.")
        export.add_argument("file", help="The .csv or .xlsx file to write ('-' for stdout).")
        export.add_argument("--network", required=True, metavar="SLUG")
        export.add_argument(
            "--indicator", metavar="CODE", help="Only this indicator or performance measure."
        )
        export.add_argument(
            "--as",
            dest="as_email",
            metavar="EMAIL",
            help="The network admin to act as (default: the first network admin).",
        )

    def describe(self, plan) -> str:
        line = super().describe(plan)
        return "\n".join([line, *(f"  warning: {text}" for text in plan.warnings)])

    def importer(self, **kwargs):
        return data_import(reason=self.reason, **kwargs)

    def handle(self, *args, **options):
        if options["action"] == "import":
            self.reason = options["reason"]
            return super().handle(*args, **options)
        access = self.access(options["network"], options["as_email"])
        indicator = None
        if options["indicator"]:
            code = options["indicator"]
            indicator = access.scope(Indicator).filter(code=code).first()
            indicator = indicator or access.scope(PerformanceMeasure).filter(code=code).first()
            if indicator is None:
                raise CommandError(f"No indicator or measure has the code {code!r}.")
        name = options["file"]
        data = data_export(access=access, indicator=indicator, filename=name)
        if name == "-":
            self.stdout.write(data.decode("utf-8"), ending="")
            return
        Path(name).write_bytes(data)
        self.stdout.write(f"Wrote the data of {access.network.slug} to {name}.")

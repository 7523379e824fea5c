"""`backbone analytics rebuild --network SLUG`: rebuild a network's analytics cells from
its approved data values (they are otherwise kept fresh value by value)."""

from django.core.management.base import BaseCommand, CommandError

from backbone.core.models import Network
from backbone.insights.analytics import rebuild


class Command(BaseCommand):
    help = "Rebuild the analytics of a network from its approved data values."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        command = actions.add_parser(
            "rebuild",
            help="Rebuild every analytics cell of the network.",
            description="Rebuild every analytics cell of the network from its approved "
            "data values. Needed only after data was loaded outside Backbone's services "
            "or an area moved in the hierarchy.",
        )
        command.add_argument("--network", required=True, metavar="SLUG")

    def handle(self, *args, **options):
        network = Network.objects.filter(slug=options["network"]).first()
        if network is None:
            raise CommandError(f"No network has the slug {options['network']!r}.")
        result = rebuild(network)
        self.stdout.write(
            f"Rebuilt the analytics of {network.slug}: {result['cells']:,} cells in "
            f"{result['seconds']:.2f} s."
        )

from django.core.management.base import BaseCommand

from backbone.demo import seed


class Command(BaseCommand):
    help = "Build a realistic fictional network from a fixed seed (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--size",
            choices=["small", "medium", "state"],
            default="small",
            help="small ≈ 40 organizations, medium ≈ 300, state ≈ 5,000.",
        )
        parser.add_argument("--slug", default="river-city")

    def handle(self, *args, size: str, slug: str, **options):
        seed.seed(size, slug=slug, log=self.stdout.write)
        if slug == "river-city":
            seed.seed(
                "neighbour",
                slug="lake-county",
                name="Lake County Promise",
                purpose="Every young person in Lake County finishes school ready for a career.",
                log=self.stdout.write,
            )

"""Print personal participant links for a study, one per line."""

from django.core.management.base import BaseCommand, CommandError

from qsort.studies.models import Study


class Command(BaseCommand):
    help = "Create N personal participant links for a study and print them, one per line."

    def add_arguments(self, parser) -> None:
        parser.add_argument("slug", help="the study's slug")
        parser.add_argument("--count", type=int, default=1, help="how many links (default 1)")
        parser.add_argument("--codes", default="", help="comma-separated pseudonymous codes, e.g. P01,P02")

    def handle(self, *args, slug: str, count: int, codes: str, **options) -> None:
        study = Study.objects.filter(slug=slug).first()
        if study is None:
            raise CommandError(f"No study with the slug '{slug}'.")
        if not 1 <= count <= Study.MAX_INVITES:
            raise CommandError(f"--count must be between 1 and {Study.MAX_INVITES}.")
        for participant in study.invite(count=count, codes=codes.split(",")):
            self.stdout.write(participant.link)

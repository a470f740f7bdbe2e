"""``manage.py qanalysis SORTS.csv``: the engine on a sorts CSV, its JSON out (``qsort.analysis.cli``).

``manage.py`` runs ``qanalysis`` without starting Django (see ``manage.py``); this command is the
same program for ``call_command`` and ``manage.py help``, and skips the system checks.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from qsort.analysis import cli


class Command(BaseCommand):
    requires_system_checks: list[str] = []
    help = cli.HELP

    def add_arguments(self, parser: CommandParser) -> None:
        cli.add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            outcome = cli.run(options)
        except cli.CommandLineError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(outcome.stdout.decode(), ending="")
        for note in outcome.notes:
            self.stderr.write(note)

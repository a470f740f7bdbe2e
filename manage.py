#!/usr/bin/env python
"""Django's command-line utility for qsort."""

import os
import sys


def main() -> None:
    if sys.argv[1:2] == ["qanalysis"]:
        # The engine needs no database: skip Django's start-up, which on a small study took longer
        # than the analysis itself (qsort/analysis/cli.py).
        from qsort.analysis.cli import main as qanalysis

        sys.exit(qanalysis(sys.argv[2:]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qsort.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
